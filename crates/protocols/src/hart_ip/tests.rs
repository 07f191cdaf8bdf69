//! Dissector tests over HART-IP messages (taken from a gateway session).

use super::*;
use crate::testing::{ep, facts, operations, violation_kinds as violations, Flow, APART};
use palisade_model::{Event, OperationKind};

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// A HART-IP message around `body`.
fn message(message_type: u8, id: u8, status: u8, sequence: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![1, message_type, id, status];
    v.extend_from_slice(&sequence.to_be_bytes());
    v.extend_from_slice(&(body.len() as u16 + 8).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A HART frame: delimiter, address, command, data (with status for responses) and check byte.
fn hart(delimiter: u8, address: &[u8], command: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![delimiter];
    v.extend_from_slice(address);
    v.push(command);
    v.push(data.len() as u8);
    v.extend_from_slice(data);
    v.push(v.iter().fold(0, |x, b| x ^ b));
    v
}

const GW: [u8; 5] = [0x26, 0x4e, 0x00, 0x00, 0xd2];
const OTHER: [u8; 5] = [0x91, 0x11, 0x00, 0x12, 0x34];

fn cmd0_data() -> Vec<u8> {
    hex("00d0fe264e050704010e0c0000d205020002d00026002684")
}

/// Feeds messages a minute apart from 10.0.0.2 to the gateway 10.0.0.1, as
/// datagrams or as a stream, ends the flow and returns the events.
fn run(list: &[(Direction, Vec<u8>)], udp: bool) -> Vec<Event> {
    let mut flow = Flow::<HartIp>::new(ep(2, 50000), ep(1, 5094)).every(APART);
    if udp {
        flow.datagrams(list);
    } else {
        flow.streams(list);
    }
    flow.end().events()
}

#[test]
fn probe_is_strict() {
    let init = hex("010000000002000d0100007530");
    assert!(probe(&init, true));
    assert!(probe(&init, false));
    assert!(!probe(&init[..12], false));
    let mut longer = init.clone();
    longer.push(0);
    assert!(!probe(&longer, false));
    assert!(probe(&hex("010003000003001182264e0000d2000038"), false));
    // A bad check byte in the PDU.
    assert!(!probe(&hex("010003000003001182264e0000d2000039"), false));
    assert!(!probe(&hex("090000000002000d0100007530"), false));
    assert!(!probe(&hex("010000000002000d0500007530"), false));
    assert!(!probe(b"GET / HTTP/1.1\r\n\r\n", true));
    assert!(!probe(&[0u8; 8], false));
}

#[test]
fn gateway_session_with_identity() {
    let list = [
        (C, message(0, 0, 0, 2, &hex("0100007530"))),
        (S, message(1, 0, 0, 2, &hex("010000ea60"))),
        (C, message(0, 3, 0, 3, &hart(0x02, &[0x80], 0, &[]))),
        (S, message(1, 3, 0, 3, &hart(0x06, &[0x80], 0, &cmd0_data()))),
        (C, message(0, 3, 0, 4, &hart(0x82, &GW, 20, &[]))),
        (S, message(1, 3, 0, 4, &hart(0x86, &GW, 20, &[&[0, 0xd0][..], b"wihartgw", &[0; 24]].concat()))),
        (C, message(0, 3, 0, 5, &hart(0x82, &GW, 3, &[]))),
        (S, message(1, 3, 0, 5, &hart(0x86, &GW, 3, &[0x40, 0xd0]))),
        (C, message(0, 1, 0, 6, &[])),
        (S, message(1, 1, 0, 6, &[])),
    ];
    for udp in [false, true] {
        let events = run(&list, udp);
        let f = facts(&events);
        assert!(f.contains(&(IdentityField::Vendor, "Rosemount".into(), 1)), "{f:?}");
        assert!(f.contains(&(IdentityField::Firmware, "sw 1 hw 1".into(), 1)));
        assert!(f.contains(&(IdentityField::Description, "hart device Rosemount type 0x264e id 0x0000d2".into(), 1)));
        assert!(f.contains(&(IdentityField::DeviceName, "wihartgw".into(), 1)));
        assert!(f.contains(&(IdentityField::Role, "gateway".into(), 1)));
        assert!(f.contains(&(IdentityField::Role, "scada-client".into(), 2)));
        assert_eq!(
            operations(&events),
            vec![
                (OperationKind::Session, 0, None, OperationResult::Success),
                (OperationKind::Identify, 0, Some("polling address 0".into()), OperationResult::Success),
                (OperationKind::Read, 20, Some("type 0x264e id 0x0000d2".into()), OperationResult::Success),
                (OperationKind::Read, 3, Some("type 0x264e id 0x0000d2".into()), OperationResult::Error(0x40)),
                (OperationKind::Session, 1, None, OperationResult::Success),
            ]
        );
        assert!(violations(&events).is_empty());
    }
}

#[test]
fn devices_behind_the_gateway_are_descriptions() {
    let mut cmd13 = vec![0, 0];
    cmd13.extend_from_slice(&hex("514b71c31820")); // "TT-101"
    cmd13.extend_from_slice(&[0; 15]);
    let list = [
        (C, message(0, 3, 0, 1, &hart(0x82, &OTHER, 13, &[]))),
        (S, message(1, 3, 0, 1, &hart(0x86, &OTHER, 13, &cmd13))),
        (C, message(0, 3, 0, 2, &hart(0x82, &OTHER, 0, &[]))),
        (S, message(1, 3, 0, 2, &hart(0x86, &OTHER, 0, &hex("0000fe1111050701030c0c00123405020002d00011001184")))),
        (C, message(0, 3, 0, 3, &hart(0x82, &OTHER, 42, &[]))),
        (S, message(1, 3, 0, 3, &hart(0x86, &OTHER, 42, &[0, 0]))),
    ];
    let events = run(&list, false);
    let f = facts(&events);
    assert!(f.contains(&(IdentityField::Description, "hart device type 0x1111 id 0x001234 tag TT-101".into(), 1)), "{f:?}");
    assert!(f.contains(&(IdentityField::Description, "hart device Endress+Hauser type 0x1111 id 0x001234".into(), 1)));
    assert!(!f.iter().any(|(field, _, _)| matches!(field, IdentityField::DeviceName | IdentityField::Vendor | IdentityField::Firmware)));
    assert_eq!(
        operations(&events).last(),
        Some(&(OperationKind::DeviceReset, 42, Some("type 0x1111 id 0x001234".into()), OperationResult::Success))
    );
}

#[test]
fn unanswered_errors_and_unexpected_responses() {
    let events = run(
        &[
            (C, message(0, 2, 0, 1, &[])),
            (S, message(1, 2, 0, 1, &[])),
            (C, message(0, 3, 0, 2, &hart(0x82, &GW, 6, &[3, 0]))),
            (S, message(15, 3, 16, 2, &[])),
            (S, message(1, 2, 0, 9, &[])),
            (C, message(0, 3, 0, 3, &hart(0x82, &GW, 41, &[]))),
        ],
        true,
    );
    assert_eq!(
        operations(&events),
        vec![
            (OperationKind::Session, 2, None, OperationResult::Success),
            (OperationKind::ConfigurationChange, 6, Some("type 0x264e id 0x0000d2".into()), OperationResult::Error(16)),
            (OperationKind::Diagnostics, 41, Some("type 0x264e id 0x0000d2".into()), OperationResult::Unknown),
        ]
    );
    assert_eq!(violations(&events), vec![ViolationKind::UnexpectedResponse]);
}

#[test]
fn bad_pdus_are_flagged() {
    let mut bad_check = hart(0x82, &GW, 0, &[]);
    *bad_check.last_mut().expect("byte") ^= 1;
    let events = run(
        &[
            (C, message(0, 3, 0, 1, &bad_check)),
            (C, message(0, 3, 0, 2, &[0x82, 0x26, 0x4e, 0, 0, 0xd2, 0, 9, 0])),
            (C, message(0, 3, 0, 3, &hart(0x86, &GW, 0, &[0, 0]))),
        ],
        true,
    );
    assert_eq!(violations(&events), vec![ViolationKind::ChecksumError, ViolationKind::LengthMismatch, ViolationKind::Malformed]);
    assert_eq!(operations(&events).first(), Some(&(OperationKind::Other, 3, None, OperationResult::Unknown)));
}

#[test]
fn stream_resynchronises_after_garbage() {
    let mut data = b"\x07\x07garbage!".to_vec();
    data.extend_from_slice(&message(0, 2, 0, 1, &[]));
    let rsp = message(1, 2, 0, 1, &[]);
    let events = run(&[(C, data[..10].to_vec()), (C, data[10..].to_vec()), (S, rsp[..3].to_vec()), (S, rsp[3..].to_vec())], false);
    assert_eq!(operations(&events), vec![(OperationKind::Session, 2, None, OperationResult::Success)]);
    assert_eq!(violations(&events), vec![ViolationKind::Malformed]);
}

#[test]
fn direct_pdu_is_the_server_itself() {
    let events = run(
        &[
            (C, message(0, 4, 0, 1, &hex("0000001400"))),
            (S, message(1, 4, 0, 1, &[&hex("0000001421")[..], &[0], b"field-io", &[0; 24]].concat())),
        ],
        true,
    );
    assert!(facts(&events).contains(&(IdentityField::DeviceName, "field-io".into(), 1)));
    assert_eq!(operations(&events), vec![(OperationKind::Read, 20, Some("direct".into()), OperationResult::Success)]);
}
