//! What the analysis of a site rests on: the inventory, the stored events,
//! who talked to whom, open alerts and the matched vulnerabilities.

use crate::matching::VulnMatch;
use palisade_engine::{Device, EventRecord, ExternalEndpoint};
use palisade_model::{is_local_ip, DeviceType, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

/// One observed conversation direction: `client` reached `server`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Connection {
    /// Who opened it.
    pub client: IpAddr,
    /// Who answered.
    pub server: IpAddr,
    /// Application protocol.
    pub protocol: Option<Protocol>,
    /// Where it was learned (`operation`, `baseline`...).
    pub seen_in: String,
}

/// An open alert of the detection engines, as risk needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAlert {
    /// Alert id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// Source.
    pub src_ip: Option<IpAddr>,
    /// Destination.
    pub dst_ip: Option<IpAddr>,
}

/// Everything the recommendations, risk scores and reports of one site use.
#[derive(Clone, Debug, Default)]
pub struct SiteData {
    /// Site name, for reports.
    pub name: String,
    /// Devices.
    pub devices: Vec<Device>,
    /// Stored operations and violations.
    pub events: Vec<EventRecord>,
    /// Internet endpoints the site talked to.
    pub external: Vec<ExternalEndpoint>,
    /// Who reached whom.
    pub connections: Vec<Connection>,
    /// Open alerts (empty when detection has not stored any).
    pub alerts: Vec<OpenAlert>,
    /// Hosts seen reaching the internet (from detection's baseline).
    pub internet_hosts: BTreeSet<IpAddr>,
    /// Services hosts were seen serving (from detection's baseline).
    pub served: BTreeSet<(IpAddr, Protocol)>,
    /// Vulnerabilities per device id.
    pub vulns: BTreeMap<i64, Vec<VulnMatch>>,
    /// Lookups built on first use (see [`SiteData::reindex`]); leave it at its default.
    pub lookups: Lookups,
}

/// The lookups of a site, built on first use.
#[derive(Clone, Debug, Default)]
pub struct Lookups(std::sync::OnceLock<SiteIndex>);

/// Lookups over a site's devices, alerts and connections.
#[derive(Clone, Debug, Default)]
struct SiteIndex {
    /// Device position by IP.
    by_ip: HashMap<IpAddr, usize>,
    /// Device position by id.
    by_id: HashMap<i64, usize>,
    /// Alert positions by source or destination IP.
    alerts_by_ip: HashMap<IpAddr, Vec<usize>>,
    /// Addresses seen talking with an internet address that is not a site device.
    talks_outside: HashSet<IpAddr>,
}

impl SiteData {
    /// Adds the connections the stored operations show (each operation is a
    /// client that reached a server), without repeats.
    pub fn connections_from_events(&mut self) {
        let mut seen: BTreeSet<(IpAddr, IpAddr, Option<Protocol>)> =
            self.connections.iter().map(|c| (c.client, c.server, c.protocol)).collect();
        for e in self.events.iter().filter(|e| e.record_type == "operation") {
            let (Some(client), Some(server)) = (e.src_ip, e.dst_ip) else { continue };
            if client != server && seen.insert((client, server, Some(e.protocol))) {
                self.connections.push(Connection { client, server, protocol: Some(e.protocol), seen_in: "operation".into() });
            }
        }
        self.connections.sort();
        self.reindex();
    }

    /// Drops the lookups, so they are built again from the current devices,
    /// alerts and connections (call it after changing them once a lookup ran).
    pub fn reindex(&mut self) {
        self.lookups = Lookups::default();
    }

    fn index(&self) -> &SiteIndex {
        self.lookups.0.get_or_init(|| {
            let mut index = SiteIndex::default();
            for (i, d) in self.devices.iter().enumerate() {
                index.by_id.insert(d.id, i);
                for ip in &d.ips {
                    index.by_ip.entry(*ip).or_insert(i);
                }
            }
            for (i, a) in self.alerts.iter().enumerate() {
                let mut ends: Vec<IpAddr> = [a.src_ip, a.dst_ip].into_iter().flatten().collect();
                ends.dedup();
                for ip in ends {
                    index.alerts_by_ip.entry(ip).or_default().push(i);
                }
            }
            let outside = |ip: IpAddr| is_public(ip) && !index.by_ip.contains_key(&ip);
            let talks: Vec<IpAddr> = self
                .connections
                .iter()
                .flat_map(|c| [(c.client, c.server), (c.server, c.client)])
                .filter(|(_, peer)| outside(*peer))
                .map(|(me, _)| me)
                .collect();
            index.talks_outside.extend(talks);
            index
        })
    }

    /// The device that has an IP address.
    pub fn device_of(&self, ip: IpAddr) -> Option<&Device> {
        self.index().by_ip.get(&ip).and_then(|i| self.devices.get(*i))
    }

    /// The device with an id.
    pub fn device(&self, id: i64) -> Option<&Device> {
        self.index().by_id.get(&id).and_then(|i| self.devices.get(*i))
    }

    /// The open alerts about a device (as source or destination).
    pub fn alerts_of(&self, d: &Device) -> Vec<&OpenAlert> {
        let index = self.index();
        let mut positions: Vec<usize> = d.ips.iter().filter_map(|ip| index.alerts_by_ip.get(ip)).flatten().copied().collect();
        positions.sort_unstable();
        positions.dedup();
        positions.into_iter().filter_map(|i| self.alerts.get(i)).collect()
    }

    /// True when the device was seen talking with the internet (a public
    /// address that is not a device of the site), in the connections or the baseline.
    pub fn talks_to_internet(&self, d: &Device) -> bool {
        let index = self.index();
        d.ips.iter().any(|ip| index.talks_outside.contains(ip) || self.internet_hosts.contains(ip))
    }
}

/// A short name for a device in reports: host name, else IP, else MAC, with its type.
pub fn device_label(d: &Device) -> String {
    let name = d
        .hostnames
        .first()
        .cloned()
        .or_else(|| d.ips.first().map(|i| i.to_string()))
        .or_else(|| d.macs.first().map(|m| m.to_string()))
        .unwrap_or_else(|| format!("device {}", d.id));
    let what = match (&d.vendor, &d.model) {
        (Some(v), Some(m)) => format!(" ({v} {m})"),
        (None, Some(m)) => format!(" ({m})"),
        _ => String::new(),
    };
    format!("#{} {name}{what}", d.id)
}

/// Controllers and safety systems: what an attacker wants to reach.
pub fn is_controller(t: DeviceType) -> bool {
    matches!(t, DeviceType::Plc | DeviceType::Rtu | DeviceType::Ied | DeviceType::BuildingController)
}

/// Enterprise (IT) device types.
pub fn is_it(t: DeviceType) -> bool {
    matches!(t, DeviceType::Workstation | DeviceType::Server | DeviceType::Printer | DeviceType::Phone)
}

/// The Purdue level of a device: its own, or 3+ for IT types.
pub fn level(d: &Device) -> Option<u8> {
    d.purdue_level.or(if is_it(d.device_type) { Some(4) } else { None })
}

/// True for an address on the internet.
pub fn is_public(ip: IpAddr) -> bool {
    !is_local_ip(ip) && !ip.is_multicast()
}
