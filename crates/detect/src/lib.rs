//! Detection: learn what normal is for a site, then turn every deviation,
//! violation, attack or risky operation into an alert an analyst can trust.
//!
//! [`Detector`] consumes the same events as the inventory, on the analysis
//! side (one thread, a few hash lookups per event). It keeps a
//! [`Baseline`] (devices; who talks to whom over which service; per
//! industrial pair the operations, function codes and objects; traffic
//! rates; hosts reaching the internet; remote access), learns during the
//! learning period, and runs five engines:
//!
//! - `policy`: new devices, connections, protocols and function codes,
//!   internet access and remote access, and the user's [`Rules`];
//! - `protocol`: violations the dissectors report;
//! - `anomaly`: scans, ARP spoofing, floods, traffic spikes, failed logins;
//! - `malware`: threat intelligence ([`IntelSet`]) and ICS malware behaviours;
//! - `operational`: stops, programming, firmware, restarts, configuration
//!   changes and cleartext credentials.
//!
//! Repeats of an alert (same category, hosts, protocol and detail) are
//! grouped. Each alert collects the packets around it ([`Evidence`]),
//! written as a pcap after analysis by [`EvidenceWriter`].

mod alert;
mod anomaly;
mod baseline;
mod detector;
mod dispatch;
mod evidence;
mod host;
mod intel;
mod learning;
mod malware;
mod operational;
mod policy;
mod rules;
mod violations;
mod windows;

pub use alert::{default_engine, default_severity, remediation, Alert, Draft};
pub use baseline::{diff, Baseline, BaselineDiff, BaselineKey, BaselineRow, Item, ScanKind, Service};
pub use detector::{AlertChange, Batch, DetectionState, Detector, Outcome};
pub use dispatch::detection_only;
pub use evidence::{Evidence, EvidenceWriter, MAX_EVIDENCE_PACKETS};
pub use host::{Cidr, HostKey};
pub use intel::{parse_intel, Indicator, IndicatorKind, IntelError, IntelSet};
pub use learning::{parse_duration, Learning, LearningWindow, DEFAULT_LEARNING_PERIOD};
pub use rules::{Levels, Rules, RulesError};
