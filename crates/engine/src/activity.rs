//! What happened on the wire: operations and protocol violations, as the
//! flat records that `palisade events` lists.

use palisade_model::{Event, MacAddr, OperationKind, OperationResult, Protocol, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One operation or violation, flattened for storage and listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Stored id (0 until stored).
    pub id: i64,
    /// Capture time.
    pub time: Timestamp,
    /// `operation` or `violation`.
    #[serde(rename = "type")]
    pub record_type: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Who asked (operation) or sent the offending packet (violation).
    pub src_ip: Option<IpAddr>,
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Who was asked, or received the packet.
    pub dst_ip: Option<IpAddr>,
    /// Destination MAC.
    pub dst_mac: Option<MacAddr>,
    /// Operation kind, or violation kind.
    pub kind: String,
    /// The protocol's function or service code (operations).
    pub code: Option<u32>,
    /// Object or address range (operations).
    pub target: Option<String>,
    /// `success`, `error <code>` or `unknown` (operations).
    pub result: Option<String>,
    /// Plain-words detail (violations).
    pub detail: Option<String>,
    /// How many identical events this record stands for.
    pub count: u32,
    /// Capture time of the last of them (records stored before folding have none).
    #[serde(default)]
    pub last_time: Option<Timestamp>,
}

/// Operations and violations collected during an analysis. Identical ones
/// (same endpoints, protocol, kind, code, target, result or detail) fold
/// into one record with a count and the first and last times, except failed
/// logins: each stays visible, as password guessing is their repetition.
#[derive(Clone, Debug, Default)]
pub struct ActivityLog {
    /// The records, in arrival order.
    pub records: Vec<EventRecord>,
    /// Record index by the hash of what makes records identical.
    folds: hashbrown::HashMap<u64, usize, ahash::RandomState>,
}

/// What an event is, as far as folding goes; borrowed from the event.
#[derive(Hash)]
struct FoldKey<'a> {
    violation: bool,
    protocol: Protocol,
    src: (Option<IpAddr>, Option<MacAddr>),
    dst: (Option<IpAddr>, Option<MacAddr>),
    kind: &'a str,
    code: Option<u32>,
    target: Option<&'a str>,
    result: Option<OperationResult>,
    detail: Option<&'a str>,
}

impl FoldKey<'_> {
    fn of(event: &Event) -> Option<FoldKey<'_>> {
        Some(match event {
            Event::Operation(op) => FoldKey {
                violation: false,
                protocol: op.protocol,
                src: (op.client.ip, op.client.mac),
                dst: (op.server.ip, op.server.mac),
                kind: op.kind.as_str(),
                code: Some(op.code),
                target: op.target.as_deref(),
                result: Some(op.result),
                detail: None,
            },
            Event::Violation(v) => FoldKey {
                violation: true,
                protocol: v.protocol,
                src: (v.client.ip, v.client.mac),
                dst: (v.server.ip, v.server.mac),
                kind: v.kind.as_str(),
                code: None,
                target: None,
                result: None,
                detail: Some(&v.detail),
            },
            Event::Identity(_) | Event::Contact(_) => return None,
        })
    }

    /// The record of `count` events like this one, the first at `ts`.
    fn record(&self, ts: Timestamp, count: u32) -> EventRecord {
        EventRecord {
            id: 0,
            time: ts,
            record_type: if self.violation { "violation" } else { "operation" }.into(),
            protocol: self.protocol,
            src_ip: self.src.0,
            src_mac: self.src.1,
            dst_ip: self.dst.0,
            dst_mac: self.dst.1,
            kind: self.kind.into(),
            code: self.code,
            target: self.target.map(Into::into),
            result: self.result.map(result_text),
            detail: self.detail.map(Into::into),
            count,
            last_time: Some(ts),
        }
    }

    /// True if `record` is what this key describes (hashes can collide).
    fn matches(&self, record: &EventRecord) -> bool {
        record.record_type == if self.violation { "violation" } else { "operation" }
            && record.protocol == self.protocol
            && (record.src_ip, record.src_mac) == self.src
            && (record.dst_ip, record.dst_mac) == self.dst
            && record.kind == self.kind
            && record.code == self.code
            && record.target.as_deref() == self.target
            && same_result(record.result.as_deref(), self.result)
            && record.detail.as_deref() == self.detail
    }
}

/// True if a record's result text says `result` (without formatting it).
fn same_result(text: Option<&str>, result: Option<OperationResult>) -> bool {
    match (text, result) {
        (None, None) => true,
        (Some("unknown"), Some(OperationResult::Unknown)) | (Some("success"), Some(OperationResult::Success)) => true,
        (Some(text), Some(OperationResult::Error(code))) => text.strip_prefix("error ").and_then(|c| c.parse().ok()) == Some(code),
        _ => false,
    }
}

fn result_text(result: OperationResult) -> String {
    match result {
        OperationResult::Unknown => "unknown".into(),
        OperationResult::Success => "success".into(),
        OperationResult::Error(code) => format!("error {code}"),
    }
}

impl ActivityLog {
    /// Takes the operations and violations out of a batch of events.
    pub fn ingest(&mut self, events: &[Event]) {
        for event in events {
            let Some(key) = FoldKey::of(event) else { continue };
            let (ts, count) = match event {
                Event::Operation(op) => (op.ts, op.count),
                Event::Violation(v) => (v.ts, 1),
                Event::Identity(_) | Event::Contact(_) => continue,
            };
            let failed_login = key.kind == OperationKind::Login.as_str() && matches!(key.result, Some(OperationResult::Error(_)));
            let hash = self.folds.hasher().hash_one(&key);
            if !failed_login {
                if let Some(record) = self.folds.get(&hash).and_then(|&i| self.records.get_mut(i)).filter(|r| key.matches(r)) {
                    record.count = record.count.saturating_add(count);
                    record.time = record.time.min(ts);
                    record.last_time = Some(record.last_time.map_or(ts, |t| t.max(ts)));
                    continue;
                }
            }
            if !failed_login {
                self.folds.insert(hash, self.records.len());
            }
            self.records.push(key.record(ts, count));
        }
    }

    /// Sorts by time (workers deliver in parallel).
    pub fn sort(&mut self) {
        self.records.sort_by_key(|r| r.time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Endpoint, Operation};

    fn op(second: i64, kind: OperationKind, target: &str, result: OperationResult) -> Event {
        let host = |last: u8| Endpoint { ip: Some(IpAddr::from([10, 0, 0, last])), mac: None, port: 0 };
        Event::Operation(Operation {
            ts: Timestamp(second * 1_000_000_000),
            client: host(1),
            server: host(2),
            protocol: Protocol::Modbus,
            kind,
            code: 3,
            target: Some(target.into()),
            result,
            count: 1,
        })
    }

    #[test]
    fn identical_operations_fold_with_first_and_last_time() {
        let mut log = ActivityLog::default();
        log.ingest(&[op(5, OperationKind::Read, "holding:0-9", OperationResult::Success)]);
        log.ingest(&[op(2, OperationKind::Read, "holding:0-9", OperationResult::Success)]);
        log.ingest(&[op(9, OperationKind::Read, "holding:0-9", OperationResult::Success)]);
        log.ingest(&[op(3, OperationKind::Read, "holding:10-19", OperationResult::Success)]);
        log.ingest(&[op(4, OperationKind::Read, "holding:0-9", OperationResult::Error(2))]);
        assert_eq!(log.records.len(), 3);
        let folded = &log.records[0];
        assert_eq!((folded.count, folded.time, folded.last_time), (3, Timestamp(2_000_000_000), Some(Timestamp(9_000_000_000))));
        assert_eq!(log.records[2].result.as_deref(), Some("error 2"));
    }

    #[test]
    fn failed_logins_each_stay_visible() {
        let mut log = ActivityLog::default();
        for second in 0..3 {
            log.ingest(&[op(second, OperationKind::Login, "user admin", OperationResult::Error(1))]);
        }
        log.ingest(&[op(4, OperationKind::Login, "user admin", OperationResult::Success)]);
        log.ingest(&[op(5, OperationKind::Login, "user admin", OperationResult::Success)]);
        assert_eq!(log.records.len(), 4);
        assert_eq!(log.records[3].count, 2);
    }
}
