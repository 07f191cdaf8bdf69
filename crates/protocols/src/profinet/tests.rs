//! Dissector tests with hand-built frames.

use super::*;
use crate::testing::{mac_ep as mac, operation_events, subject_facts as facts, violation_kinds as violations, Flow};
use palisade_model::{Event, MacAddr};
use std::net::Ipv4Addr;

const TOOL: MacAddr = MacAddr([0x00, 0x0c, 0x29, 0xba, 0x09, 0xea]);
const SWITCH: MacAddr = MacAddr([0x08, 0x00, 0x06, 0x93, 0xcf, 0x32]);
const PN_MULTICAST: MacAddr = MacAddr([0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00]);

/// Feeds `(direction, frame)` to one flow of `D` between `client` and `server`, then ends it.
fn run<D: Dissector>(client: Endpoint, server: Endpoint, to_group: bool, frames: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    Flow::<D>::new(client, server).sent_to_group(to_group).datagrams(frames).end().events()
}

/// An operation as (client MAC, kind, code, target, result).
type Op = (Option<MacAddr>, OperationKind, u32, Option<String>, OperationResult);

fn operations(events: &[Event]) -> Vec<Op> {
    operation_events(events).into_iter().map(|o| (o.client.mac, o.kind, o.code, o.target.clone(), o.result)).collect()
}

/// A DCP frame: frame id, service, type, xid, blocks (each padded to even length).
fn dcp(frame_id: u16, service: u8, kind: u8, xid: u32, blocks: &[(u8, u8, Vec<u8>)]) -> Vec<u8> {
    let mut data = Vec::new();
    for (o, s, v) in blocks {
        data.extend_from_slice(&[*o, *s]);
        data.extend_from_slice(&(v.len() as u16).to_be_bytes());
        data.extend_from_slice(v);
        if v.len() % 2 == 1 {
            data.push(0);
        }
    }
    let mut f = frame_id.to_be_bytes().to_vec();
    f.extend_from_slice(&[service, kind]);
    f.extend_from_slice(&xid.to_be_bytes());
    f.extend_from_slice(&[0, 1]);
    f.extend_from_slice(&(data.len() as u16).to_be_bytes());
    f.extend_from_slice(&data);
    f
}

fn prefixed(prefix: u16, value: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_be_bytes().to_vec();
    v.extend_from_slice(value);
    v
}

fn ip_block(prefix: u16, ip: [u8; 4]) -> (u8, u8, Vec<u8>) {
    let mut v = ip.to_vec();
    v.extend_from_slice(&[255, 255, 255, 0, 192, 168, 0, 1]);
    (option::IP, ip::PARAMETER, prefixed(prefix, &v))
}

fn identify_response(xid: u32) -> Vec<u8> {
    dcp(
        parser::FRAME_IDENTIFY_RESPONSE,
        service::IDENTIFY,
        service_type::SUCCESS,
        xid,
        &[
            (option::DEVICE, device::TYPE_OF_STATION, prefixed(0, b"INC")),
            (option::DEVICE, device::NAME_OF_STATION, prefixed(0, b"X208-BORD")),
            (option::DEVICE, device::DEVICE_ID, prefixed(0, &[0x00, 0x2a, 0x0a, 0x01])),
            (option::DEVICE, device::ROLE, prefixed(0, &[0x01, 0x00])),
            ip_block(1, [192, 168, 0, 6]),
        ],
    )
}

#[test]
fn identify_and_set_ip() {
    let set = dcp(parser::FRAME_GET_SET, service::SET, service_type::REQUEST, 2, &[ip_block(1, [192, 168, 0, 10])]);
    let ok = dcp(parser::FRAME_GET_SET, service::SET, service_type::SUCCESS, 2, &[(option::CONTROL, control::RESPONSE, vec![1, 2, 0])]);
    let all = dcp(parser::FRAME_IDENTIFY_REQUEST, service::IDENTIFY, service_type::REQUEST, 1, &[(0xff, 0xff, vec![])]);
    let frames =
        [(Direction::ToServer, all), (Direction::ToClient, identify_response(1)), (Direction::ToServer, set), (Direction::ToClient, ok)];
    let events = run::<ProfinetDcp>(mac(TOOL), mac(SWITCH), false, &frames);
    let device = Endpoint { mac: Some(SWITCH), ip: Some(IpAddr::V4(Ipv4Addr::new(192, 168, 0, 6))), port: 0 };
    assert_eq!(
        facts(&events),
        vec![
            (device, IdentityField::DeviceName, "X208-BORD".into()),
            (device, IdentityField::ProductName, "INC".into()),
            (device, IdentityField::Vendor, "Siemens".into()),
            (device, IdentityField::Description, "profinet vendor 0x002a device 0x0a01".into()),
            (device, IdentityField::Role, "io-device".into()),
        ]
    );
    assert_eq!(
        operations(&events),
        vec![
            (Some(TOOL), OperationKind::Identify, 5, Some("all".into()), OperationResult::Success),
            (
                Some(TOOL),
                OperationKind::ConfigurationChange,
                4,
                Some("set ip 192.168.0.10/255.255.255.0 gw 192.168.0.1".into()),
                OperationResult::Success
            ),
        ]
    );
    assert!(violations(&events).is_empty());
}

#[test]
fn set_requests_by_the_server_side_and_errors() {
    // The device spoke first, so the tool is the flow's server.
    let hello = dcp(
        parser::FRAME_HELLO,
        service::HELLO,
        service_type::REQUEST,
        7,
        &[(option::DEVICE, device::NAME_OF_STATION, prefixed(0, b"io1"))],
    );
    let name = dcp(
        parser::FRAME_GET_SET,
        service::SET,
        service_type::REQUEST,
        8,
        &[
            (option::CONTROL, control::START, prefixed(0, &[])),
            (option::DEVICE, device::NAME_OF_STATION, prefixed(1, b"io2")),
            (option::CONTROL, control::END, prefixed(0, &[])),
        ],
    );
    let refused =
        dcp(parser::FRAME_GET_SET, service::SET, service_type::SUCCESS, 8, &[(option::CONTROL, control::RESPONSE, vec![2, 2, 5])]);
    let reset = dcp(
        parser::FRAME_GET_SET,
        service::SET,
        service_type::REQUEST,
        9,
        &[(option::CONTROL, control::RESET_TO_FACTORY, prefixed(2, &[]))],
    );
    let signal =
        dcp(parser::FRAME_GET_SET, service::SET, service_type::REQUEST, 10, &[(option::CONTROL, control::SIGNAL, prefixed(0, &[1, 0]))]);
    let frames = [
        (Direction::ToServer, hello),
        (Direction::ToClient, name),
        (Direction::ToServer, refused),
        (Direction::ToClient, reset),
        (Direction::ToClient, signal),
    ];
    let events = run::<ProfinetDcp>(mac(SWITCH), mac(TOOL), false, &frames);
    assert_eq!(facts(&events), vec![(mac(SWITCH), IdentityField::DeviceName, "io1".into())]);
    assert_eq!(
        operations(&events),
        vec![
            (Some(TOOL), OperationKind::ConfigurationChange, 4, Some("set name of station io2".into()), OperationResult::Error(5)),
            (Some(TOOL), OperationKind::DeviceReset, 4, Some("reset to factory".into()), OperationResult::Unknown),
            (Some(TOOL), OperationKind::Diagnostics, 4, Some("signal (flash led)".into()), OperationResult::Unknown),
        ]
    );
}

#[test]
fn multicast_identify_names_a_device_checking_its_own_name() {
    let ask = |xid, name: &[u8]| {
        (
            Direction::ToServer,
            dcp(
                parser::FRAME_IDENTIFY_REQUEST,
                service::IDENTIFY,
                service_type::REQUEST,
                xid,
                &[(option::DEVICE, device::NAME_OF_STATION, name.to_vec())],
            ),
        )
    };
    let events = run::<ProfinetDcp>(mac(SWITCH), mac(PN_MULTICAST), true, &[ask(1, b"switch3"), ask(2, b"switch3")]);
    assert_eq!(facts(&events), vec![(mac(SWITCH), IdentityField::DeviceName, "switch3".into())]);
    assert_eq!(
        operations(&events),
        vec![(Some(SWITCH), OperationKind::Identify, 5, Some("name of station switch3".into()), OperationResult::Unknown)]
    );
    // A controller looking for several devices names none after the first.
    let events = run::<ProfinetDcp>(mac(TOOL), mac(PN_MULTICAST), true, &[ask(1, b"io1"), ask(2, b"io2"), ask(3, b"io3")]);
    assert_eq!(facts(&events), vec![(mac(TOOL), IdentityField::DeviceName, "io1".into())]);
}

#[test]
fn cyclic_frames_are_only_counted() {
    let mut cyclic = vec![0x80, 0x00];
    cyclic.extend_from_slice(&[0xaa; 40]);
    let events = run::<ProfinetDcp>(mac(TOOL), mac(SWITCH), false, &[(Direction::ToServer, cyclic), (Direction::ToClient, vec![0xc0])]);
    assert_eq!(violations(&events), vec![ViolationKind::Malformed]);
    assert_eq!(events.len(), 1);
}

#[test]
fn malformed_dcp() {
    let mut long = identify_response(1);
    long.truncate(30);
    let mut bad_block = dcp(parser::FRAME_GET_SET, service::SET, service_type::REQUEST, 3, &[ip_block(1, [10, 0, 0, 1])]);
    bad_block[14] = 0x40; // the block's length runs past the data
    let unexpected =
        dcp(parser::FRAME_GET_SET, service::SET, service_type::SUCCESS, 77, &[(option::CONTROL, control::RESPONSE, vec![1, 2, 0])]);
    let frames = [
        (Direction::ToClient, long),
        (Direction::ToServer, bad_block),
        (Direction::ToServer, vec![0xfe, 0xfd, 4]),
        (Direction::ToClient, unexpected),
    ];
    let events = run::<ProfinetDcp>(mac(TOOL), mac(SWITCH), false, &frames);
    assert_eq!(
        violations(&events),
        vec![ViolationKind::LengthMismatch, ViolationKind::Malformed, ViolationKind::Malformed, ViolationKind::UnexpectedResponse]
    );
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// A PNIO-CM datagram to the device interface: ptype, opnum, blocks.
fn pnio(ptype: u8, opnum: u16, status: Option<[u8; 4]>, blocks: &[u8]) -> Vec<u8> {
    let mut m = vec![4, ptype, 0x08, 0, 0x10, 0, 0, 0];
    m.extend_from_slice(&hex("0000a0de976cd1118271 00010003015a"));
    m.extend_from_slice(&hex("0100a0de976cd111827100a02442df7d"));
    m.extend_from_slice(&[0x11; 16]); // activity
    m.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0]); // boot, interface version, seq 7
    m.extend_from_slice(&opnum.to_le_bytes());
    m.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let mut stub = status.map_or(vec![0x40, 0x80, 0, 0], |s| s.to_vec());
    let n = (blocks.len() as u32).to_le_bytes();
    for field in [n, [0x40, 0x80, 0, 0], [0; 4], n] {
        stub.extend_from_slice(&field);
    }
    stub.extend_from_slice(blocks);
    m.extend_from_slice(&(stub.len() as u16).to_le_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&stub);
    m
}

/// An IODReadReqHeader (or response, `kind` 0x8009) for `index`, record data after it.
fn read_header(kind: u16, index: u16, data: &[u8]) -> Vec<u8> {
    let mut b = kind.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x00, 0x3c, 0x01, 0x00, 0x00, 0x01]);
    b.extend_from_slice(&[0; 16 + 4 + 2]);
    b.extend_from_slice(&[0x00, 0x01, 0x00, 0x00]);
    b.extend_from_slice(&index.to_be_bytes());
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(data);
    b
}

#[test]
fn pnio_read_of_im0() {
    let mut im0 = hex("0020 0038 0100 002a");
    im0.extend_from_slice(b"6ES7 151-3BA23-0AB0 ");
    im0.extend_from_slice(b"S C-X4U123456789");
    im0.extend_from_slice(&hex("0003 56 02 06 03 0000 0000 0000 0101 001e"));
    let call = pnio(rpc::ptype::REQUEST, rpc::opnum::READ_IMPLICIT, None, &read_header(0x0009, 0xaff0, &[]));
    let reply = pnio(rpc::ptype::RESPONSE, rpc::opnum::READ_IMPLICIT, Some([0; 4]), &read_header(0x8009, 0xaff0, &im0));
    let controller = Endpoint { ip: Some(IpAddr::V4(Ipv4Addr::new(10, 10, 0, 150))), port: 1566, mac: None };
    let io = Endpoint { ip: Some(IpAddr::V4(Ipv4Addr::new(10, 10, 0, 129))), port: PORT, mac: None };
    let events = run::<ProfinetRpc>(controller, io, false, &[(Direction::ToServer, call), (Direction::ToClient, reply)]);
    let on_io: Vec<_> = facts(&events).into_iter().filter(|(s, _, _)| s.ip == io.ip).map(|(_, f, v)| (f, v)).collect();
    assert_eq!(
        on_io,
        vec![
            (IdentityField::Description, "profinet vendor 0x015a device 0x0003".into()),
            (IdentityField::Role, "io-device".into()),
            (IdentityField::Vendor, "Siemens".into()),
            (IdentityField::OrderNumber, "6ES7 151-3BA23-0AB0".into()),
            (IdentityField::Serial, "S C-X4U123456789".into()),
            (IdentityField::HardwareVersion, "3".into()),
            (IdentityField::Firmware, "V2.6.3".into()),
        ]
    );
    assert_eq!(operations(&events), vec![(None, OperationKind::Read, 5, Some("record 0xAFF0 I&M0".into()), OperationResult::Success)]);
    assert!(violations(&events).is_empty());
}

#[test]
fn pnio_connect_and_errors() {
    let mut ar = hex("0101 0000 0100 0001");
    ar.extend_from_slice(&[0; 48]);
    ar.extend_from_slice(&hex("0004"));
    ar.extend_from_slice(b"plc1");
    let len = (ar.len() - 4) as u16;
    ar[2..4].copy_from_slice(&len.to_be_bytes());
    let call = pnio(rpc::ptype::REQUEST, rpc::opnum::CONNECT, None, &ar);
    let refused = pnio(rpc::ptype::RESPONSE, rpc::opnum::CONNECT, Some([0xde, 0x81, 0x3c, 0x01]), &[]);
    let write = pnio(rpc::ptype::REQUEST, rpc::opnum::WRITE, None, &read_header(0x0008, 0x1234, &[1, 2]));
    let events = run::<ProfinetRpc>(
        mac(TOOL),
        mac(SWITCH),
        false,
        &[(Direction::ToServer, call), (Direction::ToClient, refused), (Direction::ToServer, write)],
    );
    assert!(facts(&events).contains(&(mac(TOOL), IdentityField::DeviceName, "plc1".into())));
    assert_eq!(
        operations(&events),
        vec![
            (Some(TOOL), OperationKind::Session, 0, Some("connect".into()), OperationResult::Error(0xde81_3c01)),
            (Some(TOOL), OperationKind::Write, 3, Some("record 0x1234".into()), OperationResult::Unknown),
        ]
    );
    let mut short = pnio(rpc::ptype::REQUEST, rpc::opnum::READ, None, &[]);
    short.truncate(60);
    let events =
        run::<ProfinetRpc>(mac(TOOL), mac(SWITCH), false, &[(Direction::ToServer, short), (Direction::ToServer, b"not rpc".to_vec())]);
    assert_eq!(violations(&events), vec![ViolationKind::Malformed]);
}
