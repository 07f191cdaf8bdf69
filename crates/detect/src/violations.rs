//! The protocol engine: malformed or illegal packets the dissectors report,
//! reserved function codes, length and checksum errors, and protocols on
//! non-standard ports.

use crate::baseline::BaselineKey;
use crate::detector::{Check, Detector, Ev};
use crate::dispatch::{draft, who};
use crate::host::HostKey;
use palisade_model::{AlertCategory, Violation, ViolationKind};

impl Detector {
    /// Raises an alert for a protocol violation the baseline does not know
    /// between these hosts (any violation when learning is disabled).
    pub(crate) fn protocol_violation(&mut self, v: &Violation, ck: Option<HostKey>, sk: Option<HostKey>, learning: bool, ev: Ev<'_>) {
        let key = match (ck, sk) {
            (Some(c), Some(s)) => Some(BaselineKey::Violation(c, s, v.protocol, v.kind)),
            _ => None,
        };
        if let Some(k) = &key {
            self.baseline.observe(k.clone(), v.ts, learning);
        }
        if learning {
            return;
        }
        let category = match v.kind {
            ViolationKind::IllegalFunction | ViolationKind::ReservedValue => AlertCategory::IllegalFunctionCode,
            _ => AlertCategory::ProtocolViolation,
        };
        let p = v.protocol;
        let title = match v.kind {
            ViolationKind::Malformed => format!("Malformed {p} traffic"),
            ViolationKind::IllegalFunction => format!("Illegal {p} function code"),
            ViolationKind::ReservedValue => format!("Reserved {p} value"),
            ViolationKind::LengthMismatch => format!("{p} length mismatch"),
            ViolationKind::ChecksumError => format!("{p} checksum error"),
            ViolationKind::UnexpectedResponse => format!("Unexpected {p} response"),
            ViolationKind::NonStandardPort => format!("{p} on a non-standard port"),
        };
        let (src, dst) = (who(&v.client), who(&v.server));
        let description = format!("{src} sent {dst} {p} traffic that breaks the protocol: {}.", v.detail);
        let mut d = draft(category, v.ts, &v.client, &v.server, Some(p), format!("{title} from {src} to {dst}"), description);
        d.detail = v.kind.as_str().into();
        let mut checks = Vec::new();
        if let Some(k) = key {
            d.baseline_items = vec![k.text()];
            if self.clock.has_baseline() {
                checks.push(Check::NotLearned(k));
            }
        }
        self.propose(d, ev, learning, checks);
    }
}
