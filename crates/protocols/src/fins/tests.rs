//! Dissector tests over hand-built FINS frames.

use super::*;
use crate::testing::{ep, facts, operations, violation_kinds as violations, Flow, APART};
use palisade_model::Event;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

/// A command from node 2 to node 1 with service id `sid`.
fn command(icf: u8, sid: u8, code: u16, params: &[u8]) -> Vec<u8> {
    let mut v = vec![icf, 0, 2, 0, 1, 0, 0, 2, 0, sid];
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(params);
    v
}

/// The response of node 1 to node 2.
fn response(sid: u8, code: u16, end: [u8; 2], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0xc0, 0, 2, 0, 2, 0, 0, 1, 0, sid];
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(&end);
    v.extend_from_slice(data);
    v
}

fn tcp(frame: &[u8]) -> Vec<u8> {
    let mut v = b"FINS".to_vec();
    v.extend_from_slice(&(frame.len() as u32 + 8).to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0]);
    v.extend_from_slice(frame);
    v
}

/// A flow from node 2 (10.0.0.2) to the FINS port of node 1 (10.0.0.1), packets a minute apart.
fn flow() -> Flow<Fins> {
    Flow::new(ep(2, 50000), ep(1, 9600)).every(APART)
}

/// Feeds datagrams, ends the flow and returns the events.
fn datagrams(list: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    flow().datagrams(list).end().events()
}

/// Feeds chunks as streams and returns the events.
fn stream(chunks: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    flow().streams(chunks).events()
}

#[test]
fn probe_is_strict() {
    let read = command(0x80, 1, 0x0101, &[0x82, 0, 100, 0, 0, 10]);
    assert!(probe(&read, false));
    assert!(probe(&tcp(&read), true));
    assert!(!probe(&read, true));
    assert!(!probe(&tcp(&read), false));
    assert!(!probe(&command(0x80, 1, 0x4242, &[]), false));
    assert!(!probe(&command(0x88, 1, 0x0101, &[]), false));
    assert!(!probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false));
    assert!(!probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true));
    assert!(!probe(&[0u8; 12], false));
    // Node address request of FINS/TCP.
    assert!(probe(b"FINS\0\0\0\x0c\0\0\0\0\0\0\0\0\0\0\0\0", true));
}

#[test]
fn read_matched_to_response_with_roles() {
    let events = datagrams(&[
        (C, command(0x80, 7, 0x0101, &[0x82, 0, 100, 0, 0, 10])),
        (S, response(7, 0x0101, [0, 0], &[0; 20])),
        (C, command(0x80, 8, 0x0102, &[0x82, 0, 5, 0, 0, 1, 0, 1])),
        (S, response(8, 0x0102, [0x11, 0x03], &[])),
    ]);
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::Read, 0x0101, Some("area 0x82 addr 100 count 10".into()), OperationResult::Success),
            (OperationKind::Write, 0x0102, Some("area 0x82 addr 5 count 1".into()), OperationResult::Error(0x1103)),
        ]
    );
    let f = facts(&events);
    assert!(f.contains(&(IdentityField::Role, "scada-client".into(), 2)));
    assert!(f.contains(&(IdentityField::Role, "plc".into(), 1)));
    assert!(violations(&events).is_empty());
}

#[test]
fn controller_data_gives_model_and_version() {
    let mut data = b"CJ2M-CPU31          ".to_vec();
    data.extend_from_slice(b"02.01               ");
    data.extend_from_slice(&[0; 40]);
    let events = datagrams(&[(C, command(0x80, 1, 0x0501, &[0])), (S, response(1, 0x0501, [0, 0], &data))]);
    let f = facts(&events);
    assert!(f.contains(&(IdentityField::Model, "CJ2M-CPU31".into(), 1)));
    assert!(f.contains(&(IdentityField::Firmware, "02.01".into(), 1)));
    assert_eq!(operations(&events), vec![(OperationKind::Identify, 0x0501, None, OperationResult::Success)]);
    // Binary junk in the fields gives no facts.
    let events = datagrams(&[(S, response(1, 0x0501, [0, 0], &[0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 0x20, 0x20]))]);
    assert!(!facts(&events).iter().any(|(f, _, _)| *f == IdentityField::Model));
}

#[test]
fn control_and_program_transfer() {
    let events = datagrams(&[
        (C, command(0x80, 1, 0x0402, &[])),
        (S, response(1, 0x0402, [0, 0], &[])),
        (C, command(0x80, 2, 0x0401, &[0xff, 0xff, 4])),
        (S, response(2, 0x0401, [0, 0], &[])),
        (C, command(0x80, 3, 0x0307, &[0xff, 0xff, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4])),
        (S, response(3, 0x0307, [0, 0], &[])),
        (C, command(0x80, 4, 0x0702, &[0x24, 0x03, 0x15, 0x10, 0x30, 0x00, 0x05])),
        (S, response(4, 0x0702, [0, 0], &[])),
    ]);
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::ControllerStop, 0x0402, None, OperationResult::Success),
            (OperationKind::ControllerStart, 0x0401, Some("mode run".into()), OperationResult::Success),
            (OperationKind::ProgramDownload, 0x0307, Some("program 0xffff addr 0x00000000 count 4".into()), OperationResult::Success),
            (OperationKind::TimeSet, 0x0702, Some("2024-03-15 10:30:00".into()), OperationResult::Success),
        ]
    );
    assert!(facts(&events).contains(&(IdentityField::Role, "engineering-workstation".into(), 2)));
}

#[test]
fn unanswered_and_no_response_commands() {
    let events = datagrams(&[
        (C, command(0x81, 1, 0x2301, &[0, 1, 0, 0, 0x80, 0, 0x80, 0, 0, 1])),
        (C, command(0x80, 2, 0x0601, &[])),
        // A response nobody asked for is not flagged.
        (S, response(9, 0x0101, [0, 0], &[])),
    ]);
    assert_eq!(
        operations(&events),
        vec![(OperationKind::Write, 0x2301, None, OperationResult::Unknown), (OperationKind::Read, 0x0601, None, OperationResult::Unknown),]
    );
    assert!(violations(&events).is_empty());
}

#[test]
fn repeated_service_id_reports_the_older_command() {
    let events = datagrams(&[
        (C, command(0x80, 1, 0x0101, &[0x82, 0, 1, 0, 0, 1])),
        (C, command(0x80, 1, 0x0101, &[0x82, 0, 2, 0, 0, 1])),
        (S, response(1, 0x0101, [0, 0], &[0, 0])),
    ]);
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::Read, 0x0101, Some("area 0x82 addr 1 count 1".into()), OperationResult::Unknown),
            (OperationKind::Read, 0x0101, Some("area 0x82 addr 2 count 1".into()), OperationResult::Success),
        ]
    );
}

#[test]
fn violations_for_bad_frames() {
    let events = datagrams(&[
        (C, command(0x80, 1, 0x0101, &[0x82, 0])),
        (C, command(0x80, 2, 0x7777, &[])),
        (C, command(0x80, 3, 0x0101, &[0x82, 0, 1, 0, 0, 1])[..5].to_vec()),
        (S, response(3, 0x0101, [0, 0], &[])[..13].to_vec()),
    ]);
    assert_eq!(
        violations(&events),
        vec![ViolationKind::LengthMismatch, ViolationKind::IllegalFunction, ViolationKind::Malformed, ViolationKind::Malformed]
    );
}

#[test]
fn non_fins_datagrams_are_given_up_quietly() {
    let mut flow = flow();
    for _ in 0..=GIVE_UP_DATAGRAMS {
        flow.datagrams(&[(C, b"hello there, not fins")]);
    }
    assert!(flow.dissector().finished());
    assert!(flow.events().is_empty());
}

#[test]
fn tcp_stream_split_and_resynchronised() {
    let req = tcp(&command(0x80, 5, 0x0101, &[0xb0, 0, 10, 0, 0, 2]));
    let rsp = tcp(&response(5, 0x0101, [0, 0], &[0, 1, 0, 2]));
    let mut junk_then_req = b"xxFIN".to_vec();
    junk_then_req.extend_from_slice(&req);
    let events = stream(&[
        (C, b"FINS\0\0\0\x0c\0\0\0\0\0\0\0\0\0\0\0\x02".to_vec()),
        (C, junk_then_req[..9].to_vec()),
        (C, junk_then_req[9..].to_vec()),
        (S, rsp[..20].to_vec()),
        (S, rsp[20..].to_vec()),
    ]);
    assert_eq!(
        operations(&events),
        vec![(OperationKind::Read, 0x0101, Some("area 0xb0 addr 10 count 2".into()), OperationResult::Success)]
    );
    assert!(violations(&events).is_empty());
}

#[test]
fn tcp_implausible_header_flagged_once() {
    let mut bad = b"FINS\xff\xff\xff\xff\0\0\0\x02\0\0\0\0".to_vec();
    bad.extend_from_slice(b"FINS\xff\xff\xff\xff\0\0\0\x02\0\0\0\0");
    let events = stream(&[(C, bad)]);
    assert_eq!(violations(&events), vec![ViolationKind::Malformed]);
}
