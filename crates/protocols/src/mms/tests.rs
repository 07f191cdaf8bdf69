//! Unit tests of the MMS dissector over hand-built and captured PDUs.

use super::parser::tests::{data_tsdu, hex, ACCEPT, CONNECT, IDENTIFY};
use super::*;
use crate::testing::{self, ip_facts, operation_events, Flow};
use palisade_model::{Endpoint, Event};
use std::net::{IpAddr, Ipv4Addr};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

/// A BER element with a short length.
fn tlv(tag: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    out.push(content.len() as u8);
    out.extend_from_slice(content);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// TPKT + COTP DT (last) around a TSDU.
fn tpkt(tsdu: &[u8]) -> Vec<u8> {
    let len = (tsdu.len() + 7) as u16;
    let mut out = vec![3, 0];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[2, 0xf0, 0x80]);
    out.extend_from_slice(tsdu);
    out
}

fn request(invoke: u8, service: &[u8]) -> Vec<u8> {
    tpkt(&data_tsdu(&tlv(&[0xa0], &cat(&[&[0x02, 0x01, invoke], service]))))
}

fn response(invoke: u8, service: &[u8]) -> Vec<u8> {
    tpkt(&data_tsdu(&tlv(&[0xa1], &cat(&[&[0x02, 0x01, invoke], service]))))
}

/// A domain-specific object name `[1] { domain, item }`.
fn domain_name(domain: &str, item: &str) -> Vec<u8> {
    tlv(&[0xa1], &cat(&[&tlv(&[0x1a], domain.as_bytes()), &tlv(&[0x1a], item.as_bytes())]))
}

/// A read (or write, with `write`) of one named variable.
fn variable_list(domain: &str, item: &str) -> Vec<u8> {
    tlv(&[0xa0], &tlv(&[0x30], &tlv(&[0xa0], &domain_name(domain, item))))
}

/// A flow from 10.0.0.1 to the MMS port of 10.0.0.2.
fn flow() -> Flow<Mms> {
    Flow::new(Endpoint { mac: None, ip: Some(CLIENT), port: 49152 }, Endpoint { mac: None, ip: Some(SERVER), port: 102 })
}

/// Runs messages (direction, bytes) through one flow; returns the events.
fn run(messages: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    flow().whole_streams(messages).end().events()
}

fn op_summary(events: &[Event]) -> Vec<(OperationKind, u32, String, OperationResult)> {
    operation_events(events).into_iter().map(|o| (o.kind, o.code, o.target.clone().unwrap_or_default(), o.result)).collect()
}

fn violations(events: &[Event]) -> Vec<String> {
    testing::violations(events).into_iter().map(|(kind, detail)| format!("{kind} {detail}")).collect()
}

fn facts(events: &[Event]) -> Vec<(IpAddr, IdentityField, String)> {
    ip_facts(events).into_iter().filter_map(|(ip, field, value)| Some((ip?, field, value))).collect()
}

use Direction::{ToClient as In, ToServer as Out};

#[test]
fn probe_recognises_mms_but_not_s7() {
    // COTP CR with TSAPs 0001/0002 (the AREVA capture).
    let cr = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0xb0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 0, 1, 0xc2, 2, 0, 2];
    assert!(probe(&cr, true));
    assert!(!probe(&cr, false));
    assert!(crate::s7comm::family(&cr).is_none());
    // S7 CR (PG TSAPs 0100/0102) is not MMS.
    let s7 = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2];
    assert!(!probe(&s7, true));
    // A lone TPKT header, as the AREVA client sends it.
    assert!(probe(&[3, 0, 0, 22], true));
    assert!(!probe(&[3, 0, 0, 22, 17], true));
    // Mid-session data and a connect.
    assert!(probe(&request(1, &[0x82, 0x00]), true));
    assert!(probe(&tpkt(&hex(CONNECT)), true));
    // S7comm data is not MMS.
    assert!(!probe(&tpkt(&[0x32, 1, 0, 0, 0, 0, 0, 8, 0, 0]), true));
    assert!(!probe(b"GET / HTTP/1.1\r\n", true));
}

#[test]
fn association_and_identify() {
    let ev = run(&[(Out, tpkt(&hex(CONNECT))), (In, tpkt(&hex(ACCEPT))), (Out, request(1, &[0x82, 0x00])), (In, tpkt(&hex(IDENTIFY)))]);
    assert_eq!(
        op_summary(&ev),
        vec![
            (OperationKind::Session, 8, "calling ap-title 1.1.1 called ap-title 1.1.2".to_string(), OperationResult::Success),
            (OperationKind::Identify, 2, String::new(), OperationResult::Success),
        ]
    );
    let f = facts(&ev);
    for (field, value) in [
        (IdentityField::Vendor, "AREVA T&D Corporation"),
        (IdentityField::Model, "e-terracomm"),
        (IdentityField::Firmware, "2.3.1"),
        (IdentityField::Role, "ied"),
    ] {
        assert!(f.contains(&(SERVER, field, value.to_string())), "{field} {value}");
    }
    assert!(f.contains(&(CLIENT, IdentityField::Role, "scada-client".to_string())));
    assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
}

#[test]
fn reads_writes_and_errors() {
    let read = tlv(&[0xa4], &tlv(&[0xa1], &variable_list("LD0", "LLN0$ST$Mod")));
    // Read response: one failure (object-non-existent, 10).
    let read_failed = tlv(&[0xa4], &tlv(&[0xa1], &[0x80, 0x01, 0x0a]));
    let write = tlv(&[0xa5], &cat(&[&variable_list("LD0", "CSWI1$CO$Pos$Oper"), &tlv(&[0xa0], &[0x83, 0x01, 0x01])]));
    let write_ok = tlv(&[0xa5], &[0x81, 0x00]);
    let list = tlv(&[0xab], &cat(&[&domain_name("LD0", "DS1"), &tlv(&[0xa0], &[])]));
    // confirmed-ErrorPDU for invoke 4: class definition (2), code object-undefined (1).
    let error = tpkt(&data_tsdu(&[0xa2, 0x0a, 0x80, 0x01, 0x04, 0xa2, 0x05, 0xa0, 0x03, 0x82, 0x01, 0x01]));
    let ev = run(&[
        (Out, request(2, &read)),
        (In, response(2, &read_failed)),
        (Out, request(3, &write)),
        (In, response(3, &write_ok)),
        (Out, request(4, &list)),
        (In, error),
    ]);
    assert_eq!(
        op_summary(&ev),
        vec![
            (OperationKind::Read, 4, "LD0/LLN0$ST$Mod".to_string(), OperationResult::Error(10)),
            (OperationKind::Write, 5, "LD0/CSWI1$CO$Pos$Oper".to_string(), OperationResult::Success),
            (OperationKind::ConfigurationChange, 11, "list LD0/DS1".to_string(), OperationResult::Error(0x0201)),
        ]
    );
}

#[test]
fn files_and_program_invocations() {
    let file_name = |name: &str| tlv(&[0x19], name.as_bytes());
    let open = tlv(&[0xbf, 0x48], &cat(&[&tlv(&[0xa0], &file_name("COMTRADE/fault1.cfg")), &[0x81, 0x01, 0x00]]));
    let read = [0x9f, 0x49, 0x01, 0x01];
    let delete = tlv(&[0xbf, 0x4c], &file_name("old.bin"));
    let obtain = tlv(&[0xbf, 0x2e], &cat(&[&tlv(&[0xa1], &file_name("src.bin")), &tlv(&[0xa2], &file_name("firmware.bin"))]));
    let pi = |tag: u8| tlv(&[0xbf, tag], &tlv(&[0x80], b"PROG1"));
    let mut messages = Vec::new();
    for (i, service) in [open, read.to_vec(), delete, obtain, pi(0x28), pi(0x29), pi(0x2b)].iter().enumerate() {
        let invoke = i as u8 + 10;
        messages.push((Out, request(invoke, service)));
        let tag = service.get(..2).expect("tag").to_vec();
        messages.push((In, response(invoke, &tlv(&tag, &[]))));
    }
    let summary = op_summary(&run(&messages));
    let want = [
        (OperationKind::Read, 72, "file COMTRADE/fault1.cfg"),
        (OperationKind::ProgramDelete, 76, "file old.bin"),
        (OperationKind::ProgramDownload, 46, "file firmware.bin"),
        (OperationKind::ControllerStart, 40, "program invocation PROG1"),
        (OperationKind::ControllerStop, 41, "program invocation PROG1"),
        (OperationKind::DeviceReset, 43, "program invocation PROG1"),
    ];
    let got: Vec<_> = summary.iter().map(|(k, c, t, _)| (*k, *c, t.as_str())).collect();
    assert_eq!(got, want);
    assert!(summary.iter().all(|s| s.3 == OperationResult::Success));
}

#[test]
fn names_lists_and_long_reads() {
    let get_names = tlv(&[0xa1], &cat(&[&tlv(&[0xa0], &[0x80, 0x01, 0x09]), &tlv(&[0xa1], &[0x80, 0x00])]));
    let in_domain = tlv(&[0xa1], &cat(&[&tlv(&[0xa0], &[0x80, 0x01, 0x00]), &tlv(&[0xa1], &tlv(&[0x81], b"LD0"))]));
    let attrs = tlv(&[0xa6], &tlv(&[0xa0], &domain_name("LD0", "LLN0")));
    let vars: Vec<u8> = (0..5).flat_map(|i| tlv(&[0x30], &tlv(&[0xa0], &tlv(&[0x80], format!("V{i}").as_bytes())))).collect();
    let long_read = tlv(&[0xa4], &tlv(&[0xa1], &tlv(&[0xa0], &vars)));
    let ev = run(&[(Out, request(1, &get_names)), (Out, request(2, &in_domain)), (Out, request(3, &attrs)), (Out, request(4, &long_read))]);
    // No responses: reported at the end, without result.
    let got = op_summary(&ev);
    assert_eq!(
        got,
        vec![
            (OperationKind::Read, 1, "names of domain of vmd".to_string(), OperationResult::Unknown),
            (OperationKind::Read, 1, "names of namedVariable in domain LD0".to_string(), OperationResult::Unknown),
            (OperationKind::Read, 6, "LD0/LLN0".to_string(), OperationResult::Unknown),
            (OperationKind::Read, 4, "V0, V1, V2 +2 more".to_string(), OperationResult::Unknown),
        ]
    );
}

#[test]
fn orphans_mid_session_and_garbage() {
    // A response before any request (capture started mid-session): quiet.
    let ev = run(&[(In, response(7, &[0x82, 0x00]))]);
    assert!(violations(&ev).is_empty());
    // After a request, an unknown invoke id is reported once.
    let ev = run(&[(Out, request(1, &[0x82, 0x00])), (In, response(9, &[0x82, 0x00])), (In, response(8, &[0x82, 0x00]))]);
    assert_eq!(violations(&ev), vec!["unexpected-response MMS response to unknown invoke id 9".to_string()]);
    // A malformed MMS PDU inside valid session/presentation.
    let ev = run(&[(Out, request(1, &[0x82, 0x00])), (Out, tpkt(&data_tsdu(&[0xa0, 0x02, 0x82, 0x00])))]);
    assert_eq!(violations(&ev), vec!["malformed MMS PDU without invokeID".to_string()]);
    // A flow that is not ISO session traffic is given up.
    let mut mms = flow();
    let s7 = tpkt(&[0x32, 1, 0, 0, 0, 0, 0, 8, 0, 0]);
    assert_eq!(mms.stream(Out, &s7), s7.len());
    assert!(mms.dissector().finished());
}

#[test]
fn split_tpkt_and_resync() {
    let msg = request(1, &[0x82, 0x00]);
    let mut mms = flow();
    // Header alone first (as the AREVA client sends), then the rest.
    assert_eq!(mms.stream(Out, &msg[..4]), 0);
    assert_eq!(mms.stream(Out, &msg), msg.len());
    // Garbage before a TPKT after a gap is skipped.
    mms.gap(Out);
    let mut junk = vec![0xaa, 0x55, 0x01];
    junk.extend_from_slice(&msg);
    assert_eq!(mms.stream(Out, &junk), junk.len());
    assert!(!mms.dissector().finished());
}

#[test]
fn registry_hands_mms_connects_on_102_to_mms() {
    use crate::{Carrier, FlowDissector};
    use palisade_model::ProtocolSet;
    let cr = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0xb0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 0, 1, 0xc2, 2, 0, 2];
    // What the analyser does: the port picks S7comm, whose probe rejects
    // the first payload, and the payload probes then choose MMS.
    for first in [&cr[..], &cr[..4], &request(1, &[0x82, 0x00])[..]] {
        let by_port = FlowDissector::by_port(Carrier::Tcp, 102, 49152, ProtocolSet::all());
        assert_eq!(by_port.protocol(), Some(Protocol::S7comm));
        assert!(by_port.rejects(Carrier::Tcp, first));
        assert_eq!(FlowDissector::by_payload(Carrier::Tcp, first, ProtocolSet::all()).protocol(), Some(Protocol::Mms));
    }
    // An S7 connect stays S7comm.
    let s7 = [3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2];
    assert!(!FlowDissector::by_port(Carrier::Tcp, 102, 49152, ProtocolSet::all()).rejects(Carrier::Tcp, &s7));
}
