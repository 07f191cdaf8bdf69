//! Risk scores (0–100) per device and per site, each made of named parts
//! that say why, and attack paths through the observed connection graph
//! from internet-facing or enterprise hosts to controllers, ranked.

use crate::advice::Recommendations;
use crate::site::{device_label, is_controller, is_it, is_public, level, SiteData};
use palisade_engine::Device;
use palisade_model::{DeviceType, IdentityField, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, BinaryHeap, HashMap};

/// One part of a score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    /// `vulnerabilities`, `exposure`, `criticality` or `alerts` (site: `devices`, `spread`, `findings`).
    pub name: String,
    /// Points given.
    pub points: f64,
    /// Most points this part can give.
    pub max: f64,
    /// Why, one line each.
    pub reasons: Vec<String>,
}

/// The risk of one device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceRisk {
    /// Device id.
    pub device_id: i64,
    /// Short label.
    pub device: String,
    /// Device type.
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    /// 0–100.
    pub score: u32,
    /// `critical` (≥ 80), `high` (≥ 60), `medium` (≥ 30) or `low`.
    pub level: String,
    /// The parts, which add up to the score.
    pub parts: Vec<ScorePart>,
}

/// The risk of the site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteRisk {
    /// Site name.
    pub site: String,
    /// 0–100.
    pub score: u32,
    /// `critical`, `high`, `medium` or `low`.
    pub level: String,
    /// The parts.
    pub parts: Vec<ScorePart>,
    /// Devices, riskiest first.
    pub devices: Vec<DeviceRisk>,
    /// Attack paths, most likely first.
    pub attack_paths: Vec<AttackPath>,
}

/// A path an attacker could take through observed connections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackPath {
    /// Rank, from 1.
    pub rank: usize,
    /// 0–100: how likely and how damaging.
    pub score: u32,
    /// Why the first hop is an entry point.
    pub entry: String,
    /// Hops in order.
    pub hops: Vec<PathHop>,
}

/// One device of an attack path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathHop {
    /// Device id.
    pub device_id: i64,
    /// Short label.
    pub device: String,
    /// Protocol used to reach it (none for the entry).
    pub via: Option<Protocol>,
    /// What makes it weak, if anything.
    pub weakness: Option<String>,
}

fn risk_level(score: u32) -> &'static str {
    match score {
        80.. => "critical",
        60..=79 => "high",
        30..=59 => "medium",
        _ => "low",
    }
}

/// Words of product names that mark safety systems.
const SAFETY_WORDS: &[&str] = &["safety", "guardlogix", "triconex", "tricon", "trident", "hima", "himax", "himatrix", "sis"];

/// The model or product fact that shows a device is a safety system
/// (a safety controller family, or a fail-safe CPU such as `CPU 315F-2 PN/DP`), if any.
pub fn safety_system(d: &Device) -> Option<String> {
    d.facts
        .iter()
        .filter(|f| matches!(f.field, IdentityField::Model | IdentityField::ProductName | IdentityField::Description))
        .find(|f| {
            let lower = f.value.to_lowercase();
            let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
            let named = words.iter().any(|w| SAFETY_WORDS.contains(w));
            // Fail-safe CPUs: a model number ending in F (315F, 1516F, 1214FC).
            let fail_safe = words.iter().any(|w| {
                let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let suffix = w.get(digits.len()..).unwrap_or("");
                digits.len() >= 3 && digits.bytes().all(|b| b.is_ascii_digit()) && (suffix == "f" || suffix == "fc")
            });
            named || (fail_safe && lower.contains("cpu"))
        })
        .map(|f| f.value.clone())
}

/// Weight of a device type: controllers and safety systems weigh most.
fn criticality(t: DeviceType) -> (f64, &'static str) {
    use DeviceType::*;
    match t {
        Plc | Rtu | Ied => (15.0, "controller: a process depends on it"),
        BuildingController => (11.0, "building controller"),
        Hmi | EngineeringWorkstation | ScadaServer => (11.0, "supervises or programs controllers"),
        IoAdapter | Historian => (8.0, "part of the control system"),
        Switch | Router | Firewall | WirelessAp => (7.0, "network infrastructure"),
        Medical => (12.0, "medical device"),
        _ => (4.0, "general-purpose device"),
    }
}

const VULN_MAX: f64 = 45.0;
const EXPOSURE_MAX: f64 = 25.0;
const CRITICALITY_MAX: f64 = 15.0;
const ALERTS_MAX: f64 = 15.0;

/// Reasons listed per part at most; the rest are counted in a last line.
const MAX_REASONS: usize = 10;

fn part(name: &str, points: f64, max: f64, mut reasons: Vec<String>) -> ScorePart {
    if reasons.len() > MAX_REASONS {
        let more = reasons.len() - (MAX_REASONS - 1);
        reasons.truncate(MAX_REASONS - 1);
        reasons.push(format!("and {more} more"));
    }
    ScorePart { name: name.into(), points: (points.min(max) * 10.0).round() / 10.0, max, reasons }
}

/// Scores one device.
pub fn device_risk(site: &SiteData, d: &Device, recs: &Recommendations) -> DeviceRisk {
    // Vulnerabilities: the worst CVSS weighted by match confidence, known
    // exploitation, and a little for each further high one.
    let vulns = site.vulns.get(&d.id).map(Vec::as_slice).unwrap_or(&[]);
    let mut reasons = Vec::new();
    let mut v = 0.0;
    if let Some(worst) = vulns.iter().max_by(|a, b| (a.score() * a.confidence).total_cmp(&(b.score() * b.confidence))) {
        v += worst.score() * worst.confidence * 2.5;
        reasons.push(format!("worst: {} CVSS {:.1} at {} confidence", worst.cve, worst.score(), worst.confidence_label));
        let kev: Vec<&str> = vulns.iter().filter(|m| m.kev.is_some()).map(|m| m.cve.as_str()).collect();
        if !kev.is_empty() {
            v += 15.0;
            let shown = kev.iter().take(MAX_REASONS).copied().collect::<Vec<_>>().join(", ");
            let more = if kev.len() > MAX_REASONS { format!(" and {} more", kev.len() - MAX_REASONS) } else { String::new() };
            reasons.push(format!("known exploited: {shown}{more}"));
        }
        let more_high = vulns.iter().filter(|m| m.score() >= 7.0).count().saturating_sub(1);
        if more_high > 0 {
            v += (more_high as f64 * 1.5).min(5.0);
            reasons.push(format!("{more_high} more high or critical"));
        }
    }
    // Exposure: the recommendations that say the device can be reached or misused.
    let mut e = 0.0;
    let mut exposure = Vec::new();
    for r in recs.devices.get(&d.id).map(Vec::as_slice).unwrap_or(&[]) {
        let points = match r.kind.as_str() {
            "internet-from-control-levels" => 15.0,
            "remote-access" => 8.0,
            "flat-network" => 6.0,
            "cleartext-credentials" => 6.0,
            "programming-from-non-engineering-host" => 6.0,
            "opcua-security-none" | "smbv1" => 5.0,
            "insecure-admin-interface" | "snmp-v1-v2c" => 4.0,
            _ => 0.0,
        };
        if points > 0.0 {
            e += points;
            exposure.push(format!("{} (+{points})", r.kind));
        }
    }
    if d.ips.iter().any(|ip| is_public(*ip)) {
        e += 10.0;
        exposure.push("public IP address (+10)".into());
    }
    let (c, why) = match safety_system(d) {
        Some(fact) => (CRITICALITY_MAX, format!("safety system ({fact})")),
        None => {
            let (c, why) = criticality(d.device_type);
            (c, why.to_string())
        }
    };
    // Open alerts about the device.
    let mut a = 0.0;
    let mut scored = Vec::new();
    for al in site.alerts_of(d) {
        let points: f64 = match al.severity.as_str() {
            "critical" => 15.0,
            "high" => 8.0,
            "medium" => 4.0,
            _ => 1.0,
        };
        a += points;
        scored.push((points, al));
    }
    // The most severe first: the list is cut after a few.
    scored.sort_by(|x, y| y.0.total_cmp(&x.0));
    let alerts = scored.iter().map(|(points, al)| format!("alert {} {} ({}, +{points})", al.id, al.category, al.severity)).collect();
    let parts = vec![
        part("vulnerabilities", v, VULN_MAX, reasons),
        part("exposure", e, EXPOSURE_MAX, exposure),
        part("criticality", c, CRITICALITY_MAX, vec![format!("{}: {why}", d.device_type)]),
        part("alerts", a, ALERTS_MAX, alerts),
    ];
    let score = parts.iter().map(|p| p.points).sum::<f64>().round().clamp(0.0, 100.0) as u32;
    DeviceRisk { device_id: d.id, device: device_label(d), device_type: d.device_type, score, level: risk_level(score).into(), parts }
}

/// Scores every device and the site, and ranks attack paths.
pub fn site_risk(site: &SiteData, recs: &Recommendations) -> SiteRisk {
    let mut devices: Vec<DeviceRisk> = site.devices.iter().map(|d| device_risk(site, d, recs)).collect();
    devices.sort_by(|a, b| b.score.cmp(&a.score).then(a.device_id.cmp(&b.device_id)));
    let attack_paths = attack_paths(site, 10);
    // The site is as weak as its weakest devices, plus how widespread the
    // weakness is and the site-wide findings.
    let max = devices.first().map_or(0, |d| d.score) as f64;
    let top: Vec<f64> = devices.iter().take(5).map(|d| d.score as f64).collect();
    let top_mean = if top.is_empty() { 0.0 } else { top.iter().sum::<f64>() / top.len() as f64 };
    let risky = devices.iter().filter(|d| d.score >= 60).count();
    let share = if devices.is_empty() { 0.0 } else { risky as f64 / devices.len() as f64 };
    let urgent = recs.site.iter().filter(|r| r.priority == "critical" || r.priority == "high").count();
    let paths = attack_paths.len();
    let parts = vec![
        part(
            "devices",
            0.4 * max + 0.2 * top_mean,
            60.0,
            vec![format!("riskiest device scores {max:.0}"), format!("mean of the {} riskiest: {top_mean:.0}", top.len())],
        ),
        part("spread", share * 20.0, 20.0, vec![format!("{risky} of {} devices score 60 or more", devices.len())]),
        part(
            "findings",
            urgent as f64 * 2.0 + (paths.min(5) as f64) * 2.0,
            20.0,
            vec![format!("{urgent} critical or high site recommendations"), format!("{paths} attack paths to controllers")],
        ),
    ];
    let score = parts.iter().map(|p| p.points).sum::<f64>().round().clamp(0.0, 100.0) as u32;
    SiteRisk { site: site.name.clone(), score, level: risk_level(score).into(), parts, devices, attack_paths }
}

/// Why a device is an entry point, if it is one.
fn entry_reason(site: &SiteData, d: &Device) -> Option<String> {
    if d.ips.iter().any(|ip| is_public(*ip)) {
        return Some("has a public address".into());
    }
    if site.talks_to_internet(d) {
        return Some("talks to the internet".into());
    }
    if d.protocols.iter().any(|p| matches!(p, Protocol::Rdp | Protocol::Vnc)) {
        return Some("reachable by remote access".into());
    }
    if is_it(d.device_type) || level(d).is_some_and(|l| l >= 3) {
        return Some(format!("enterprise host (level {})", level(d).unwrap_or(4)));
    }
    None
}

/// How easy a device is to take over from a neighbour (0–1), and why.
fn ease(site: &SiteData, d: &Device, via: Option<Protocol>) -> (f64, Option<String>) {
    let vulns = site.vulns.get(&d.id).map(Vec::as_slice).unwrap_or(&[]);
    let mut ease: f64 = 0.25;
    let mut why = Vec::new();
    if let Some(worst) = vulns.iter().max_by(|a, b| (a.score() * a.confidence).total_cmp(&(b.score() * b.confidence))) {
        ease += worst.score() / 10.0 * worst.confidence * 0.5;
        why.push(format!("{} (CVSS {:.1})", worst.cve, worst.score()));
    }
    if vulns.iter().any(|v| v.kev.is_some()) {
        ease += 0.2;
        why.push("known exploited".into());
    }
    if via.is_some_and(|p| p.is_industrial()) && is_controller(d.device_type) {
        ease += 0.2;
        why.push(format!("{} has no authentication", via.map_or("", |p| p.as_str())));
    }
    (ease.min(0.95), (!why.is_empty()).then(|| why.join("; ")))
}

/// Ranks paths from entry points to controllers: per pair the most likely
/// path (Dijkstra on −ln of each hop's ease), scored by that likelihood and
/// the target's criticality; the best `limit` are kept.
pub fn attack_paths(site: &SiteData, limit: usize) -> Vec<AttackPath> {
    let mut edges: HashMap<i64, BTreeSet<Step>> = HashMap::new();
    for c in &site.connections {
        if let (Some(a), Some(b)) = (site.device_of(c.client), site.device_of(c.server)) {
            if a.id != b.id {
                edges.entry(a.id).or_default().insert((b.id, c.protocol));
            }
        }
    }
    let devices: HashMap<i64, &Device> = site.devices.iter().map(|d| (d.id, d)).collect();
    let sources: Vec<(i64, String)> = site.devices.iter().filter_map(|d| entry_reason(site, d).map(|r| (d.id, r))).collect();
    let reasons: HashMap<i64, &str> = sources.iter().map(|(id, r)| (*id, r.as_str())).collect();
    // Few entry points: the best path from each; many: one search from all
    // of them at once, which keeps the best path to each controller.
    let groups: Vec<Vec<i64>> = if sources.len() <= MAX_SEPARATE_SOURCES {
        sources.iter().map(|(id, _)| vec![*id]).collect()
    } else {
        vec![sources.iter().map(|(id, _)| *id).collect()]
    };
    let mut ease_of: HashMap<Step, f64> = HashMap::new();
    let mut found: Vec<(f64, Vec<Step>, String)> = Vec::new();
    for group in groups {
        // Dijkstra; cost is −ln(ease) summed over the hops.
        let mut best: HashMap<i64, (f64, Option<Step>)> = HashMap::new();
        let mut heap = BinaryHeap::new();
        for id in &group {
            best.insert(*id, (0.0, None));
            heap.push(Cost(0.0, *id));
        }
        while let Some(Cost(cost, at)) = heap.pop() {
            if best.get(&at).is_some_and(|(c, _)| *c < cost) {
                continue;
            }
            for (next, via) in edges.get(&at).into_iter().flatten() {
                let Some(dev) = devices.get(next) else { continue };
                let e = *ease_of.entry((*next, *via)).or_insert_with(|| ease(site, dev, *via).0);
                let c = cost - e.ln();
                if best.get(next).is_none_or(|(old, _)| c < *old) {
                    best.insert(*next, (c, Some((at, *via))));
                    heap.push(Cost(c, *next));
                }
            }
        }
        for (target, (cost, prev)) in &best {
            let Some(dev) = devices.get(target) else { continue };
            if prev.is_none() || !(is_controller(dev.device_type) || safety_system(dev).is_some()) {
                continue;
            }
            let mut hops = vec![(*target, None)];
            let mut at = *target;
            while let Some((_, Some((prev, via)))) = best.get(&at) {
                if let Some(last) = hops.last_mut() {
                    last.1 = *via;
                }
                hops.push((*prev, None));
                at = *prev;
                if hops.len() > devices.len() {
                    break; // cannot happen with positive costs; never loop
                }
            }
            hops.reverse();
            let origin = hops.first().map_or(0, |h| h.0);
            let likelihood = (-cost).exp();
            let (crit, _) = criticality(dev.device_type);
            found.push((likelihood * crit / CRITICALITY_MAX, hops, reasons.get(&origin).copied().unwrap_or_default().to_string()));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.len().cmp(&b.1.len())).then(a.1.cmp(&b.1)));
    found
        .into_iter()
        .take(limit)
        .enumerate()
        .map(|(i, (score, hops, entry))| AttackPath {
            rank: i + 1,
            score: (score * 100.0).round().clamp(0.0, 100.0) as u32,
            entry,
            hops: hops
                .iter()
                .map(|(id, via)| {
                    let d = devices.get(id);
                    PathHop {
                        device_id: *id,
                        device: d.map_or_else(|| format!("#{id}"), |d| device_label(d)),
                        via: *via,
                        weakness: d.and_then(|d| ease(site, d, *via).1).filter(|_| via.is_some()),
                    }
                })
                .collect(),
        })
        .collect()
}

/// Up to this many entry points are searched one by one.
const MAX_SEPARATE_SOURCES: usize = 200;

/// A device reached, with the protocol used to reach it.
type Step = (i64, Option<Protocol>);

/// A heap entry ordered by lowest cost first.
#[derive(PartialEq)]
struct Cost(f64, i64);

impl Eq for Cost {}

impl PartialOrd for Cost {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cost {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reason_lists_are_cut_and_counted() {
        let reasons: Vec<String> = (0..25).map(|i| format!("alert {i}")).collect();
        let p = part("alerts", 30.0, ALERTS_MAX, reasons);
        assert_eq!(p.reasons.len(), MAX_REASONS);
        assert_eq!(p.reasons.first().map(String::as_str), Some("alert 0"));
        assert_eq!(p.reasons.last().map(String::as_str), Some("and 16 more"));
        assert_eq!(part("alerts", 1.0, ALERTS_MAX, vec!["one".into()]).reasons, vec!["one".to_string()]);
    }

    fn with_model(model: &str) -> Device {
        let fact = palisade_engine::SourcedFact {
            field: IdentityField::Model,
            value: model.into(),
            source: "s7comm".into(),
            first_seen: palisade_model::Timestamp(0),
            last_seen: palisade_model::Timestamp(0),
        };
        let mut d: Device = serde_json::from_value(serde_json::json!({
            "id": 1, "macs": [], "ips": [], "hostnames": [], "vendor": null, "model": model, "firmware": null, "serial": null, "os": null,
            "type": "plc", "purdue_level": 1, "protocols": [], "first_seen": "2020-01-01T00:00:00Z", "last_seen": "2020-01-01T00:00:00Z",
            "billable": true, "behind_router": false, "classification_reasons": [], "facts": []
        }))
        .expect("device");
        d.facts.push(fact);
        d
    }

    #[test]
    fn safety_systems_are_recognised() {
        for yes in ["CPU 315F-2 PN/DP", "CPU 1516F-3 PN/DP", "1756-L73S GuardLogix", "Triconex Tricon v11", "HIMax X-CPU 01"] {
            assert!(safety_system(&with_model(yes)).is_some(), "{yes}");
        }
        for no in ["CPU 315-2 PN/DP", "1756-L61/B LOGIX5561", "cisco WS-CE500-24TT", "SYSC MLX"] {
            assert!(safety_system(&with_model(no)).is_none(), "{no}");
        }
    }
}
