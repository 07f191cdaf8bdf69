//! Short-lived counters of the anomaly and malware engines: scans, bursts,
//! floods and per-minute rates. They are not stored: a burst lives within
//! one analysis.

use crate::baseline::{Baseline, BaselineKey};
use crate::evidence::Evidence;
use crate::host::HostKey;
use palisade_model::{MacAddr, Protocol, Timestamp};
use std::net::IpAddr;

/// Distinct targets remembered per scanning source.
const SCAN_MEMORY: usize = 128;
/// A map of windows is cleared when it holds this many entries.
const MAP_LIMIT: usize = 100_000;

/// What a source probed within a minute, counted as it goes (no sorting or
/// allocation per probe once the window's vectors exist).
#[derive(Clone, Debug, Default)]
pub(crate) struct ScanWindow {
    start: Timestamp,
    /// Distinct hosts probed, with how many distinct ports each.
    hosts: Vec<(IpAddr, u16)>,
    probes: Vec<(IpAddr, u16)>,
    ports: Vec<u16>,
    /// Most distinct ports probed on one host.
    most_ports: u16,
    /// Packets of the probes.
    pub evidence: Evidence,
}

/// Thresholds crossed by a probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ScanFinding {
    /// Many ports (of one host or several).
    pub ports: bool,
    /// Many addresses.
    pub addresses: bool,
    /// Distinct hosts probed in the window.
    pub hosts: usize,
    /// Distinct (host, port) probes in the window.
    pub probes: usize,
}

/// Probes within this time belong to one scan (ns).
pub(crate) const SCAN_WINDOW_NS: i64 = 60_000_000_000;
/// Distinct addresses that make an address scan.
pub(crate) const ADDRESS_SCAN_HOSTS: usize = 30;
/// Distinct ports of one host that make a port scan.
pub(crate) const PORT_SCAN_PORTS: usize = 12;
/// Distinct (host, port) probes over several hosts that make a port scan.
pub(crate) const PORT_SCAN_PROBES: usize = 40;

impl ScanWindow {
    /// Adds a probe of `port` (0: an address probe) on `host`.
    pub fn add(&mut self, ts: Timestamp, host: IpAddr, port: u16) -> ScanFinding {
        if ts.0.saturating_sub(self.start.0) > SCAN_WINDOW_NS {
            self.start = ts;
            self.hosts.clear();
            self.probes.clear();
            self.ports.clear();
            self.most_ports = 0;
            self.evidence = Evidence::default();
        }
        let before = self.finding();
        let at = match self.hosts.iter().position(|(h, _)| *h == host) {
            Some(i) => Some(i),
            None if self.hosts.len() < SCAN_MEMORY => {
                self.hosts.push((host, 0));
                Some(self.hosts.len() - 1)
            }
            None => None,
        };
        if port != 0 && self.probes.len() < SCAN_MEMORY && !self.probes.contains(&(host, port)) {
            self.probes.push((host, port));
            if !self.ports.contains(&port) {
                self.ports.push(port);
            }
            if let Some((_, n)) = at.and_then(|i| self.hosts.get_mut(i)) {
                *n = n.saturating_add(1);
                self.most_ports = self.most_ports.max(*n);
            }
        }
        let after = self.finding();
        ScanFinding { ports: after.ports && !before.ports, addresses: after.addresses && !before.addresses, ..after }
    }

    fn finding(&self) -> ScanFinding {
        ScanFinding {
            ports: usize::from(self.most_ports) >= PORT_SCAN_PORTS || (self.probes.len() >= PORT_SCAN_PROBES && self.ports.len() >= 3),
            addresses: self.hosts.len() >= ADDRESS_SCAN_HOSTS,
            hosts: self.hosts.len(),
            probes: self.probes.len(),
        }
    }
}

/// Distinct things within a time window (a burst of commands, writes...).
#[derive(Clone, Debug, Default)]
pub(crate) struct Burst {
    start: Timestamp,
    seen: Vec<u64>,
    /// Packets of the burst.
    pub evidence: Evidence,
}

impl Burst {
    /// Adds an occurrence of `item`; true when the distinct items reach
    /// `threshold` within `window_ns` (once per window).
    pub fn add(&mut self, ts: Timestamp, item: u64, window_ns: i64, threshold: usize) -> bool {
        if ts.0.saturating_sub(self.start.0) > window_ns {
            self.start = ts;
            self.seen.clear();
            self.evidence = Evidence::default();
        }
        if self.seen.len() < threshold && !self.seen.contains(&item) {
            self.seen.push(item);
            return self.seen.len() == threshold;
        }
        false
    }
}

/// Counts within a time window.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counter {
    start: Timestamp,
    count: u64,
    reported: bool,
}

impl Counter {
    /// Adds `n`; true when the count reaches `threshold` within `window_ns` (once per window).
    pub fn add(&mut self, ts: Timestamp, n: u64, window_ns: i64, threshold: u64) -> bool {
        if ts.0.saturating_sub(self.start.0) > window_ns {
            self.start = ts;
            self.count = 0;
            self.reported = false;
        }
        self.count = self.count.saturating_add(n);
        if !self.reported && self.count >= threshold {
            self.reported = true;
            return true;
        }
        false
    }
}

/// Traffic of a pair in the current minute.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rate {
    /// Minute number (capture time).
    pub minute: i64,
    /// Bytes so far this minute.
    pub bytes: u64,
    /// Packets so far this minute.
    pub packets: u64,
}

/// All short-lived counters.
#[derive(Default)]
pub(crate) struct Windows {
    pub scans: hashbrown::HashMap<HostKey, ScanWindow, ahash::RandomState>,
    pub rates: hashbrown::HashMap<(HostKey, HostKey, Protocol), Rate, ahash::RandomState>,
    pub failed_logins: hashbrown::HashMap<(HostKey, HostKey), Counter, ahash::RandomState>,
    /// Bursts by behaviour, client and (for per-server behaviours) server.
    pub bursts: hashbrown::HashMap<(&'static str, HostKey, Option<HostKey>), Burst, ahash::RandomState>,
    pub half_open: hashbrown::HashMap<(HostKey, u16), Counter, ahash::RandomState>,
    /// The MAC that last claimed each address in ARP, and when.
    pub arp: hashbrown::HashMap<IpAddr, (MacAddr, Timestamp), ahash::RandomState>,
}

impl Windows {
    /// Starts the ARP memory from the learned bindings.
    pub fn seed_arp(&mut self, baseline: &Baseline) {
        for row in baseline.rows().iter().filter(|r| r.kind == "arp" && r.learned) {
            if let Some(BaselineKey::Arp(ip, mac)) = BaselineKey::parse(&row.kind, &row.item) {
                let newer = self.arp.get(&ip).is_none_or(|(_, t)| *t < row.last_seen);
                if newer {
                    self.arp.insert(ip, (mac, row.last_seen));
                }
            }
        }
    }

    /// Clears maps that grew too large (bounded memory on hostile traffic).
    pub fn bound(&mut self) {
        if self.scans.len() > MAP_LIMIT {
            self.scans.clear();
        }
        if self.rates.len() > MAP_LIMIT {
            self.rates.clear();
        }
        if self.failed_logins.len() > MAP_LIMIT {
            self.failed_logins.clear();
        }
        if self.bursts.len() > MAP_LIMIT {
            self.bursts.clear();
        }
        if self.half_open.len() > MAP_LIMIT {
            self.half_open.clear();
        }
        if self.arp.len() > MAP_LIMIT {
            self.arp.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_cross_thresholds_once() {
        let mut w = ScanWindow::default();
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        let mut ports = 0;
        for p in 1..=20u16 {
            if w.add(Timestamp(i64::from(p)), ip(1), p).ports {
                ports += 1;
            }
        }
        assert_eq!(ports, 1);
        let mut w = ScanWindow::default();
        let crossed: Vec<bool> = (1..=40u8).map(|n| w.add(Timestamp(1), ip(n), 0).addresses).collect();
        assert_eq!(crossed.iter().filter(|c| **c).count(), 1);
        assert!(crossed[ADDRESS_SCAN_HOSTS - 1]);
    }

    #[test]
    fn bursts_and_counters() {
        let mut b = Burst::default();
        assert!(!b.add(Timestamp(0), 1, 10, 2));
        assert!(!b.add(Timestamp(1), 1, 10, 2));
        assert!(b.add(Timestamp(2), 2, 10, 2));
        assert!(!b.add(Timestamp(3), 3, 10, 2));
        assert!(!b.add(Timestamp(30), 4, 10, 2), "a new window starts");
        let mut c = Counter::default();
        assert!(!c.add(Timestamp(0), 4, 10, 5));
        assert!(c.add(Timestamp(1), 1, 10, 5));
        assert!(!c.add(Timestamp(2), 1, 10, 5));
    }
}
