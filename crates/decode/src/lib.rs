//! Zero-copy decoding of captured frames into layered views.
//!
//! [`decode`] never allocates and never panics: every length is checked and a
//! frame that is cut short still reports the layers that were whole, with the
//! problem in [`Frame::error`]. Views borrow the captured bytes.

mod ip;
mod link;
mod transport;

pub use ip::{Fragment, IpPacket};
pub use link::{Arp, Llc, Net};
pub use transport::{parse_transport, Icmp, Tcp, TcpFlags, Transport, Udp};

use palisade_capture::LinkType;
use palisade_model::MacAddr;

/// Why a frame could not be decoded completely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The named layer was cut short.
    Truncated(&'static str),
    /// The named layer had an impossible value (bad version, header length...).
    Invalid(&'static str),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated(layer) => write!(f, "{layer} header is truncated"),
            DecodeError::Invalid(layer) => write!(f, "{layer} header is invalid"),
        }
    }
}

/// A decoded frame.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Link-layer source address (Ethernet, or the Linux cooked sender).
    pub src_mac: Option<MacAddr>,
    /// Link-layer destination address (Ethernet only).
    pub dst_mac: Option<MacAddr>,
    /// 802.1Q/802.1ad VLAN ids, outermost first (0 where absent).
    pub vlans: [u16; 2],
    /// The network layer.
    pub net: Net<'a>,
    /// The first problem met, if decoding stopped early.
    pub error: Option<DecodeError>,
}

impl<'a> Frame<'a> {
    /// The IP packet, if the frame carries one.
    pub fn ip(&self) -> Option<&IpPacket<'a>> {
        match &self.net {
            Net::Ip(ip) => Some(ip),
            _ => None,
        }
    }
}

/// Decodes one frame of the given link type.
pub fn decode(link_type: LinkType, data: &[u8]) -> Frame<'_> {
    link::decode_link::<true>(link_type, data)
}

/// Decodes the link and network layers only (addresses, no transport):
/// enough to tell which hosts a frame is between, at less cost.
pub fn decode_network(link_type: LinkType, data: &[u8]) -> Frame<'_> {
    link::decode_link::<false>(link_type, data)
}

/// Reads a big-endian u16 at `at`, if the bytes are there.
#[inline]
pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Reads a big-endian u32 at `at`, if the bytes are there.
#[inline]
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Reads a little-endian u16 at `at`, if the bytes are there.
#[inline]
pub fn le16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Reads a little-endian u32 at `at`, if the bytes are there.
#[inline]
pub fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}
