//! Dissector tests with hand-built messages.

use super::*;
use crate::testing::{ep, facts, operations, violation_kinds as violations, Flow};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// A TCP flow from 10.0.0.1 to the EtherNet/IP port of 10.0.0.2.
fn tcp_flow() -> Flow<Enip> {
    Flow::new(ep(1, 50000), ep(2, PORT))
}

/// An encapsulation message: command, context, body.
fn encap(command: u16, context: u64, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&command.to_le_bytes());
    m.extend_from_slice(&(body.len() as u16).to_le_bytes());
    m.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    m.extend_from_slice(&context.to_le_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(body);
    m
}

/// SendRRData carrying `cip` in an unconnected data item.
fn rr(context: u64, cip: &[u8]) -> Vec<u8> {
    let mut body = hex("000000000000020000000000b200");
    body.extend_from_slice(&(cip.len() as u16).to_le_bytes());
    body.extend_from_slice(cip);
    encap(0x6F, context, &body)
}

/// SendUnitData carrying `cip` with sequence count `seq`.
fn unit(seq: u16, cip: &[u8]) -> Vec<u8> {
    let mut body = hex("0000000000000200a100040001020304b100");
    body.extend_from_slice(&(cip.len() as u16 + 2).to_le_bytes());
    body.extend_from_slice(&seq.to_le_bytes());
    body.extend_from_slice(cip);
    encap(0x70, 0, &body)
}

const LIST_IDENTITY_REPLY: &str = "63003300000000000000000000000000c1debed10000000001000c002d0001000002af120a0101a4000000000000000001000c003a00040330008e4d52000b313735362d454e42542f4103";

#[test]
fn list_identity_reply_gives_identity_of_the_replier() {
    let mut flow = tcp_flow();
    let request = hex("63000000000000000000000000000000c1debed100000000");
    let events = flow.whole_streams(&[(Direction::ToServer, request), (Direction::ToClient, hex(LIST_IDENTITY_REPLY))]).events();
    let f = facts(&events);
    for want in [
        (IdentityField::Vendor, "Rockwell Automation/Allen-Bradley"),
        (IdentityField::ProductName, "1756-ENBT/A"),
        (IdentityField::Firmware, "4.03"),
        (IdentityField::Serial, "0x00524d8e"),
        (IdentityField::Role, "io-adapter"),
    ] {
        assert!(f.contains(&(want.0, want.1.to_string(), 2)), "missing {want:?} in {f:?}");
    }
    assert_eq!(operations(&events), vec![(OperationKind::Identify, 0x63, None, OperationResult::Success)]);
    assert!(violations(&events).is_empty());
}

#[test]
fn identity_object_read_through_unconnected_send() {
    let mut flow = tcp_flow();
    let request = rr(7, &hex("52022006240107e90600010220012401010001000100"));
    let mut reply = hex("81000000");
    reply.extend_from_slice(&hex("01000e003600101460303f825100"));
    reply.push(20);
    reply.extend_from_slice(b"1756-L61/B LOGIX5561");
    let events = flow.whole_streams(&[(Direction::ToServer, request), (Direction::ToClient, rr(7, &reply))]).events();
    let f = facts(&events);
    assert!(f.contains(&(IdentityField::ProductName, "1756-L61/B LOGIX5561".into(), 2)));
    assert!(f.contains(&(IdentityField::Firmware, "16.20".into(), 2)));
    assert!(f.contains(&(IdentityField::Serial, "0x0051823f".into(), 2)));
    assert!(f.contains(&(IdentityField::Role, "plc".into(), 2)));
    assert!(!f.iter().any(|x| x.1 == "controller"));
    assert_eq!(operations(&events), vec![(OperationKind::Identify, 0x01, Some("class 0x01 instance 1".into()), OperationResult::Success)]);
    assert!(violations(&events).is_empty());
}

#[test]
fn program_upload_and_errors_over_connected_messages() {
    let mut flow = tcp_flow();
    let upload = hex("4f03206a2500fa1b");
    let read_tag = hex("4c0391034d6f740001000000");
    let events = flow
        .whole_streams(&[
            (Direction::ToServer, unit(1, &upload)),
            (Direction::ToClient, unit(1, &hex("cf0000000f000000"))),
            (Direction::ToServer, unit(2, &read_tag)),
            (Direction::ToClient, unit(2, &hex("cc00050000"))),
        ])
        .events();
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::ProgramUpload, 0x4F, Some("class 0x6a instance 7162".into()), OperationResult::Success),
            (OperationKind::Read, 0x4C, Some("tag Mot".into()), OperationResult::Error(5)),
        ]
    );
    let f = facts(&events);
    assert!(f.contains(&(IdentityField::Role, "engineering-workstation".into(), 1)));
    assert!(f.contains(&(IdentityField::Role, "controller".into(), 2)));
    assert!(violations(&events).is_empty());
}

#[test]
fn multiple_service_packet_results_per_request() {
    let mut flow = tcp_flow();
    let request = hex("0a0220022401020006000e000e03200124013007100320042465300301");
    let reply = hex("8a000000020006000d008e0000000241429000080000");
    let events = flow.whole_streams(&[(Direction::ToServer, rr(9, &request)), (Direction::ToClient, rr(9, &reply))]).events();
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::Identify, 0x0E, Some("class 0x01 instance 1 attr 7".into()), OperationResult::Success),
            (OperationKind::Write, 0x10, Some("class 0x04 instance 101 attr 3".into()), OperationResult::Error(8)),
        ]
    );
    assert!(facts(&events).contains(&(IdentityField::ProductName, "AB".into(), 2)));
    assert!(violations(&events).is_empty());
}

#[test]
fn responses_without_requests() {
    // The first in-flight response of a capture is not a violation...
    let mut flow = tcp_flow();
    let events = flow.whole_streams(&[(Direction::ToClient, rr(3, &hex("81000000")))]).events();
    assert!(violations(&events).is_empty());
    // ...but once requests were seen, an unmatched response is.
    let events = flow
        .whole_streams(&[
            (Direction::ToServer, rr(4, &hex("0e03200124013007"))),
            (Direction::ToClient, rr(4, &hex("8e000000024142"))),
            (Direction::ToClient, rr(5, &hex("8e000000024142"))),
        ])
        .events();
    assert_eq!(violations(&events), vec![ViolationKind::UnexpectedResponse]);
}

#[test]
fn malformed_paths_and_services() {
    let mut flow = tcp_flow();
    let events = flow
        .whole_streams(&[
            (Direction::ToServer, rr(1, &hex("0e02e0012401"))),
            (Direction::ToServer, rr(2, &hex("700220012401"))),
            (Direction::ToServer, rr(3, &hex("0e05200124"))),
        ])
        .events();
    assert_eq!(violations(&events), vec![ViolationKind::Malformed, ViolationKind::ReservedValue, ViolationKind::Malformed]);
}

#[test]
fn resynchronises_mid_stream_and_flags_unknown_commands() {
    let mut flow = tcp_flow();
    let mut first = hex("deadbeef0102");
    first.extend_from_slice(&encap(0x65, 0, &[1, 0, 0, 0]));
    let events = flow.whole_streams(&[(Direction::ToServer, first)]).events();
    assert!(violations(&events).is_empty());
    let mut bad = encap(0x99, 0, &[]);
    bad.extend_from_slice(&encap(0x66, 0, &[]));
    let events = flow.whole_streams(&[(Direction::ToServer, bad)]).events();
    assert_eq!(violations(&events), vec![ViolationKind::IllegalFunction]);
    assert_eq!(operations(&events), vec![(OperationKind::Session, 0x66, None, OperationResult::Unknown)]);
}

#[test]
fn partial_messages_wait_for_more() {
    let mut flow = tcp_flow();
    let msg = hex(LIST_IDENTITY_REPLY);
    assert_eq!(flow.stream(Direction::ToClient, &msg[..10]), 0);
    assert_eq!(flow.stream(Direction::ToClient, &msg[..40]), 0);
    assert_eq!(flow.stream(Direction::ToClient, &msg), msg.len());
}

#[test]
fn udp_list_identity_and_length_checks() {
    let mut long = hex(LIST_IDENTITY_REPLY);
    long.push(0);
    let to_server = Direction::ToServer;
    let events = Flow::<Enip>::new(ep(2, PORT), ep(1, 50000))
        .datagrams(&[(to_server, hex(LIST_IDENTITY_REPLY)), (to_server, long.clone()), (to_server, long[..30].to_vec())])
        .events();
    assert!(facts(&events).contains(&(IdentityField::Serial, "0x00524d8e".into(), 2)));
    // The replier sent first, so it is the flow's client: no operation is made up.
    assert!(operations(&events).is_empty());
    assert_eq!(violations(&events), vec![ViolationKind::LengthMismatch, ViolationKind::LengthMismatch]);
}

#[test]
fn probes() {
    assert!(probe(&hex(LIST_IDENTITY_REPLY), false));
    assert!(probe(&encap(0x65, 0, &[1, 0, 0, 0]), true));
    assert!(!probe(&encap(0x65, 0, &[1, 0]), true));
    assert!(!probe(&[0u8; 40], true));
    assert!(!probe(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n", true));
    assert!(probe_io(&hex("0200028008000b408e008f150500b10002000100"), false));
    assert!(!probe_io(&hex("0200028008000b408e008f150500b10002000100"), true));
    assert!(!probe_io(&hex(LIST_IDENTITY_REPLY), false));
}

#[test]
fn io_flow_finishes_after_a_few_datagrams() {
    let mut io = Flow::<CipIo>::new(ep(1, IO_PORT), ep(2, IO_PORT));
    let junk = [(Direction::ToServer, b"junk".to_vec())];
    io.datagrams(&junk);
    for _ in 0..IO_PACKETS_CHECKED {
        assert!(!io.dissector().finished());
        io.datagrams(&[(Direction::ToServer, hex("02000280080003064b00db943f00b1000600a587e80f0300"))]);
    }
    assert!(io.dissector().finished());
    io.datagrams(&junk);
    let events = io.events();
    assert_eq!(violations(&events), vec![ViolationKind::Malformed]);
}
