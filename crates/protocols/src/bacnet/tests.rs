//! Dissector tests over hand-built BACnet/IP datagrams.

use super::*;
use crate::testing::{ep, facts, last_octet, operation_events, violation_kinds as violations, Flow, APART};
use palisade_model::Event;

/// An Original-Unicast-NPDU with a plain NPDU around `apdu`.
fn unicast(apdu: &[u8]) -> Vec<u8> {
    let mut v = vec![0x81, 0x0a, 0, 0, 0x01, 0x00];
    v.extend_from_slice(apdu);
    let len = v.len() as u16;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    v
}

/// Feeds datagrams a minute apart between 10.0.0.1 (client) and 10.0.0.2 and returns the events.
fn run(datagrams: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    Flow::<Bacnet>::new(ep(1, 47808), ep(2, 47808)).every(APART).datagrams(datagrams).events()
}

/// The operations as (kind, service, target, result, last octet of the requester).
fn operations(events: &[Event]) -> Vec<(OperationKind, u32, Option<String>, OperationResult, u8)> {
    operation_events(events).into_iter().map(|o| (o.kind, o.code, o.target.clone(), o.result, last_octet(&o.client))).collect()
}

use Direction::{ToClient, ToServer};

#[test]
fn write_property_with_simple_ack() {
    let wp = [0x00, 0x05, 0x01, 0x0f, 0x0c, 0x00, 0x80, 0x00, 0x03, 0x19, 0x55, 0x3e, 0x44, 0x3f, 0x80, 0x00, 0x00, 0x3f, 0x49, 0x08];
    let ev = run(&[(ToServer, unicast(&wp)), (ToClient, unicast(&[0x20, 0x01, 0x0f]))]);
    assert_eq!(operations(&ev), vec![(OperationKind::Write, 15, Some("analog-value,3 present-value".into()), OperationResult::Success, 1)]);
    let f = facts(&ev);
    assert!(f.contains(&(IdentityField::Role, "scada-client".into(), 1)));
    assert!(f.contains(&(IdentityField::Role, "building-controller".into(), 2)));
    assert!(violations(&ev).is_empty());
}

#[test]
fn request_from_flow_server_and_error_result() {
    // 10.0.0.2 sends ReinitializeDevice warmstart; 10.0.0.1 answers with an Error.
    let reinit = [0x00, 0x05, 0x07, 0x14, 0x09, 0x01];
    let error = [0x50, 0x07, 0x14, 0x91, 0x01, 0x91, 0x1a];
    let ev = run(&[(ToClient, unicast(&reinit)), (ToServer, unicast(&error))]);
    assert_eq!(operations(&ev), vec![(OperationKind::WarmRestart, 20, Some("warmstart".into()), OperationResult::Error(26), 2)]);
}

#[test]
fn dcc_reject_and_backup() {
    let dcc = [0x00, 0x05, 0x09, 0x11, 0x09, 0x05, 0x19, 0x01];
    let backup = [0x00, 0x05, 0x0a, 0x14, 0x09, 0x02];
    let ev = run(&[
        (ToServer, unicast(&dcc)),
        (ToClient, unicast(&[0x60, 0x09, 0x09])),
        (ToServer, unicast(&backup)),
        (ToClient, unicast(&[0x20, 0x0a, 0x14])),
    ]);
    assert_eq!(
        operations(&ev),
        vec![
            (OperationKind::ConfigurationChange, 17, Some("disable for 5 min".into()), OperationResult::Error(9), 1),
            (OperationKind::ProgramUpload, 20, Some("startbackup".into()), OperationResult::Success, 1),
        ]
    );
    assert!(violations(&ev).is_empty());
}

#[test]
fn read_property_ack_identity() {
    let rp = [0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x1d, 0x19, 0x79];
    let ack = [0x30, 0x01, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x1d, 0x19, 0x79, 0x3e, 0x75, 0x05, 0x00, b'A', b'c', b'm', b'e', 0x3f];
    let app = [0x30, 0x02, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x1d, 0x19, 0x0c, 0x3e, 0x75, 0x04, 0x00, b'1', b'.', b'2', 0x3f];
    let vid = [0x30, 0x03, 0x0c, 0x0c, 0x02, 0x00, 0x00, 0x1d, 0x19, 0x78, 0x3e, 0x21, 0x05, 0x3f];
    let ev = run(&[(ToServer, unicast(&rp)), (ToClient, unicast(&ack)), (ToClient, unicast(&app)), (ToClient, unicast(&vid))]);
    let f = facts(&ev);
    assert!(f.contains(&(IdentityField::Vendor, "Acme".into(), 2)), "{f:?}");
    assert!(f.contains(&(IdentityField::Description, "application software 1.2".into(), 2)));
    // vendor-identifier is ignored once a vendor-name was seen.
    assert!(!f.iter().any(|(field, v, _)| *field == IdentityField::Vendor && v.starts_with("Johnson")));
    assert_eq!(operations(&ev).len(), 1);
    // Two ACKs without request after a pairing.
    assert_eq!(violations(&ev), vec![ViolationKind::UnexpectedResponse, ViolationKind::UnexpectedResponse]);
}

#[test]
fn i_am_and_who_is() {
    let who_is = [0x10, 0x08, 0x09, 0x3d, 0x19, 0x3d];
    let i_am = [0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x3d, 0x22, 0x01, 0xe0, 0x91, 0x00, 0x21, 0x05];
    let ev = run(&[(ToServer, unicast(&who_is)), (ToClient, unicast(&i_am))]);
    assert_eq!(operations(&ev), vec![(OperationKind::Identify, 8, Some("device,61-61".into()), OperationResult::Unknown, 1)]);
    let f = facts(&ev);
    assert!(f.contains(&(IdentityField::Vendor, "Johnson Controls, Inc.".into(), 2)));
    assert!(f.contains(&(IdentityField::Role, "building-controller".into(), 2)));
}

#[test]
fn forwarded_npdu_facts_go_to_origin() {
    let i_am = [0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x3d, 0x22, 0x01, 0xe0, 0x91, 0x00, 0x21, 0x18];
    let mut d = vec![0x81, 0x04, 0, 0, 10, 0, 0, 9, 0xba, 0xc0, 0x01, 0x00];
    d.extend_from_slice(&i_am);
    let len = d.len() as u16;
    d[2..4].copy_from_slice(&len.to_be_bytes());
    let ev = run(&[(ToClient, d)]);
    assert!(facts(&ev).contains(&(IdentityField::Vendor, "Automated Logic Corporation".into(), 9)));
}

#[test]
fn violations_for_bad_messages() {
    let mut short = unicast(&[0x10, 0x08]);
    short.push(0);
    let ev = run(&[
        (ToServer, short),
        (ToServer, vec![0x81, 0x0d, 0x00, 0x04]),
        (ToServer, vec![0x81, 0x0a, 0x00, 0x07, 0x10, 0x00, 0x10]),
        (ToServer, unicast(&[0x00, 0x05, 0x01, 0x40])),
        (ToServer, unicast(&[0x10, 0x20])),
        (ToServer, unicast(&[0x90])),
        (ToServer, unicast(&[0x00, 0x05, 0x01, 0x0c, 0x0c])),
    ]);
    assert_eq!(
        violations(&ev),
        vec![
            ViolationKind::LengthMismatch,
            ViolationKind::IllegalFunction,
            ViolationKind::Malformed,
            ViolationKind::IllegalFunction,
            ViolationKind::IllegalFunction,
            ViolationKind::ReservedValue,
            ViolationKind::Malformed,
        ]
    );
}

#[test]
fn probe_is_strict() {
    assert!(probe(&unicast(&[0x10, 0x08]), false));
    assert!(!probe(&unicast(&[0x10, 0x08]), true));
    assert!(!probe(&[0x81, 0x0a, 0x00, 0x09, 0x02, 0x00, 0x10, 0x08, 0x00], false));
    assert!(!probe(b"GET / HTTP/1.1\r\n", false));
}

#[test]
fn gives_up_on_garbage() {
    let mut flow = Flow::<Bacnet>::new(ep(1, 47808), ep(2, 47808));
    for _ in 0..GIVE_UP {
        flow.datagrams(&[(ToServer, b"garbage")]);
    }
    assert!(flow.dissector().finished());
}

#[test]
fn mutated_messages_never_panic() {
    let seeds = [
        unicast(&[0x00, 0x05, 0x01, 0x0f, 0x0c, 0x00, 0x80, 0x00, 0x03, 0x19, 0x55, 0x3e, 0x44, 0x3f, 0x80, 0x00, 0x00, 0x3f, 0x49, 0x08]),
        unicast(&[0x30, 0x01, 0x0e, 0x0c, 0x02, 0x00, 0x00, 0x05, 0x1e, 0x29, 0x4d, 0x4e, 0x75, 0x03, 0x00, b'N', b'1', 0x4f, 0x1f]),
        unicast(&[0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x3d, 0x22, 0x01, 0xe0, 0x91, 0x00, 0x21, 0x05]),
        unicast(&[0x0e, 0x05, 0x07, 0x00, 0x04, 0x10, 0x0e, 0x09, 0x02, 0x0f]),
    ];
    // A small xorshift generator: deterministic mutations of valid messages.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in &seeds {
        for _ in 0..2000 {
            let mut m = seed.clone();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() % m.len() as u64) as usize;
                m[i] = next() as u8;
            }
            m.truncate((next() % (m.len() as u64 + 1)) as usize);
            crate::fuzzing::run::<Bacnet>(&m);
        }
    }
}
