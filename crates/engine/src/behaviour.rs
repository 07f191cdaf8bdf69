//! What each device did: the services it answered and asked for, with whom
//! and which operations, folded from the observed links onto the devices.

use crate::observations::{LinkKey, LinkSeen, OperationCounts, Party, Service};
use palisade_model::{OperationKind, Protocol};
use std::collections::{BTreeMap, BTreeSet};

/// One device's use of one service, as server or as client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// The devices on the other side (indices into the device list).
    pub peers: BTreeSet<usize>,
    /// Operations asked over it.
    pub operations: OperationCounts,
    /// Frame bytes both ways.
    pub bytes: u64,
}

impl Usage {
    fn add(&mut self, peer: Option<usize>, link: &LinkSeen) {
        self.peers.extend(peer);
        self.operations.merge(&link.operations);
        self.bytes = self.bytes.saturating_add(link.bytes);
    }

    /// Reads and writes asked over it.
    pub fn polls(&self) -> u64 {
        self.operations.get(OperationKind::Read) + self.operations.get(OperationKind::Write)
    }
}

/// Everything one device answered and asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Behaviour {
    /// Services it answered, with its clients.
    pub served: BTreeMap<Service, Usage>,
    /// Services it asked for, with its servers.
    pub used: BTreeMap<Service, Usage>,
}

impl Behaviour {
    /// Services it answered that a dissector named, with the protocol.
    pub fn served_protocols(&self) -> impl Iterator<Item = (Protocol, &Usage)> {
        self.served.iter().filter_map(|(s, u)| s.protocol().map(|p| (p, u)))
    }

    /// Services it asked for that a dissector named, with the protocol.
    pub fn used_protocols(&self) -> impl Iterator<Item = (Protocol, &Usage)> {
        self.used.iter().filter_map(|(s, u)| s.protocol().map(|p| (p, u)))
    }

    /// Its use of a service as server, if any.
    pub fn serves(&self, service: Service) -> Option<&Usage> {
        self.served.get(&service)
    }
}

/// Folds the links onto the devices: `owner` names the device of a link
/// side (an IP or MAC the device owns), if any.
pub(crate) fn behaviours<'a>(
    devices: usize,
    links: impl Iterator<Item = (&'a LinkKey, &'a LinkSeen)>,
    owner: impl Fn(&Party) -> Option<usize>,
) -> Vec<Behaviour> {
    let mut out = vec![Behaviour::default(); devices];
    for (key, link) in links {
        let (client, server) = (owner(&key.client), owner(&key.server));
        if client.is_some() && client == server {
            continue;
        }
        if let Some(b) = client.and_then(|c| out.get_mut(c)) {
            b.used.entry(key.service).or_default().add(server, link);
        }
        if let Some(b) = server.and_then(|s| out.get_mut(s)) {
            b.served.entry(key.service).or_default().add(client, link);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observations::Seen;
    use palisade_model::Timestamp;
    use std::net::IpAddr;

    #[test]
    fn links_fold_onto_both_sides() {
        let ip = |s: &str| Party::Ip(s.parse::<IpAddr>().unwrap());
        let mut ops = OperationCounts::default();
        ops.add(OperationKind::Read, 5);
        ops.add(OperationKind::Write, 1);
        let link = LinkSeen { seen: Seen::new(Timestamp(1), Timestamp(2), 10), bytes: 600, operations: ops };
        let links = [
            (LinkKey { client: ip("10.0.0.1"), server: ip("10.0.0.2"), service: Service::Protocol(Protocol::Modbus) }, link),
            (LinkKey { client: ip("10.0.0.1"), server: ip("10.0.0.255"), service: Service::Udp(2222) }, link),
            (LinkKey { client: ip("10.0.0.1"), server: ip("10.0.0.3"), service: Service::Tcp(22) }, link),
        ];
        let owner = |p: &Party| match p {
            Party::Ip(ip) if ip.to_string() == "10.0.0.1" => Some(0),
            Party::Ip(ip) if ip.to_string() == "10.0.0.2" => Some(1),
            Party::Ip(ip) if ip.to_string() == "10.0.0.3" => Some(0),
            _ => None,
        };
        let b = behaviours(2, links.iter().map(|(k, l)| (k, l)), owner);
        let polled = b[0].used.get(&Service::Protocol(Protocol::Modbus)).unwrap();
        assert_eq!((polled.peers.iter().copied().collect::<Vec<_>>(), polled.polls(), polled.bytes), (vec![1], 6, 600));
        assert!(b[0].used.get(&Service::Udp(2222)).unwrap().peers.is_empty());
        assert!(!b[0].used.contains_key(&Service::Tcp(22)), "a device's link to itself is not behaviour");
        assert_eq!(b[1].serves(Service::Protocol(Protocol::Modbus)).unwrap().peers.iter().copied().collect::<Vec<_>>(), vec![0]);
        assert_eq!(b[1].served_protocols().count(), 1);
    }
}
