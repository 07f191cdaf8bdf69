//! Passive OS fingerprints from TCP handshakes.
//!
//! Every SYN and SYN-ACK from a site (non-public) address is summarised as a
//! [`TcpSignature`] and reported as a `tcp_fingerprint` fact about its
//! sender; a SYN-ACK also reports the port as a `service` the sender
//! listens on (`tcp/9100`). The text is formatted on the stack and the
//! event sink drops facts it has already reported before allocating, so
//! each host and signature costs one event and later handshakes nothing.
//! The subject has no MAC: the fingerprint belongs to the IP stack, and a
//! routed SYN carries the router's MAC.

use palisade_decode::{IpPacket, Tcp, TcpFlags};
use palisade_model::{is_local_ip, Endpoint, IdentityField, Protocol, SynKind, TcpSignature, Timestamp};
use palisade_protocols::EventSink;
use std::fmt::Write;

/// A short text formatted without allocating (longer text is cut).
struct StackText {
    buf: [u8; 128],
    len: usize,
}

impl StackText {
    fn format(args: std::fmt::Arguments<'_>) -> Self {
        let mut text = StackText { buf: [0; 128], len: 0 };
        let _ = text.write_fmt(args);
        text
    }

    fn as_str(&self) -> &str {
        self.buf.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }
}

impl Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len.checked_add(s.len()).filter(|e| *e <= self.buf.len()).ok_or(std::fmt::Error)?;
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Reports the fingerprint of a SYN or SYN-ACK (other segments are ignored).
pub(crate) fn report(sink: &mut EventSink, ts: Timestamp, ip: &IpPacket<'_>, tcp: &Tcp<'_>) {
    if !tcp.flags.has(TcpFlags::SYN) || !is_local_ip(ip.src) {
        return;
    }
    let kind = if tcp.flags.has(TcpFlags::ACK) { SynKind::SynAck } else { SynKind::Syn };
    let signature = TcpSignature::from_syn(kind, ip.ttl, tcp.window, tcp.options, ip.dont_fragment);
    let subject = Endpoint { mac: None, ip: Some(ip.src), port: 0 };
    let text = StackText::format(format_args!("{signature}"));
    sink.identity(ts, subject, Protocol::Tcp, IdentityField::TcpFingerprint, text.as_str());
    if kind == SynKind::SynAck {
        let port = StackText::format(format_args!("tcp/{}", tcp.src_port));
        sink.identity(ts, subject, Protocol::Tcp, IdentityField::Service, port.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_capture::LinkType;
    use palisade_decode::{decode, Net, Transport};
    use palisade_model::Event;

    /// An Ethernet/IPv4/TCP handshake segment with the given TTL, flags, window and options.
    fn segment(src: [u8; 4], ttl: u8, flags: u8, window: u16, options: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 0x1b, 0x1b, 0, 0, 2, 0, 0x80, 0xf4, 0, 0, 1, 0x08, 0x00];
        let total = (40 + options.len()) as u16;
        f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0x40, 0, ttl, 6, 0, 0]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&[10, 0, 0, 9]);
        f.extend_from_slice(&[0x23, 0x8c, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 0]);
        f.push(((5 + options.len() / 4) as u8) << 4);
        f.extend_from_slice(&[flags, (window >> 8) as u8, window as u8, 0, 0, 0, 0]);
        f.extend_from_slice(options);
        f
    }

    fn facts(frames: &[Vec<u8>]) -> Vec<(String, String)> {
        let mut sink = EventSink::default();
        for frame in frames {
            let decoded = decode(LinkType::Ethernet, frame);
            let Net::Ip(ip) = decoded.net else { panic!("not IP") };
            let Transport::Tcp(tcp) = ip.transport else { panic!("not TCP") };
            report(&mut sink, Timestamp(1), &ip, &tcp);
        }
        let mut events = Vec::new();
        sink.swap(&mut events);
        events
            .into_iter()
            .map(|e| match e {
                Event::Identity(f) => (f.field.as_str().to_string(), f.value),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn syn_and_syn_ack_are_reported_once_per_host_and_signature() {
        let win = [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2];
        let syn = segment([10, 0, 0, 5], 127, 0x02, 64240, &win);
        let syn_ack = segment([10, 0, 0, 6], 30, 0x12, 8192, &[2, 4, 0x05, 0xb4]);
        let data = segment([10, 0, 0, 5], 127, 0x18, 64240, &[]);
        let public = segment([8, 8, 8, 8], 50, 0x12, 65535, &[]);
        let got = facts(&[syn.clone(), syn, syn_ack.clone(), syn_ack, data, public]);
        let want = [
            ("tcp_fingerprint", "syn ttl=128 win=64240 mss=1460 ws=8 opts=M,N,W,N,N,S df"),
            ("tcp_fingerprint", "syn-ack ttl=32 win=8192 mss=1460 ws=- opts=M df"),
            ("service", "tcp/9100"),
        ];
        assert_eq!(got, want.map(|(f, v)| (f.to_string(), v.to_string())));
    }

    #[test]
    fn stack_text_cuts_instead_of_overflowing() {
        let long = "x".repeat(200);
        let text = StackText::format(format_args!("{long}"));
        assert!(text.as_str().len() <= 128);
        assert_eq!(StackText::format(format_args!("tcp/{}", 9100)).as_str(), "tcp/9100");
    }
}
