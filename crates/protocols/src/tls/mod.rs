//! TLS on TCP 443, 8443, 993, 995, 465 and 636 (and wherever a handshake
//! record opens a flow).
//!
//! Only the handshake that identifies the peers is read: the ClientHello
//! gives the client's JA3 and JA4 fingerprints and the server name (a fact
//! on local servers only); the ServerHello the version chosen (a `session`
//! operation such as "tls 1.2") and ALPN; a TLS 1.2 server's Certificate its
//! subject and issuer. After that the flow is finished: nothing encrypted
//! is reassembled.

mod hash;
pub(crate) mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{is_local_ip, IdentityField, OperationKind, OperationResult, Protocol};
use parser::Read;

/// TLS flow state.
#[derive(Default)]
pub struct Tls {
    /// Per direction (to server, to client): nothing more to read.
    done: [bool; 2],
    /// Bytes of a server handshake message that continue in the next record.
    carry: usize,
    /// The version the server chose.
    version: u16,
}

impl Dissector for Tls {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[443, 8443, 993, 995, 465, 636], probe: Some(probe), ..Registration::new(Protocol::Tls) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let index = ctx.dir.index();
        let mut used = 0;
        while !self.done.get(index).copied().unwrap_or(true) {
            let rest = data.get(used..).unwrap_or_default();
            match parser::record(rest) {
                Read::Short => return used,
                Read::Invalid => self.stop(index),
                Read::Record(kind, body, n) => {
                    used += n;
                    if kind != parser::HANDSHAKE {
                        self.stop(index);
                    } else if ctx.dir == Direction::ToServer {
                        client_hello(ctx, body);
                        self.stop(index);
                    } else {
                        self.server_record(ctx, body);
                    }
                }
            }
        }
        data.len()
    }

    fn finished(&self) -> bool {
        self.done == [true, true]
    }
}

/// Recognises a handshake record carrying a ClientHello or ServerHello.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    is_tcp && matches!(payload, [parser::HANDSHAKE, 3, 0..=4, _, _, parser::CLIENT_HELLO | parser::SERVER_HELLO, 0, _, _, 3, 0..=4, ..])
}

impl Tls {
    /// Stops reading direction `index`.
    fn stop(&mut self, index: usize) {
        if let Some(d) = self.done.get_mut(index) {
            *d = true;
        }
    }

    /// Handles a handshake record from the server.
    fn server_record(&mut self, ctx: &mut Ctx<'_>, body: &[u8]) {
        let skip = self.carry.min(body.len());
        self.carry -= skip;
        for (kind, len, msg) in parser::messages(body.get(skip..).unwrap_or_default()) {
            self.carry = len.saturating_sub(msg.len());
            match kind {
                parser::SERVER_HELLO => {
                    let Some(hello) = parser::server_hello(msg) else { continue };
                    self.version = hello.version;
                    ctx.operation(
                        OperationKind::Session,
                        u32::from(hello.version),
                        Some(format_args!("{}", parser::version_name(hello.version))),
                        OperationResult::Success,
                    );
                    if let Some(alpn) = hello.alpn.and_then(|a| std::str::from_utf8(a).ok()) {
                        if ctx.server.ip.is_some_and(is_local_ip) {
                            ctx.sender_identity(IdentityField::Service, &format!("alpn {alpn}"));
                        }
                    }
                    if hello.version >= 0x0304 {
                        self.stop(1);
                    }
                }
                parser::CERTIFICATE => {
                    if let Some(der) = parser::first_certificate(msg) {
                        certificate(ctx, der);
                    }
                    self.stop(1);
                }
                parser::SERVER_HELLO_DONE => self.stop(1),
                _ => {}
            }
        }
    }
}

/// Reports what a ClientHello tells: the client's fingerprints and the
/// server name of a local server.
fn client_hello(ctx: &mut Ctx<'_>, body: &[u8]) {
    let Some((parser::CLIENT_HELLO, _, msg)) = parser::messages(body).next() else { return };
    let Some(hello) = parser::client_hello(msg) else { return };
    // A client sends the same hello over and over: fingerprint it once.
    if ctx.sender_first_time(hello.fingerprint_key()) {
        ctx.sender_identity(IdentityField::Ja3, &hello.ja3_hash());
        ctx.sender_identity(IdentityField::Ja4, &hello.ja4());
    }
    if let Some(name) = hello.server_name() {
        if ctx.server.ip.is_some_and(is_local_ip) {
            let server = ctx.server;
            ctx.identity(server, IdentityField::Service, &format!("tls sni {name}"));
        }
    }
}

/// Reports a server certificate's subject and issuer.
fn certificate(ctx: &mut Ctx<'_>, der: &[u8]) {
    let (subject, issuer) = parser::certificate_names(der);
    let text = match (subject, issuer) {
        (Some(s), Some(i)) => format!("tls certificate subject CN={s}, issuer CN={i}"),
        (Some(s), None) => format!("tls certificate subject CN={s}"),
        (None, Some(i)) => format!("tls certificate issuer CN={i}"),
        (None, None) => return,
    };
    ctx.sender_identity(IdentityField::Description, &text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ip_facts, operation_events, Flow};
    use palisade_model::Endpoint;

    /// A ClientHello record with SNI, ALPN, groups, formats, signature
    /// algorithms and supported_versions, plus GREASE values.
    fn client_hello_record() -> Vec<u8> {
        let mut exts = Vec::new();
        let mut ext = |kind: u16, data: &[u8]| {
            exts.extend_from_slice(&kind.to_be_bytes());
            exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
            exts.extend_from_slice(data);
        };
        ext(0x1a1a, &[]);
        ext(0, &[0, 12, 0, 0, 9, b'p', b'l', b'c', b'.', b'l', b'o', b'c', b'a', b'l']);
        ext(10, &[0, 6, 0x2a, 0x2a, 0, 29, 0, 23]);
        ext(11, &[1, 0]);
        ext(13, &[0, 4, 4, 3, 8, 4]);
        ext(16, &[0, 3, 2, b'h', b'2']);
        ext(43, &[4, 0x3a, 0x3a, 3, 4]);
        let mut hello = vec![3, 3];
        hello.extend_from_slice(&[0; 32]);
        hello.push(0);
        hello.extend_from_slice(&[0, 6, 0x0a, 0x0a, 0x13, 0x01, 0xc0, 0x2f]);
        hello.extend_from_slice(&[1, 0]);
        hello.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        hello.extend_from_slice(&exts);
        let mut msg = vec![1, 0, (hello.len() >> 8) as u8, hello.len() as u8];
        msg.extend_from_slice(&hello);
        let mut rec = vec![0x16, 3, 1, (msg.len() >> 8) as u8, msg.len() as u8];
        rec.extend_from_slice(&msg);
        rec
    }

    #[test]
    fn client_hello_fingerprints() {
        let rec = client_hello_record();
        assert!(probe(&rec, true));
        let Read::Record(_, body, _) = parser::record(&rec) else { panic!("record") };
        let (_, _, msg) = parser::messages(body).next().unwrap();
        let hello = parser::client_hello(msg).unwrap();
        assert_eq!(hello.ja3(), "771,4865-49199,0-10-11-13-16-43,29-23,0");
        assert_eq!(hello.server_name(), Some("plc.local"));
        let ja4 = hello.ja4();
        assert!(ja4.starts_with("t13d0206h2_"), "{ja4}");
        // sha256("1301,c02f") and sha256("000a,000b,000d,002b_0403,0804"), truncated.
        let sha12 = |text: &str| hash::hex(&hash::sha256(text.as_bytes()))[..12].to_string();
        let (b, c) = (sha12("1301,c02f"), sha12("000a,000b,000d,002b_0403,0804"));
        assert_eq!(ja4, format!("t13d0206h2_{b}_{c}"));
    }

    #[test]
    fn fingerprint_key_ignores_grease_and_server_name_only() {
        let key = |rec: &[u8]| {
            let Read::Record(_, body, _) = parser::record(rec) else { panic!("record") };
            let (_, _, msg) = parser::messages(body).next().unwrap();
            parser::client_hello(msg).unwrap().fingerprint_key()
        };
        let original = client_hello_record();
        let at = |rec: &[u8], needle: &[u8]| rec.windows(needle.len()).position(|w| w == needle).unwrap();
        // Other GREASE values (cipher, group, version) and another server name: the same fingerprints.
        let mut other = original.clone();
        for (old, new) in
            [(&[0x0a, 0x0a, 0x13][..], &[0xba, 0xba, 0x13][..]), (&[0x2a, 0x2a, 0, 29], &[0x4a, 0x4a, 0, 29]), (b"plc", b"hmi")]
        {
            let i = at(&other, old);
            other[i..i + new.len()].copy_from_slice(new);
        }
        assert_eq!(key(&original), key(&other));
        // Another cipher: another key.
        let mut changed = original.clone();
        let i = at(&changed, &[0xc0, 0x2f]);
        changed[i + 1] = 0x30;
        assert_ne!(key(&original), key(&changed));
    }

    #[test]
    fn whole_handshake_finishes_the_flow() {
        let client = Endpoint { ip: Some("10.0.0.1".parse().unwrap()), ..Endpoint::default() };
        let server = Endpoint { ip: Some("10.0.0.2".parse().unwrap()), port: 443, ..Endpoint::default() };
        let mut flow = Flow::<Tls>::new(client, server);
        let rec = client_hello_record();
        assert_eq!(flow.stream(Direction::ToServer, &rec[..10]), 0);
        assert_eq!(flow.stream(Direction::ToServer, &rec), rec.len());
        // ServerHello choosing TLS 1.2, then ServerHelloDone in a second record.
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&[0; 32]);
        sh.extend_from_slice(&[0, 0xc0, 0x2f, 0, 0, 0]);
        let mut recs = vec![0x16, 3, 3, 0, (sh.len() + 4) as u8, 2, 0, 0, sh.len() as u8];
        recs.extend_from_slice(&sh);
        recs.extend_from_slice(&[0x16, 3, 3, 0, 4, 14, 0, 0, 0]);
        assert_eq!(flow.stream(Direction::ToClient, &recs), recs.len());
        assert!(flow.dissector().finished());
        let ev = flow.events();
        let fields: Vec<_> = ip_facts(&ev).into_iter().map(|(ip, field, _)| (ip, field)).collect();
        assert_eq!(fields, vec![(client.ip, IdentityField::Ja3), (client.ip, IdentityField::Ja4), (server.ip, IdentityField::Service)]);
        assert!(operation_events(&ev).iter().any(|o| o.target.as_deref() == Some("tls 1.2")));
    }

    #[test]
    fn probe_is_strict() {
        assert!(!probe(b"\x17\x03\x03\x00\x10", true));
        assert!(!probe(b"GET / HTTP/1.1", true));
        assert!(!probe(&client_hello_record(), false));
    }
}
