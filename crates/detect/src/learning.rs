//! Learning mode: when the baseline absorbs what it sees.
//!
//! A site learns from the first packet it ever saw for its learning period
//! (capture time). An analyst can switch learning on again later for the
//! whole site or one device: that is a window starting at the last capture
//! time seen so far.

use crate::host::HostKey;
use palisade_model::Timestamp;
use serde::{Deserialize, Serialize};

/// Nanoseconds per second.
pub const SEC: i64 = 1_000_000_000;
/// The default learning period: 14 days of capture time.
pub const DEFAULT_LEARNING_PERIOD: i64 = 14 * 86_400 * SEC;
/// Flows that began during learning report by then at the latest (the flow
/// table's report interval plus its sweep, with a margin for workers that
/// run ahead of each other): until then a change may still turn out to be
/// part of the learning traffic, so its alert waits.
pub const SETTLE_NS: i64 = 400 * SEC;

/// A period of (re-)learning, for the site or one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningWindow {
    /// The device (IP or MAC), or `None` for the whole site.
    pub host: Option<String>,
    /// Start (capture time).
    pub from: Timestamp,
    /// End (capture time).
    pub until: Timestamp,
}

/// The learning state of a site, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learning {
    /// The first packet the site ever saw.
    pub site_start: Option<Timestamp>,
    /// Length of the initial learning period (ns); 0 disables learning.
    pub period_ns: i64,
    /// The latest capture time analysed.
    pub last_seen: Option<Timestamp>,
    /// Learning switched on again later.
    pub windows: Vec<LearningWindow>,
}

impl Default for Learning {
    fn default() -> Self {
        Learning { site_start: None, period_ns: DEFAULT_LEARNING_PERIOD, last_seen: None, windows: Vec::new() }
    }
}

/// A learning window with its device parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    host: Option<HostKey>,
    from: i64,
    until: i64,
}

/// Learning decisions for the detector.
#[derive(Clone, Debug)]
pub struct LearningClock {
    state: Learning,
    windows: Vec<Window>,
    /// End of the initial learning period, once the site start is known.
    site_end: Option<i64>,
}

impl LearningClock {
    /// Decisions from a stored state.
    pub fn new(state: Learning) -> Self {
        let windows = state
            .windows
            .iter()
            .map(|w| Window { host: w.host.as_deref().and_then(HostKey::parse), from: w.from.0, until: w.until.0 })
            .collect();
        let site_end = state.site_start.map(|s| s.0.saturating_add(state.period_ns));
        LearningClock { state, windows, site_end }
    }

    /// Notes the capture time of an event (the first one fixes the site's start).
    pub fn tick(&mut self, ts: Timestamp) {
        match self.state.site_start {
            Some(start) if start <= ts => {}
            _ => {
                self.state.site_start = Some(ts);
                self.site_end = Some(ts.0.saturating_add(self.state.period_ns));
            }
        }
        if self.state.last_seen.is_none_or(|l| l < ts) {
            self.state.last_seen = Some(ts);
        }
    }

    /// True if facts about `hosts` seen at `ts` are learned.
    pub fn learning(&self, ts: Timestamp, hosts: &[Option<HostKey>]) -> bool {
        if self.site_end.is_none_or(|end| ts.0 < end) {
            return true;
        }
        self.windows.iter().any(|w| (w.from..w.until).contains(&ts.0) && (w.host.is_none() || hosts.contains(&w.host)))
    }

    /// True once a baseline was learned over a non-zero period: changes
    /// against it can be judged. With learning disabled (period 0) there is
    /// no baseline, and only the engines that need none raise alerts.
    pub fn has_baseline(&self) -> bool {
        self.state.period_ns > 0 || !self.windows.is_empty()
    }

    /// The time after which no more traffic of a learning period can arrive
    /// late: changes seen before it wait until then to be judged.
    pub fn settled_at(&self) -> i64 {
        let site = self.site_end.unwrap_or(i64::MAX);
        let windows = self.windows.iter().map(|w| w.until).max().unwrap_or(i64::MIN);
        site.max(windows).saturating_add(SETTLE_NS)
    }

    /// The state to store.
    pub fn state(&self) -> &Learning {
        &self.state
    }
}

/// Parses a duration such as `0`, `90s`, `15m`, `2h`, `14d` or `2w`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(0);
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("{text:?} is not a duration (examples: 0, 30m, 2h, 14d)"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; use s, m, h, d or w (examples: 0, 30m, 2h, 14d)")),
    };
    n.checked_mul(unit_secs).and_then(|s| s.checked_mul(SEC)).ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("2h"), Ok(7200 * SEC));
        assert_eq!(parse_duration("14d"), Ok(DEFAULT_LEARNING_PERIOD));
        assert!(parse_duration("2x").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn site_and_device_windows() {
        let state = Learning { period_ns: 10 * SEC, ..Default::default() };
        let mut clock = LearningClock::new(state);
        let t = |s: i64| Timestamp(1_000 * SEC + s * SEC);
        clock.tick(t(0));
        assert!(clock.learning(t(5), &[]));
        assert!(!clock.learning(t(10), &[]));
        let mut state = clock.state().clone();
        state.windows.push(LearningWindow { host: Some("10.0.0.5".into()), from: t(20), until: t(30) });
        let clock = LearningClock::new(state);
        let h = HostKey::parse("10.0.0.5");
        assert!(clock.learning(t(25), &[h, None]));
        assert!(!clock.learning(t(25), &[HostKey::parse("10.0.0.6"), None]));
        assert_eq!(clock.settled_at(), t(30).0 + SETTLE_NS);
        let off = LearningClock::new(Learning { period_ns: 0, ..Default::default() });
        assert!(!off.has_baseline());
    }
}
