//! Header builders: one function per header, each returning the header
//! followed by its payload, with lengths and checksums filled in.

use palisade_model::MacAddr;
use std::net::Ipv4Addr;

/// EtherType of IPv4.
pub(crate) const ETH_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub(crate) const ETH_ARP: u16 = 0x0806;
/// EtherType of an 802.1Q tag.
const ETH_VLAN: u16 = 0x8100;
/// EtherType of LLDP.
pub(crate) const ETH_LLDP: u16 = 0x88cc;
/// EtherType of PROFINET real-time frames (DCP).
pub(crate) const ETH_PROFINET: u16 = 0x8892;

/// IP protocol number of ICMP.
pub(crate) const IP_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub(crate) const IP_TCP: u8 = 6;
/// IP protocol number of UDP.
pub(crate) const IP_UDP: u8 = 17;

/// TCP flag bits.
pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
pub(crate) const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;

/// Shortest Ethernet frame without FCS; shorter frames are padded.
const MIN_FRAME: usize = 60;

/// An 802.1Q tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vlan {
    /// VLAN identifier (12 bits).
    pub id: u16,
    /// Priority code point (3 bits).
    pub pcp: u8,
}

/// Link-layer addressing of one frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct L2 {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub vlan: Option<Vlan>,
}

/// Ethernet II header (plus an 802.1Q tag when `l2.vlan` is set), padded to 60 bytes.
pub(crate) fn ethernet(l2: &L2, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(18 + payload.len().max(MIN_FRAME));
    f.extend_from_slice(&l2.dst.0);
    f.extend_from_slice(&l2.src.0);
    match l2.vlan {
        Some(vlan) => {
            f.extend_from_slice(&ETH_VLAN.to_be_bytes());
            f.extend_from_slice(&dot1q(vlan, ethertype, payload));
        }
        None => {
            f.extend_from_slice(&ethertype.to_be_bytes());
            f.extend_from_slice(payload);
        }
    }
    if f.len() < MIN_FRAME {
        f.resize(MIN_FRAME, 0);
    }
    f
}

/// 802.1Q tag control information and the inner EtherType.
fn dot1q(vlan: Vlan, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let tci = (u16::from(vlan.pcp & 7) << 13) | (vlan.id & 0x0fff);
    let mut out = Vec::with_capacity(4 + payload.len());
    out.extend_from_slice(&tci.to_be_bytes());
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// ARP for IPv4 over Ethernet (`op` 1 = request, 2 = reply).
pub(crate) fn arp(op: u16, sha: MacAddr, spa: Ipv4Addr, tha: MacAddr, tpa: Ipv4Addr) -> Vec<u8> {
    let mut out = Vec::with_capacity(28);
    out.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
    out.extend_from_slice(&op.to_be_bytes());
    out.extend_from_slice(&sha.0);
    out.extend_from_slice(&spa.octets());
    out.extend_from_slice(&tha.0);
    out.extend_from_slice(&tpa.octets());
    out
}

/// Fields of an IPv4 header that vary between packets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ip {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub id: u16,
}

/// IPv4 header without options, Don't Fragment set.
pub(crate) fn ipv4(ip: &Ip, proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(20 + payload.len());
    out.extend_from_slice(&[0x45, 0x00]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&ip.id.to_be_bytes());
    out.extend_from_slice(&0x4000u16.to_be_bytes());
    out.extend_from_slice(&[ip.ttl, proto, 0, 0]);
    out.extend_from_slice(&ip.src.octets());
    out.extend_from_slice(&ip.dst.octets());
    let sum = checksum(0, &out);
    out[10..12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Fields of a TCP header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpHdr {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

/// TCP header with `options` (a multiple of four bytes) and checksum.
pub(crate) fn tcp(src: Ipv4Addr, dst: Ipv4Addr, h: &TcpHdr, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let header_len = 20 + options.len();
    let mut out = Vec::with_capacity(header_len + payload.len());
    out.extend_from_slice(&h.sport.to_be_bytes());
    out.extend_from_slice(&h.dport.to_be_bytes());
    out.extend_from_slice(&h.seq.to_be_bytes());
    out.extend_from_slice(&h.ack.to_be_bytes());
    out.push(((header_len / 4) as u8) << 4);
    out.push(h.flags);
    out.extend_from_slice(&h.window.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(options);
    out.extend_from_slice(payload);
    let sum = transport_checksum(src, dst, IP_TCP, &out);
    out[16..18].copy_from_slice(&sum.to_be_bytes());
    out
}

/// UDP header with checksum.
pub(crate) fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&sport.to_be_bytes());
    out.extend_from_slice(&dport.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    let sum = match transport_checksum(src, dst, IP_UDP, &out) {
        0 => 0xffff,
        s => s,
    };
    out[6..8].copy_from_slice(&sum.to_be_bytes());
    out
}

/// ICMP header (type, code, four bytes of "rest of header") with checksum.
pub(crate) fn icmp(kind: u8, code: u8, rest: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&[kind, code, 0, 0]);
    out.extend_from_slice(&rest);
    out.extend_from_slice(payload);
    let sum = checksum(0, &out);
    out[2..4].copy_from_slice(&sum.to_be_bytes());
    out
}

/// Checksum of a TCP or UDP segment including the IPv4 pseudo-header.
fn transport_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) -> u16 {
    let mut pseudo = [0u8; 12];
    pseudo[0..4].copy_from_slice(&src.octets());
    pseudo[4..8].copy_from_slice(&dst.octets());
    pseudo[9] = proto;
    pseudo[10..12].copy_from_slice(&(segment.len() as u16).to_be_bytes());
    checksum(sum_words(0, &pseudo), segment)
}

/// Adds `data` as big-endian 16-bit words (odd tail padded with zero) to `acc`.
///
/// Four bytes are added at a time: the end-around-carry sum of 32-bit words folds to the
/// same 16-bit one's-complement sum.
fn sum_words(acc: u64, data: &[u8]) -> u64 {
    let mut sum = acc;
    let mut i = 0;
    while i + 4 <= data.len() {
        sum += u64::from(u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]));
        i += 4;
    }
    if i + 2 <= data.len() {
        sum += u64::from(u16::from_be_bytes([data[i], data[i + 1]]));
        i += 2;
    }
    if let Some(&last) = data.get(i) {
        sum += u64::from(last) << 8;
    }
    sum
}

/// The Internet checksum of `data`, starting from the partial sum `acc`.
fn checksum(acc: u64, data: &[u8]) -> u16 {
    let mut sum = sum_words(acc, data);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let ip = Ip { src: Ipv4Addr::new(10, 0, 0, 1), dst: Ipv4Addr::new(10, 0, 0, 2), ttl: 64, id: 7 };
        let pkt = ipv4(&ip, IP_UDP, &[1, 2, 3]);
        assert_eq!(checksum(0, &pkt[..20]), 0);
    }

    #[test]
    fn checksum_matches_the_rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        assert_eq!(checksum(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
        assert_eq!(checksum(0, &[0x00, 0x01, 0xf2]), !0xf201);
    }

    #[test]
    fn frames_are_padded() {
        let l2 = L2 { dst: MacAddr::BROADCAST, src: MacAddr([0, 1, 2, 3, 4, 5]), vlan: Some(Vlan { id: 20, pcp: 0 }) };
        let f = ethernet(&l2, ETH_ARP, &[0; 28]);
        assert_eq!(f.len(), 60);
        assert_eq!(&f[12..16], &[0x81, 0x00, 0x00, 20]);
    }
}
