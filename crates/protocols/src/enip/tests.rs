//! Dissector tests with hand-built messages.

use super::*;
use crate::EventSink;
use palisade_model::{Event, Timestamp};
use std::net::{IpAddr, Ipv4Addr};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn endpoint(last: u8, port: u16) -> Endpoint {
    Endpoint { mac: None, ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))), port }
}

/// Feeds whole TCP payloads `(direction, bytes)` to one flow; returns the events.
fn run_tcp<D: Dissector>(d: &mut D, packets: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    let mut sink = EventSink::default();
    for (i, (dir, bytes)) in packets.iter().enumerate() {
        let mut ctx = Ctx::new(Timestamp(i as i64), *dir, endpoint(1, 50000), endpoint(2, PORT), D::REGISTRATION.protocol, &mut sink);
        let used = d.stream(&mut ctx, bytes);
        assert_eq!(used, bytes.len(), "packet {i} not consumed whole");
    }
    let mut out = Vec::new();
    sink.swap(&mut out);
    out
}

fn facts(events: &[Event]) -> Vec<(u8, IdentityField, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Identity(f) => match f.subject.ip {
                Some(IpAddr::V4(ip)) => Some((ip.octets()[3], f.field, f.value.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn operations(events: &[Event]) -> Vec<(OperationKind, u32, Option<String>, OperationResult)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Operation(o) => Some((o.kind, o.code, o.target.clone(), o.result)),
            _ => None,
        })
        .collect()
}

fn violations(events: &[Event]) -> Vec<ViolationKind> {
    events.iter().filter_map(|e| if let Event::Violation(v) = e { Some(v.kind) } else { None }).collect()
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
    let mut d = Enip::default();
    let request = hex("63000000000000000000000000000000c1debed100000000");
    let events = run_tcp(&mut d, &[(Direction::ToServer, request), (Direction::ToClient, hex(LIST_IDENTITY_REPLY))]);
    let f = facts(&events);
    for want in [
        (IdentityField::Vendor, "Rockwell Automation/Allen-Bradley"),
        (IdentityField::ProductName, "1756-ENBT/A"),
        (IdentityField::Firmware, "4.03"),
        (IdentityField::Serial, "0x00524d8e"),
        (IdentityField::Role, "io-adapter"),
    ] {
        assert!(f.contains(&(2, want.0, want.1.to_string())), "missing {want:?} in {f:?}");
    }
    assert_eq!(operations(&events), vec![(OperationKind::Identify, 0x63, None, OperationResult::Success)]);
    assert!(violations(&events).is_empty());
}

#[test]
fn identity_object_read_through_unconnected_send() {
    let mut d = Enip::default();
    let request = rr(7, &hex("52022006240107e90600010220012401010001000100"));
    let mut reply = hex("81000000");
    reply.extend_from_slice(&hex("01000e003600101460303f825100"));
    reply.push(20);
    reply.extend_from_slice(b"1756-L61/B LOGIX5561");
    let events = run_tcp(&mut d, &[(Direction::ToServer, request), (Direction::ToClient, rr(7, &reply))]);
    let f = facts(&events);
    assert!(f.contains(&(2, IdentityField::ProductName, "1756-L61/B LOGIX5561".into())));
    assert!(f.contains(&(2, IdentityField::Firmware, "16.20".into())));
    assert!(f.contains(&(2, IdentityField::Serial, "0x0051823f".into())));
    assert!(f.contains(&(2, IdentityField::Role, "plc".into())));
    assert!(!f.iter().any(|x| x.2 == "controller"));
    assert_eq!(operations(&events), vec![(OperationKind::Identify, 0x01, Some("class 0x01 instance 1".into()), OperationResult::Success)]);
    assert!(violations(&events).is_empty());
}

#[test]
fn program_upload_and_errors_over_connected_messages() {
    let mut d = Enip::default();
    let upload = hex("4f03206a2500fa1b");
    let read_tag = hex("4c0391034d6f740001000000");
    let events = run_tcp(
        &mut d,
        &[
            (Direction::ToServer, unit(1, &upload)),
            (Direction::ToClient, unit(1, &hex("cf0000000f000000"))),
            (Direction::ToServer, unit(2, &read_tag)),
            (Direction::ToClient, unit(2, &hex("cc00050000"))),
        ],
    );
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::ProgramUpload, 0x4F, Some("class 0x6a instance 7162".into()), OperationResult::Success),
            (OperationKind::Read, 0x4C, Some("tag Mot".into()), OperationResult::Error(5)),
        ]
    );
    let f = facts(&events);
    assert!(f.contains(&(1, IdentityField::Role, "engineering-workstation".into())));
    assert!(f.contains(&(2, IdentityField::Role, "controller".into())));
    assert!(violations(&events).is_empty());
}

#[test]
fn multiple_service_packet_results_per_request() {
    let mut d = Enip::default();
    let request = hex("0a0220022401020006000e000e03200124013007100320042465300301");
    let reply = hex("8a000000020006000d008e0000000241429000080000");
    let events = run_tcp(&mut d, &[(Direction::ToServer, rr(9, &request)), (Direction::ToClient, rr(9, &reply))]);
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::Identify, 0x0E, Some("class 0x01 instance 1 attr 7".into()), OperationResult::Success),
            (OperationKind::Write, 0x10, Some("class 0x04 instance 101 attr 3".into()), OperationResult::Error(8)),
        ]
    );
    assert!(facts(&events).contains(&(2, IdentityField::ProductName, "AB".into())));
    assert!(violations(&events).is_empty());
}

#[test]
fn responses_without_requests() {
    // The first in-flight response of a capture is not a violation...
    let mut d = Enip::default();
    let events = run_tcp(&mut d, &[(Direction::ToClient, rr(3, &hex("81000000")))]);
    assert!(violations(&events).is_empty());
    // ...but once requests were seen, an unmatched response is.
    let events = run_tcp(
        &mut d,
        &[
            (Direction::ToServer, rr(4, &hex("0e03200124013007"))),
            (Direction::ToClient, rr(4, &hex("8e000000024142"))),
            (Direction::ToClient, rr(5, &hex("8e000000024142"))),
        ],
    );
    assert_eq!(violations(&events), vec![ViolationKind::UnexpectedResponse]);
}

#[test]
fn malformed_paths_and_services() {
    let mut d = Enip::default();
    let events = run_tcp(
        &mut d,
        &[
            (Direction::ToServer, rr(1, &hex("0e02e0012401"))),
            (Direction::ToServer, rr(2, &hex("700220012401"))),
            (Direction::ToServer, rr(3, &hex("0e05200124"))),
        ],
    );
    assert_eq!(violations(&events), vec![ViolationKind::Malformed, ViolationKind::ReservedValue, ViolationKind::Malformed]);
}

#[test]
fn resynchronises_mid_stream_and_flags_unknown_commands() {
    let mut d = Enip::default();
    let mut first = hex("deadbeef0102");
    first.extend_from_slice(&encap(0x65, 0, &[1, 0, 0, 0]));
    let events = run_tcp(&mut d, &[(Direction::ToServer, first)]);
    assert!(violations(&events).is_empty());
    let mut bad = encap(0x99, 0, &[]);
    bad.extend_from_slice(&encap(0x66, 0, &[]));
    let events = run_tcp(&mut d, &[(Direction::ToServer, bad)]);
    assert_eq!(violations(&events), vec![ViolationKind::IllegalFunction]);
    assert_eq!(operations(&events), vec![(OperationKind::Session, 0x66, None, OperationResult::Unknown)]);
}

#[test]
fn partial_messages_wait_for_more() {
    let mut d = Enip::default();
    let mut sink = EventSink::default();
    let msg = hex(LIST_IDENTITY_REPLY);
    let mut ctx = Ctx::new(Timestamp(0), Direction::ToClient, endpoint(1, 50000), endpoint(2, PORT), Protocol::Enip, &mut sink);
    assert_eq!(d.stream(&mut ctx, &msg[..10]), 0);
    assert_eq!(d.stream(&mut ctx, &msg[..40]), 0);
    assert_eq!(d.stream(&mut ctx, &msg), msg.len());
}

#[test]
fn udp_list_identity_and_length_checks() {
    let mut d = Enip::default();
    let mut sink = EventSink::default();
    let mut ctx = Ctx::new(Timestamp(0), Direction::ToServer, endpoint(2, PORT), endpoint(1, 50000), Protocol::Enip, &mut sink);
    d.datagram(&mut ctx, &hex(LIST_IDENTITY_REPLY));
    let mut long = hex(LIST_IDENTITY_REPLY);
    long.push(0);
    d.datagram(&mut ctx, &long);
    d.datagram(&mut ctx, &long[..30]);
    let mut events = Vec::new();
    sink.swap(&mut events);
    assert!(facts(&events).contains(&(2, IdentityField::Serial, "0x00524d8e".into())));
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
    let mut io = CipIo::default();
    let mut sink = EventSink::default();
    let mut ctx = Ctx::new(Timestamp(0), Direction::ToServer, endpoint(1, IO_PORT), endpoint(2, IO_PORT), Protocol::Cip, &mut sink);
    io.datagram(&mut ctx, b"junk");
    for _ in 0..IO_PACKETS_CHECKED {
        assert!(!io.finished());
        io.datagram(&mut ctx, &hex("02000280080003064b00db943f00b1000600a587e80f0300"));
    }
    assert!(io.finished());
    io.datagram(&mut ctx, b"junk");
    let mut events = Vec::new();
    sink.swap(&mut events);
    assert_eq!(violations(&events), vec![ViolationKind::Malformed]);
}
