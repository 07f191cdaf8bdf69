//! From observations to devices.
//!
//! One device per physical endpoint: a unicast MAC with every IP it was
//! seen with. MACs that forward for other addresses (virtual router MACs,
//! MACs carrying internet traffic, MACs seen with many addresses) are
//! routers: the IPs behind them become devices of their own that keep the
//! router MAC they were seen through, and the router keeps only the IPs it
//! claimed in ARP. Multicast, broadcast and directed-broadcast addresses
//! are never devices; public addresses are external endpoints unless they
//! were claimed in ARP on the local segment.

use crate::behaviour::{behaviours, Behaviour};
use crate::classify::{classify, purdue_level, Evidence};
use crate::fingerprint::{dhcp_os, tcp_os, OsFamily};
use crate::monitored::mark_monitored;
use crate::observations::{FactKey, FactSeen, IpSeen, Observations, Party, Seen};
use palisade_model::{is_local_ip, DeviceType, IdentityField, MacAddr, Protocol, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// A MAC seen with at least this many local IPv4 addresses routes for them.
const ROUTER_MIN_IPS: usize = 16;

/// An identity fact with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcedFact {
    /// Field name.
    pub field: IdentityField,
    /// Value.
    pub value: String,
    /// Protocol name, or `oui` for the IEEE registry.
    pub source: String,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
}

/// A device of the inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Stable id (assigned by the store; 0 until stored).
    pub id: i64,
    /// MAC addresses (for a device behind a router: the router MACs it was seen through).
    pub macs: Vec<MacAddr>,
    /// IP addresses.
    pub ips: Vec<IpAddr>,
    /// Host names.
    pub hostnames: Vec<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Model or product name.
    pub model: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// Device type.
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    /// How sure the type is, in percent (0 when unknown).
    #[serde(default)]
    pub confidence: u8,
    /// Purdue level (0–5), when estimated.
    pub purdue_level: Option<u8>,
    /// Protocols it spoke or served.
    pub protocols: Vec<Protocol>,
    /// First seen (capture time).
    pub first_seen: Timestamp,
    /// Last seen (capture time).
    pub last_seen: Timestamp,
    /// Counts towards the site's licence (a monitored device).
    pub billable: bool,
    /// Seen within 60 days of the newest capture time in the database.
    #[serde(default = "active_by_default")]
    pub active: bool,
    /// Seen only through a router's MAC (its own MAC is unknown).
    pub behind_router: bool,
    /// Why the type was chosen.
    pub classification_reasons: Vec<String>,
    /// Every identity fact, with its source.
    pub facts: Vec<SourcedFact>,
    /// Keys that identify the device across analyses (`mac:…` or `ip:…`).
    #[serde(skip_serializing, default)]
    pub keys: Vec<String>,
}

/// Devices stored before `active` existed were current when stored.
fn active_by_default() -> bool {
    true
}

/// An internet address the site talked to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalEndpoint {
    /// The address.
    pub ip: IpAddr,
    /// Protocols used with it.
    pub protocols: Vec<Protocol>,
    /// Names it was given (DNS answers).
    pub hostnames: Vec<String>,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
}

/// Devices and external endpoints.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Site devices.
    pub devices: Vec<Device>,
    /// Internet endpoints.
    pub external: Vec<ExternalEndpoint>,
}

/// Widens an optional span by another.
fn widen(seen: &mut Option<Seen>, s: Seen) {
    match seen.as_mut() {
        Some(x) => x.merge(s),
        None => *seen = Some(s),
    }
}

/// How much a protocol's word about identity counts (higher wins).
fn source_rank(source: &str) -> u8 {
    match Protocol::from_name(source) {
        Some(p) if p.is_industrial() => 5,
        Some(Protocol::Lldp | Protocol::Cdp | Protocol::Snmp) => 4,
        Some(Protocol::Dhcp | Protocol::Dhcpv6 | Protocol::Mdns | Protocol::Nbns | Protocol::Ssdp | Protocol::Smb) => 3,
        Some(_) => 2,
        None => 0,
    }
}

/// The OS facts that the device's TCP and DHCP fingerprints point to,
/// attributed to the protocol of the fingerprint (port-scan probes name no OS).
fn derived_os_facts(facts: &[SourcedFact]) -> Vec<SourcedFact> {
    let mut out: Vec<SourcedFact> = Vec::new();
    for f in facts {
        let found = match f.field {
            IdentityField::TcpFingerprint => tcp_os(&f.value),
            IdentityField::DhcpFingerprint => dhcp_os(&f.value),
            _ => None,
        };
        let Some(m) = found.filter(|m| m.family != OsFamily::Scanner) else { continue };
        match out.iter_mut().find(|o| o.value == m.os && o.source == f.source) {
            Some(o) => {
                o.first_seen = o.first_seen.min(f.first_seen);
                o.last_seen = o.last_seen.max(f.last_seen);
            }
            None => out.push(SourcedFact {
                field: IdentityField::Os,
                value: m.os.clone(),
                source: f.source.clone(),
                first_seen: f.first_seen,
                last_seen: f.last_seen,
            }),
        }
    }
    out.retain(|o| !facts.iter().any(|f| f.field == IdentityField::Os && f.value == o.value && f.source == o.source));
    out
}

struct Builder<'a> {
    obs: &'a Observations,
    routers: BTreeSet<MacAddr>,
    /// For each kept IP, the MACs it was seen with.
    ip_macs: BTreeMap<IpAddr, BTreeSet<MacAddr>>,
    /// MACs seen with more than one internet address (routers in front of the internet).
    internet_gateways: BTreeSet<MacAddr>,
}

/// Builds the inventory from observations.
pub fn build_inventory(obs: &Observations) -> Inventory {
    // A public address is a site device when it was claimed on the local
    // segment (ARP, DHCP) or identified itself over an industrial protocol.
    let industrial: BTreeSet<IpAddr> = obs.facts.iter().filter(|(_, f)| f.protocol.is_industrial()).filter_map(|(k, _)| k.ip).collect();
    let site = |ip: &IpAddr, seen: &IpSeen| is_local_ip(*ip) || !seen.arp_macs.is_empty() || industrial.contains(ip);
    let mut ip_macs: BTreeMap<IpAddr, BTreeSet<MacAddr>> = BTreeMap::new();
    for (ip, seen) in &obs.ips {
        if seen.directed_broadcast || !site(ip, seen) {
            continue;
        }
        ip_macs.insert(*ip, BTreeSet::new());
    }
    let mut local_ips_per_mac: BTreeMap<MacAddr, usize> = BTreeMap::new();
    for (ip, mac) in obs.pairs.keys() {
        if let Some(macs) = ip_macs.get_mut(ip) {
            macs.insert(*mac);
            if ip.is_ipv4() {
                *local_ips_per_mac.entry(*mac).or_default() += 1;
            }
        }
    }
    let mut routers: BTreeSet<MacAddr> = obs
        .macs
        .iter()
        .filter(|(mac, m)| m.routes_public || mac.is_virtual_router() || local_ips_per_mac.get(mac).copied().unwrap_or(0) >= ROUTER_MIN_IPS)
        .map(|(mac, _)| *mac)
        .collect();
    // A MAC seen with addresses that ARP says belong to other MACs forwards
    // for them: a router, when it also has an address of its own in ARP or
    // does it for more than one address.
    let mut forwards: BTreeMap<MacAddr, usize> = BTreeMap::new();
    let mut claims_own: BTreeSet<MacAddr> = BTreeSet::new();
    for (ip, macs) in &ip_macs {
        let Some(claims) = obs.ips.get(ip).map(|s| &s.arp_macs).filter(|c| !c.is_empty()) else { continue };
        claims_own.extend(claims.iter().copied());
        for m in macs.iter().filter(|m| !claims.contains(m)) {
            *forwards.entry(*m).or_default() += 1;
        }
    }
    routers.extend(forwards.into_iter().filter(|(m, n)| *n >= 2 || claims_own.contains(m)).map(|(m, _)| m));
    // A MAC that carries several of the same remote addresses as a router
    // (without claiming them in ARP) is that router's physical interface; a
    // host seen with its one address both directly and through a router is not.
    let mut shared: BTreeMap<MacAddr, usize> = BTreeMap::new();
    for (ip, macs) in ip_macs.iter().filter(|(_, macs)| macs.iter().any(|m| routers.contains(m))) {
        let arp = obs.ips.get(ip).map(|s| &s.arp_macs);
        for m in macs.iter().filter(|m| !routers.contains(m) && !arp.is_some_and(|a| a.contains(m))) {
            *shared.entry(*m).or_default() += 1;
        }
    }
    routers.extend(shared.into_iter().filter(|(_, n)| *n >= 2).map(|(m, _)| m));
    let mut public_ips: BTreeMap<MacAddr, usize> = BTreeMap::new();
    for (ip, mac) in obs.pairs.keys().filter(|(ip, _)| !is_local_ip(*ip)) {
        if !ip_macs.contains_key(ip) {
            *public_ips.entry(*mac).or_default() += 1;
        }
    }
    let internet_gateways = public_ips.into_iter().filter(|(_, n)| *n > 1).map(|(m, _)| m).collect();
    let builder = Builder { obs, routers, ip_macs, internet_gateways };
    let mut built = builder.devices();
    built.sort_by(|a, b| a.0.keys.cmp(&b.0.keys));
    let (mut devices, router_flags): (Vec<Device>, Vec<bool>) = built.into_iter().unzip();
    classify_devices(obs, &mut devices, &router_flags);
    mark_monitored(&mut devices, newest_time(obs));
    Inventory { devices, external: builder.external() }
}

/// The newest capture time in the observations.
fn newest_time(obs: &Observations) -> Timestamp {
    let macs = obs.macs.values().map(|m| m.seen.last);
    let ips = obs.ips.values().map(|i| i.seen.last);
    macs.chain(ips).max().unwrap_or(Timestamp(0))
}

/// Gives every device its type, confidence, reasons and Purdue level from
/// its facts and behaviour. Rules about peers (an NVR talks to cameras, an
/// engineering workstation to controllers) use the types of a first pass.
fn classify_devices(obs: &Observations, devices: &mut [Device], routers: &[bool]) {
    let mut owner: HashMap<Party, usize> = HashMap::new();
    for (i, d) in devices.iter().enumerate() {
        owner.extend(d.ips.iter().map(|ip| (Party::Ip(*ip), i)));
        if !d.behind_router {
            owner.extend(d.macs.iter().map(|m| (Party::Mac(*m), i)));
        }
    }
    let behaviour = behaviours(devices.len(), obs.links.iter(), |p| owner.get(p).copied());
    let nothing = Behaviour::default();
    let mut types: Vec<DeviceType> = Vec::new();
    let mut results = Vec::new();
    for _pass in 0..2 {
        results = devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let e = Evidence {
                    facts: &d.facts,
                    behaviour: behaviour.get(i).unwrap_or(&nothing),
                    router: routers.get(i).copied().unwrap_or(false),
                    peer_types: &types,
                };
                let c = classify(&e);
                let level = purdue_level(c.device_type, &e);
                (c, level)
            })
            .collect::<Vec<_>>();
        types = results.iter().map(|(c, _)| c.device_type).collect();
    }
    for (d, (c, level)) in devices.iter_mut().zip(results) {
        d.device_type = c.device_type;
        d.confidence = c.confidence;
        d.classification_reasons = c.reasons;
        d.purdue_level = level;
    }
}

impl Builder<'_> {
    /// The IPs that belong to a MAC's own device.
    fn own_ips(&self, mac: MacAddr) -> Vec<IpAddr> {
        let router = self.routers.contains(&mac);
        self.ip_macs
            .iter()
            .filter(|(ip, macs)| macs.contains(&mac) && (!router || self.obs.ips.get(*ip).is_some_and(|s| s.arp_macs.contains(&mac))))
            .map(|(ip, _)| *ip)
            .collect()
    }

    fn devices(&self) -> Vec<(Device, bool)> {
        let mut devices = Vec::new();
        let mut placed: BTreeSet<IpAddr> = BTreeSet::new();
        for mac in self.obs.macs.keys().copied().filter(|m| m.is_unicast()) {
            let ips = self.own_ips(mac);
            placed.extend(ips.iter().copied());
            let router = self.routers.contains(&mac);
            devices.push((self.device(vec![mac], ips, false, router), router));
        }
        for (ip, macs) in &self.ip_macs {
            if placed.contains(ip) {
                continue;
            }
            // Only seen through routers (or on a link without MACs).
            let via: Vec<MacAddr> = macs.iter().copied().collect();
            let behind = !via.is_empty();
            devices.push((self.device(via, vec![*ip], behind, false), false));
        }
        devices
    }

    fn device(&self, macs: Vec<MacAddr>, ips: Vec<IpAddr>, behind_router: bool, router: bool) -> Device {
        let mut seen: Option<Seen> = None;
        let mut protocols = BTreeSet::new();
        let own_macs: &[MacAddr] = if behind_router { &[] } else { &macs };
        for mac in own_macs {
            if let Some(m) = self.obs.macs.get(mac) {
                if !router || ips.is_empty() {
                    widen(&mut seen, m.seen);
                }
                protocols.extend(m.protocols.iter().copied());
            }
        }
        for ip in &ips {
            if let Some(i) = self.obs.ips.get(ip) {
                widen(&mut seen, i.seen);
                protocols.extend(i.protocols.iter().copied());
            }
        }
        if router && seen.is_none() {
            for mac in own_macs {
                if let Some(m) = self.obs.macs.get(mac) {
                    widen(&mut seen, m.seen);
                }
            }
        }
        let seen = seen.unwrap_or(Seen::new(Timestamp(0), Timestamp(0), 0));
        let mut facts = self.facts_for(own_macs, &ips);
        let derived = derived_os_facts(&facts);
        facts.extend(derived);
        if let Some(vendor) = own_macs.iter().find_map(|m| palisade_oui::vendor(*m)) {
            facts.push(SourcedFact {
                field: IdentityField::Vendor,
                value: vendor.to_string(),
                source: "oui".into(),
                first_seen: seen.first,
                last_seen: seen.last,
            });
        }
        facts.sort_by(|a, b| {
            source_rank(&b.source).cmp(&source_rank(&a.source)).then(b.last_seen.cmp(&a.last_seen)).then(a.value.cmp(&b.value))
        });
        let best = |field: IdentityField| facts.iter().find(|f| f.field == field).map(|f| f.value.clone());
        let mut hostnames: Vec<String> = Vec::new();
        for f in facts.iter().filter(|f| f.field == IdentityField::Hostname) {
            let name = f.value.trim_end_matches('.').to_string();
            if !hostnames.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
                hostnames.push(name);
            }
        }
        let mut keys: Vec<String> = own_macs.iter().map(|m| format!("mac:{m}")).collect();
        if keys.is_empty() {
            keys = ips.iter().map(|ip| format!("ip:{ip}")).collect();
        }
        Device {
            id: 0,
            macs,
            ips,
            hostnames,
            vendor: best(IdentityField::Vendor),
            model: best(IdentityField::Model).or_else(|| best(IdentityField::ProductName)).or_else(|| best(IdentityField::OrderNumber)),
            firmware: best(IdentityField::Firmware),
            serial: best(IdentityField::Serial),
            os: best(IdentityField::Os),
            device_type: DeviceType::Unknown,
            confidence: 0,
            purdue_level: None,
            protocols: protocols.into_iter().collect(),
            first_seen: seen.first,
            last_seen: seen.last,
            billable: false,
            active: true,
            behind_router,
            classification_reasons: Vec::new(),
            facts,
            keys,
        }
    }

    /// Facts about the device: by IP, or by MAC when the fact names no IP
    /// of another device, unless the MAC fronts several internet addresses
    /// (a gateway's MAC carries what internet servers say about themselves).
    fn facts_for(&self, macs: &[MacAddr], ips: &[IpAddr]) -> Vec<SourcedFact> {
        let mine = |k: &FactKey| match (k.ip, k.mac) {
            (Some(ip), _) if ips.contains(&ip) => true,
            (Some(ip), Some(mac)) => {
                macs.contains(&mac) && !self.ip_macs.contains_key(&ip) && (is_local_ip(ip) || !self.internet_gateways.contains(&mac))
            }
            (None, Some(mac)) => macs.contains(&mac),
            _ => false,
        };
        self.obs
            .facts
            .iter()
            .filter(|(k, _)| mine(k))
            .map(|(k, f): (&FactKey, &FactSeen)| SourcedFact {
                field: k.field,
                value: k.value.clone(),
                source: f.protocol.as_str().to_string(),
                first_seen: f.seen.first,
                last_seen: f.seen.last,
            })
            .collect()
    }

    fn external(&self) -> Vec<ExternalEndpoint> {
        let mut out: Vec<ExternalEndpoint> = self
            .obs
            .ips
            .iter()
            .filter(|(ip, s)| !self.ip_macs.contains_key(*ip) && !is_local_ip(**ip) && !s.directed_broadcast)
            .map(|(ip, s)| ExternalEndpoint {
                ip: *ip,
                protocols: s.protocols.iter().copied().collect(),
                hostnames: self
                    .facts_for(&[], &[*ip])
                    .into_iter()
                    .filter(|f| f.field == IdentityField::Hostname)
                    .map(|f| f.value)
                    .collect(),
                first_seen: s.seen.first,
                last_seen: s.seen.last,
            })
            .collect();
        out.sort_by_key(|e| e.ip);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Contact, Endpoint, Event, IdentityFact, Operation, OperationKind, OperationResult, Transport};

    fn mac(last: u8) -> MacAddr {
        MacAddr([0x00, 0x1b, 0x1b, 0, 0, last])
    }

    fn ep(mac: Option<MacAddr>, ip: &str) -> Endpoint {
        Endpoint { mac, ip: Some(ip.parse().unwrap()), port: 0 }
    }

    fn contact(client: Endpoint, server: Endpoint, t: i64) -> Event {
        Event::Contact(Contact {
            first_seen: Timestamp(t),
            last_seen: Timestamp(t + 10),
            client,
            server,
            client_mac_inbound: None,
            server_mac_inbound: None,
            transport: Transport::Udp,
            protocol: Some(Protocol::Dns),
            also: Default::default(),
            packets_to_server: 1,
            packets_to_client: 1,
            bytes_to_server: 60,
            bytes_to_client: 60,
            link_broadcast: false,
        })
    }

    fn inventory(events: &[Event]) -> Inventory {
        let mut obs = Observations::default();
        obs.ingest(events);
        build_inventory(&obs)
    }

    #[test]
    fn hosts_behind_a_router_are_their_own_devices() {
        let router = mac(1);
        let host = mac(2);
        let events = vec![
            // host talks to the internet and to a remote site host, both through the router's MAC
            contact(ep(Some(host), "10.0.0.5"), ep(Some(router), "8.8.8.8"), 1),
            contact(ep(Some(host), "10.0.0.5"), ep(Some(router), "10.9.0.7"), 2),
        ];
        let inv = inventory(&events);
        let remote = inv.devices.iter().find(|d| d.ips == vec!["10.9.0.7".parse::<IpAddr>().unwrap()]).expect("remote host is a device");
        assert!(remote.behind_router);
        assert_eq!(remote.macs, vec![router]);
        let local = inv.devices.iter().find(|d| d.macs == vec![host]).expect("local host");
        assert_eq!(local.ips, vec!["10.0.0.5".parse::<IpAddr>().unwrap()]);
        let r = inv.devices.iter().find(|d| d.macs == vec![router] && !d.behind_router).expect("router device");
        assert_eq!(r.device_type, DeviceType::Router);
        assert!(r.ips.is_empty());
        assert_eq!(inv.external.len(), 1);
        assert_eq!(inv.external[0].ip, "8.8.8.8".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn multicast_broadcast_and_directed_broadcast_are_not_devices() {
        let a = mac(3);
        let mut bcast = match contact(ep(Some(a), "192.168.1.10"), ep(Some(MacAddr::BROADCAST), "192.168.1.255"), 1) {
            Event::Contact(c) => c,
            _ => unreachable!(),
        };
        bcast.link_broadcast = true;
        let events = vec![
            Event::Contact(bcast),
            contact(ep(Some(a), "192.168.1.10"), ep(Some(MacAddr([0x01, 0, 0x5e, 0, 0, 0xfb])), "224.0.0.251"), 2),
            contact(ep(Some(a), "192.168.1.10"), ep(Some(MacAddr::BROADCAST), "255.255.255.255"), 3),
        ];
        let inv = inventory(&events);
        assert_eq!(inv.devices.len(), 1);
        assert_eq!(inv.devices[0].ips, vec!["192.168.1.10".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn facts_name_the_device_and_protocols_beat_the_oui() {
        let a = mac(4);
        let fact = |field, value: &str, protocol| {
            Event::Identity(IdentityFact { ts: Timestamp(5), subject: ep(Some(a), "10.1.1.1"), protocol, field, value: value.into() })
        };
        let events = vec![
            contact(ep(Some(a), "10.1.1.1"), ep(Some(mac(5)), "10.1.1.2"), 1),
            fact(IdentityField::Hostname, "plc-1", Protocol::Dhcp),
            fact(IdentityField::Vendor, "Siemens AG (from S7)", Protocol::S7comm),
        ];
        let inv = inventory(&events);
        let d = inv.devices.iter().find(|d| d.macs == vec![a]).expect("device");
        assert_eq!(d.hostnames, vec!["plc-1".to_string()]);
        assert_eq!(d.vendor.as_deref(), Some("Siemens AG (from S7)"));
        assert!(d.facts.iter().any(|f| f.source == "oui" && f.value.starts_with("Siemens")));
        assert_eq!(d.first_seen, Timestamp(1));
    }

    #[test]
    fn roles_give_types_and_purdue_levels() {
        let plc = mac(7);
        let ews = mac(8);
        let role = |who: MacAddr, ip: &str, value: &str| {
            Event::Identity(IdentityFact {
                ts: Timestamp(2),
                subject: ep(Some(who), ip),
                protocol: Protocol::S7comm,
                field: IdentityField::Role,
                value: value.into(),
            })
        };
        let events = vec![
            contact(ep(Some(ews), "10.0.0.50"), ep(Some(plc), "10.0.0.10"), 1),
            role(plc, "10.0.0.10", "plc"),
            role(ews, "10.0.0.50", "scada-client"),
            role(ews, "10.0.0.50", "engineering-workstation"),
        ];
        let inv = inventory(&events);
        let p = inv.devices.iter().find(|d| d.macs == vec![plc]).expect("plc");
        assert_eq!((p.device_type, p.purdue_level), (DeviceType::Plc, Some(1)));
        assert_eq!(p.classification_reasons, vec!["s7comm says role plc".to_string()]);
        let e = inv.devices.iter().find(|d| d.macs == vec![ews]).expect("ews");
        assert_eq!((e.device_type, e.purdue_level), (DeviceType::EngineeringWorkstation, Some(2)));
    }

    #[test]
    fn layer2_only_devices_exist() {
        let events = vec![Event::Contact(Contact {
            first_seen: Timestamp(1),
            last_seen: Timestamp(1),
            client: Endpoint { mac: Some(mac(6)), ip: None, port: 0 },
            server: Endpoint { mac: Some(MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x0e])), ip: None, port: 0 },
            client_mac_inbound: None,
            server_mac_inbound: None,
            transport: Transport::Ethernet(0x88cc),
            protocol: Some(Protocol::Lldp),
            also: Default::default(),
            packets_to_server: 1,
            packets_to_client: 0,
            bytes_to_server: 100,
            bytes_to_client: 0,
            link_broadcast: false,
        })];
        let inv = inventory(&events);
        assert_eq!(inv.devices.len(), 1);
        assert_eq!(inv.devices[0].protocols, vec![Protocol::Lldp]);
    }

    fn fact_about(who: Endpoint, protocol: Protocol, field: IdentityField, value: &str) -> Event {
        Event::Identity(IdentityFact { ts: Timestamp(3), subject: who, protocol, field, value: value.into() })
    }

    #[test]
    fn fingerprints_name_the_os_with_their_source() {
        let pc = ep(Some(mac(20)), "10.0.0.20");
        let stack = Endpoint { mac: None, ..pc };
        let events = vec![
            contact(pc, ep(Some(mac(21)), "10.0.0.21"), 1),
            fact_about(stack, Protocol::Tcp, IdentityField::TcpFingerprint, "syn ttl=128 win=64240 mss=1460 ws=8 opts=M,N,W,N,N,S df"),
            fact_about(pc, Protocol::Dhcp, IdentityField::DhcpFingerprint, "1,3,6,15,31,33,43,44,46,47,119,121,249,252"),
        ];
        let inv = inventory(&events);
        let d = inv.devices.iter().find(|d| d.macs == vec![mac(20)]).expect("pc");
        let os: Vec<(&str, &str)> =
            d.facts.iter().filter(|f| f.field == IdentityField::Os).map(|f| (f.source.as_str(), f.value.as_str())).collect();
        assert_eq!(os, [("dhcp", "Windows"), ("tcp", "Windows")]);
        assert_eq!((d.os.as_deref(), d.device_type, d.purdue_level), (Some("Windows"), DeviceType::Workstation, Some(4)));
        assert!(d.active && d.billable);
    }

    #[test]
    fn a_host_reached_through_a_router_is_not_a_router_itself() {
        let (gateway, plc, scada) = (mac(30), mac(31), mac(32));
        let events = vec![
            // The SCADA server's requests reach the PLC through the gateway; the PLC answers from its own MAC.
            contact(ep(Some(scada), "10.1.0.5"), ep(Some(gateway), "10.2.0.11"), 1),
            contact(ep(Some(plc), "10.2.0.11"), ep(Some(gateway), "10.1.0.5"), 2),
            contact(ep(Some(scada), "10.1.0.5"), ep(Some(gateway), "8.8.8.8"), 3),
        ];
        let inv = inventory(&events);
        let routers: Vec<&Vec<MacAddr>> = inv.devices.iter().filter(|d| d.device_type == DeviceType::Router).map(|d| &d.macs).collect();
        assert_eq!(routers, [&vec![gateway]]);
        assert!(inv.devices.iter().any(|d| d.macs == vec![plc] && d.ips == vec!["10.2.0.11".parse::<IpAddr>().unwrap()]));
    }

    #[test]
    fn what_internet_servers_say_stays_off_the_gateway() {
        let (gateway, pc) = (mac(40), mac(41));
        let server = |ip: &str| Endpoint { mac: Some(gateway), ip: Some(ip.parse().unwrap()), port: 80 };
        let mut events = Vec::new();
        for (i, ip) in ["93.184.216.34", "151.101.1.69"].iter().enumerate() {
            events.push(contact(ep(Some(pc), "10.0.0.9"), server(ip), i as i64));
            events.push(fact_about(server(ip), Protocol::Http, IdentityField::Server, "nginx"));
        }
        let inv = inventory(&events);
        let gw = inv.devices.iter().find(|d| d.macs == vec![gateway]).expect("gateway");
        assert!(gw.facts.iter().all(|f| f.field != IdentityField::Server), "{:?}", gw.facts);
    }

    #[test]
    fn behaviour_tells_scada_servers_from_hmis() {
        let scada = ep(Some(mac(50)), "10.0.1.5");
        let hmi = ep(Some(mac(51)), "10.0.1.21");
        let plc = |i: u8| ep(Some(mac(60 + i)), &format!("10.0.2.{}", 10 + i));
        let poll = |client: Endpoint, server: Endpoint, kind: OperationKind| {
            Event::Operation(Operation {
                ts: Timestamp(4),
                client,
                server,
                protocol: Protocol::Modbus,
                kind,
                code: 3,
                target: None,
                result: OperationResult::Success,
                count: 5,
            })
        };
        let mut events = Vec::new();
        for i in 0..12 {
            events.push(contact(scada, plc(i), 1));
            events.push(poll(scada, plc(i), OperationKind::Read));
        }
        events.push(contact(hmi, plc(0), 1));
        events.push(poll(hmi, plc(0), OperationKind::Write));
        let inv = inventory(&events);
        let t = |m: u8| inv.devices.iter().find(|d| d.macs == vec![mac(m)]).map(|d| (d.device_type, d.purdue_level));
        assert_eq!(t(50), Some((DeviceType::ScadaServer, Some(2))));
        assert_eq!(t(51), Some((DeviceType::Hmi, Some(2))));
        assert_eq!(t(60), Some((DeviceType::Plc, Some(1))));
    }
}
