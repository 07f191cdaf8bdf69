//! Recommendations per device and per site, each with the evidence it
//! rests on: identity facts, stored operations, connections and matched
//! vulnerabilities.

use crate::site::{device_label, is_controller, is_it, is_public, level, SiteData};
use palisade_engine::{Device, EventRecord};
use palisade_model::{DeviceType, IdentityField, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// `fact`, `event`, `vulnerability`, `connection` or `protocol`.
    pub kind: String,
    /// The device it is about.
    pub device_id: Option<i64>,
    /// What was seen, in plain words.
    pub detail: String,
}

/// A recommendation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Stable kind (`known-exploited`, `cleartext-credentials`...).
    pub kind: String,
    /// `critical`, `high`, `medium` or `low`.
    pub priority: String,
    /// One line.
    pub title: String,
    /// What to do.
    pub action: String,
    /// Devices concerned.
    pub device_ids: Vec<i64>,
    /// What it rests on.
    pub evidence: Vec<Evidence>,
}

/// Recommendations for a site and for each of its devices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendations {
    /// Site-wide, most urgent first.
    pub site: Vec<Recommendation>,
    /// Per device id, most urgent first.
    pub devices: BTreeMap<i64, Vec<Recommendation>>,
}

/// Priorities, most urgent first.
pub const PRIORITIES: [&str; 4] = ["critical", "high", "medium", "low"];

fn priority_rank(p: &str) -> usize {
    PRIORITIES.iter().position(|x| *x == p).unwrap_or(PRIORITIES.len())
}

/// Protocols that carry logins in clear text.
const CLEARTEXT_LOGIN: &[Protocol] = &[Protocol::Telnet, Protocol::Ftp, Protocol::Http, Protocol::Snmp];
/// Clear-text administration protocols.
const CLEARTEXT_ADMIN: &[Protocol] = &[Protocol::Telnet, Protocol::Ftp, Protocol::Http];
/// Remote-access protocols.
const REMOTE_ACCESS: &[Protocol] = &[Protocol::Rdp, Protocol::Vnc];
/// What to do about remote access.
const REMOTE_ACCESS_ACTION: &str =
    "Route remote access through a jump host in the DMZ with multi-factor authentication and session recording; disable it where unused.";

/// Domains of remote-access tools (name lookups of them show the tool in use), with the tool's name.
const REMOTE_ACCESS_DOMAINS: &[(&str, &str)] = &[
    ("teamviewer.com", "TeamViewer"),
    ("anydesk.com", "AnyDesk"),
    ("logmein.com", "LogMeIn"),
    ("logmein-gateway.com", "LogMeIn"),
    ("screenconnect.com", "ScreenConnect"),
    ("splashtop.com", "Splashtop"),
    ("rustdesk.com", "RustDesk"),
    ("gotomypc.com", "GoToMyPC"),
    ("beyondtrustcloud.com", "BeyondTrust"),
    ("bomgarcloud.com", "BeyondTrust"),
    ("remotepc.com", "RemotePC"),
    ("dwservice.net", "DWService"),
    ("ammyy.com", "Ammyy Admin"),
    ("connect.realvnc.com", "RealVNC Connect"),
    ("tosibox.com", "Tosibox"),
    ("ewon.biz", "Ewon Talk2M"),
    ("talk2m.com", "Ewon Talk2M"),
];

/// The remote-access tool a looked-up name belongs to, if any.
fn remote_access_tool(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    REMOTE_ACCESS_DOMAINS
        .iter()
        .find(|(domain, _)| name == *domain || name.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.')))
        .map(|(_, tool)| *tool)
}

/// Operations that change what a controller runs.
const PROGRAMMING: &[&str] =
    &["program-download", "program-upload", "program-delete", "firmware-update", "controller-stop", "controller-start"];

fn event_line(e: &EventRecord) -> String {
    let side = |ip: &Option<std::net::IpAddr>| ip.map_or_else(|| "?".to_string(), |i| i.to_string());
    let target = e.target.as_deref().map(|t| format!(" {t}")).unwrap_or_default();
    format!(
        "{} {} {} → {} {}{} (event {}, ×{})",
        e.time.to_rfc3339(),
        e.protocol,
        side(&e.src_ip),
        side(&e.dst_ip),
        e.kind,
        target,
        e.id,
        e.count
    )
}

struct Builder<'a> {
    site: &'a SiteData,
    devices: BTreeMap<i64, Vec<Recommendation>>,
}

impl Builder<'_> {
    fn add(&mut self, device: &Device, kind: &str, priority: &str, title: String, action: String, evidence: Vec<Evidence>) {
        let list = self.devices.entry(device.id).or_default();
        if let Some(existing) = list.iter_mut().find(|r| r.kind == kind) {
            existing.evidence.extend(evidence);
            existing.evidence.sort();
            existing.evidence.dedup();
            if priority_rank(priority) < priority_rank(&existing.priority) {
                existing.priority = priority.into();
            }
            return;
        }
        list.push(Recommendation { kind: kind.into(), priority: priority.into(), title, action, device_ids: vec![device.id], evidence });
    }

    fn vulnerabilities(&mut self) {
        for d in &self.site.devices {
            let Some(vulns) = self.site.vulns.get(&d.id) else { continue };
            let kev: Vec<_> = vulns.iter().filter(|v| v.kev.is_some()).collect();
            if !kev.is_empty() {
                let evidence = kev
                    .iter()
                    .map(|v| Evidence {
                        kind: "vulnerability".into(),
                        device_id: Some(d.id),
                        detail: format!(
                            "{} (CVSS {}) is on the CISA KEV list since {}; match {} confidence",
                            v.cve,
                            v.cvss3.or(v.cvss4).map_or("?".into(), |s| format!("{s:.1}")),
                            v.kev.as_ref().map_or("", |k| k.date_added.as_str()),
                            v.confidence_label
                        ),
                    })
                    .collect();
                let ids: Vec<&str> = kev.iter().map(|v| v.cve.as_str()).collect();
                self.add(
                    d,
                    "known-exploited",
                    "critical",
                    format!("{} has known exploited vulnerabilities ({})", device_label(d), ids.join(", ")),
                    "Patch first; until then isolate the device behind a firewall allowing only its engineering and HMI peers, and watch it."
                        .into(),
                    evidence,
                );
            }
            let firmware = d.firmware.clone().unwrap_or_else(|| "unknown".into());
            let fixable: Vec<_> = vulns.iter().filter(|v| v.fixed_version.is_some()).collect();
            if !fixable.is_empty() {
                let target = fixable
                    .iter()
                    .filter_map(|v| v.fixed_version.as_deref())
                    .max_by(|a, b| crate::version::compare(a, b).unwrap_or(std::cmp::Ordering::Equal))
                    .unwrap_or("");
                let top = fixable.iter().map(|v| v.score()).fold(0.0, f64::max);
                let evidence = fixable
                    .iter()
                    .map(|v| Evidence {
                        kind: "vulnerability".into(),
                        device_id: Some(d.id),
                        detail: format!(
                            "{} fixed in {} (firmware {firmware}; {})",
                            v.cve,
                            v.fixed_version.as_deref().unwrap_or("?"),
                            v.basis.iter().map(|b| b.reference.as_str()).collect::<Vec<_>>().join("; ")
                        ),
                    })
                    .collect();
                self.add(
                    d,
                    "outdated-firmware",
                    if top >= 7.0 { "high" } else { "medium" },
                    format!("{} runs firmware {firmware}; advisories name {target} or later as fixed", device_label(d)),
                    format!("Update the firmware to {target} or later in the next maintenance window."),
                    evidence,
                );
            }
            let unfixed: Vec<_> = vulns.iter().filter(|v| v.fixed_version.is_none() && v.kev.is_none()).collect();
            if !unfixed.is_empty() {
                let evidence = unfixed
                    .iter()
                    .map(|v| Evidence {
                        kind: "vulnerability".into(),
                        device_id: Some(d.id),
                        detail: format!("{} (CVSS {:.1}) has no fixed version in the imported data", v.cve, v.score()),
                    })
                    .collect();
                let top = unfixed.iter().map(|v| v.score()).fold(0.0, f64::max);
                self.add(
                    d,
                    "mitigate-vulnerabilities",
                    if top >= 9.0 { "high" } else { "medium" },
                    format!("{} has {} vulnerabilities without a known fix", device_label(d), unfixed.len()),
                    "Apply the vendor's mitigations: restrict the affected services to the peers that need them.".into(),
                    evidence,
                );
            }
        }
    }

    fn events(&mut self) {
        let site = self.site;
        for e in &site.events {
            let client = e.src_ip.and_then(|ip| site.device_of(ip));
            // A name lookup of a remote-access service: the client runs its tool.
            if e.protocol == Protocol::Dns && e.record_type == "operation" {
                let tool = e.target.as_deref().and_then(remote_access_tool);
                if let (Some(tool), Some(c)) = (tool, client) {
                    let control = level(c).is_some_and(|l| l <= 2);
                    self.add(
                        c,
                        "remote-access",
                        if control { "high" } else { "medium" },
                        format!("{} uses remote access ({tool})", device_label(c)),
                        REMOTE_ACCESS_ACTION.into(),
                        vec![Evidence { kind: "event".into(), device_id: Some(c.id), detail: event_line(e) }],
                    );
                }
                continue;
            }
            // A login to a server outside the inventory exposes the client's credentials.
            let Some(server) = e.dst_ip.and_then(|ip| site.device_of(ip)).or(client.filter(|_| e.kind == "login")) else { continue };
            let ev = |device_id| Evidence { kind: "event".into(), device_id: Some(device_id), detail: event_line(e) };
            if e.record_type == "operation" && e.kind == "login" && CLEARTEXT_LOGIN.contains(&e.protocol) {
                let target = e.target.clone().unwrap_or_default();
                if e.protocol == Protocol::Snmp && target.starts_with("community") {
                    let default = target.starts_with("community p") && (target.contains("(6 chars)") || target.contains("(7 chars)"))
                        || target.contains("(empty)");
                    self.add(
                        server,
                        "snmp-v1-v2c",
                        if default { "high" } else { "medium" },
                        format!(
                            "{} answers SNMP v1/v2c{}",
                            device_label(server),
                            if default { " with what looks like a default community (public/private)" } else { "" }
                        ),
                        "Move to SNMPv3 with authentication and privacy; until then set a long random community and read-only access."
                            .into(),
                        vec![ev(server.id)],
                    );
                } else if e.protocol != Protocol::Snmp {
                    self.add(
                        server,
                        "cleartext-credentials",
                        "high",
                        format!("Credentials cross the network in clear text to {} ({})", device_label(server), e.protocol),
                        format!(
                            "Change the exposed password; replace {} by an encrypted protocol (SSH, SFTP, HTTPS) or tunnel it.",
                            e.protocol
                        ),
                        vec![ev(server.id)],
                    );
                }
            }
            if e.record_type == "operation" && e.protocol == Protocol::Smb && e.target.as_deref() == Some("smb1") {
                self.smbv1(server, ev(server.id));
            }
            if e.record_type == "operation" && PROGRAMMING.contains(&e.kind.as_str()) {
                let engineering = client.is_some_and(|c| c.device_type == DeviceType::EngineeringWorkstation && !is_it(c.device_type));
                if !engineering {
                    let who = client.map_or_else(|| e.src_ip.map_or("an unknown host".into(), |i| i.to_string()), device_label);
                    self.add(
                        server,
                        "programming-from-non-engineering-host",
                        "high",
                        format!("{} was programmed or stopped from {who}, which is not an engineering workstation", device_label(server)),
                        "Allow program changes only from designated engineering workstations (firewall rules, controller access lists, key switch in RUN)."
                            .into(),
                        vec![ev(server.id)],
                    );
                }
            }
        }
    }

    fn facts_and_protocols(&mut self) {
        let site = self.site;
        for d in &site.devices {
            for f in &d.facts {
                let v = f.value.to_lowercase();
                if f.field == IdentityField::Description && v.starts_with("opcua security") && v.ends_with(" none") {
                    self.add(
                        d,
                        "opcua-security-none",
                        "high",
                        format!("{} offers OPC UA without security (policy or mode None)", device_label(d)),
                        "Configure the OPC UA server for SignAndEncrypt with Basic256Sha256 or newer and remove the None endpoint.".into(),
                        vec![Evidence {
                            kind: "fact".into(),
                            device_id: Some(d.id),
                            detail: format!("{}: {} (from {})", f.field, f.value, f.source),
                        }],
                    );
                }
                if f.field == IdentityField::Service && v == "smbv1" {
                    self.smbv1(
                        d,
                        Evidence {
                            kind: "fact".into(),
                            device_id: Some(d.id),
                            detail: format!("{}: {} (from {})", f.field, f.value, f.source),
                        },
                    );
                }
            }
            // Clear-text administration served: seen serving it, a server fact from the protocol, or an OT device speaking it.
            for p in CLEARTEXT_ADMIN {
                let served = d.ips.iter().any(|ip| site.served.contains(&(*ip, *p)))
                    || d.facts.iter().any(|f| f.source == p.as_str() && matches!(f.field, IdentityField::Server | IdentityField::Os));
                let ot = is_controller(d.device_type)
                    || matches!(d.device_type, DeviceType::IoAdapter | DeviceType::Hmi | DeviceType::Switch | DeviceType::Router);
                if d.protocols.contains(p) && (served || ot) {
                    let detail =
                        if served { format!("{p} server identified itself") } else { format!("{p} seen on this {}", d.device_type) };
                    self.add(
                        d,
                        "insecure-admin-interface",
                        if is_controller(d.device_type) { "high" } else { "medium" },
                        format!("{} offers clear-text administration ({p})", device_label(d)),
                        "Disable Telnet, FTP and plain HTTP; use SSH, SFTP or HTTPS, reachable only from the management network.".into(),
                        vec![Evidence { kind: "protocol".into(), device_id: Some(d.id), detail }],
                    );
                }
            }
            for p in REMOTE_ACCESS {
                if d.protocols.contains(p) {
                    let control = level(d).is_some_and(|l| l <= 2);
                    self.add(
                        d,
                        "remote-access",
                        if control { "high" } else { "medium" },
                        format!("{} uses remote access ({p})", device_label(d)),
                        REMOTE_ACCESS_ACTION.into(),
                        vec![Evidence { kind: "protocol".into(), device_id: Some(d.id), detail: format!("{p} seen") }],
                    );
                }
            }
        }
    }

    /// A device of levels 0–2 that reached the internet.
    fn internet(&mut self, d: &Device, detail: String) {
        self.add(
            d,
            "internet-from-control-levels",
            "critical",
            format!("{} (Purdue level {}) talks to the internet", device_label(d), level(d).unwrap_or(0)),
            "Block internet access from levels 0–2 at the firewall; route updates through a DMZ relay.".into(),
            vec![Evidence { kind: "connection".into(), device_id: Some(d.id), detail }],
        );
    }

    /// A device that serves SMBv1.
    fn smbv1(&mut self, d: &Device, evidence: Evidence) {
        self.add(
            d,
            "smbv1",
            "high",
            format!("{} serves SMBv1", device_label(d)),
            "Disable SMBv1 on the server and its clients (it is what WannaCry-like worms spread through).".into(),
            vec![evidence],
        );
    }

    fn connections(&mut self) {
        let site = self.site;
        for d in site.devices.iter().filter(|d| level(d).is_some_and(|l| l <= 2)) {
            for ip in d.ips.iter().filter(|ip| site.internet_hosts.contains(ip)) {
                self.internet(d, format!("{ip} reached the internet (baseline)"));
            }
        }
        for c in &site.connections {
            let client = site.device_of(c.client);
            let server = site.device_of(c.server);
            let proto = c.protocol.map_or_else(|| "?".to_string(), |p| p.to_string());
            // Internet access from levels 0–2.
            for (local, remote) in [(client, c.server), (server, c.client)] {
                if let Some(d) = local.filter(|d| level(d).is_some_and(|l| l <= 2)) {
                    // A public address that is a device of the site (claimed on the segment) is not the internet.
                    if is_public(remote) && site.device_of(remote).is_none() {
                        self.internet(d, format!("{} → {} over {proto} ({})", c.client, c.server, c.seen_in));
                    }
                }
            }
            // IT and control devices talking directly.
            if let (Some(a), Some(b)) = (client, server) {
                let (la, lb) = (level(a), level(b));
                if let (Some(la), Some(lb)) = (la, lb) {
                    let (it, ot) = if la >= 3 && lb <= 1 {
                        (a, b)
                    } else if lb >= 3 && la <= 1 {
                        (b, a)
                    } else {
                        continue;
                    };
                    self.add(
                        ot,
                        "flat-network",
                        "high",
                        format!("{} talks directly with enterprise host {}", device_label(ot), device_label(it)),
                        "Separate IT and OT: put a firewall (and a DMZ for shared services) between levels 3–5 and 0–2, and allow only named flows."
                            .into(),
                        vec![Evidence {
                            kind: "connection".into(),
                            device_id: Some(ot.id),
                            detail: format!("{} (level {}) → {} (level {}) over {proto}", c.client, la, c.server, lb),
                        }],
                    );
                }
            }
        }
    }
}

/// Builds the recommendations of a site.
pub fn recommend(site: &SiteData) -> Recommendations {
    let mut b = Builder { site, devices: BTreeMap::new() };
    b.vulnerabilities();
    b.events();
    b.facts_and_protocols();
    b.connections();
    let mut devices = b.devices;
    for list in devices.values_mut() {
        for r in list.iter_mut() {
            r.evidence.sort();
            r.evidence.dedup();
            bound(&mut r.evidence, MAX_DEVICE_EVIDENCE);
        }
        list.sort_by(|a, b| priority_rank(&a.priority).cmp(&priority_rank(&b.priority)).then(a.kind.cmp(&b.kind)));
    }
    // Site-wide: one recommendation per kind, over every device it concerns.
    let mut by_kind: BTreeMap<String, Recommendation> = BTreeMap::new();
    for (id, list) in &devices {
        for r in list {
            let entry = by_kind.entry(r.kind.clone()).or_insert_with(|| Recommendation {
                kind: r.kind.clone(),
                priority: r.priority.clone(),
                title: String::new(),
                action: r.action.clone(),
                device_ids: Vec::new(),
                evidence: Vec::new(),
            });
            entry.device_ids.push(*id);
            entry.evidence.extend(r.evidence.iter().cloned());
            if priority_rank(&r.priority) < priority_rank(&entry.priority) {
                entry.priority = r.priority.clone();
            }
        }
    }
    let mut site_list: Vec<Recommendation> = by_kind
        .into_values()
        .map(|mut r| {
            r.title = site_title(&r.kind, r.device_ids.len());
            bound(&mut r.evidence, MAX_SITE_EVIDENCE);
            if r.kind == "outdated-firmware" && r.device_ids.len() > 1 {
                r.action = "Update each device to the fixed firmware its advisories name (see each device's recommendation).".into();
            }
            r
        })
        .collect();
    site_list.sort_by(|a, b| {
        priority_rank(&a.priority)
            .cmp(&priority_rank(&b.priority))
            .then(b.device_ids.len().cmp(&a.device_ids.len()))
            .then(a.kind.cmp(&b.kind))
    });
    Recommendations { site: site_list, devices }
}

/// Most pieces of evidence a device's recommendation keeps.
const MAX_DEVICE_EVIDENCE: usize = 25;
/// Most pieces of evidence a site recommendation keeps.
const MAX_SITE_EVIDENCE: usize = 100;

/// Keeps the first `max` pieces of evidence and says how many more there were.
fn bound(evidence: &mut Vec<Evidence>, max: usize) {
    if evidence.len() > max {
        let more = evidence.len() - max;
        evidence.truncate(max);
        evidence.push(Evidence { kind: "more".into(), device_id: None, detail: format!("{more} more of the same kind") });
    }
}

fn site_title(kind: &str, n: usize) -> String {
    let devices = if n == 1 { "1 device".to_string() } else { format!("{n} devices") };
    match kind {
        "known-exploited" => format!("Patch or isolate {devices} with known exploited vulnerabilities"),
        "outdated-firmware" => format!("Update outdated firmware on {devices}"),
        "mitigate-vulnerabilities" => format!("Mitigate vulnerabilities without a known fix on {devices}"),
        "cleartext-credentials" => format!("Stop clear-text logins to {devices}"),
        "snmp-v1-v2c" => format!("Move {devices} from SNMP v1/v2c to SNMPv3"),
        "smbv1" => format!("Disable SMBv1 on {devices}"),
        "programming-from-non-engineering-host" => format!("Restrict programming of {devices} to engineering workstations"),
        "opcua-security-none" => format!("Secure OPC UA on {devices}"),
        "insecure-admin-interface" => format!("Disable clear-text administration on {devices}"),
        "remote-access" => format!("Control remote access on {devices}"),
        "internet-from-control-levels" => format!("Block internet access of {devices} in levels 0–2"),
        "flat-network" => format!("Segment the network: {devices} in levels 0–1 talk directly with enterprise hosts"),
        other => format!("{other} on {devices}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_access_tools_by_the_names_they_look_up() {
        assert_eq!(remote_access_tool("master7.teamviewer.com"), Some("TeamViewer"));
        assert_eq!(remote_access_tool("relay-1.AnyDesk.com."), Some("AnyDesk"));
        assert_eq!(remote_access_tool("m.talk2m.com"), Some("Ewon Talk2M"));
        assert_eq!(remote_access_tool("teamviewer.com.example.org"), None);
        assert_eq!(remote_access_tool("notteamviewer.com"), None);
        assert_eq!(remote_access_tool("www.example.com"), None);
    }
}
