//! TLS records and the handshake messages that identify the peers
//! (RFC 8446, RFC 5246), the JA3 and JA4 client fingerprints, and just
//! enough X.509 to name a certificate's subject and issuer.

use super::hash::{hex, md5, sha256};
use crate::ber;
use palisade_decode::be16;
use std::fmt::Write;

/// Record content type of handshake messages.
pub(crate) const HANDSHAKE: u8 = 0x16;
/// Handshake message types read here.
pub(crate) const CLIENT_HELLO: u8 = 1;
/// ServerHello.
pub(crate) const SERVER_HELLO: u8 = 2;
/// Certificate.
pub(crate) const CERTIFICATE: u8 = 11;
/// ServerHelloDone.
pub(crate) const SERVER_HELLO_DONE: u8 = 14;
/// The longest record body allowed (2^14 plus expansion).
const MAX_RECORD: usize = 18432;

/// Extension numbers used here.
const EXT_SNI: u16 = 0;
const EXT_GROUPS: u16 = 10;
const EXT_POINT_FORMATS: u16 = 11;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// True if `data` starts with a plausible record header.
pub(crate) fn looks_like_record(data: &[u8]) -> bool {
    matches!(data, [0x14..=0x17, 3, 0..=4, ..])
}

/// What reading a record at the start of the data gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read<'a> {
    /// A whole record: content type, body and bytes used.
    Record(u8, &'a [u8], usize),
    /// More bytes are needed.
    Short,
    /// Not a record.
    Invalid,
}

/// Reads one record.
pub(crate) fn record(data: &[u8]) -> Read<'_> {
    if data.len() < 5 {
        return if data.is_empty() || looks_like_record(data) || data.len() < 3 { Read::Short } else { Read::Invalid };
    }
    let (true, Some(len)) = (looks_like_record(data), be16(data, 3)) else { return Read::Invalid };
    let len = usize::from(len);
    if len > MAX_RECORD {
        return Read::Invalid;
    }
    match data.get(5..5 + len) {
        Some(body) => Read::Record(data.first().copied().unwrap_or(0), body, 5 + len),
        None => Read::Short,
    }
}

/// The handshake messages in a record body: (type, declared length, the
/// bytes present, which may be fewer than declared when the message goes on
/// in the next record).
pub(crate) fn messages(body: &[u8]) -> impl Iterator<Item = (u8, usize, &[u8])> {
    let mut rest = body;
    std::iter::from_fn(move || {
        let kind = *rest.first()?;
        let len = u24(rest, 1)?;
        let msg = rest.get(4..)?;
        let present = msg.get(..len).unwrap_or(msg);
        rest = msg.get(len..).unwrap_or_default();
        Some((kind, len, present))
    })
}

/// A 24-bit big-endian length.
fn u24(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at + 3)?;
    Some(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x)))
}

/// A length-prefixed (`width` bytes) vector at `at`, and the offset after it.
fn vector(data: &[u8], at: usize, width: usize) -> Option<(&[u8], usize)> {
    let len = match width {
        1 => usize::from(*data.get(at)?),
        _ => usize::from(be16(data, at)?),
    };
    let start = at + width;
    Some((data.get(start..start.checked_add(len)?)?, start + len))
}

/// True for the reserved GREASE values (RFC 8701).
pub(crate) fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// The 16-bit values of a list.
fn u16s(list: &[u8]) -> impl Iterator<Item = u16> + '_ {
    list.chunks_exact(2).map(|c| u16::from_be_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]))
}

/// The extensions of a hello message as (type, data).
pub(crate) fn extensions(list: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let kind = be16(list, at)?;
        let (data, next) = vector(list, at + 2, 2)?;
        at = next;
        Some((kind, data))
    })
}

/// A ClientHello.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientHello<'a> {
    /// legacy_version.
    pub(crate) version: u16,
    /// Cipher suites, 2 bytes each.
    pub(crate) ciphers: &'a [u8],
    /// The extensions block.
    pub(crate) extensions: &'a [u8],
}

/// Reads a ClientHello message body.
pub(crate) fn client_hello(msg: &[u8]) -> Option<ClientHello<'_>> {
    let version = be16(msg, 0)?;
    let (_, at) = vector(msg, 34, 1)?;
    let (ciphers, at) = vector(msg, at, 2)?;
    let (_, at) = vector(msg, at, 1)?;
    let extensions = vector(msg, at, 2).map_or(&[][..], |(e, _)| e);
    Some(ClientHello { version, ciphers, extensions })
}

impl<'a> ClientHello<'a> {
    /// The server name asked for (SNI host name).
    pub(crate) fn server_name(&self) -> Option<&'a str> {
        let (_, data) = extensions(self.extensions).find(|&(k, _)| k == EXT_SNI)?;
        let (list, _) = vector(data, 0, 2)?;
        if *list.first()? != 0 {
            return None;
        }
        let (name, _) = vector(list, 1, 2)?;
        std::str::from_utf8(name).ok().filter(|n| !n.is_empty())
    }

    /// The JA3 string: version, ciphers, extensions, groups and point
    /// formats, GREASE left out.
    pub(crate) fn ja3(&self) -> String {
        let mut out = String::with_capacity(256);
        let _ = write!(out, "{},", self.version);
        join(&mut out, u16s(self.ciphers).filter(|&c| !is_grease(c)), "-", false);
        out.push(',');
        join(&mut out, extensions(self.extensions).map(|(k, _)| k).filter(|&k| !is_grease(k)), "-", false);
        out.push(',');
        let groups = self.extension(EXT_GROUPS).and_then(|d| vector(d, 0, 2)).map_or(&[][..], |(l, _)| l);
        join(&mut out, u16s(groups).filter(|&g| !is_grease(g)), "-", false);
        out.push(',');
        let formats = self.extension(EXT_POINT_FORMATS).and_then(|d| vector(d, 0, 1)).map_or(&[][..], |(l, _)| l);
        join(&mut out, formats.iter().map(|&f| u16::from(f)), "-", false);
        out
    }

    /// The JA3 fingerprint: MD5 of [`ClientHello::ja3`], in hex.
    pub(crate) fn ja3_hash(&self) -> String {
        hex(&md5(self.ja3().as_bytes()))
    }

    /// The JA4 fingerprint (FoxIO), for a hello seen over TCP.
    pub(crate) fn ja4(&self) -> String {
        let versions = self.extension(EXT_SUPPORTED_VERSIONS).and_then(|d| vector(d, 0, 1)).map(|(l, _)| l);
        let version = versions.and_then(|l| u16s(l).filter(|&v| !is_grease(v)).max()).unwrap_or(self.version);
        let version = match version {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            0x0002 => "s2",
            0xfeff => "d1",
            0xfefd => "d2",
            0xfefc => "d3",
            _ => "00",
        };
        let sni = if self.extension(EXT_SNI).is_some() { 'd' } else { 'i' };
        let mut ciphers: Vec<u16> = u16s(self.ciphers).filter(|&c| !is_grease(c)).collect();
        let mut exts: Vec<u16> = extensions(self.extensions).map(|(k, _)| k).filter(|&k| !is_grease(k)).collect();
        let alpn = self
            .extension(EXT_ALPN)
            .and_then(|d| vector(d, 0, 2))
            .and_then(|(l, _)| vector(l, 0, 1))
            .map(|(first, _)| first)
            .filter(|v| !v.is_empty());
        let alpn = match alpn {
            Some(v) => {
                let (a, z) = (v.first().copied().unwrap_or(b'0'), v.last().copied().unwrap_or(b'0'));
                if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
                    format!("{}{}", char::from(a), char::from(z))
                } else {
                    let (a, z) = (format!("{a:02x}"), format!("{z:02x}"));
                    format!("{}{}", a.get(..1).unwrap_or("0"), z.get(1..).unwrap_or("0"))
                }
            }
            None => "00".to_string(),
        };
        let mut out = format!("t{version}{sni}{:02}{:02}{alpn}_", ciphers.len().min(99), exts.len().min(99));
        ciphers.sort_unstable();
        out.push_str(&truncated_hash(&ciphers, None));
        out.push('_');
        exts.retain(|&k| k != EXT_SNI && k != EXT_ALPN);
        exts.sort_unstable();
        let algorithms: Vec<u16> =
            self.extension(EXT_SIGNATURE_ALGORITHMS).and_then(|d| vector(d, 0, 2)).map_or(Vec::new(), |(l, _)| u16s(l).collect());
        out.push_str(&truncated_hash(&exts, Some(&algorithms)));
        out
    }

    /// A hash of what the JA3 and JA4 fingerprints are made from, without
    /// what changes per connection (GREASE values, the server name, key
    /// shares): equal keys give equal fingerprints.
    pub(crate) fn fingerprint_key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = ahash::AHasher::default();
        self.version.hash(&mut h);
        u16s(self.ciphers).filter(|&c| !is_grease(c)).for_each(|c| c.hash(&mut h));
        for (kind, data) in extensions(self.extensions).filter(|&(k, _)| !is_grease(k)) {
            (0xffff_u32 << 16 | u32::from(kind)).hash(&mut h);
            match kind {
                // Lists of 16-bit values after a 2-byte length (groups, algorithms) or a 1-byte one (versions).
                EXT_GROUPS | EXT_SIGNATURE_ALGORITHMS => u16s(data).filter(|&v| !is_grease(v)).for_each(|v| v.hash(&mut h)),
                EXT_SUPPORTED_VERSIONS => u16s(data.get(1..).unwrap_or(&[])).filter(|&v| !is_grease(v)).for_each(|v| v.hash(&mut h)),
                EXT_ALPN | EXT_POINT_FORMATS => data.hash(&mut h),
                _ => {}
            }
        }
        h.finish()
    }

    /// The data of extension `kind`.
    fn extension(&self, kind: u16) -> Option<&'a [u8]> {
        extensions(self.extensions).find(|&(k, _)| k == kind).map(|(_, d)| d)
    }
}

/// Writes `values` separated by `sep` (in 4-digit hex or decimal).
fn join(out: &mut String, values: impl Iterator<Item = u16>, sep: &str, hex4: bool) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        let _ = if hex4 { write!(out, "{v:04x}") } else { write!(out, "{v}") };
    }
}

/// The first 12 hex digits of the SHA-256 of a JA4 list ("0000..." when
/// empty), with signature algorithms after an underscore when there are any.
fn truncated_hash(values: &[u16], algorithms: Option<&[u16]>) -> String {
    if values.is_empty() {
        return "000000000000".to_string();
    }
    let mut text = String::with_capacity(values.len() * 5 + 64);
    join(&mut text, values.iter().copied(), ",", true);
    if let Some(a) = algorithms.filter(|a| !a.is_empty()) {
        text.push('_');
        join(&mut text, a.iter().copied(), ",", true);
    }
    let mut digest = hex(&sha256(text.as_bytes()));
    digest.truncate(12);
    digest
}

/// A ServerHello.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ServerHello<'a> {
    /// The selected version (supported_versions when present).
    pub(crate) version: u16,
    /// The protocol chosen by ALPN, if any.
    pub(crate) alpn: Option<&'a [u8]>,
}

/// Reads a ServerHello message body.
pub(crate) fn server_hello(msg: &[u8]) -> Option<ServerHello<'_>> {
    let legacy = be16(msg, 0)?;
    let (_, at) = vector(msg, 34, 1)?;
    let at = at + 3;
    let exts = vector(msg, at, 2).map_or(&[][..], |(e, _)| e);
    let mut hello = ServerHello { version: legacy, alpn: None };
    for (kind, data) in extensions(exts) {
        match kind {
            EXT_SUPPORTED_VERSIONS => hello.version = be16(data, 0).unwrap_or(legacy),
            EXT_ALPN => hello.alpn = vector(data, 0, 2).and_then(|(l, _)| vector(l, 0, 1)).map(|(p, _)| p),
            _ => {}
        }
    }
    Some(hello)
}

/// The name of a TLS version.
pub(crate) fn version_name(v: u16) -> &'static str {
    match v {
        0x0300 => "ssl 3.0",
        0x0301 => "tls 1.0",
        0x0302 => "tls 1.1",
        0x0303 => "tls 1.2",
        0x0304 => "tls 1.3",
        0x7f00..=0x7fff => "tls 1.3 draft",
        _ => "tls unknown",
    }
}

/// The first certificate (DER) of a TLS 1.2 Certificate message body.
pub(crate) fn first_certificate(msg: &[u8]) -> Option<&[u8]> {
    let len = u24(msg, 3)?;
    msg.get(6..6 + len)
}

/// The common names (OID 2.5.4.3) of a certificate's subject and issuer.
pub(crate) fn certificate_names(der: &[u8]) -> (Option<&str>, Option<&str>) {
    let names = || -> Option<(Option<&str>, Option<&str>)> {
        let cert = ber::first(der).ok()?;
        let tbs = cert.inner()?;
        let mut fields = tbs.children().map_while(Result::ok).filter(|t| !t.is_context(0));
        let _serial = fields.next()?;
        let _algorithm = fields.next()?;
        let issuer = fields.next()?;
        let _validity = fields.next()?;
        let subject = fields.next()?;
        Some((common_name(subject), common_name(issuer)))
    };
    names().unwrap_or((None, None))
}

/// The common name in a distinguished name.
fn common_name(name: ber::Tlv<'_>) -> Option<&str> {
    name.children().map_while(Result::ok).flat_map(|set| set.children().map_while(Result::ok)).find_map(|pair| {
        let mut parts = pair.children().map_while(Result::ok);
        let oid = parts.next()?;
        let value = parts.next()?;
        (oid.is_universal(6) && oid.value == [0x55, 0x04, 0x03]).then(|| value.text()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a));
        assert!(is_grease(0xfafa));
        assert!(!is_grease(0x0a1a));
        assert!(!is_grease(0x7550));
    }

    #[test]
    fn records_and_messages() {
        assert_eq!(record(&[0x16, 3, 1, 0, 2, 9, 9, 7]), Read::Record(0x16, &[9, 9], 7));
        assert_eq!(record(&[0x16, 3, 1, 0, 4, 9]), Read::Short);
        assert_eq!(record(&[0x47, 0x45, 0x54, 0x20, 0x2f]), Read::Invalid);
        let body = [14, 0, 0, 0, 11, 0, 0, 9, 1, 2];
        let all: Vec<_> = messages(&body).collect();
        assert_eq!(all, vec![(14, 0, &[][..]), (11, 9, &[1, 2][..])]);
    }

    #[test]
    fn server_hello_version() {
        let mut msg = vec![3, 3];
        msg.extend_from_slice(&[0; 32]);
        msg.push(0);
        msg.extend_from_slice(&[0x13, 0x01, 0]);
        msg.extend_from_slice(&[0, 6, 0, 43, 0, 2, 3, 4]);
        assert_eq!(server_hello(&msg), Some(ServerHello { version: 0x0304, alpn: None }));
    }

    #[test]
    fn certificate_common_names() {
        // Name: SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String } } }
        fn name(cn: &[u8]) -> Vec<u8> {
            let mut pair = vec![0x06, 3, 0x55, 4, 3, 0x0c, cn.len() as u8];
            pair.extend_from_slice(cn);
            let mut seq = vec![0x30, pair.len() as u8];
            seq.extend(pair);
            let mut set = vec![0x31, seq.len() as u8];
            set.extend(seq);
            let mut n = vec![0x30, set.len() as u8];
            n.extend(set);
            n
        }
        let mut tbs_body = vec![0xa0, 3, 2, 1, 2, 2, 1, 7, 0x30, 0];
        tbs_body.extend(name(b"Test CA"));
        tbs_body.extend([0x30, 0]);
        tbs_body.extend(name(b"plc.example"));
        let mut tbs = vec![0x30, tbs_body.len() as u8];
        tbs.extend(tbs_body);
        let mut cert = vec![0x30, 0x81, tbs.len() as u8];
        cert.extend(tbs);
        assert_eq!(certificate_names(&cert), (Some("plc.example"), Some("Test CA")));
        assert_eq!(certificate_names(&cert[..10]), (None, None));
    }
}
