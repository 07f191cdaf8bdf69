//! ARP: address bindings (which MAC answers for which IPv4 address).

use palisade_decode::Arp;
use palisade_model::{Contact, Endpoint, Event, MacAddr, Protocol, Timestamp, Transport};
use std::net::{IpAddr, Ipv4Addr};

/// Turns an ARP packet into a contact: the sender's binding always, the
/// target's only for a reply (a request's target may not exist).
/// `eth_src`/`eth_dst` are the frame's link addresses.
pub fn contact(ts: Timestamp, arp: &Arp, eth_src: Option<MacAddr>, eth_dst: Option<MacAddr>, frame_len: u32) -> Event {
    let usable = |ip: Ipv4Addr| (!ip.is_unspecified()).then_some(IpAddr::V4(ip));
    let is_reply = arp.operation == 2;
    let client = Endpoint { mac: eth_src.or(Some(arp.sender_mac)), ip: usable(arp.sender_ip), port: 0 };
    let server = Endpoint {
        mac: eth_dst.filter(|m| m.is_unicast()).or(is_reply.then_some(arp.target_mac)),
        ip: if is_reply { usable(arp.target_ip) } else { None },
        port: 0,
    };
    Event::Contact(Contact {
        first_seen: ts,
        last_seen: ts,
        client,
        server,
        client_mac_inbound: None,
        server_mac_inbound: None,
        transport: Transport::Ethernet(0x0806),
        protocol: Some(Protocol::Arp),
        also: Default::default(),
        packets_to_server: 1,
        packets_to_client: 0,
        bytes_to_server: u64::from(frame_len),
        bytes_to_client: 0,
        link_broadcast: eth_dst == Some(MacAddr::BROADCAST),
    })
}
