//! IPv4 and IPv6 (with extension headers).

use crate::transport::{parse_transport, Transport};
use crate::{be16, be32, DecodeError, Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where a fragment sits in its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Identification (IPv4 16 bits, IPv6 32 bits).
    pub id: u32,
    /// Offset of this fragment's payload in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// An IP packet.
#[derive(Clone, Copy, Debug)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv4 don't-fragment bit (always false for IPv6, which has none).
    pub dont_fragment: bool,
    /// Upper-layer protocol number (after IPv6 extension headers).
    pub protocol: u8,
    /// Set when this packet is a fragment of a larger datagram.
    pub fragment: Option<Fragment>,
    /// The IP payload (bounded by the IP length, so link padding is excluded).
    pub payload: &'a [u8],
    /// The transport layer; `Transport::None` for fragments other than a
    /// complete first one.
    pub transport: Transport<'a>,
}

pub(crate) fn decode_ip<const TRANSPORT: bool>(data: &[u8], v6: bool) -> (Net<'_>, Option<DecodeError>) {
    let parsed = if v6 { decode_v6::<TRANSPORT>(data) } else { decode_v4::<TRANSPORT>(data) };
    match parsed {
        Ok((ip, error)) => (Net::Ip(ip), error),
        Err(e) => (Net::None, Some(e)),
    }
}

fn finish<const TRANSPORT: bool>(mut ip: IpPacket<'_>, truncated: bool) -> (IpPacket<'_>, Option<DecodeError>) {
    let mut error = truncated.then_some(DecodeError::Truncated("IP payload"));
    if TRANSPORT && ip.fragment.is_none() {
        let (transport, e) = parse_transport(ip.protocol, ip.payload);
        ip.transport = transport;
        error = error.or(e);
    }
    (ip, error)
}

fn decode_v4<const TRANSPORT: bool>(data: &[u8]) -> Result<(IpPacket<'_>, Option<DecodeError>), DecodeError> {
    let Some(&vihl) = data.first() else { return Err(DecodeError::Truncated("IPv4")) };
    let header_len = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || header_len < 20 {
        return Err(DecodeError::Invalid("IPv4"));
    }
    let (Some(total), Some(frag), Some(&ttl), Some(&protocol), Some(src), Some(dst)) =
        (be16(data, 2), be16(data, 6), data.get(8), data.get(9), be32(data, 12), be32(data, 16))
    else {
        return Err(DecodeError::Truncated("IPv4"));
    };
    if data.len() < header_len {
        return Err(DecodeError::Truncated("IPv4"));
    }
    let total = usize::from(total);
    // A zero total length happens with TCP segmentation offload captures: take the frame.
    let end = if total == 0 { data.len() } else { total.min(data.len()) };
    let truncated = total > data.len();
    let payload = data.get(header_len..end.max(header_len)).unwrap_or(&[]);
    let offset = u32::from(frag & 0x1fff) * 8;
    let more = frag & 0x2000 != 0;
    let fragment = (offset != 0 || more).then(|| Fragment { id: u32::from(be16(data, 4).unwrap_or(0)), offset, more });
    let ip = IpPacket {
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        ttl,
        dont_fragment: frag & 0x4000 != 0,
        protocol,
        fragment,
        payload,
        transport: Transport::None,
    };
    Ok(finish::<TRANSPORT>(ip, truncated))
}

fn v6_addr(data: &[u8], at: usize) -> Option<Ipv6Addr> {
    let b: [u8; 16] = data.get(at..at + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

fn decode_v6<const TRANSPORT: bool>(data: &[u8]) -> Result<(IpPacket<'_>, Option<DecodeError>), DecodeError> {
    let (Some(&first), Some(payload_len), Some(&next), Some(&hops), Some(src), Some(dst)) =
        (data.first(), be16(data, 4), data.get(6), data.get(7), v6_addr(data, 8), v6_addr(data, 24))
    else {
        return Err(DecodeError::Truncated("IPv6"));
    };
    if first >> 4 != 6 {
        return Err(DecodeError::Invalid("IPv6"));
    }
    let payload_len = usize::from(payload_len);
    let end = if payload_len == 0 { data.len() } else { (40 + payload_len).min(data.len()) };
    let truncated = 40 + payload_len > data.len();
    let body = data.get(40..end).unwrap_or(&[]);
    let mut protocol = next;
    let mut at = 0usize;
    let mut fragment = None;
    // Walk extension headers: hop-by-hop, routing, fragment, destination options, AH, mobility.
    for _ in 0..8 {
        match protocol {
            0 | 43 | 60 | 135 | 139 | 140 => {
                let (Some(&nh), Some(&len)) = (body.get(at), body.get(at + 1)) else {
                    return Ok((packet_v6(src, dst, hops, protocol, None, &[]), Some(DecodeError::Truncated("IPv6 extension header"))));
                };
                protocol = nh;
                at += (usize::from(len) + 1) * 8;
            }
            44 => {
                let (Some(&nh), Some(off), Some(id)) = (body.get(at), be16(body, at + 2), be32(body, at + 4)) else {
                    return Ok((packet_v6(src, dst, hops, protocol, None, &[]), Some(DecodeError::Truncated("IPv6 fragment header"))));
                };
                protocol = nh;
                let offset = u32::from(off & 0xfff8);
                let more = off & 1 != 0;
                if offset != 0 || more {
                    fragment = Some(Fragment { id, offset, more });
                }
                at += 8;
            }
            51 => {
                let (Some(&nh), Some(&len)) = (body.get(at), body.get(at + 1)) else {
                    return Ok((packet_v6(src, dst, hops, protocol, None, &[]), Some(DecodeError::Truncated("IPv6 AH"))));
                };
                protocol = nh;
                at += (usize::from(len) + 2) * 4;
            }
            _ => break,
        }
    }
    let payload = body.get(at..).unwrap_or(&[]);
    Ok(finish::<TRANSPORT>(packet_v6(src, dst, hops, protocol, fragment, payload), truncated))
}

fn packet_v6<'a>(src: Ipv6Addr, dst: Ipv6Addr, ttl: u8, protocol: u8, fragment: Option<Fragment>, payload: &'a [u8]) -> IpPacket<'a> {
    IpPacket {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl,
        dont_fragment: false,
        protocol,
        fragment,
        payload,
        transport: Transport::None,
    }
}
