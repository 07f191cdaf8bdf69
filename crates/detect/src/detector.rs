//! The detector: consumes the sensor's events on the analysis side (one
//! thread, no locks), keeps the baseline, runs the five engines and groups
//! what they report into alerts.

use crate::alert::{Alert, Draft};
use crate::baseline::{Baseline, BaselineKey, BaselineRow, Service};
use crate::evidence::Evidence;
use crate::host::HostKey;
use crate::intel::{Indicator, IntelSet};
use crate::learning::{Learning, LearningClock};
use crate::rules::{Rules, Subject};
use crate::windows::Windows;
use palisade_model::{AlertStatus, DetectionEngine, Event, EvidenceMark, MacAddr, Severity, Timestamp};
use std::net::IpAddr;

/// Most changes waiting for the learning traffic to settle; beyond it they
/// are judged at once.
const MAX_PENDING: usize = 100_000;

/// One batch of events from the sensor, with the evidence marks and the
/// packet bytes that travelled with them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Batch<'a> {
    /// Events, in the order a worker produced them.
    pub events: &'a [Event],
    /// Evidence marks, by event index.
    pub marks: &'a [EvidenceMark],
    /// Bytes of packets whose marks say [`palisade_model::PacketRef::IN_BATCH`].
    pub bytes: &'a [u8],
}

/// What detection keeps between analyses.
#[derive(Clone, Debug, Default)]
pub struct DetectionState {
    /// Learning state (`None`: a new site).
    pub learning: Option<Learning>,
    /// Baseline facts.
    pub baseline: Vec<BaselineRow>,
    /// Alerts that are not closed (repeats join them).
    pub alerts: Vec<Alert>,
    /// Threat intelligence.
    pub intel: Vec<Indicator>,
}

/// The evidence available for the event being judged.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ev<'a> {
    pub mark: Option<&'a EvidenceMark>,
    pub bytes: &'a [u8],
}

impl Ev<'_> {
    /// The evidence as an owned set (for alerts that wait).
    fn collect(&self) -> Evidence {
        let mut e = Evidence::default();
        if let Some(mark) = self.mark {
            e.add_mark(mark, self.bytes);
        }
        e
    }
}

/// A condition re-checked when a waiting change is judged.
#[derive(Clone, Debug)]
pub(crate) enum Check {
    /// The fact must (still) not be learned.
    NotLearned(BaselineKey),
    /// The fact must be learned.
    Learned(BaselineKey),
    /// The server's service must not be one that many learned clients share.
    NotShared(HostKey, Service),
    /// Fewer than three learned neighbours of the address reach the internet.
    FewInternetNeighbours(IpAddr),
    /// The address was not seen with a MAC of its own (only behind routers).
    NoOwnMac(IpAddr),
    /// Bytes and packets of a minute exceed the learned peaks of a rate fact.
    Exceeds(BaselineKey, u64, u64),
}

/// A change waiting for late learning traffic.
struct Pending {
    draft: Draft,
    evidence: Evidence,
    checks: Vec<Check>,
}

/// An alert with what this analysis collected for it.
struct Entry {
    alert: Alert,
    evidence: Evidence,
    changed: bool,
}

/// An alert raised or updated by an analysis, with its new evidence.
#[derive(Clone, Debug)]
pub struct AlertChange {
    /// The alert (id 0 if new).
    pub alert: Alert,
    /// Packets collected in this analysis.
    pub evidence: Evidence,
}

/// What an analysis changed.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// New and updated alerts.
    pub alerts: Vec<AlertChange>,
    /// Changed baseline facts.
    pub baseline: Vec<BaselineRow>,
    /// The learning state to store.
    pub learning: Learning,
}

/// The analysis-side detector.
pub struct Detector {
    pub(crate) baseline: Baseline,
    pub(crate) clock: LearningClock,
    pub(crate) rules: Rules,
    pub(crate) intel: IntelSet,
    pub(crate) windows: Windows,
    /// The latest event time seen.
    pub(crate) now: Timestamp,
    /// Local IPv4 address last seen behind each MAC (to name new devices).
    pub(crate) mac_ip: hashbrown::HashMap<MacAddr, IpAddr, ahash::RandomState>,
    /// Local addresses seen with a MAC of their own (not a router's).
    pub(crate) own_mac: hashbrown::HashSet<IpAddr, ahash::RandomState>,
    alerts: Vec<Entry>,
    by_key: hashbrown::HashMap<String, usize>,
    followed: hashbrown::HashMap<u64, usize, ahash::RandomState>,
    pending: Vec<Pending>,
    settled: bool,
}

impl Detector {
    /// A detector continuing from stored state. `learning_period` (ns)
    /// replaces the stored period when given.
    pub fn new(state: DetectionState, learning_period: Option<i64>, rules: Rules) -> Self {
        let mut learning = state.learning.unwrap_or_default();
        if let Some(p) = learning_period {
            learning.period_ns = p.max(0);
        }
        let mut baseline = Baseline::default();
        baseline.load(state.baseline);
        let mut by_key = hashbrown::HashMap::new();
        let alerts: Vec<Entry> = state
            .alerts
            .into_iter()
            .filter(|a| a.status != AlertStatus::Closed)
            .map(|alert| Entry { alert, evidence: Evidence::default(), changed: false })
            .collect();
        for (i, e) in alerts.iter().enumerate() {
            by_key.insert(e.alert.group_key.clone(), i);
        }
        let mut windows = Windows::default();
        windows.seed_arp(&baseline);
        Detector {
            baseline,
            clock: LearningClock::new(learning),
            rules,
            intel: IntelSet::new(state.intel),
            windows,
            now: Timestamp(i64::MIN),
            mac_ip: Default::default(),
            own_mac: Default::default(),
            alerts,
            by_key,
            followed: Default::default(),
            pending: Vec::new(),
            settled: false,
        }
    }

    /// Judges one batch of events.
    pub fn ingest(&mut self, batch: Batch<'_>) {
        let mut marks = batch.marks.iter().peekable();
        for (i, event) in batch.events.iter().enumerate() {
            while marks.peek().is_some_and(|m| (m.end_event as usize) <= i) {
                marks.next();
            }
            let mark = marks.peek().copied().filter(|m| m.covers(i));
            if let Some(m) = mark {
                if m.first_event as usize == i {
                    self.follow(m, batch.bytes);
                }
            }
            let ev = Ev { mark, bytes: batch.bytes };
            match event {
                Event::Contact(c) => {
                    self.tick(c.first_seen);
                    self.tick(c.last_seen);
                    self.contact(c, ev);
                }
                Event::Operation(op) => {
                    self.tick(op.ts);
                    self.operation(op, ev);
                }
                Event::Violation(v) => {
                    self.tick(v.ts);
                    self.violation(v, ev);
                }
                Event::Identity(f) => {
                    self.tick(f.ts);
                    self.identity(f, ev);
                }
            }
        }
        if !self.settled && self.now.0 >= self.clock.settled_at() {
            self.settle();
        }
    }

    fn tick(&mut self, ts: Timestamp) {
        self.clock.tick(ts);
        self.now = self.now.max(ts);
    }

    /// Adds a mark's packets to the alert following its flow.
    fn follow(&mut self, mark: &EvidenceMark, bytes: &[u8]) {
        if self.followed.is_empty() {
            return;
        }
        if let Some(&i) = self.followed.get(&mark.flow) {
            if let Some(e) = self.alerts.get_mut(i) {
                if !e.evidence.is_full() {
                    e.evidence.add_mark(mark, bytes);
                    e.changed = true;
                }
            }
        }
    }

    /// True if facts about these hosts seen at `ts` are learned.
    pub(crate) fn learning(&self, ts: Timestamp, a: Option<HostKey>, b: Option<HostKey>) -> bool {
        self.clock.learning(ts, &[a, b])
    }

    /// True once no more learning traffic can arrive late.
    pub(crate) fn is_settled(&self) -> bool {
        self.settled
    }

    /// Reports a finding with the evidence of the current event. During
    /// learning only malware and critical operational findings pass;
    /// exclusions drop what they cover; findings that depend on the
    /// baseline (`checks`) wait until the learning traffic has settled,
    /// then are re-checked.
    pub(crate) fn propose(&mut self, draft: Draft, ev: Ev<'_>, learning: bool, checks: Vec<Check>) {
        self.propose_with(draft, || ev.collect(), learning, checks);
    }

    /// Like [`Detector::propose`], with evidence gathered by the engine.
    pub(crate) fn propose_with(&mut self, draft: Draft, evidence: impl FnOnce() -> Evidence, learning: bool, checks: Vec<Check>) {
        let passes_learning = draft.engine == DetectionEngine::Malware
            || draft.engine == DetectionEngine::Operational && draft.severity == Severity::Critical;
        if learning && !passes_learning {
            return;
        }
        if !self.rules.exclusions.is_empty() {
            let subject = Subject {
                category: draft.category,
                engine: draft.engine,
                protocol: draft.protocol,
                src: (draft.src_ip, draft.src_mac),
                dst: (draft.dst_ip, draft.dst_mac),
                ts: draft.first_seen,
            };
            if self.rules.excluded(&subject) {
                return;
            }
        }
        if !checks.is_empty() && !self.settled && self.pending.len() < MAX_PENDING {
            self.pending.push(Pending { draft, evidence: evidence(), checks });
            return;
        }
        if self.checks_hold(&checks) {
            self.emit(draft, evidence());
        }
    }

    fn checks_hold(&self, checks: &[Check]) -> bool {
        checks.iter().all(|c| match c {
            Check::NotLearned(k) => !self.baseline.is_learned(k),
            Check::Learned(k) => self.baseline.is_learned(k),
            Check::NotShared(server, svc) => self.baseline.service_clients(*server, *svc) < 3,
            Check::FewInternetNeighbours(ip) => self.baseline.internet_neighbours(*ip) < 3,
            Check::NoOwnMac(ip) => !self.own_mac.contains(ip),
            Check::Exceeds(key, bytes, packets) => {
                self.baseline.get(key).is_some_and(|item| crate::anomaly::exceeds(item, *bytes, *packets).is_some())
            }
        })
    }

    /// Judges the changes that waited for the learning traffic.
    fn settle(&mut self) {
        self.settled = true;
        for p in std::mem::take(&mut self.pending) {
            if self.checks_hold(&p.checks) {
                self.emit(p.draft, p.evidence);
            }
        }
    }

    /// Raises a new alert or adds to the open one with the same group key.
    fn emit(&mut self, mut draft: Draft, evidence: Evidence) {
        let key = draft.group_key();
        if draft.src_ip.is_none() {
            draft.src_ip = draft.src_mac.and_then(|m| self.mac_ip.get(&m).copied());
        }
        let index = match self.by_key.get(&key) {
            Some(&i) if self.alerts.get(i).is_some_and(|e| e.alert.status != AlertStatus::Closed) => {
                if let Some(e) = self.alerts.get_mut(i) {
                    e.alert.absorb(&draft);
                }
                i
            }
            _ => {
                let mut alert = draft.into_alert();
                alert.group_key = key.clone();
                self.alerts.push(Entry { alert, evidence: Evidence::default(), changed: true });
                let i = self.alerts.len() - 1;
                self.by_key.insert(key, i);
                i
            }
        };
        if let Some(e) = self.alerts.get_mut(index) {
            e.changed = true;
            e.evidence.merge(&evidence);
            if !e.evidence.is_full() {
                for flow in e.evidence.flows() {
                    self.followed.entry(*flow).or_insert(index);
                }
            }
        }
    }

    /// Ends the analysis: judges what still waits and returns the changes.
    pub fn finish(mut self) -> Outcome {
        self.settle();
        let mac_ip = std::mem::take(&mut self.mac_ip);
        let alerts = self
            .alerts
            .into_iter()
            .filter(|e| e.changed)
            .map(|mut e| {
                if e.alert.src_ip.is_none() {
                    e.alert.src_ip = e.alert.src_mac.and_then(|m| mac_ip.get(&m).copied());
                }
                AlertChange { alert: e.alert, evidence: e.evidence }
            })
            .collect();
        Outcome { alerts, baseline: self.baseline.take_changes(), learning: self.clock.state().clone() }
    }

    /// Number of alerts raised or open so far (for progress and tests).
    pub fn alert_count(&self) -> usize {
        self.alerts.len()
    }
}
