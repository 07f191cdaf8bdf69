//! Unit tests of the S7comm dissector over hand-built frames.

use super::*;
use crate::testing::{field_values as facts, operation_events as operations, violation_kinds as violations, Flow};
use palisade_model::{Endpoint, Event};

fn client() -> Endpoint {
    Endpoint { ip: Some([10, 0, 0, 1].into()), port: 50000, ..Endpoint::default() }
}

fn server() -> Endpoint {
    Endpoint { ip: Some([10, 0, 0, 2].into()), port: 102, ..Endpoint::default() }
}

/// TPKT + COTP DT (last) around `payload`.
fn dt(payload: &[u8], last: bool) -> Vec<u8> {
    let mut f = vec![3, 0, 0, 0, 2, 0xf0, if last { 0x80 } else { 0 }];
    f.extend_from_slice(payload);
    let len = f.len() as u16;
    f[2..4].copy_from_slice(&len.to_be_bytes());
    f
}

/// An S7comm PDU with header, parameters and data.
fn s7(rosctr: u8, pdu_ref: u16, error: Option<u16>, param: &[u8], data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x32, rosctr, 0, 0];
    p.extend(pdu_ref.to_be_bytes());
    p.extend((param.len() as u16).to_be_bytes());
    p.extend((data.len() as u16).to_be_bytes());
    if let Some(e) = error {
        p.extend(e.to_be_bytes());
    }
    p.extend_from_slice(param);
    p.extend_from_slice(data);
    p
}

/// Feeds frames (direction, bytes) a millisecond apart to a fresh dissector; returns the events.
fn run(frames: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    Flow::<S7comm>::new(client(), server()).every(1_000_000).whole_streams(frames).events()
}

const UP: Direction = Direction::ToServer;
const DOWN: Direction = Direction::ToClient;

#[test]
fn connect_and_read_var() {
    let cr = vec![3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2];
    let cc = vec![3, 0, 0, 22, 17, 0xd0, 0, 1, 0, 6, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2];
    assert!(probe(&cr, true));
    let read = [4, 1, 0x12, 10, 0x10, 2, 0, 4, 0, 1, 0x84, 0, 0, 0];
    let events = run(&[
        (UP, cr),
        (DOWN, cc),
        (UP, dt(&s7(1, 7, None, &read, &[]), true)),
        (DOWN, dt(&s7(3, 7, Some(0), &[4, 1], &[0xff, 4, 0, 32, 1, 2, 3, 4]), true)),
    ]);
    let ops = operations(&events);
    assert_eq!(ops.len(), 2);
    assert_eq!((ops[0].kind, ops[0].target.as_deref()), (OperationKind::Session, Some("tsap 0x0102 rack 0 slot 2")));
    assert_eq!((ops[1].kind, ops[1].code, ops[1].target.as_deref()), (OperationKind::Read, 4, Some("DB1.DBX0.0 len 4")));
    assert_eq!(ops[1].result, OperationResult::Success);
    assert!(facts(&events).contains(&(IdentityField::Role, "plc".into())));
    assert!(violations(&events).is_empty());
}

#[test]
fn errors_stop_and_unknown_function() {
    let stop = [0x29, 0, 0, 0, 0, 0, 9, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M'];
    let events = run(&[
        (UP, dt(&s7(1, 1, None, &stop, &[]), true)),
        (DOWN, dt(&s7(2, 1, Some(0xd20c), &[], &[]), true)),
        (UP, dt(&s7(1, 2, None, &[0x77], &[]), true)),
        (DOWN, dt(&s7(3, 9, Some(0), &[4, 0], &[]), true)),
        (UP, dt(&s7(5, 3, None, &[], &[]), true)),
    ]);
    let ops = operations(&events);
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].kind, ops[0].result), (OperationKind::ControllerStop, OperationResult::Error(0xd20c)));
    assert_eq!(violations(&events), [ViolationKind::IllegalFunction, ViolationKind::UnexpectedResponse, ViolationKind::ReservedValue]);
}

#[test]
fn upload_and_cold_restart() {
    let upload = [0x1d, 0, 0, 0, 0, 0, 0, 0, 9, b'_', b'0', b'B', b'0', b'0', b'0', b'0', b'0', b'A'];
    let pi = [0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0, 2, b'C', b' ', 9, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M'];
    let events = run(&[
        (UP, dt(&s7(1, 1, None, &upload, &[]), true)),
        (DOWN, dt(&s7(3, 1, Some(0), &[0x1d, 0], &[]), true)),
        (UP, dt(&s7(1, 2, None, &[0x1e, 0, 0, 0, 0, 0, 0, 7], &[]), true)),
        (DOWN, dt(&s7(3, 2, Some(0), &[0x1e, 0], &[0, 2, 0, 0xfb]), true)),
        (UP, dt(&s7(1, 3, None, &pi, &[]), true)),
        (DOWN, dt(&s7(3, 3, Some(0), &[0x28], &[]), true)),
    ]);
    let ops = operations(&events);
    assert_eq!(ops.len(), 2);
    assert_eq!((ops[0].kind, ops[0].target.as_deref()), (OperationKind::ProgramUpload, Some("SDB0")));
    assert_eq!((ops[1].kind, ops[1].target.as_deref()), (OperationKind::ColdRestart, Some("P_PROGRAM")));
    assert!(facts(&events).contains(&(IdentityField::Role, "engineering-workstation".into())));
}

/// A Userdata response parameter part (extended form).
fn user_response(group: u8, sub: u8, last: bool, error: u16) -> Vec<u8> {
    let mut p = vec![0, 1, 0x12, 8, 0x12, 0x80 | group, sub, 2, 0, u8::from(!last)];
    p.extend(error.to_be_bytes());
    p
}

#[test]
fn szl_identity_over_two_data_units() {
    let request = |id: u16| {
        let mut d = vec![0xff, 9, 0, 4];
        d.extend(id.to_be_bytes());
        d.extend([0, 0]);
        s7(7, 5, None, &[0, 1, 0x12, 4, 0x11, 0x44, 1, 0], &d)
    };
    // SZL 0x001c: two 34-byte records, split across two data units.
    let mut szl = vec![0, 0x1c, 0, 0, 0, 34, 0, 2];
    for (index, text) in [(5u16, &b"S C-B1U393142011"[..]), (7, b"CPU 315-2 PN/DP")] {
        let mut record = index.to_be_bytes().to_vec();
        record.extend_from_slice(text);
        record.resize(34, 0);
        szl.extend(record);
    }
    let (a, b) = szl.split_at(30);
    let unit = |part: &[u8]| {
        let mut d = vec![0xff, 9];
        d.extend((part.len() as u16).to_be_bytes());
        d.extend_from_slice(part);
        d
    };
    let events = run(&[
        (UP, dt(&request(0x1c), true)),
        (DOWN, dt(&s7(7, 5, None, &user_response(4, 1, false, 0), &unit(a)), true)),
        (UP, dt(&s7(7, 6, None, &[0, 1, 0x12, 8, 0x12, 0x44, 1, 2, 0, 0, 0, 0], &[0x0a, 0, 0, 0]), true)),
        (DOWN, dt(&s7(7, 6, None, &user_response(4, 1, true, 0), &unit(b)), true)),
    ]);
    let f = facts(&events);
    assert!(f.contains(&(IdentityField::Serial, "S C-B1U393142011".into())));
    assert!(f.contains(&(IdentityField::Model, "CPU 315-2 PN/DP".into())));
    let ops = operations(&events);
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].kind, ops[0].code, ops[0].target.as_deref()), (OperationKind::Identify, 0x0401, Some("SZL 0x001c index 0x0000")));
    assert!(violations(&events).is_empty());
}

#[test]
fn split_tsdu_resync_and_foreign_flows() {
    // A PDU split over two DT TPDUs, then garbage, then a PDU.
    let pdu = s7(1, 1, None, &[0xf0, 0, 0, 1, 0, 1, 1, 0xe0], &[]);
    let (a, b) = pdu.split_at(5);
    let mut bytes = dt(a, false);
    bytes.extend(dt(b, true));
    bytes.extend([9, 9, 9, 9]);
    let events = run(&[(UP, bytes), (UP, vec![0x77; 10]), (UP, dt(&s7(1, 2, None, &[0xf0, 0, 0, 1, 0, 1, 1, 0xe0], &[]), true))]);
    assert_eq!(violations(&events), [ViolationKind::Malformed]);
    // The first data of an MMS-like flow is neither 0x32 nor 0x72: the flow is left alone.
    let mut flow = Flow::<S7comm>::new(client(), server());
    let other = dt(&[1, 0, 1, 0], true);
    assert!(!probe(&other, true));
    flow.stream(UP, &other);
    assert!(flow.dissector().finished());
    // An MMS connect (TSAPs 0001/0002) is not claimed; a named TSAP is S7comm-plus.
    let mms_cr = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 0, 1, 0xc2, 2, 0, 2];
    assert_eq!(family(&mms_cr), None);
    let mut plus_cr = vec![3, 0, 0, 0, 0, 0xe0, 0, 0, 1, 0x12, 0, 0xc1, 2, 6, 0x20, 0xc2, 16];
    plus_cr.extend_from_slice(b"SIMATIC-ROOT-HMI");
    plus_cr[4] = (plus_cr.len() - 5) as u8;
    let len = plus_cr.len() as u16;
    plus_cr[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(family(&plus_cr), Some(Family::Plus));
}

#[test]
fn plus_pdus_on_a_classic_flow_are_reported_as_plus() {
    let mut p = vec![0x72, 2, 0, 16, 0x31, 0, 0, 0x05, 0x42, 0, 0, 0, 9, 0, 0, 3, 0xbe, 0x34, 0, 0];
    p.extend([0x72, 2, 0, 0]);
    let mut r = vec![0x72, 2, 0, 10, 0x32, 0, 0, 0x05, 0x42, 0, 0, 0, 9, 0x34, 0];
    r[3] = (r.len() - 4) as u8;
    r.extend([0x72, 2, 0, 0]);
    let events = run(&[(UP, dt(&p, true)), (DOWN, dt(&r, true))]);
    let ops = operations(&events);
    assert_eq!(ops.len(), 1);
    assert_eq!((ops[0].protocol, ops[0].kind, ops[0].code), (Protocol::S7commPlus, OperationKind::Write, 0x0542));
    assert!(violations(&events).is_empty());
}

#[test]
fn mutated_frames_never_panic() {
    let upload = [0x1d, 0, 0, 0, 0, 0, 0, 0, 9, b'_', b'0', b'B', b'0', b'0', b'0', b'0', b'0', b'A'];
    let read = [4, 2, 0x12, 12, 0xb0, 2, 2, 0, 74, 0, 108, 4, 0, 76, 1, 0x94, 0x12, 10, 0x10, 2, 0, 2, 0, 0, 0x83, 0, 0, 0x50];
    let mut seed = dt(&s7(1, 1, None, &upload, &[]), true);
    seed.extend(dt(&s7(1, 2, None, &read, &[]), false));
    seed.extend(dt(&s7(7, 5, None, &user_response(4, 1, true, 0), &[0xff, 9, 0, 12, 0, 0x1c, 0, 0, 0, 34, 0, 1, 0, 5, b'S', b'N']), true));
    seed.extend(dt(&[0x72, 3, 0, 40, 32, 1, 2, 3], true));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let mut input = seed.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % input.len() as u64) as usize;
            input[at] = (state >> 32) as u8;
        }
        input.truncate((state >> 40) as usize % (seed.len() + 1));
        crate::fuzzing::run::<S7comm>(&input);
        crate::fuzzing::run::<crate::s7comm_plus::S7commPlus>(&input);
    }
}
