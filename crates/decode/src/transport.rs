//! TCP, UDP and ICMP.

use crate::{be16, be32, DecodeError};

/// TCP flag bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;

    /// True if every bit of `mask` is set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
}

/// A TCP segment.
#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Raw option bytes.
    pub options: &'a [u8],
    /// Segment payload.
    pub payload: &'a [u8],
}

/// A UDP datagram.
#[derive(Clone, Copy, Debug)]
pub struct Udp<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload (bounded by the UDP length).
    pub payload: &'a [u8],
}

/// An ICMP or ICMPv6 message.
#[derive(Clone, Copy, Debug)]
pub struct Icmp<'a> {
    /// Type.
    pub kind: u8,
    /// Code.
    pub code: u8,
    /// The bytes after the 4-byte header.
    pub payload: &'a [u8],
}

/// The transport layer of an IP packet.
#[derive(Clone, Copy, Debug)]
pub enum Transport<'a> {
    /// TCP.
    Tcp(Tcp<'a>),
    /// UDP.
    Udp(Udp<'a>),
    /// ICMP (protocol 1) or ICMPv6 (58).
    Icmp(Icmp<'a>),
    /// Anything else, or nothing (fragments, malformed).
    None,
}

/// Parses the transport layer of protocol `protocol` from an IP payload.
pub fn parse_transport(protocol: u8, data: &[u8]) -> (Transport<'_>, Option<DecodeError>) {
    match protocol {
        6 => {
            let (Some(src_port), Some(dst_port), Some(seq), Some(ack), Some(&off), Some(&flags), Some(window)) =
                (be16(data, 0), be16(data, 2), be32(data, 4), be32(data, 8), data.get(12), data.get(13), be16(data, 14))
            else {
                return (Transport::None, Some(DecodeError::Truncated("TCP")));
            };
            let header_len = usize::from(off >> 4) * 4;
            if header_len < 20 {
                return (Transport::None, Some(DecodeError::Invalid("TCP")));
            }
            let Some(options) = data.get(20..header_len) else {
                return (Transport::None, Some(DecodeError::Truncated("TCP")));
            };
            let payload = data.get(header_len..).unwrap_or(&[]);
            (Transport::Tcp(Tcp { src_port, dst_port, seq, ack, flags: TcpFlags(flags), window, options, payload }), None)
        }
        17 => {
            let (Some(src_port), Some(dst_port), Some(len)) = (be16(data, 0), be16(data, 2), be16(data, 4)) else {
                return (Transport::None, Some(DecodeError::Truncated("UDP")));
            };
            let len = usize::from(len);
            let end = if len < 8 { data.len() } else { len.min(data.len()) };
            let payload = data.get(8..end).unwrap_or(&[]);
            let error = (len > data.len()).then_some(DecodeError::Truncated("UDP payload"));
            (Transport::Udp(Udp { src_port, dst_port, payload }), error)
        }
        1 | 58 => {
            let (Some(&kind), Some(&code)) = (data.first(), data.get(1)) else {
                return (Transport::None, Some(DecodeError::Truncated("ICMP")));
            };
            (Transport::Icmp(Icmp { kind, code, payload: data.get(4..).unwrap_or(&[]) }), None)
        }
        _ => (Transport::None, None),
    }
}
