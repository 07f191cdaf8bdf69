//! Policy rules and exclusions, from a small file a user writes.
//!
//! ```text
//! # Names for sets of devices: addresses, CIDR blocks, IPv4 ranges, MACs, other groups;
//! # `level N` or `level N-M` names the devices at those Purdue levels.
//! group engineering = 10.20.20.50, 10.20.20.51
//! group line2 = 10.20.20.100-10.20.20.119
//!
//! # Policy rules, checked by the policy engine after learning.
//! only engineering may program line2
//! only engineering, scada may write line2
//! deny internet from level 0-2
//! deny telnet to line2
//!
//! # Exclusions: alerts matching every condition of a line are not raised.
//! exclude category port-scan from 10.10.10.12
//! exclude device 10.20.20.99
//! exclude subnet 10.30.0.0/16
//! exclude protocol snmp category cleartext-credentials
//! exclude category program-download daily 22:00-23:30
//! exclude between 2025-01-14T10:00:00Z and 2025-01-14T12:00:00Z
//! ```
//!
//! Actions: `program` (program download, upload or delete, firmware update),
//! `write` (writes, configuration and time changes), `control` (stop, start,
//! restart, reset), `connect` (any connection), `internet` (traffic with an
//! internet address), or a protocol name (`telnet`, `modbus`...).

use crate::host::Cidr;
use palisade_model::{AlertCategory, DetectionEngine, MacAddr, OperationKind, Protocol, Timestamp};
use std::net::{IpAddr, Ipv4Addr};

/// A rules file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules line {line}: {message}")]
pub struct RulesError {
    /// Line number (from 1).
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

/// A set of devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostSet {
    /// Every device.
    Any,
    /// Addresses in a block.
    Block(Cidr),
    /// An inclusive IPv4 range.
    Range(Ipv4Addr, Ipv4Addr),
    /// One MAC address.
    Mac(MacAddr),
    /// Devices the inventory places at these Purdue levels (inclusive).
    Levels(u8, u8),
    /// Any of several sets (a group).
    Union(Vec<HostSet>),
}

/// The Purdue level of each device as the inventory classified it, for
/// `level` sets in rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Levels {
    ips: hashbrown::HashMap<IpAddr, u8>,
    macs: hashbrown::HashMap<MacAddr, u8>,
}

impl Levels {
    /// Records a device's level under its addresses.
    pub fn insert(&mut self, ips: &[IpAddr], macs: &[MacAddr], level: u8) {
        for ip in ips {
            self.ips.insert(*ip, level);
        }
        for mac in macs {
            self.macs.insert(*mac, level);
        }
    }

    /// The level of the device with this IP or MAC, if known.
    pub fn of(&self, ip: Option<IpAddr>, mac: Option<MacAddr>) -> Option<u8> {
        ip.and_then(|i| self.ips.get(&i)).or_else(|| mac.and_then(|m| self.macs.get(&m))).copied()
    }
}

impl HostSet {
    /// True if a device with this IP or MAC is in the set.
    pub fn contains(&self, ip: Option<IpAddr>, mac: Option<MacAddr>, levels: &Levels) -> bool {
        match self {
            HostSet::Any => true,
            HostSet::Block(c) => ip.is_some_and(|ip| c.contains(ip)),
            HostSet::Range(lo, hi) => matches!(ip, Some(IpAddr::V4(v4)) if (*lo..=*hi).contains(&v4)),
            HostSet::Mac(m) => mac == Some(*m),
            HostSet::Levels(lo, hi) => levels.of(ip, mac).is_some_and(|l| (*lo..=*hi).contains(&l)),
            HostSet::Union(sets) => sets.iter().any(|s| s.contains(ip, mac, levels)),
        }
    }
}

/// What a policy rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Program download, upload or delete, firmware update.
    Program,
    /// Writes, configuration and time changes.
    Write,
    /// Controller stop and start, restarts and resets.
    Control,
    /// Any connection.
    Connect,
    /// Traffic with an internet address.
    Internet,
    /// Use of a protocol.
    Protocol(Protocol),
}

impl Action {
    fn parse(word: &str) -> Option<Action> {
        Some(match word {
            "program" => Action::Program,
            "write" => Action::Write,
            "control" => Action::Control,
            "connect" => Action::Connect,
            "internet" => Action::Internet,
            other => Action::Protocol(Protocol::from_name(other)?),
        })
    }

    /// True if an operation of `kind` is this action (protocol use is judged
    /// on conversations, not on each operation).
    pub fn covers_operation(self, kind: OperationKind) -> bool {
        use OperationKind::*;
        match self {
            Action::Program => matches!(kind, ProgramDownload | ProgramUpload | ProgramDelete | FirmwareUpdate),
            Action::Write => matches!(kind, Write | ConfigurationChange | TimeSet),
            Action::Control => matches!(kind, ControllerStop | ControllerStart | ColdRestart | WarmRestart | DeviceReset),
            Action::Connect | Action::Internet | Action::Protocol(_) => false,
        }
    }
}

/// A policy rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    /// Line in the file (names the rule in alerts).
    pub line: usize,
    /// The rule as written.
    pub text: String,
    /// `only SRC may ACTION DST` (true) or `deny ACTION from SRC to DST` (false).
    pub only: bool,
    /// The action.
    pub action: Action,
    /// Sources it names.
    pub sources: HostSet,
    /// Destinations it names.
    pub destinations: HostSet,
}

impl PolicyRule {
    /// True if the rule forbids `action`-like traffic from `src` to `dst`.
    pub fn forbids(&self, src: (Option<IpAddr>, Option<MacAddr>), dst: (Option<IpAddr>, Option<MacAddr>), levels: &Levels) -> bool {
        let to_target = self.destinations.contains(dst.0, dst.1, levels);
        let from_source = self.sources.contains(src.0, src.1, levels);
        if self.only {
            to_target && !from_source
        } else {
            to_target && from_source
        }
    }
}

/// One condition of an exclusion.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Condition {
    Category(Vec<AlertCategory>),
    Engine(DetectionEngine),
    Protocol(Protocol),
    Device(HostSet),
    From(HostSet),
    To(HostSet),
    Between(Timestamp, Timestamp),
    /// Minutes of the day (UTC), end exclusive; may wrap past midnight.
    Daily(u32, u32),
}

/// An exclusion: alerts matching all of its conditions are not raised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    /// Line in the file.
    pub line: usize,
    conditions: Vec<Condition>,
}

/// What an exclusion is checked against.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    /// Category.
    pub category: AlertCategory,
    /// Engine.
    pub engine: DetectionEngine,
    /// Protocol.
    pub protocol: Option<Protocol>,
    /// Source.
    pub src: (Option<IpAddr>, Option<MacAddr>),
    /// Destination.
    pub dst: (Option<IpAddr>, Option<MacAddr>),
    /// When.
    pub ts: Timestamp,
}

impl Exclusion {
    /// True if the exclusion covers the alert subject.
    pub fn matches(&self, s: &Subject, levels: &Levels) -> bool {
        self.conditions.iter().all(|c| match c {
            Condition::Category(cats) => cats.contains(&s.category),
            Condition::Engine(e) => *e == s.engine,
            Condition::Protocol(p) => s.protocol == Some(*p),
            Condition::Device(set) => set.contains(s.src.0, s.src.1, levels) || set.contains(s.dst.0, s.dst.1, levels),
            Condition::From(set) => set.contains(s.src.0, s.src.1, levels),
            Condition::To(set) => set.contains(s.dst.0, s.dst.1, levels),
            Condition::Between(a, b) => (*a..=*b).contains(&s.ts),
            Condition::Daily(from, to) => {
                let minute = (s.ts.secs().rem_euclid(86_400) / 60) as u32;
                if from <= to {
                    (*from..*to).contains(&minute)
                } else {
                    minute >= *from || minute < *to
                }
            }
        })
    }
}

/// A parsed rules file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Policy rules.
    pub policies: Vec<PolicyRule>,
    /// Exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Purdue levels of the devices, for `level` sets (from the inventory).
    pub levels: Levels,
}

impl Rules {
    /// True if an exclusion covers the subject.
    pub fn excluded(&self, subject: &Subject) -> bool {
        self.exclusions.iter().any(|e| e.matches(subject, &self.levels))
    }

    /// Parses a rules file.
    pub fn parse(text: &str) -> Result<Rules, RulesError> {
        let mut groups: Vec<(String, HostSet)> = Vec::new();
        let mut rules = Rules::default();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| RulesError { line, message };
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let words: Vec<&str> = content.split_whitespace().collect();
            match words.first().copied() {
                Some("group") => {
                    let (name, items) = content
                        .strip_prefix("group")
                        .and_then(|rest| rest.split_once('='))
                        .ok_or_else(|| err("expected `group NAME = ADDRESS, ADDRESS...`".into()))?;
                    let name = name.trim();
                    if name.is_empty() || name.contains(char::is_whitespace) {
                        return Err(err(format!("group name {name:?} must be one word")));
                    }
                    let set = host_list(items, &groups).map_err(err)?;
                    groups.push((name.to_string(), set));
                }
                Some("only") => {
                    // only SRC[, SRC...] may ACTION DST
                    let may = words
                        .iter()
                        .position(|w| *w == "may")
                        .ok_or_else(|| err("expected `only SOURCES may ACTION DESTINATIONS`".into()))?;
                    let sources = host_list(&words.get(1..may).unwrap_or_default().join(" "), &groups).map_err(err)?;
                    let action_word = words.get(may + 1).ok_or_else(|| err("missing action after `may`".into()))?;
                    let action = Action::parse(action_word).ok_or_else(|| err(unknown_action(action_word)))?;
                    let rest = words.get(may + 2..).unwrap_or_default();
                    if rest.is_empty() {
                        return Err(err("missing destinations after the action".into()));
                    }
                    let destinations = host_list(&rest.join(" "), &groups).map_err(err)?;
                    rules.policies.push(PolicyRule { line, text: content.to_string(), only: true, action, sources, destinations });
                }
                Some("deny") => {
                    // deny ACTION [from SRC] [to DST]
                    let action_word = words.get(1).ok_or_else(|| err("expected `deny ACTION [from SOURCES] [to DESTINATIONS]`".into()))?;
                    let action = Action::parse(action_word).ok_or_else(|| err(unknown_action(action_word)))?;
                    let (mut sources, mut destinations) = (HostSet::Any, HostSet::Any);
                    let mut at = 2;
                    while let Some(word) = words.get(at) {
                        let end = words.iter().skip(at + 1).position(|w| *w == "from" || *w == "to").map_or(words.len(), |p| p + at + 1);
                        let list = words.get(at + 1..end).unwrap_or_default().join(" ");
                        match *word {
                            "from" => sources = host_list(&list, &groups).map_err(err)?,
                            "to" => destinations = host_list(&list, &groups).map_err(err)?,
                            other => return Err(err(format!("expected `from` or `to`, found {other:?}"))),
                        }
                        at = end;
                    }
                    rules.policies.push(PolicyRule { line, text: content.to_string(), only: false, action, sources, destinations });
                }
                Some("exclude") => {
                    let conditions = exclusion(words.get(1..).unwrap_or_default(), &groups).map_err(err)?;
                    if conditions.is_empty() {
                        return Err(err("an exclusion needs at least one condition".into()));
                    }
                    rules.exclusions.push(Exclusion { line, conditions });
                }
                Some(other) => return Err(err(format!("unknown statement {other:?}; expected group, only, deny or exclude"))),
                None => {}
            }
        }
        Ok(rules)
    }
}

fn unknown_action(word: &str) -> String {
    format!("unknown action {word:?}; expected program, write, control, connect, internet or a protocol name")
}

/// Parses a comma- or space-separated list of addresses, group names and
/// `level N` or `level N-M` (Purdue levels).
fn host_list(text: &str, groups: &[(String, HostSet)]) -> Result<HostSet, String> {
    let mut sets = Vec::new();
    let mut words = text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty());
    while let Some(word) = words.next() {
        if word == "level" || word == "levels" {
            let span = words.next().ok_or("`level` needs a level or a range like 0-2")?;
            let bad = || format!("{span:?} is not a Purdue level or a range like 0-2");
            let (lo, hi) = span.split_once('-').unwrap_or((span, span));
            let (lo, hi): (u8, u8) = (lo.parse().map_err(|_| bad())?, hi.parse().map_err(|_| bad())?);
            sets.push(HostSet::Levels(lo.min(hi), lo.max(hi)));
            continue;
        }
        sets.push(host_set(word, groups)?);
    }
    match sets.len() {
        0 => Err("expected at least one address or group".into()),
        1 => Ok(sets.pop().unwrap_or(HostSet::Any)),
        _ => Ok(HostSet::Union(sets)),
    }
}

fn host_set(word: &str, groups: &[(String, HostSet)]) -> Result<HostSet, String> {
    if word == "any" {
        return Ok(HostSet::Any);
    }
    if let Some((_, set)) = groups.iter().rev().find(|(name, _)| name == word) {
        return Ok(set.clone());
    }
    if let Some(c) = Cidr::parse(word) {
        return Ok(HostSet::Block(c));
    }
    if let Some(mac) = MacAddr::parse(word) {
        return Ok(HostSet::Mac(mac));
    }
    if let Some((a, b)) = word.split_once('-') {
        if let (Ok(lo), Ok(hi)) = (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
            return Ok(HostSet::Range(lo, hi));
        }
    }
    Err(format!("{word:?} is not an address, a CIDR block, an IPv4 range, a MAC or a group defined above"))
}

fn exclusion(words: &[&str], groups: &[(String, HostSet)]) -> Result<Vec<Condition>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    let arg = |i: usize| words.get(i).copied().ok_or_else(|| format!("`{}` needs a value", words.get(i - 1).copied().unwrap_or("")));
    while let Some(word) = words.get(at) {
        match *word {
            "category" => {
                let mut cats = Vec::new();
                for name in arg(at + 1)?.split(',').filter(|n| !n.is_empty()) {
                    cats.push(AlertCategory::from_name(name).ok_or_else(|| format!("unknown category {name:?}"))?);
                }
                out.push(Condition::Category(cats));
                at += 2;
            }
            "engine" => {
                let name = arg(at + 1)?;
                out.push(Condition::Engine(DetectionEngine::from_name(name).ok_or_else(|| format!("unknown engine {name:?}"))?));
                at += 2;
            }
            "protocol" => {
                let name = arg(at + 1)?;
                out.push(Condition::Protocol(Protocol::from_name(name).ok_or_else(|| format!("unknown protocol {name:?}"))?));
                at += 2;
            }
            "device" | "subnet" | "from" | "to" => {
                // One address or group, or `level N[-M]`.
                let first = arg(at + 1)?;
                let (text, used) = if first == "level" { (format!("level {}", arg(at + 2)?), 3) } else { (first.to_string(), 2) };
                let set = host_list(&text, groups)?;
                out.push(match *word {
                    "from" => Condition::From(set),
                    "to" => Condition::To(set),
                    _ => Condition::Device(set),
                });
                at += used;
            }
            "between" => {
                let a = arg(at + 1)?;
                if words.get(at + 2) != Some(&"and") {
                    return Err("expected `between TIME and TIME`".into());
                }
                let b = arg(at + 3)?;
                let parse =
                    |t: &str| Timestamp::parse_rfc3339(t).ok_or_else(|| format!("{t:?} is not an RFC 3339 time like 2025-01-14T10:00:00Z"));
                out.push(Condition::Between(parse(a)?, parse(b)?));
                at += 4;
            }
            "daily" => {
                let span = arg(at + 1)?;
                let (a, b) = span.split_once('-').ok_or_else(|| format!("{span:?}: expected HH:MM-HH:MM"))?;
                out.push(Condition::Daily(minute_of_day(a)?, minute_of_day(b)?));
                at += 2;
            }
            other => {
                return Err(format!(
                "unknown exclusion condition {other:?}; expected category, engine, protocol, device, subnet, from, to, between or daily"
            ))
            }
        }
    }
    Ok(out)
}

fn minute_of_day(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time of day HH:MM");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "
# plant rules
group engineering = 10.20.20.50, 10.20.20.51
group line2 = 10.20.20.100-10.20.20.119   # the PLCs of line 2
group level0-2 = 10.20.20.0/24
only engineering may program line2
deny internet from level0-2
deny telnet to line2
exclude category port-scan,address-scan from 10.10.10.12
exclude subnet 10.30.0.0/16
exclude protocol snmp category cleartext-credentials
exclude category program-download daily 22:00-01:30
exclude between 2025-01-14T10:00:00Z and 2025-01-14T12:00:00Z
";

    fn ip(t: &str) -> Option<IpAddr> {
        Some(t.parse().unwrap())
    }

    #[test]
    fn example_parses_and_matches() {
        let rules = Rules::parse(EXAMPLE).unwrap();
        assert_eq!(rules.policies.len(), 3);
        assert_eq!(rules.exclusions.len(), 5);
        let only = &rules.policies[0];
        let levels = &rules.levels;
        assert_eq!(only.action, Action::Program);
        assert!(only.forbids((ip("10.20.20.60"), None), (ip("10.20.20.110"), None), levels));
        assert!(!only.forbids((ip("10.20.20.50"), None), (ip("10.20.20.110"), None), levels));
        assert!(!only.forbids((ip("10.20.20.60"), None), (ip("10.20.20.130"), None), levels));
        let internet = &rules.policies[1];
        assert!(internet.forbids((ip("10.20.20.5"), None), (ip("8.8.8.8"), None), levels));
        let subject = |category, src: &str, ts: &str| Subject {
            category,
            engine: DetectionEngine::Anomaly,
            protocol: None,
            src: (ip(src), None),
            dst: (None, None),
            ts: Timestamp::parse_rfc3339(ts).unwrap(),
        };
        assert!(rules.excluded(&subject(AlertCategory::PortScan, "10.10.10.12", "2025-01-15T10:00:00Z")));
        assert!(!rules.excluded(&subject(AlertCategory::PortScan, "10.10.10.13", "2025-01-15T10:00:00Z")));
        assert!(rules.excluded(&subject(AlertCategory::ProgramDownload, "10.0.0.1", "2025-01-15T00:30:00Z")));
        assert!(!rules.excluded(&subject(AlertCategory::ProgramDownload, "10.0.0.1", "2025-01-15T02:30:00Z")));
        assert!(rules.excluded(&subject(AlertCategory::NewDevice, "10.0.0.1", "2025-01-14T11:00:00Z")));
        assert!(rules.excluded(&subject(AlertCategory::NewDevice, "10.30.1.1", "2025-01-15T11:00:00Z")));
    }

    #[test]
    fn purdue_levels_come_from_the_inventory() {
        let mut rules = Rules::parse("deny internet from level 0-2\nexclude category new-device device level 4\n").unwrap();
        let deny = rules.policies[0].clone();
        let (plc, office) = (ip("10.20.20.100"), ip("10.10.10.101"));
        assert!(!deny.forbids((plc, None), (ip("8.8.8.8"), None), &rules.levels), "level not known yet");
        rules.levels.insert(&[plc.unwrap()], &[], 1);
        rules.levels.insert(&[office.unwrap()], &[], 4);
        assert!(deny.forbids((plc, None), (ip("8.8.8.8"), None), &rules.levels));
        assert!(!deny.forbids((office, None), (ip("8.8.8.8"), None), &rules.levels));
        let subject = |src| Subject {
            category: AlertCategory::NewDevice,
            engine: DetectionEngine::Policy,
            protocol: None,
            src: (src, None),
            dst: (None, None),
            ts: Timestamp(0),
        };
        assert!(rules.excluded(&subject(office)));
        assert!(!rules.excluded(&subject(plc)));
        assert!(Rules::parse("deny internet from level x\n").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let e = Rules::parse("group a = 10.0.0.1\nonly a may fly 10.0.0.2\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("fly"), "{e}");
        assert!(Rules::parse("exclude\n").is_err());
        assert!(Rules::parse("deny write to nowhere\n").unwrap_err().message.contains("nowhere"));
        assert!(Rules::parse("exclude daily 25:00-26:00\n").is_err());
        assert!(Rules::parse("frobnicate\n").is_err());
    }
}
