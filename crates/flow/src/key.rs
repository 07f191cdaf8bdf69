//! Flow keys and directions.

use palisade_model::MacAddr;
use std::net::IpAddr;

/// Which way a packet goes within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the side that opened the flow.
    ToServer,
    /// Towards the side that opened the flow.
    ToClient,
}

impl Direction {
    /// 0 for `ToServer`, 1 for `ToClient` (index into per-direction arrays).
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    /// The opposite direction.
    pub fn reverse(self) -> Self {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// A direction-free flow key: the two endpoints in a fixed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: [u8; 16],
    hi: [u8; 16],
    lo_port: u16,
    hi_port: u16,
    /// IP protocol number, or 0 for layer 2.
    proto: u8,
    /// 4 or 6 for IP, 2 for layer 2 (then the "ports" hold the ethertype).
    family: u8,
}

fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            b
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn mac_bytes(mac: MacAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&mac.0);
    b
}

impl FlowKey {
    /// Key of an IP conversation, and whether (src, src_port) is the "lo" side.
    pub fn ip(src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16, proto: u8) -> (FlowKey, bool) {
        let family = if src.is_ipv4() { 4 } else { 6 };
        Self::ordered(ip_bytes(src), src_port, ip_bytes(dst), dst_port, proto, family)
    }

    /// Key of a layer-2 conversation of one ethertype between two MACs.
    pub fn ethernet(src: MacAddr, dst: MacAddr, ethertype: u16) -> (FlowKey, bool) {
        Self::ordered(mac_bytes(src), ethertype, mac_bytes(dst), ethertype, 0, 2)
    }

    fn ordered(a: [u8; 16], a_port: u16, b: [u8; 16], b_port: u16, proto: u8, family: u8) -> (FlowKey, bool) {
        if (a, a_port) <= (b, b_port) {
            (FlowKey { lo: a, hi: b, lo_port: a_port, hi_port: b_port, proto, family }, true)
        } else {
            (FlowKey { lo: b, hi: a, lo_port: b_port, hi_port: a_port, proto, family }, false)
        }
    }

    /// A hash that is the same for both directions and for every flow
    /// between the same two hosts (so fragments and all flows of a host pair
    /// land on the same worker). Addresses are given as bytes (IPs or MACs).
    pub fn host_pair_hash(a: &[u8], b: &[u8]) -> u64 {
        fn fold(bytes: &[u8]) -> u64 {
            let mut x = 0u64;
            for chunk in bytes.chunks(8) {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                x ^= u64::from_le_bytes(word);
            }
            x = (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            x ^ (x >> 29)
        }
        // Addition commutes, so the order of the two hosts does not matter.
        let h = fold(a).wrapping_add(fold(b));
        (h ^ (h >> 32)).wrapping_mul(0xbf58_476d_1ce4_e5b9)
    }
}
