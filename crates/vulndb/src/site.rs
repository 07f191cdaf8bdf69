//! What the analysis of a site rests on: the inventory, the stored events,
//! who talked to whom, open alerts and the matched vulnerabilities.

use crate::matching::VulnMatch;
use palisade_engine::{Device, EventRecord, ExternalEndpoint};
use palisade_model::{is_local_ip, DeviceType, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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
    }

    /// The device that has an IP address.
    pub fn device_of(&self, ip: IpAddr) -> Option<&Device> {
        self.devices.iter().find(|d| d.ips.contains(&ip))
    }

    /// The device with an id.
    pub fn device(&self, id: i64) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
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
