//! What the traffic showed, accumulated from events.

use palisade_model::{
    is_local_ip, Contact, Endpoint, Event, IdentityField, MacAddr, Operation, OperationKind, Protocol, Timestamp, Transport,
};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Most links kept; traffic between pairs not yet known is not counted beyond it.
pub const MAX_LINKS: usize = 200_000;

/// When something was seen, and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// First time.
    pub first: Timestamp,
    /// Last time.
    pub last: Timestamp,
    /// Packets.
    pub packets: u64,
}

impl Seen {
    /// A first sighting.
    pub fn new(first: Timestamp, last: Timestamp, packets: u64) -> Self {
        Seen { first, last, packets }
    }

    /// Widens the span and adds the packets.
    pub fn merge(&mut self, other: Seen) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.packets += other.packets;
    }
}

/// What is known about one MAC address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacSeen {
    /// When.
    pub seen: Seen,
    /// Layer-2 protocols it spoke (LLDP, CDP, PROFINET...).
    pub protocols: BTreeSet<Protocol>,
    /// It carried traffic of a public (internet) address: it is a router.
    pub routes_public: bool,
}

/// What is known about one IP address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSeen {
    /// When.
    pub seen: Seen,
    /// Protocols it spoke or served.
    pub protocols: BTreeSet<Protocol>,
    /// MACs that claimed it in ARP or were given it by DHCP.
    pub arp_macs: BTreeSet<MacAddr>,
    /// It was the destination of a frame to the link broadcast address
    /// while ending in .255: a directed broadcast, not a host.
    pub directed_broadcast: bool,
}

/// An IP seen in frames with a MAC (as sender or receiver).
pub type PairSeen = Seen;

/// Who a fact is about, what and which value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FactKey {
    /// Subject MAC.
    pub mac: Option<MacAddr>,
    /// Subject IP.
    pub ip: Option<IpAddr>,
    /// Field.
    pub field: IdentityField,
    /// Value.
    pub value: String,
}

/// Where and when a fact was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactSeen {
    /// Protocol that told us.
    pub protocol: Protocol,
    /// When.
    pub seen: Seen,
}

/// One side of a link: its IP, or its MAC for traffic without IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// A site address (unicast, multicast or broadcast; never a public one).
    Ip(IpAddr),
    /// A MAC, for layer-2 traffic.
    Mac(MacAddr),
}

/// What a link carried: the protocol a dissector named, or else the
/// server's transport port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// A named protocol.
    Protocol(Protocol),
    /// Unnamed TCP to this server port.
    Tcp(u16),
    /// Unnamed UDP to this server port.
    Udp(u16),
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Service::Protocol(p) => f.write_str(p.as_str()),
            Service::Tcp(port) => write!(f, "tcp/{port}"),
            Service::Udp(port) => write!(f, "udp/{port}"),
        }
    }
}

impl Service {
    /// Parses the text written by `Display`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once('/') {
            Some(("tcp", port)) => port.parse().ok().map(Service::Tcp),
            Some(("udp", port)) => port.parse().ok().map(Service::Udp),
            Some(_) => None,
            None => Protocol::from_name(text).map(Service::Protocol),
        }
    }

    /// The protocol, when a dissector named one.
    pub fn protocol(self) -> Option<Protocol> {
        match self {
            Service::Protocol(p) => Some(p),
            _ => None,
        }
    }
}

/// Who asked whom for what: a client, a server and the service between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkKey {
    /// The side that opened the conversation or asked.
    pub client: Party,
    /// The side that answered.
    pub server: Party,
    /// What they spoke.
    pub service: Service,
}

/// How many operations of each kind a link carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationCounts([u64; OperationKind::ALL.len()]);

impl OperationCounts {
    /// Adds `n` operations of `kind`.
    pub fn add(&mut self, kind: OperationKind, n: u64) {
        if let Some(c) = self.0.get_mut(kind as usize) {
            *c = c.saturating_add(n);
        }
    }

    /// Operations of `kind`.
    pub fn get(&self, kind: OperationKind) -> u64 {
        self.0.get(kind as usize).copied().unwrap_or(0)
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &OperationCounts) {
        for (kind, n) in other.iter() {
            self.add(kind, n);
        }
    }

    /// The kinds seen, with their counts.
    pub fn iter(&self) -> impl Iterator<Item = (OperationKind, u64)> + '_ {
        OperationKind::ALL.iter().copied().zip(self.0.iter().copied()).filter(|(_, n)| *n > 0)
    }
}

/// What is known about one link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkSeen {
    /// When, and packets both ways.
    pub seen: Seen,
    /// Frame bytes both ways.
    pub bytes: u64,
    /// Operations asked over it.
    pub operations: OperationCounts,
}

impl LinkSeen {
    /// Adds another sighting of the same link.
    pub fn merge(&mut self, other: &LinkSeen) {
        self.seen.merge(other.seen);
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.operations.merge(&other.operations);
    }
}

/// The link side for an endpoint: its site IP, or its MAC when it has no
/// IP; `None` for public addresses (the internet is not part of behaviour).
fn party(ep: &Endpoint) -> Option<Party> {
    match (ep.ip, ep.mac) {
        (Some(ip), _) => (!ip.is_unspecified() && (is_local_ip(ip) || !host_ip(ip))).then_some(Party::Ip(ip)),
        (None, Some(mac)) => Some(Party::Mac(mac)),
        (None, None) => None,
    }
}

/// Everything observed, keyed for merging.
#[derive(Clone, Debug, Default)]
pub struct Observations {
    /// Per MAC.
    pub macs: hashbrown::HashMap<MacAddr, MacSeen>,
    /// Per IP.
    pub ips: hashbrown::HashMap<IpAddr, IpSeen>,
    /// Per (IP, MAC) pairing.
    pub pairs: hashbrown::HashMap<(IpAddr, MacAddr), PairSeen>,
    /// Identity facts.
    pub facts: hashbrown::HashMap<FactKey, FactSeen>,
    /// Who spoke what to whom between site addresses, with the operations
    /// asked (at most [`MAX_LINKS`]).
    pub links: hashbrown::HashMap<LinkKey, LinkSeen>,
}

/// True for addresses that can be a host: not multicast, broadcast or unspecified.
fn host_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

impl Observations {
    /// Takes in a batch of events.
    pub fn ingest(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::Contact(c) => self.contact(c),
                Event::Identity(f) => {
                    let key = FactKey {
                        mac: f.subject.mac.filter(|m| m.is_unicast()),
                        ip: f.subject.ip.filter(|ip| host_ip(*ip)),
                        field: f.field,
                        value: f.value.clone(),
                    };
                    if key.mac.is_none() && key.ip.is_none() {
                        continue;
                    }
                    let seen = Seen::new(f.ts, f.ts, 1);
                    if f.protocol == Protocol::Dhcp {
                        self.dhcp_client(key.mac, key.ip, seen);
                    }
                    self.facts.entry(key).and_modify(|s| s.seen.merge(seen)).or_insert(FactSeen { protocol: f.protocol, seen });
                }
                Event::Operation(op) => self.operation(op),
                Event::Violation(_) => {}
            }
        }
    }

    /// Counts a link's traffic or operations (new links only while below the bound).
    fn add_link(&mut self, key: LinkKey, seen: LinkSeen) {
        if let Some(link) = self.links.get_mut(&key) {
            link.merge(&seen);
        } else if self.links.len() < MAX_LINKS {
            self.links.insert(key, seen);
        }
    }

    /// An operation counts on the link between the asker and the asked
    /// (ARP and ICMP requests say nothing about roles).
    fn operation(&mut self, op: &Operation) {
        if matches!(op.protocol, Protocol::Arp | Protocol::Icmp) {
            return;
        }
        let (Some(client), Some(server)) = (party(&op.client), party(&op.server)) else { return };
        let mut operations = OperationCounts::default();
        operations.add(op.kind, u64::from(op.count.max(1)));
        let seen = LinkSeen { seen: Seen::new(op.ts, op.ts, 0), bytes: 0, operations };
        self.add_link(LinkKey { client, server, service: Service::Protocol(op.protocol) }, seen);
    }

    /// A conversation counts on its link: by protocol when a dissector named
    /// it, else by server port when it carried more than a probe (at least
    /// four packets), so port scans do not make links.
    fn contact_link(&mut self, c: &Contact) {
        let service = match (c.protocol, c.transport) {
            (Some(Protocol::Arp | Protocol::Icmp), _) => return,
            (Some(p), _) => Service::Protocol(p),
            (None, Transport::Tcp) => Service::Tcp(c.server.port),
            (None, Transport::Udp) => Service::Udp(c.server.port),
            (None, _) => return,
        };
        let packets = c.packets_to_server.saturating_add(c.packets_to_client);
        if service.protocol().is_none() && packets < 4 {
            return;
        }
        let (Some(client), Some(server)) = (party(&c.client), party(&c.server)) else { return };
        let seen = LinkSeen {
            seen: Seen::new(c.first_seen, c.last_seen, packets),
            bytes: c.bytes_to_server.saturating_add(c.bytes_to_client),
            operations: OperationCounts::default(),
        };
        self.add_link(LinkKey { client, server, service }, seen);
    }

    /// A DHCP client is a device even when its frames are not seen (a
    /// relayed exchange), and the address DHCP gave it is its own.
    fn dhcp_client(&mut self, mac: Option<MacAddr>, ip: Option<IpAddr>, seen: Seen) {
        let Some(mac) = mac else { return };
        let seen = Seen { packets: 0, ..seen };
        self.macs
            .entry(mac)
            .or_insert_with(|| MacSeen { seen, protocols: BTreeSet::new(), routes_public: false })
            .protocols
            .insert(Protocol::Dhcp);
        let Some(ip) = ip else { return };
        let entry = self.ips.entry(ip).or_insert_with(|| IpSeen {
            seen,
            protocols: BTreeSet::new(),
            arp_macs: BTreeSet::new(),
            directed_broadcast: false,
        });
        entry.arp_macs.insert(mac);
        entry.protocols.insert(Protocol::Dhcp);
        self.pairs.entry((ip, mac)).or_insert(seen);
    }

    fn contact(&mut self, c: &Contact) {
        self.contact_link(c);
        let is_arp = c.transport == Transport::Ethernet(0x0806);
        let layer2 = matches!(c.transport, Transport::Ethernet(_)) && !is_arp;
        let public = |ep: &Endpoint| ep.ip.is_some_and(|ip| !palisade_model::is_local_ip(ip) && host_ip(ip));
        let sides = [(c.client, c.client_mac_inbound, c.packets_to_server), (c.server, c.server_mac_inbound, c.packets_to_client)];
        for (i, (ep, inbound, packets)) in sides.iter().enumerate() {
            let seen = Seen::new(c.first_seen, c.last_seen, *packets);
            let routes_public = public(ep);
            for mac in [ep.mac, *inbound].into_iter().flatten().filter(|m| m.is_unicast()) {
                let entry = self.macs.entry(mac).or_insert_with(|| MacSeen { seen, protocols: BTreeSet::new(), routes_public: false });
                entry.seen.merge(seen);
                entry.routes_public |= routes_public;
                if layer2 {
                    entry.protocols.extend(c.protocol);
                    entry.protocols.extend(c.also.iter());
                }
            }
            let Some(ip) = ep.ip.filter(|ip| host_ip(*ip)) else { continue };
            let entry = self.ips.entry(ip).or_insert_with(|| IpSeen {
                seen,
                protocols: BTreeSet::new(),
                arp_macs: BTreeSet::new(),
                directed_broadcast: false,
            });
            entry.seen.merge(seen);
            entry.protocols.extend(c.protocol);
            entry.protocols.extend(c.also.iter());
            if is_arp && i == 0 {
                entry.arp_macs.extend(ep.mac.filter(|m| m.is_unicast()));
            }
            if i == 1 && c.link_broadcast && matches!(ip, IpAddr::V4(v4) if v4.octets()[3] == 255) {
                entry.directed_broadcast = true;
            }
            for mac in [ep.mac, *inbound].into_iter().flatten().filter(|m| m.is_unicast()) {
                self.pairs.entry((ip, mac)).and_modify(|s| s.merge(seen)).or_insert(seen);
            }
        }
    }

    /// Adds another set of observations (for example the stored ones).
    pub fn merge(&mut self, other: Observations) {
        for (mac, m) in other.macs {
            match self.macs.get_mut(&mac) {
                Some(e) => {
                    e.seen.merge(m.seen);
                    e.protocols.extend(m.protocols);
                    e.routes_public |= m.routes_public;
                }
                None => {
                    self.macs.insert(mac, m);
                }
            }
        }
        for (ip, i) in other.ips {
            match self.ips.get_mut(&ip) {
                Some(e) => {
                    e.seen.merge(i.seen);
                    e.protocols.extend(i.protocols);
                    e.arp_macs.extend(i.arp_macs);
                    e.directed_broadcast |= i.directed_broadcast;
                }
                None => {
                    self.ips.insert(ip, i);
                }
            }
        }
        for (k, s) in other.pairs {
            self.pairs.entry(k).and_modify(|e| e.merge(s)).or_insert(s);
        }
        for (k, f) in other.facts {
            self.facts.entry(k).and_modify(|e| e.seen.merge(f.seen)).or_insert(f);
        }
        for (k, l) in other.links {
            self.add_link(k, l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{OperationResult, ProtocolSet};

    fn ep(ip: &str, port: u16) -> Endpoint {
        Endpoint { mac: Some(MacAddr([0, 0x1b, 0x1b, 0, 0, 1])), ip: Some(ip.parse().unwrap()), port }
    }

    fn contact(client: &str, server: &str, port: u16, protocol: Option<Protocol>, packets: u64) -> Event {
        Event::Contact(Contact {
            first_seen: Timestamp(1),
            last_seen: Timestamp(2),
            client: ep(client, 40000),
            server: ep(server, port),
            client_mac_inbound: None,
            server_mac_inbound: None,
            transport: Transport::Tcp,
            protocol,
            also: ProtocolSet::default(),
            packets_to_server: packets.div_ceil(2),
            packets_to_client: packets / 2,
            bytes_to_server: 100 * packets,
            bytes_to_client: 100 * packets,
            link_broadcast: false,
        })
    }

    fn operation(protocol: Protocol, kind: OperationKind, count: u32) -> Event {
        Event::Operation(Operation {
            ts: Timestamp(3),
            client: ep("10.0.0.1", 40000),
            server: ep("10.0.0.2", 502),
            protocol,
            kind,
            code: 3,
            target: None,
            result: OperationResult::Success,
            count,
        })
    }

    fn key(client: &str, server: &str, service: Service) -> LinkKey {
        LinkKey { client: Party::Ip(client.parse().unwrap()), server: Party::Ip(server.parse().unwrap()), service }
    }

    #[test]
    fn links_count_conversations_and_operations() {
        let mut obs = Observations::default();
        obs.ingest(&[
            contact("10.0.0.1", "10.0.0.2", 502, Some(Protocol::Modbus), 10),
            operation(Protocol::Modbus, OperationKind::Read, 7),
            operation(Protocol::Modbus, OperationKind::Write, 1),
            operation(Protocol::Arp, OperationKind::Identify, 1),
            // Unnamed traffic makes a link by port, unless it is a probe.
            contact("10.0.0.1", "10.0.0.3", 5450, None, 40),
            contact("10.0.0.1", "10.0.0.4", 9100, None, 3),
            // The internet is not behaviour.
            contact("10.0.0.1", "8.8.8.8", 443, Some(Protocol::Tls), 10),
        ]);
        let modbus = obs.links.get(&key("10.0.0.1", "10.0.0.2", Service::Protocol(Protocol::Modbus))).expect("modbus link");
        assert_eq!((modbus.seen.packets, modbus.bytes), (10, 2000));
        assert_eq!(modbus.operations.iter().collect::<Vec<_>>(), [(OperationKind::Read, 7), (OperationKind::Write, 1)]);
        assert!(obs.links.contains_key(&key("10.0.0.1", "10.0.0.3", Service::Tcp(5450))));
        assert_eq!(obs.links.len(), 2, "{:?}", obs.links.keys().collect::<Vec<_>>());
        let mut again = Observations::default();
        again.ingest(&[operation(Protocol::Modbus, OperationKind::Read, 3)]);
        obs.merge(again);
        let merged = obs.links.get(&key("10.0.0.1", "10.0.0.2", Service::Protocol(Protocol::Modbus))).expect("modbus link");
        assert_eq!(merged.operations.get(OperationKind::Read), 10);
    }

    #[test]
    fn services_have_stable_names() {
        for s in [Service::Protocol(Protocol::S7commPlus), Service::Tcp(5450), Service::Udp(2222)] {
            assert_eq!(Service::parse(&s.to_string()), Some(s));
        }
        assert_eq!(Service::Tcp(5450).to_string(), "tcp/5450");
        assert_eq!(Service::parse("sctp/1"), None);
        assert_eq!(Service::parse("tcp/x"), None);
    }
}
