//! The baseline: what normal traffic looks like for a site.
//!
//! Every fact the detector keeps is a [`BaselineKey`] with an [`Item`] (first
//! and last seen, count, peaks, and whether it was *learned*, i.e. seen in a
//! learning period or accepted by an analyst). Facts first seen after
//! learning are kept too, unlearned: they are the network's changes, and
//! `palisade baseline diff` lists them.

use crate::host::{subnet_of, HostKey};
use palisade_model::{MacAddr, OperationKind, Protocol, Timestamp, Transport, ViolationKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// A `last` change smaller than this is not worth writing back (ns).
const LAST_PRECISION_NS: i64 = 3_600_000_000_000;

/// A service as the baseline knows it: the protocol, or the transport port
/// when no dissector recognised the traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// An identified protocol.
    Protocol(Protocol),
    /// An unidentified service on a transport port.
    Port(Transport, u16),
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Service::Protocol(p) => f.write_str(p.as_str()),
            Service::Port(Transport::Tcp, port) => write!(f, "tcp/{port}"),
            Service::Port(Transport::Udp, port) => write!(f, "udp/{port}"),
            Service::Port(Transport::Icmp, _) => f.write_str("icmp"),
            Service::Port(Transport::Ip(n), _) => write!(f, "ip/{n}"),
            Service::Port(Transport::Ethernet(t), _) => write!(f, "eth/{t:#06x}"),
        }
    }
}

impl Service {
    /// Parses the form written by `Display`.
    pub fn parse(text: &str) -> Option<Service> {
        if let Some(p) = Protocol::from_name(text) {
            return Some(Service::Protocol(p));
        }
        if text == "icmp" {
            return Some(Service::Port(Transport::Icmp, 0));
        }
        let (kind, number) = text.split_once('/')?;
        Some(match kind {
            "tcp" => Service::Port(Transport::Tcp, number.parse().ok()?),
            "udp" => Service::Port(Transport::Udp, number.parse().ok()?),
            "ip" => Service::Port(Transport::Ip(number.parse().ok()?), 0),
            "eth" => Service::Port(Transport::Ethernet(u16::from_str_radix(number.trim_start_matches("0x"), 16).ok()?), 0),
            _ => return None,
        })
    }
}

/// What kind of scan a host was seen doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScanKind {
    /// Many ports.
    Ports,
    /// Many addresses.
    Addresses,
}

/// One fact of the baseline.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BaselineKey {
    /// A host, by the address that identifies it in the traffic.
    Host(HostKey),
    /// A device, by MAC.
    Device(MacAddr),
    /// A local IPv4/IPv6 address, with the MAC it was seen behind.
    Address(IpAddr, MacAddr),
    /// A client talked to a server.
    Connection(HostKey, HostKey),
    /// A client used a service of a server.
    Service(HostKey, HostKey, Service),
    /// A host served (`true`) or used (`false`) a service.
    Role(HostKey, Service, bool),
    /// A client asked a server for an operation kind with a function code.
    Operation(HostKey, HostKey, Protocol, OperationKind, u32),
    /// An object or address range an operation touched.
    Object(HostKey, HostKey, Protocol, OperationKind, String),
    /// Traffic rates of a pair over a protocol (peaks per minute).
    Rate(HostKey, HostKey, Protocol),
    /// A host reached the internet.
    Internet(HostKey),
    /// A remote-access session from a client to a server.
    RemoteAccess(HostKey, HostKey, Service),
    /// A protocol violation between two hosts.
    Violation(HostKey, HostKey, Protocol, ViolationKind),
    /// A host scanned (an approved scanner, once learned).
    Scanner(HostKey, ScanKind),
    /// An IP address claimed in ARP by a MAC.
    Arp(IpAddr, MacAddr),
}

impl BaselineKey {
    /// The kind name used in storage and in diffs.
    pub fn kind(&self) -> &'static str {
        match self {
            BaselineKey::Host(_) => "host",
            BaselineKey::Device(_) => "device",
            BaselineKey::Address(..) => "address",
            BaselineKey::Connection(..) => "connection",
            BaselineKey::Service(..) => "service",
            BaselineKey::Role(..) => "protocol",
            BaselineKey::Operation(..) => "operation",
            BaselineKey::Object(..) => "object",
            BaselineKey::Rate(..) => "rate",
            BaselineKey::Internet(_) => "internet",
            BaselineKey::RemoteAccess(..) => "remote-access",
            BaselineKey::Violation(..) => "violation",
            BaselineKey::Scanner(..) => "scanner",
            BaselineKey::Arp(..) => "arp",
        }
    }

    /// The item text (without the kind).
    pub fn item(&self) -> String {
        match self {
            BaselineKey::Host(h) => h.to_string(),
            BaselineKey::Device(m) => m.to_string(),
            BaselineKey::Address(ip, m) => format!("{ip} {m}"),
            BaselineKey::Connection(c, s) => format!("{c} {s}"),
            BaselineKey::Service(c, s, svc) | BaselineKey::RemoteAccess(c, s, svc) => format!("{c} {s} {svc}"),
            BaselineKey::Role(h, svc, server) => format!("{h} {svc} {}", if *server { "server" } else { "client" }),
            BaselineKey::Operation(c, s, p, k, code) => format!("{c} {s} {p} {k} {code}"),
            BaselineKey::Object(c, s, p, k, target) => format!("{c} {s} {p} {k} {target}"),
            BaselineKey::Rate(c, s, p) => format!("{c} {s} {p}"),
            BaselineKey::Internet(h) => h.to_string(),
            BaselineKey::Violation(c, s, p, k) => format!("{c} {s} {p} {k}"),
            BaselineKey::Scanner(h, k) => format!("{h} {}", if *k == ScanKind::Ports { "ports" } else { "addresses" }),
            BaselineKey::Arp(ip, m) => format!("{ip} {m}"),
        }
    }

    /// `kind item`, the form alerts keep to name the facts they deviated from.
    pub fn text(&self) -> String {
        format!("{} {}", self.kind(), self.item())
    }

    /// Parses a kind and an item text.
    pub fn parse(kind: &str, item: &str) -> Option<BaselineKey> {
        let mut t = item.splitn(5, ' ');
        let mut next = || t.next();
        let host = |s: Option<&str>| s.and_then(HostKey::parse);
        Some(match kind {
            "host" => BaselineKey::Host(host(next())?),
            "device" => BaselineKey::Device(MacAddr::parse(next()?)?),
            "address" => BaselineKey::Address(next()?.parse().ok()?, MacAddr::parse(next()?)?),
            "connection" => BaselineKey::Connection(host(next())?, host(next())?),
            "service" => BaselineKey::Service(host(next())?, host(next())?, Service::parse(next()?)?),
            "remote-access" => BaselineKey::RemoteAccess(host(next())?, host(next())?, Service::parse(next()?)?),
            "protocol" => BaselineKey::Role(host(next())?, Service::parse(next()?)?, next()? == "server"),
            "operation" => BaselineKey::Operation(
                host(next())?,
                host(next())?,
                Protocol::from_name(next()?)?,
                OperationKind::from_name(next()?)?,
                next()?.parse().ok()?,
            ),
            "object" => BaselineKey::Object(
                host(next())?,
                host(next())?,
                Protocol::from_name(next()?)?,
                OperationKind::from_name(next()?)?,
                next()?.to_string(),
            ),
            "rate" => BaselineKey::Rate(host(next())?, host(next())?, Protocol::from_name(next()?)?),
            "internet" => BaselineKey::Internet(host(next())?),
            "violation" => {
                BaselineKey::Violation(host(next())?, host(next())?, Protocol::from_name(next()?)?, ViolationKind::from_name(next()?)?)
            }
            "scanner" => {
                let h = host(next())?;
                let k = if next()? == "ports" { ScanKind::Ports } else { ScanKind::Addresses };
                BaselineKey::Scanner(h, k)
            }
            "arp" => BaselineKey::Arp(next()?.parse().ok()?, MacAddr::parse(next()?)?),
            _ => return None,
        })
    }

    /// Parses the `kind item` form of [`BaselineKey::text`].
    pub fn parse_text(text: &str) -> Option<BaselineKey> {
        let (kind, item) = text.split_once(' ')?;
        BaselineKey::parse(kind, item)
    }

    /// The hosts the fact is about (for per-device learning windows).
    pub fn hosts(&self) -> [Option<HostKey>; 2] {
        match self {
            BaselineKey::Device(m) => [Some(HostKey::Mac(*m)), None],
            BaselineKey::Address(ip, m) => [Some(HostKey::Ip(*ip)), Some(HostKey::Mac(*m))],
            BaselineKey::Connection(c, s)
            | BaselineKey::Service(c, s, _)
            | BaselineKey::Operation(c, s, ..)
            | BaselineKey::Object(c, s, ..)
            | BaselineKey::Rate(c, s, _)
            | BaselineKey::RemoteAccess(c, s, _)
            | BaselineKey::Violation(c, s, ..) => [Some(*c), Some(*s)],
            BaselineKey::Host(h) | BaselineKey::Role(h, ..) | BaselineKey::Internet(h) | BaselineKey::Scanner(h, _) => [Some(*h), None],
            BaselineKey::Arp(ip, m) => [Some(HostKey::Ip(*ip)), Some(HostKey::Mac(*m))],
        }
    }
}

/// What is known about one fact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Item {
    /// First seen (capture time).
    pub first: Timestamp,
    /// Last seen.
    pub last: Timestamp,
    /// Times seen (events).
    pub count: u64,
    /// Part of the normal baseline (learned), or a change seen after learning.
    pub learned: bool,
    /// Highest bytes per minute (rates).
    pub peak_bytes: u64,
    /// Highest packets (or operations) per minute (rates).
    pub peak_packets: u64,
    /// Changed since loaded or saved.
    dirty: bool,
    /// `last` as stored.
    saved_last: Timestamp,
}

impl Item {
    /// A first sighting.
    pub fn new(ts: Timestamp, learned: bool) -> Self {
        Item { first: ts, last: ts, count: 1, learned, peak_bytes: 0, peak_packets: 0, dirty: true, saved_last: ts }
    }

    /// Another sighting.
    pub fn seen(&mut self, ts: Timestamp) {
        self.count += 1;
        if ts.0 < self.first.0 {
            self.first = ts;
            self.dirty = true;
        }
        if ts.0 > self.last.0 {
            self.last = ts;
            if ts.0.saturating_sub(self.saved_last.0) >= LAST_PRECISION_NS {
                self.dirty = true;
            }
        }
    }

    /// Marks the item changed.
    pub fn touch(&mut self) {
        self.dirty = true;
    }
}

/// One stored baseline row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineRow {
    /// Kind (`device`, `connection`, `operation`...).
    pub kind: String,
    /// The fact, in words and addresses.
    pub item: String,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Times seen.
    pub count: u64,
    /// Part of the normal baseline.
    pub learned: bool,
    /// Highest bytes per minute (rates).
    pub peak_bytes: u64,
    /// Highest packets or operations per minute (rates).
    pub peak_packets: u64,
}

/// The baseline in memory, with the counters the engines generalise with.
#[derive(Default)]
pub struct Baseline {
    items: hashbrown::HashMap<BaselineKey, Item, ahash::RandomState>,
    /// Per MAC: how many local IPv4 addresses were seen behind it (capped).
    mac_addresses: hashbrown::HashMap<MacAddr, u8, ahash::RandomState>,
    /// Per (server, service): learned clients (capped).
    service_clients: hashbrown::HashMap<(HostKey, Service), u16, ahash::RandomState>,
    /// Per subnet: learned hosts reaching the internet (capped).
    internet_subnets: hashbrown::HashMap<(IpAddr, u8), u16, ahash::RandomState>,
}

impl Baseline {
    /// The item of a fact, if known.
    pub fn get(&self, key: &BaselineKey) -> Option<&Item> {
        self.items.get(key)
    }

    /// True if the fact is part of the normal baseline.
    pub fn is_learned(&self, key: &BaselineKey) -> bool {
        self.items.get(key).is_some_and(|i| i.learned)
    }

    /// Records a sighting; returns the item and whether it is new.
    pub fn observe(&mut self, key: BaselineKey, ts: Timestamp, learned: bool) -> (&mut Item, bool) {
        let Baseline { items, mac_addresses, service_clients, internet_subnets } = self;
        match items.entry(key) {
            hashbrown::hash_map::Entry::Occupied(o) => {
                if learned && !o.get().learned {
                    Self::count_derived(mac_addresses, service_clients, internet_subnets, o.key(), false, true);
                }
                let item = o.into_mut();
                item.seen(ts);
                if learned && !item.learned {
                    item.learned = true;
                    item.dirty = true;
                }
                (item, false)
            }
            hashbrown::hash_map::Entry::Vacant(v) => {
                Self::count_derived(mac_addresses, service_clients, internet_subnets, v.key(), true, learned);
                (v.insert(Item::new(ts, learned)), true)
            }
        }
    }

    /// Keeps the generalisation counters in step with a new or newly learned fact.
    fn count_derived(
        mac_addresses: &mut hashbrown::HashMap<MacAddr, u8, ahash::RandomState>,
        service_clients: &mut hashbrown::HashMap<(HostKey, Service), u16, ahash::RandomState>,
        internet_subnets: &mut hashbrown::HashMap<(IpAddr, u8), u16, ahash::RandomState>,
        key: &BaselineKey,
        created: bool,
        learned: bool,
    ) {
        match key {
            BaselineKey::Address(IpAddr::V4(_), mac) if created => {
                let n = mac_addresses.entry(*mac).or_insert(0);
                *n = n.saturating_add(1);
            }
            BaselineKey::Service(_, server, svc) if learned => {
                let n = service_clients.entry((*server, *svc)).or_insert(0);
                *n = n.saturating_add(1);
            }
            BaselineKey::Internet(HostKey::Ip(ip)) if learned => {
                let n = internet_subnets.entry(subnet_of(*ip)).or_insert(0);
                *n = n.saturating_add(1);
            }
            _ => {}
        }
    }

    /// Marks facts learned (an analyst learned the alert that named them).
    pub fn learn(&mut self, key: &BaselineKey) {
        if let Some(item) = self.items.get_mut(key) {
            if !item.learned {
                item.learned = true;
                item.dirty = true;
                Self::count_derived(&mut self.mac_addresses, &mut self.service_clients, &mut self.internet_subnets, key, false, true);
            }
        }
    }

    /// How many local IPv4 addresses were seen behind a MAC (a router has many).
    pub fn addresses_behind(&self, mac: MacAddr) -> u8 {
        self.mac_addresses.get(&mac).copied().unwrap_or(0)
    }

    /// How many learned clients a server's service has.
    pub fn service_clients(&self, server: HostKey, service: Service) -> u16 {
        self.service_clients.get(&(server, service)).copied().unwrap_or(0)
    }

    /// How many learned hosts of the address's subnet reach the internet.
    pub fn internet_neighbours(&self, ip: IpAddr) -> u16 {
        self.internet_subnets.get(&subnet_of(ip)).copied().unwrap_or(0)
    }

    /// Number of facts.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Loads stored rows (rows that cannot be read are skipped).
    pub fn load(&mut self, rows: impl IntoIterator<Item = BaselineRow>) {
        for row in rows {
            let Some(key) = BaselineKey::parse(&row.kind, &row.item) else { continue };
            let item = Item {
                first: row.first_seen,
                last: row.last_seen,
                count: row.count,
                learned: row.learned,
                peak_bytes: row.peak_bytes,
                peak_packets: row.peak_packets,
                dirty: false,
                saved_last: row.last_seen,
            };
            Self::count_derived(&mut self.mac_addresses, &mut self.service_clients, &mut self.internet_subnets, &key, true, row.learned);
            self.items.insert(key, item);
        }
    }

    /// The rows changed since loading (or the previous call), marking them saved.
    pub fn take_changes(&mut self) -> Vec<BaselineRow> {
        let mut out = Vec::new();
        for (key, item) in self.items.iter_mut().filter(|(_, i)| i.dirty) {
            item.dirty = false;
            item.saved_last = item.last;
            out.push(row(key, item));
        }
        out.sort_by(|a, b| (&a.kind, &a.item).cmp(&(&b.kind, &b.item)));
        out
    }

    /// Every fact as a row, sorted.
    pub fn rows(&self) -> Vec<BaselineRow> {
        let mut out: Vec<BaselineRow> = self.items.iter().map(|(k, i)| row(k, i)).collect();
        out.sort_by(|a, b| (&a.kind, &a.item).cmp(&(&b.kind, &b.item)));
        out
    }
}

fn row(key: &BaselineKey, item: &Item) -> BaselineRow {
    BaselineRow {
        kind: key.kind().to_string(),
        item: key.item(),
        first_seen: item.first,
        last_seen: item.last,
        count: item.count,
        learned: item.learned,
        peak_bytes: item.peak_bytes,
        peak_packets: item.peak_packets,
    }
}

/// What changed in the network between two times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineDiff {
    /// Start of the comparison.
    pub from: Timestamp,
    /// End of the comparison.
    pub to: Timestamp,
    /// Facts first seen after `from` and up to `to`.
    pub added: Vec<BaselineRow>,
    /// Facts seen up to `from` and not after it.
    pub removed: Vec<BaselineRow>,
}

/// Compares the network at `from` with the network up to `to`.
pub fn diff(rows: &[BaselineRow], from: Timestamp, to: Timestamp) -> BaselineDiff {
    let shown = |r: &&BaselineRow| !matches!(r.kind.as_str(), "rate" | "scanner");
    let added = rows.iter().filter(shown).filter(|r| r.first_seen > from && r.first_seen <= to).cloned().collect();
    let removed = rows.iter().filter(shown).filter(|r| r.first_seen <= from && r.last_seen <= from).cloned().collect();
    BaselineDiff { from, to, added, removed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> HostKey {
        HostKey::parse(text).unwrap()
    }

    #[test]
    fn keys_round_trip_through_text() {
        let keys = [
            BaselineKey::Host(h("10.0.0.1")),
            BaselineKey::Device(MacAddr::parse("00:1b:1b:00:00:01").unwrap()),
            BaselineKey::Address("10.0.0.1".parse().unwrap(), MacAddr::parse("00:1b:1b:00:00:01").unwrap()),
            BaselineKey::Connection(h("10.0.0.1"), h("10.0.0.2")),
            BaselineKey::Service(h("10.0.0.1"), h("10.0.0.2"), Service::Protocol(Protocol::Modbus)),
            BaselineKey::Service(h("10.0.0.1"), h("10.0.0.2"), Service::Port(Transport::Tcp, 4840)),
            BaselineKey::RemoteAccess(h("10.0.0.1"), h("10.0.0.2"), Service::Port(Transport::Tcp, 3389)),
            BaselineKey::Role(h("00:1b:1b:00:00:01"), Service::Port(Transport::Ethernet(0x8892), 0), true),
            BaselineKey::Operation(h("10.0.0.1"), h("10.0.0.2"), Protocol::Modbus, OperationKind::Write, 16),
            BaselineKey::Object(h("10.0.0.1"), h("10.0.0.2"), Protocol::Modbus, OperationKind::Write, "holding 10-19 x".into()),
            BaselineKey::Rate(h("10.0.0.1"), h("10.0.0.2"), Protocol::S7comm),
            BaselineKey::Internet(h("10.0.0.1")),
            BaselineKey::Violation(h("10.0.0.1"), h("10.0.0.2"), Protocol::Dns, ViolationKind::Malformed),
            BaselineKey::Scanner(h("10.0.0.1"), ScanKind::Addresses),
            BaselineKey::Arp("10.0.0.1".parse().unwrap(), MacAddr::parse("00:1b:1b:00:00:01").unwrap()),
        ];
        for key in keys {
            assert_eq!(BaselineKey::parse(key.kind(), &key.item()), Some(key.clone()), "{}", key.text());
            assert_eq!(BaselineKey::parse_text(&key.text()), Some(key.clone()));
        }
    }

    #[test]
    fn counters_follow_learned_facts() {
        let mut b = Baseline::default();
        let svc = Service::Protocol(Protocol::Smb);
        for client in ["10.0.0.1", "10.0.0.2"] {
            b.observe(BaselineKey::Service(h(client), h("10.0.0.9"), svc), Timestamp(1), true);
        }
        b.observe(BaselineKey::Service(h("10.0.0.3"), h("10.0.0.9"), svc), Timestamp(2), false);
        assert_eq!(b.service_clients(h("10.0.0.9"), svc), 2);
        b.learn(&BaselineKey::Service(h("10.0.0.3"), h("10.0.0.9"), svc));
        assert_eq!(b.service_clients(h("10.0.0.9"), svc), 3);
        assert_eq!(b.take_changes().len(), 3);
        assert!(b.take_changes().is_empty());
    }

    #[test]
    fn diff_lists_added_and_removed() {
        let row = |item: &str, first: i64, last: i64| BaselineRow {
            kind: "connection".into(),
            item: item.into(),
            first_seen: Timestamp(first),
            last_seen: Timestamp(last),
            count: 1,
            learned: true,
            peak_bytes: 0,
            peak_packets: 0,
        };
        let rows = [row("a b", 1, 50), row("c d", 5, 8), row("e f", 20, 30), row("g h", 60, 70)];
        let d = diff(&rows, Timestamp(10), Timestamp(40));
        assert_eq!(d.added.iter().map(|r| r.item.as_str()).collect::<Vec<_>>(), ["e f"]);
        assert_eq!(d.removed.iter().map(|r| r.item.as_str()).collect::<Vec<_>>(), ["c d"]);
    }
}
