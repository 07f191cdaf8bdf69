//! Dissector tests over hand-built ADUs.

use super::*;
use crate::testing::{ep, facts, operations, violations, Flow, APART};
use palisade_model::Event;

fn adu(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut v = tid.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    v.push(unit);
    v.extend_from_slice(pdu);
    v
}

/// Feeds (direction, bytes) chunks as a stream, a minute apart, and returns the events.
fn run(chunks: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    Flow::<Modbus>::new(ep(1, 40000), ep(2, 502)).every(APART).streams(chunks).events()
}

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

#[test]
fn probe_is_strict() {
    assert!(probe(&adu(1, 1, &[3, 0, 0, 0, 10]), true));
    assert!(probe(&adu(1, 1, &[3, 2, 0, 7]), true));
    assert!(probe(&adu(1, 0, &[0x83, 2]), true));
    assert!(probe(&adu(1, 0, &[0x5A, 0, 0x02]), true));
    assert!(!probe(&adu(1, 1, &[3, 0, 0, 0, 10]), false));
    let mut two = adu(1, 1, &[3, 0, 0, 0, 10]);
    two.extend(adu(2, 1, &[3, 0, 0, 0, 10]));
    assert!(probe(&two, true));
    let mut bad = adu(1, 1, &[3, 0, 0, 0, 10]);
    bad[3] = 1; // protocol id 1
    assert!(!probe(&bad, true));
    assert!(!probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true));
    assert!(!probe(&[0x16, 3, 1, 0, 0xA5, 1, 0, 0, 0xA1, 3, 3], true));
    assert!(!probe(&adu(1, 1, &[0, 1, 2]), true));
    let mut trailing = adu(1, 1, &[3, 0, 0, 0, 10]);
    trailing.extend_from_slice(&[0xFF; 9]);
    assert!(!probe(&trailing, true));
}

#[test]
fn read_holding_with_result_and_roles() {
    let ev =
        run(&[(C, adu(7, 1, &[3, 0, 100, 0, 10])), (S, adu(7, 1, &[3, 20, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 0, 10]))]);
    assert_eq!(operations(&ev), vec![(OperationKind::Read, 3, Some("holding:100-109".into()), OperationResult::Success)]);
    assert!(violations(&ev).is_empty());
    let f = facts(&ev);
    assert!(f.contains(&(IdentityField::Role, "scada-client".into(), 1)));
    assert!(f.contains(&(IdentityField::Role, "controller".into(), 2)));
}

#[test]
fn exception_gives_error_result() {
    let ev = run(&[(C, adu(1, 0, &[3, 0x02, 0x58, 0, 10])), (S, adu(1, 0, &[0x83, 2]))]);
    assert_eq!(operations(&ev), vec![(OperationKind::Read, 3, Some("holding:600-609".into()), OperationResult::Error(2))]);
    assert!(violations(&ev).is_empty());
}

#[test]
fn several_adus_per_segment_and_split_adus() {
    let mut reqs = Vec::new();
    for tid in 1..=3u16 {
        reqs.extend(adu(tid, 1, &[1, 0, 0, 0, 8]));
    }
    let mut resps = Vec::new();
    for tid in 1..=3u16 {
        resps.extend(adu(tid, 1, &[1, 1, 0xFF]));
    }
    let (a, b) = resps.split_at(13);
    let ev = run(&[(C, reqs), (S, a.to_vec()), (S, b.to_vec())]);
    let ops = operations(&ev);
    // The first response completes in the first chunk, the other two in the
    // second (a minute later), where the third folds into the second.
    let count: u32 = ev.iter().map(|e| if let Event::Operation(o) = e { o.count } else { 0 }).sum();
    assert_eq!((ops.len(), count), (2, 2), "{ops:?}");
    assert_eq!(ops[0].2.as_deref(), Some("coils:0-7"));
    assert!(violations(&ev).is_empty());
}

#[test]
fn resynchronises_mid_stream() {
    let mut data = vec![0x41, 0xC8, 0x00];
    data.extend(adu(9, 1, &[3, 0, 0, 0, 1]));
    data.extend(adu(10, 1, &[3, 0, 1, 0, 1]));
    let ev = run(&[(S, adu(8, 1, &[3, 2, 0, 0])), (C, data), (S, adu(9, 1, &[3, 2, 0, 0])), (S, adu(10, 1, &[3, 2, 0, 1]))]);
    let ops = operations(&ev);
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert!(violations(&ev).is_empty(), "the in-flight response must not be flagged: {:?}", violations(&ev));
}

#[test]
fn length_mismatch_and_unexpected_response() {
    let ev = run(&[(C, adu(1, 1, &[3, 0, 0, 0, 2])), (S, adu(1, 1, &[3, 2, 0, 0])), (S, adu(77, 1, &[3, 2, 0, 0]))]);
    let v = violations(&ev);
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(v[0].0, ViolationKind::LengthMismatch);
    assert_eq!(v[1].0, ViolationKind::UnexpectedResponse);
}

#[test]
fn illegal_and_reserved_functions() {
    let ev =
        run(&[(C, adu(9, 1, &[7])), (C, adu(1, 1, &[30, 1])), (C, adu(2, 1, &[9, 1])), (C, adu(3, 1, &[66, 1])), (C, adu(4, 1, &[0]))]);
    let kinds: Vec<_> = violations(&ev).into_iter().map(|v| v.0).collect();
    assert_eq!(kinds, vec![ViolationKind::IllegalFunction, ViolationKind::ReservedValue, ViolationKind::IllegalFunction]);
}

#[test]
fn protocol_id_other_than_zero() {
    let mut odd = adu(2, 1, &[3, 0, 0, 0, 1]);
    odd[3] = 5;
    let ev = run(&[(C, adu(1, 1, &[3, 0, 0, 0, 1])), (C, odd)]);
    let v = violations(&ev);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].0, ViolationKind::ReservedValue);
}

#[test]
fn write_kinds_and_diagnostics() {
    let ev = run(&[
        (C, adu(1, 1, &[16, 0, 1, 0, 2, 4, 0, 1, 0, 2])),
        (S, adu(1, 1, &[16, 0, 1, 0, 2])),
        (C, adu(2, 1, &[8, 0, 4, 0, 0])),
        (S, adu(2, 1, &[8, 0, 4, 0, 0])),
        (C, adu(3, 1, &[8, 0, 1, 0xFF, 0])),
        (S, adu(3, 1, &[8, 0, 1, 0xFF, 0])),
        (C, adu(4, 1, &[22, 0, 10, 0xDE, 0xAD, 0, 0])),
        (S, adu(4, 1, &[22, 0, 10, 0xDE, 0xAD, 0, 0])),
        (C, adu(5, 1, &[23, 0, 1, 0, 1, 0, 2, 0, 1, 2, 0, 0xFF])),
        (S, adu(5, 1, &[23, 2, 0, 0xAA])),
        (C, adu(6, 1, &[21, 0])),
        (S, adu(6, 1, &[21, 0])),
    ]);
    let ops = operations(&ev);
    assert_eq!(
        ops,
        vec![
            (OperationKind::Write, 16, Some("holding:1-2".into()), OperationResult::Success),
            (OperationKind::ConfigurationChange, 8, Some("subfunction 4".into()), OperationResult::Success),
            (OperationKind::WarmRestart, 8, Some("subfunction 1".into()), OperationResult::Success),
            (OperationKind::Write, 22, Some("holding:10-10".into()), OperationResult::Success),
            (OperationKind::Write, 23, Some("read holding:1-1 write holding:2-2".into()), OperationResult::Success),
            (OperationKind::Write, 21, None, OperationResult::Success),
        ]
    );
    assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
}

#[test]
fn device_identification_facts_on_responder() {
    let mut resp = vec![43, 14, 1, 0x83, 0, 0, 4, 0, 6];
    resp.extend_from_slice(b"Vendor");
    resp.extend_from_slice(&[1, 4]);
    resp.extend_from_slice(b"P-01");
    resp.extend_from_slice(&[2, 3]);
    resp.extend_from_slice(b"1.2");
    resp.extend_from_slice(&[0x80, 2, b'x', b'y']);
    let ev = run(&[(C, adu(1, 1, &[43, 14, 1, 0])), (S, adu(1, 1, &resp))]);
    let f = facts(&ev);
    assert!(f.contains(&(IdentityField::Vendor, "Vendor".into(), 2)));
    assert!(f.contains(&(IdentityField::OrderNumber, "P-01".into(), 2)));
    assert!(f.contains(&(IdentityField::Firmware, "1.2".into(), 2)));
    assert_eq!(operations(&ev), vec![(OperationKind::Identify, 43, Some("device-id code 1 object 0".into()), OperationResult::Success)]);
}

#[test]
fn umas_operations_identity_and_roles() {
    let mut id = vec![
        0x5A, 0x00, 0xFE, 0x10, 0xFF, 0x5A, 0x01, 0x01, 0x00, 0x00, 0x00, 0x70, 0x02, 0x00, 0x00, 0x27, 0x00, 0x09, 0x00, 0x08, 0x00, 0, 0,
        0, 0, 14,
    ];
    id.extend_from_slice(b"140 CPU 311 10");
    let ev = run(&[
        (C, adu(1, 0, &[0x5A, 0x00, 0x02])),
        (S, adu(1, 0, &id)),
        (C, adu(2, 0, &[0x5A, 0x01, 0x41, 0xFF, 0x00])),
        (S, adu(2, 0, &[0x5A, 0x01, 0xFD, 0x81])),
        (C, adu(3, 0, &[0x5A, 0x01, 0x33, 0x00, 0x01, 0xFB, 0x00])),
        (S, adu(3, 0, &[0x5A, 0x01, 0xFE, 0x00, 0x01])),
    ]);
    assert_eq!(
        operations(&ev),
        vec![
            (OperationKind::Identify, 90, Some("umas:0x02 read id".into()), OperationResult::Success),
            (OperationKind::ControllerStop, 90, Some("umas:0x41 stop PLC".into()), OperationResult::Error(0x81)),
            (OperationKind::ProgramUpload, 90, Some("umas:0x33 initialize download (from PLC)".into()), OperationResult::Success),
        ]
    );
    let f = facts(&ev);
    assert!(f.contains(&(IdentityField::Model, "140 CPU 311 10".into(), 2)));
    assert!(f.contains(&(IdentityField::Firmware, "2.70".into(), 2)));
    assert!(f.contains(&(IdentityField::Vendor, "Schneider Electric".into(), 2)));
    assert!(f.contains(&(IdentityField::Role, "engineering-workstation".into(), 1)));
    assert!(violations(&ev).is_empty());
}

#[test]
fn pending_table_is_bounded() {
    let mut chunks = Vec::new();
    for tid in 0..40u16 {
        chunks.push((C, adu(tid, 1, &[4, 0, tid as u8, 0, 1])));
    }
    let ev = run(&chunks);
    // Requests pushed out of the table are reported without a result.
    assert_eq!(operations(&ev).len(), 40 - PENDING);
    assert!(operations(&ev).iter().all(|o| o.3 == OperationResult::Unknown));
}

#[test]
fn garbage_is_given_up() {
    let mut flow = Flow::<Modbus>::new(ep(1, 40000), ep(2, 502));
    let junk: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + 3) as u8 | 1).collect();
    let used = flow.stream(C, &junk);
    assert!(used + MBAP_LEN >= junk.len());
    assert!(flow.dissector().finished());
}

#[test]
fn broken_header_resynchronises() {
    let mut data = vec![0xAB; 5];
    data.extend(adu(2, 1, &[3, 0, 5, 0, 1]));
    let ev = run(&[(C, adu(1, 1, &[3, 0, 0, 0, 1])), (C, data), (S, adu(2, 1, &[3, 2, 0, 0]))]);
    let v = violations(&ev);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].0, ViolationKind::Malformed);
    assert!(operations(&ev).iter().any(|o| o.2.as_deref() == Some("holding:5-5") && o.3 == OperationResult::Success));
}

#[test]
fn arbitrary_bytes_do_not_panic() {
    let mut x: u32 = 0x1234_5678;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for _ in 0..300 {
        let len = (next() % 600) as usize;
        // Mostly-valid headers with random PDUs exercise the deeper paths.
        let mut data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(h) = data.get_mut(2..4) {
            h.copy_from_slice(&[0, 0]);
        }
        crate::fuzzing::run::<Modbus>(&data);
    }
}
