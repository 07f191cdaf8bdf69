//! Link layers: Ethernet with VLAN tags and LLC/SNAP, Linux cooked v1/v2,
//! loopback and raw IP; ARP.

use crate::ip::decode_ip;
use crate::{be16, DecodeError, Frame};
use palisade_capture::LinkType;
use palisade_model::MacAddr;
use std::net::Ipv4Addr;

/// An ARP packet for IPv4 over Ethernet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// 1 = request, 2 = reply.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

/// An 802.2 LLC frame, with its SNAP header when present.
#[derive(Clone, Copy, Debug)]
pub struct Llc<'a> {
    /// Destination service access point.
    pub dsap: u8,
    /// Source service access point.
    pub ssap: u8,
    /// SNAP organisation code and protocol id (e.g. Cisco 0x00000c / 0x2000 for CDP).
    pub snap: Option<(u32, u16)>,
    /// What follows the LLC (and SNAP) header.
    pub payload: &'a [u8],
}

/// The network layer of a frame.
#[derive(Clone, Copy, Debug)]
pub enum Net<'a> {
    /// IPv4 or IPv6.
    Ip(crate::IpPacket<'a>),
    /// ARP.
    Arp(Arp),
    /// Another ethertype (LLDP, PROFINET, GOOSE, EtherCAT...).
    Ethertype {
        /// The ethertype.
        ethertype: u16,
        /// Its payload.
        payload: &'a [u8],
    },
    /// An 802.3 frame with LLC (STP, CDP...).
    Llc(Llc<'a>),
    /// Nothing recognisable.
    None,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86dd;

fn empty(src_mac: Option<MacAddr>, dst_mac: Option<MacAddr>, error: Option<DecodeError>) -> Frame<'static> {
    Frame { src_mac, dst_mac, vlans: [0; 2], net: Net::None, error }
}

pub(crate) fn decode_link<const TRANSPORT: bool>(link_type: LinkType, data: &[u8]) -> Frame<'_> {
    match link_type {
        LinkType::Ethernet => decode_ethernet::<TRANSPORT>(data),
        LinkType::LinuxSll => decode_sll::<TRANSPORT>(data),
        LinkType::LinuxSll2 => decode_sll2::<TRANSPORT>(data),
        LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => with_net(empty(None, None, None), decode_raw_ip::<TRANSPORT>(data)),
        LinkType::Null | LinkType::Loop => decode_loopback::<TRANSPORT>(link_type, data),
    }
}

fn with_net<'a>(mut frame: Frame<'a>, (net, error): (Net<'a>, Option<DecodeError>)) -> Frame<'a> {
    frame.net = net;
    frame.error = frame.error.or(error);
    frame
}

fn decode_raw_ip<const TRANSPORT: bool>(data: &[u8]) -> (Net<'_>, Option<DecodeError>) {
    match data.first().map(|b| b >> 4) {
        Some(4) => decode_ip::<TRANSPORT>(data, false),
        Some(6) => decode_ip::<TRANSPORT>(data, true),
        Some(_) => (Net::None, Some(DecodeError::Invalid("IP version"))),
        None => (Net::None, Some(DecodeError::Truncated("IP"))),
    }
}

/// Decodes what follows an ethertype.
fn decode_ethertype<const TRANSPORT: bool>(ethertype: u16, payload: &[u8]) -> (Net<'_>, Option<DecodeError>) {
    match ethertype {
        ETHERTYPE_IPV4 => decode_ip::<TRANSPORT>(payload, false),
        ETHERTYPE_IPV6 => decode_ip::<TRANSPORT>(payload, true),
        ETHERTYPE_ARP => decode_arp(payload),
        _ => (Net::Ethertype { ethertype, payload }, None),
    }
}

fn decode_ethernet<const TRANSPORT: bool>(data: &[u8]) -> Frame<'_> {
    let (Some(dst), Some(src)) = (MacAddr::from_slice(data), data.get(6..).and_then(MacAddr::from_slice)) else {
        return empty(None, None, Some(DecodeError::Truncated("Ethernet")));
    };
    let mut frame = empty(Some(src), Some(dst), None);
    let mut at = 12;
    let mut tags = 0;
    loop {
        let Some(ethertype) = be16(data, at) else {
            frame.error = Some(DecodeError::Truncated("Ethernet"));
            return frame;
        };
        at += 2;
        match ethertype {
            0x8100 | 0x88a8 | 0x9100 | 0x9200 => {
                let Some(tci) = be16(data, at) else {
                    frame.error = Some(DecodeError::Truncated("VLAN"));
                    return frame;
                };
                if let Some(slot) = frame.vlans.get_mut(tags) {
                    *slot = tci & 0x0fff;
                }
                tags += 1;
                at += 2;
                if tags > 4 {
                    frame.error = Some(DecodeError::Invalid("VLAN"));
                    return frame;
                }
            }
            len if len <= 1500 => {
                let want = at + usize::from(len);
                if want > data.len() {
                    frame.error = Some(DecodeError::Truncated("802.3 payload"));
                }
                let payload = data.get(at..want.min(data.len())).unwrap_or(&[]);
                return with_net(frame, decode_llc::<TRANSPORT>(payload));
            }
            _ => return with_net(frame, decode_ethertype::<TRANSPORT>(ethertype, data.get(at..).unwrap_or(&[]))),
        }
    }
}

fn decode_llc<const TRANSPORT: bool>(data: &[u8]) -> (Net<'_>, Option<DecodeError>) {
    let (Some(&dsap), Some(&ssap), Some(&control)) = (data.first(), data.get(1), data.get(2)) else {
        return (Net::None, Some(DecodeError::Truncated("LLC")));
    };
    // Unnumbered frames have a one-byte control field; others two.
    let mut at = if control & 3 == 3 { 3 } else { 4 };
    let mut snap = None;
    if dsap == 0xaa && ssap == 0xaa {
        let (Some(oui), Some(pid)) = (data.get(at..at + 3), be16(data, at + 3)) else {
            return (Net::None, Some(DecodeError::Truncated("SNAP")));
        };
        let oui = (u32::from(oui[0]) << 16) | (u32::from(oui[1]) << 8) | u32::from(oui[2]);
        at += 5;
        if oui == 0 {
            // RFC 1042 encapsulation of an ethertype.
            return decode_ethertype::<TRANSPORT>(pid, data.get(at..).unwrap_or(&[]));
        }
        snap = Some((oui, pid));
    }
    (Net::Llc(Llc { dsap, ssap, snap, payload: data.get(at..).unwrap_or(&[]) }), None)
}

fn decode_arp(data: &[u8]) -> (Net<'_>, Option<DecodeError>) {
    // Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4.
    let (Some(htype), Some(ptype), Some(&hlen), Some(&plen), Some(operation)) =
        (be16(data, 0), be16(data, 2), data.get(4), data.get(5), be16(data, 6))
    else {
        return (Net::None, Some(DecodeError::Truncated("ARP")));
    };
    if htype != 1 || ptype != ETHERTYPE_IPV4 || hlen != 6 || plen != 4 {
        return (Net::None, Some(DecodeError::Invalid("ARP")));
    }
    let ip_at = |at: usize| data.get(at..at + 4).map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]));
    let (Some(sender_mac), Some(sender_ip), Some(target_mac), Some(target_ip)) =
        (data.get(8..).and_then(MacAddr::from_slice), ip_at(14), data.get(18..).and_then(MacAddr::from_slice), ip_at(24))
    else {
        return (Net::None, Some(DecodeError::Truncated("ARP")));
    };
    (Net::Arp(Arp { operation, sender_mac, sender_ip, target_mac, target_ip }), None)
}

/// The sender address of a Linux cooked header, when it is an Ethernet MAC.
fn cooked_sender(arphrd: u16, addr_len: usize, addr: &[u8]) -> Option<MacAddr> {
    // ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772 (all-zero address).
    if addr_len == 6 && (arphrd == 1 || arphrd == 772) {
        MacAddr::from_slice(addr)
    } else {
        None
    }
}

fn decode_sll<const TRANSPORT: bool>(data: &[u8]) -> Frame<'_> {
    let (Some(arphrd), Some(addr_len), Some(addr), Some(protocol)) = (be16(data, 2), be16(data, 4), data.get(6..14), be16(data, 14)) else {
        return empty(None, None, Some(DecodeError::Truncated("Linux cooked")));
    };
    let frame = empty(cooked_sender(arphrd, usize::from(addr_len), addr), None, None);
    with_net(frame, decode_ethertype::<TRANSPORT>(protocol, data.get(16..).unwrap_or(&[])))
}

fn decode_sll2<const TRANSPORT: bool>(data: &[u8]) -> Frame<'_> {
    let (Some(protocol), Some(arphrd), Some(&addr_len), Some(addr)) = (be16(data, 0), be16(data, 8), data.get(11), data.get(12..20)) else {
        return empty(None, None, Some(DecodeError::Truncated("Linux cooked v2")));
    };
    let frame = empty(cooked_sender(arphrd, usize::from(addr_len), addr), None, None);
    with_net(frame, decode_ethertype::<TRANSPORT>(protocol, data.get(20..).unwrap_or(&[])))
}

fn decode_loopback<const TRANSPORT: bool>(link_type: LinkType, data: &[u8]) -> Frame<'_> {
    let Some(raw) = data.get(..4) else {
        return empty(None, None, Some(DecodeError::Truncated("loopback")));
    };
    let raw = [raw[0], raw[1], raw[2], raw[3]];
    let family = match link_type {
        LinkType::Loop => u32::from_be_bytes(raw),
        // Written in the capturing host's byte order: whichever reading is small.
        _ => u32::from_le_bytes(raw).min(u32::from_be_bytes(raw)),
    };
    let payload = data.get(4..).unwrap_or(&[]);
    let net = match family {
        2 => decode_ip::<TRANSPORT>(payload, false),
        10 | 24 | 28 | 30 => decode_ip::<TRANSPORT>(payload, true),
        _ => (Net::None, Some(DecodeError::Invalid("loopback family"))),
    };
    with_net(empty(None, None, None), net)
}
