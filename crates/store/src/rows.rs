//! Flat rows shared by the SQLite and PostgreSQL stores: what is written for
//! observations, devices and events, and how stored rows become engine types
//! again. Both backends go through these, so they store exactly the same.

use crate::StoreError;
use palisade_engine::{
    Device, EventRecord, FactKey, FactSeen, IpSeen, LinkKey, LinkSeen, MacSeen, Observations, OperationCounts, Party, Seen, Service,
};
use palisade_model::{IdentityField, MacAddr, OperationKind, Protocol, Timestamp};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// The lowest device id no site uses or keeps for a device that may come
/// back (ids are unique across sites).
pub(crate) const FIRST_FREE_DEVICE_ID: &str =
    "SELECT CAST(MAX(n) AS BIGINT) + 1 FROM (SELECT COALESCE(MAX(id), 0) AS n FROM devices UNION ALL SELECT COALESCE(MAX(device_id), 0) FROM device_keys) AS ids";

/// Joins items with commas.
pub(crate) fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

fn protocols(text: &str) -> BTreeSet<Protocol> {
    text.split(',').filter_map(Protocol::from_name).collect()
}

/// One row of `obs_macs`.
pub(crate) struct MacRow {
    pub mac: String,
    pub first_ns: i64,
    pub last_ns: i64,
    pub packets: i64,
    pub protocols: String,
    pub routes_public: bool,
}

/// One row of `obs_ips`.
pub(crate) struct IpRow {
    pub ip: String,
    pub first_ns: i64,
    pub last_ns: i64,
    pub packets: i64,
    pub protocols: String,
    pub arp_macs: String,
    pub directed_broadcast: bool,
}

/// One row of `obs_pairs`.
pub(crate) struct PairRow {
    pub ip: String,
    pub mac: String,
    pub first_ns: i64,
    pub last_ns: i64,
    pub packets: i64,
}

/// One row of `obs_facts`.
pub(crate) struct FactRow {
    pub mac: String,
    pub ip: String,
    pub field: String,
    pub value: String,
    pub protocol: String,
    pub first_ns: i64,
    pub last_ns: i64,
    pub count: i64,
}

/// One row of `obs_links`: who asked whom for what, and which operations.
pub(crate) struct LinkRow {
    pub client: String,
    pub server: String,
    pub service: String,
    pub first_ns: i64,
    pub last_ns: i64,
    pub packets: i64,
    pub bytes: i64,
    /// `kind=count` pairs, comma-separated (`read=12,write=3`).
    pub operations: String,
}

/// The observation tables, row by row.
#[derive(Default)]
pub(crate) struct ObservationRows {
    pub macs: Vec<MacRow>,
    pub ips: Vec<IpRow>,
    pub pairs: Vec<PairRow>,
    pub facts: Vec<FactRow>,
    pub links: Vec<LinkRow>,
}

/// A link side as text: the IP, or `mac:` and the MAC.
fn party_text(p: &Party) -> String {
    match p {
        Party::Ip(ip) => ip.to_string(),
        Party::Mac(mac) => format!("mac:{mac}"),
    }
}

fn parse_party(text: &str) -> Option<Party> {
    match text.strip_prefix("mac:") {
        Some(mac) => MacAddr::parse(mac).map(Party::Mac),
        None => text.parse().ok().map(Party::Ip),
    }
}

fn operations_text(ops: &OperationCounts) -> String {
    join(ops.iter().map(|(kind, n)| format!("{kind}={n}")))
}

fn parse_operations(text: &str) -> Option<OperationCounts> {
    let mut ops = OperationCounts::default();
    for item in text.split(',').filter(|i| !i.is_empty()) {
        let (kind, n) = item.split_once('=')?;
        ops.add(OperationKind::from_name(kind)?, n.parse().ok()?);
    }
    Some(ops)
}

fn seen(first_ns: i64, last_ns: i64, packets: i64) -> Seen {
    Seen::new(Timestamp(first_ns), Timestamp(last_ns), packets.max(0) as u64)
}

impl ObservationRows {
    /// The rows that store `obs`.
    pub fn from_observations(obs: &Observations) -> Self {
        let macs = obs
            .macs
            .iter()
            .map(|(mac, m)| MacRow {
                mac: mac.to_string(),
                first_ns: m.seen.first.0,
                last_ns: m.seen.last.0,
                packets: m.seen.packets as i64,
                protocols: join(&m.protocols),
                routes_public: m.routes_public,
            })
            .collect();
        let ips = obs
            .ips
            .iter()
            .map(|(ip, i)| IpRow {
                ip: ip.to_string(),
                first_ns: i.seen.first.0,
                last_ns: i.seen.last.0,
                packets: i.seen.packets as i64,
                protocols: join(&i.protocols),
                arp_macs: join(&i.arp_macs),
                directed_broadcast: i.directed_broadcast,
            })
            .collect();
        let pairs = obs
            .pairs
            .iter()
            .map(|((ip, mac), s)| PairRow {
                ip: ip.to_string(),
                mac: mac.to_string(),
                first_ns: s.first.0,
                last_ns: s.last.0,
                packets: s.packets as i64,
            })
            .collect();
        let facts = obs
            .facts
            .iter()
            .map(|(k, f)| FactRow {
                mac: k.mac.map(|m| m.to_string()).unwrap_or_default(),
                ip: k.ip.map(|i| i.to_string()).unwrap_or_default(),
                field: k.field.as_str().to_string(),
                value: k.value.clone(),
                protocol: f.protocol.as_str().to_string(),
                first_ns: f.seen.first.0,
                last_ns: f.seen.last.0,
                count: f.seen.packets as i64,
            })
            .collect();
        let links = obs
            .links
            .iter()
            .map(|(k, l)| LinkRow {
                client: party_text(&k.client),
                server: party_text(&k.server),
                service: k.service.to_string(),
                first_ns: l.seen.first.0,
                last_ns: l.seen.last.0,
                packets: l.seen.packets as i64,
                bytes: l.bytes as i64,
                operations: operations_text(&l.operations),
            })
            .collect();
        ObservationRows { macs, ips, pairs, facts, links }
    }

    /// The observations these rows store; `Err` names the unreadable row.
    pub fn into_observations(self) -> Result<Observations, String> {
        let mut obs = Observations::default();
        for r in self.macs {
            let mac = MacAddr::parse(&r.mac).ok_or_else(|| format!("MAC {:?}", r.mac))?;
            obs.macs.insert(
                mac,
                MacSeen {
                    seen: seen(r.first_ns, r.last_ns, r.packets),
                    protocols: protocols(&r.protocols),
                    routes_public: r.routes_public,
                },
            );
        }
        for r in self.ips {
            let ip: IpAddr = r.ip.parse().map_err(|_| format!("IP {:?}", r.ip))?;
            let arp_macs = r.arp_macs.split(',').filter_map(MacAddr::parse).collect();
            obs.ips.insert(
                ip,
                IpSeen {
                    seen: seen(r.first_ns, r.last_ns, r.packets),
                    protocols: protocols(&r.protocols),
                    arp_macs,
                    directed_broadcast: r.directed_broadcast,
                },
            );
        }
        for r in self.pairs {
            let (Ok(ip), Some(mac)) = (r.ip.parse::<IpAddr>(), MacAddr::parse(&r.mac)) else {
                return Err(format!("address pair {:?} {:?}", r.ip, r.mac));
            };
            obs.pairs.insert((ip, mac), seen(r.first_ns, r.last_ns, r.packets));
        }
        for r in self.facts {
            let (Some(field), Some(protocol)) = (IdentityField::from_name(&r.field), Protocol::from_name(&r.protocol)) else {
                return Err(format!("fact {:?} from {:?}", r.field, r.protocol));
            };
            let key = FactKey { mac: MacAddr::parse(&r.mac), ip: r.ip.parse().ok(), field, value: r.value };
            obs.facts.insert(key, FactSeen { protocol, seen: seen(r.first_ns, r.last_ns, r.count) });
        }
        for r in self.links {
            let parsed = (parse_party(&r.client), parse_party(&r.server), Service::parse(&r.service), parse_operations(&r.operations));
            let (Some(client), Some(server), Some(service), Some(operations)) = parsed else {
                return Err(format!("link {:?} → {:?} ({:?}, {:?})", r.client, r.server, r.service, r.operations));
            };
            let link = LinkSeen { seen: seen(r.first_ns, r.last_ns, r.packets), bytes: r.bytes.max(0) as u64, operations };
            obs.links.insert(LinkKey { client, server, service }, link);
        }
        Ok(obs)
    }
}

/// Gives every device its stable id: the smallest id any of its keys had
/// before (unless another device of this inventory took it), or a new one.
/// Returns the keys to record, each with its device's id.
pub(crate) fn assign_ids(devices: &mut [Device], known: &HashMap<String, i64>, first_free: i64) -> Vec<(String, i64)> {
    let mut next_id = (known.values().copied().max().unwrap_or(0) + 1).max(first_free);
    let mut used = BTreeSet::new();
    let mut keys = Vec::new();
    for device in devices {
        let found = device.keys.iter().filter_map(|k| known.get(k).copied()).filter(|id| !used.contains(id)).min();
        let id = found.unwrap_or_else(|| {
            next_id += 1;
            next_id - 1
        });
        used.insert(id);
        device.id = id;
        keys.extend(device.keys.iter().map(|k| (k.clone(), id)));
    }
    keys
}

/// One row of `devices`: the device as JSON plus the columns the console
/// filters, sorts and searches on.
pub(crate) struct DeviceRow {
    pub id: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub first_ns: i64,
    pub last_ns: i64,
    pub device_type: &'static str,
    pub vendor: String,
    pub ip: String,
    pub ip_key: String,
    pub mac: String,
    pub name: String,
    pub purdue_level: i64,
    pub protocols: String,
    pub subnet: String,
    pub search: String,
    pub data: String,
}

/// A text key that sorts addresses numerically (IPv4 before IPv6); empty
/// for none.
pub(crate) fn ip_sort_key(ip: Option<&IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => format!("4{:08x}", u32::from(*v4)),
        Some(IpAddr::V6(v6)) => format!("6{:032x}", u128::from(*v6)),
        None => String::new(),
    }
}

/// The subnet a device is drawn in: the /24 of its first IPv4 address, or
/// the /64 of its first IPv6 address.
pub(crate) fn subnet_of(ips: &[IpAddr]) -> String {
    if let Some(IpAddr::V4(v4)) = ips.iter().find(|i| i.is_ipv4()) {
        let o = v4.octets();
        return format!("{}.{}.{}.0/24", o[0], o[1], o[2]);
    }
    if let Some(IpAddr::V6(v6)) = ips.first() {
        let s = v6.segments();
        return format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]);
    }
    String::new()
}

impl DeviceRow {
    /// The row for a device that already has its id.
    pub fn new(device: &Device) -> Self {
        let mut search: Vec<String> = Vec::new();
        search.extend(device.ips.iter().map(|i| i.to_string()));
        search.extend(device.macs.iter().map(|m| m.to_string()));
        search.extend(device.hostnames.iter().cloned());
        for text in [&device.vendor, &device.model, &device.firmware, &device.serial, &device.os].into_iter().flatten() {
            search.push(text.clone());
        }
        search.push(device.device_type.as_str().to_string());
        search.extend(device.protocols.iter().map(|p| p.as_str().to_string()));
        DeviceRow {
            id: device.id,
            first_seen: device.first_seen.to_rfc3339(),
            last_seen: device.last_seen.to_rfc3339(),
            first_ns: device.first_seen.0,
            last_ns: device.last_seen.0,
            device_type: device.device_type.as_str(),
            vendor: device.vendor.clone().unwrap_or_default(),
            ip: device.ips.first().map(|i| i.to_string()).unwrap_or_default(),
            ip_key: ip_sort_key(device.ips.first()),
            mac: device.macs.first().map(|m| m.to_string()).unwrap_or_default(),
            name: device.hostnames.first().cloned().unwrap_or_default(),
            purdue_level: device.purdue_level.map_or(-1, i64::from),
            protocols: format!(",{},", join(&device.protocols)),
            subnet: subnet_of(&device.ips),
            search: search.join(" ").to_lowercase(),
            data: serde_json::to_string(device).unwrap_or_default(),
        }
    }
}

/// One row of `events`.
pub(crate) struct EventRow {
    pub time_ns: i64,
    pub record_type: String,
    pub protocol: &'static str,
    pub src_ip: Option<String>,
    pub dst_ip: Option<String>,
    pub data: String,
}

impl EventRow {
    /// The row for an operation or violation.
    pub fn new(r: &EventRecord) -> Self {
        EventRow {
            time_ns: r.time.0,
            record_type: r.record_type.clone(),
            protocol: r.protocol.as_str(),
            src_ip: r.src_ip.map(|i| i.to_string()),
            dst_ip: r.dst_ip.map(|i| i.to_string()),
            data: serde_json::to_string(r).unwrap_or_default(),
        }
    }
}

/// Calls `insert` with the row of every record, in order. The rows are made
/// on another thread meanwhile: serialising is a good part of storing many
/// events, and the other core is idle once the packets are analysed.
pub(crate) fn insert_event_rows<E>(records: &[EventRecord], mut insert: impl FnMut(EventRow) -> Result<(), E>) -> Result<(), E> {
    const CHUNK: usize = 1024;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<EventRow>>(8);
        scope.spawn(move || {
            for chunk in records.chunks(CHUNK) {
                if tx.send(chunk.iter().map(EventRow::new).collect()).is_err() {
                    return;
                }
            }
        });
        for rows in rx {
            for row in rows {
                insert(row)?;
            }
        }
        Ok(())
    })
}

/// Reads a stored device back.
pub(crate) fn parse_device(path: &str, data: &str) -> Result<Device, StoreError> {
    serde_json::from_str(data).map_err(|err| StoreError::Corrupt { path: path.to_string(), what: format!("device: {err}") })
}

/// Reads a stored event back, with its id.
pub(crate) fn parse_event(path: &str, id: i64, data: &str) -> Result<EventRecord, StoreError> {
    let mut record: EventRecord =
        serde_json::from_str(data).map_err(|err| StoreError::Corrupt { path: path.to_string(), what: format!("event: {err}") })?;
    record.id = id;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip_through_rows() {
        let mut obs = Observations::default();
        let mut operations = OperationCounts::default();
        operations.add(OperationKind::Read, 12);
        operations.add(OperationKind::ProgramDownload, 1);
        let seen = Seen::new(Timestamp(5), Timestamp(9), 40);
        let links = [
            (Party::Ip("10.0.0.1".parse().unwrap()), Party::Ip("10.0.0.2".parse().unwrap()), Service::Protocol(Protocol::Modbus)),
            (Party::Ip("fd00::1".parse().unwrap()), Party::Ip("10.0.0.255".parse().unwrap()), Service::Udp(2222)),
            (Party::Mac(MacAddr([0, 0x1b, 0x1b, 1, 2, 3])), Party::Mac(MacAddr([1, 0x0e, 0xcf, 0, 0, 0])), Service::Tcp(5450)),
        ];
        for (client, server, service) in links {
            obs.links.insert(LinkKey { client, server, service }, LinkSeen { seen, bytes: 4000, operations });
        }
        let rows = ObservationRows::from_observations(&obs);
        assert!(rows.links.iter().any(|r| r.operations == "read=12,program-download=1" && r.service == "modbus"));
        assert!(rows.links.iter().any(|r| r.client == "mac:00:1b:1b:01:02:03" && r.service == "tcp/5450"));
        let back = rows.into_observations().expect("readable");
        assert_eq!(back.links, obs.links);
    }

    #[test]
    fn unreadable_links_are_named() {
        let mut rows = ObservationRows::default();
        rows.links.push(LinkRow {
            client: "10.0.0.1".into(),
            server: "nonsense".into(),
            service: "modbus".into(),
            first_ns: 0,
            last_ns: 0,
            packets: 0,
            bytes: 0,
            operations: String::new(),
        });
        assert!(rows.into_observations().err().is_some_and(|e| e.contains("nonsense")));
    }
}
