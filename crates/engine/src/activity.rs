//! What happened on the wire: operations and protocol violations, as the
//! flat records that `palisade events` lists.

use palisade_model::{Event, MacAddr, OperationResult, Protocol, Timestamp};
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
}

/// Operations and violations collected during an analysis.
#[derive(Clone, Debug, Default)]
pub struct ActivityLog {
    /// The records, in arrival order.
    pub records: Vec<EventRecord>,
}

impl ActivityLog {
    /// Takes the operations and violations out of a batch of events.
    pub fn ingest(&mut self, events: &[Event]) {
        for event in events {
            let record = match event {
                Event::Operation(op) => EventRecord {
                    id: 0,
                    time: op.ts,
                    record_type: "operation".into(),
                    protocol: op.protocol,
                    src_ip: op.client.ip,
                    src_mac: op.client.mac,
                    dst_ip: op.server.ip,
                    dst_mac: op.server.mac,
                    kind: op.kind.as_str().into(),
                    code: Some(op.code),
                    target: op.target.clone(),
                    result: Some(match op.result {
                        OperationResult::Unknown => "unknown".into(),
                        OperationResult::Success => "success".into(),
                        OperationResult::Error(code) => format!("error {code}"),
                    }),
                    detail: None,
                    count: op.count,
                },
                Event::Violation(v) => EventRecord {
                    id: 0,
                    time: v.ts,
                    record_type: "violation".into(),
                    protocol: v.protocol,
                    src_ip: v.client.ip,
                    src_mac: v.client.mac,
                    dst_ip: v.server.ip,
                    dst_mac: v.server.mac,
                    kind: v.kind.as_str().into(),
                    code: None,
                    target: None,
                    result: None,
                    detail: Some(v.detail.clone()),
                    count: 1,
                },
                Event::Identity(_) | Event::Contact(_) => continue,
            };
            self.records.push(record);
        }
    }

    /// Sorts by time (workers deliver in parallel).
    pub fn sort(&mut self) {
        self.records.sort_by_key(|r| r.time);
    }
}
