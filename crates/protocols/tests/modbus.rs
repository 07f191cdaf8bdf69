//! Modbus/TCP and UMAS dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json and from what
//! `tshark -Y modbus -T fields -e modbus.func_code` shows for each capture.

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::testdata::{has_fact, ip, operations, shared_events, violations};
use std::collections::BTreeSet;

#[test]
fn icsnpp_example_function_codes_and_device_identification() {
    let Some(ev) = shared_events("modbus/icsnpp_modbus_example.pcap") else { return };
    // FC 43/14 objects 0, 1 and 2 of the loopback server.
    assert!(has_fact(&ev, Protocol::Modbus, "127.0.0.1", IdentityField::Vendor, "Zeek Modbus Test"));
    assert!(has_fact(&ev, Protocol::Modbus, "127.0.0.1", IdentityField::OrderNumber, "Protocol Parsing is fun!"));
    assert!(has_fact(&ev, Protocol::Modbus, "127.0.0.1", IdentityField::Firmware, "1.2.3.6"));
    assert!(has_fact(&ev, Protocol::Modbus, "3.15.227.20", IdentityField::Role, "controller"));
    assert!(has_fact(&ev, Protocol::Modbus, "192.168.1.6", IdentityField::Role, "scada-client"));

    let ops = operations(&ev, Protocol::Modbus);
    let local: Vec<_> = ops.iter().filter(|o| o.client.ip == ip("127.0.0.1")).collect();
    // tshark: 23 requests on loopback, the two FC 22 ones identical (folded).
    assert_eq!(local.len(), 22, "{local:#?}");
    assert!(local.iter().all(|o| o.result == OperationResult::Success));
    let codes: BTreeSet<u32> = local.iter().map(|o| o.code).collect();
    assert_eq!(codes, BTreeSet::from([1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 20, 21, 22, 23, 24, 43]));
    let count = |kind: OperationKind| local.iter().filter(|o| o.kind == kind).count();
    assert_eq!(count(OperationKind::Read), 8 + 1 + 1, "FC 1-4 twice each, FC 20, FC 24");
    assert_eq!(count(OperationKind::Write), 2 + 2 + 1 + 1 + 2, "FC 5, 6, 15, 16, 21, 22, 23 x2");
    assert_eq!(count(OperationKind::Diagnostics), 3, "FC 7, 8, 17");
    assert_eq!(count(OperationKind::Identify), 1);
    let targets: BTreeSet<&str> = local.iter().filter_map(|o| o.target.as_deref()).collect();
    for t in
        ["coils:1-8", "discrete:1-1", "holding:1-8", "input:1-8", "coils:1-4", "holding:1-4", "holding:10-10", "fifo:0", "subfunction 2"]
    {
        assert!(targets.contains(t), "missing target {t}: {targets:?}");
    }

    // The second flow: a read answered with exception 2 (illegal data address).
    let remote: Vec<_> = ops.iter().filter(|o| o.client.ip == ip("192.168.1.6")).collect();
    assert_eq!(remote.len(), 1);
    assert_eq!(
        (remote[0].kind, remote[0].code, remote[0].target.as_deref(), remote[0].result),
        (OperationKind::Read, 3, Some("holding:600-609"), OperationResult::Error(2))
    );
    assert_eq!(remote[0].server.ip, ip("3.15.227.20"));

    assert!(violations(&ev, Protocol::Modbus).is_empty(), "{:#?}", violations(&ev, Protocol::Modbus));
}

#[test]
fn ndpi_function_3_polling() {
    let Some(ev) = shared_events("modbus/ndpi_modbus.pcap") else { return };
    assert!(has_fact(&ev, Protocol::Modbus, "192.168.110.138", IdentityField::Role, "controller"));
    assert!(has_fact(&ev, Protocol::Modbus, "192.168.110.131", IdentityField::Role, "scada-client"));
    let ops = operations(&ev, Protocol::Modbus);
    assert!(!ops.is_empty());
    for o in &ops {
        assert_eq!((o.kind, o.code, o.client.ip, o.server.ip), (OperationKind::Read, 3, ip("192.168.110.131"), ip("192.168.110.138")));
        assert!(matches!(o.target.as_deref(), Some("holding:0-0" | "holding:1-1")), "{o:?}");
    }
    assert!(ops.iter().any(|o| o.result == OperationResult::Success));
    // The last four responses carry transaction ids 1-4 while every request
    // before them used id 0 (tshark cannot pair them either): the only
    // violations in this capture.
    let v = violations(&ev, Protocol::Modbus);
    assert_eq!(v.len(), 4, "{v:#?}");
    assert!(v.iter().all(|v| v.kind == ViolationKind::UnexpectedResponse && v.client.ip == ip("192.168.110.138")));
}

#[test]
fn ndpi_umas_session_with_program_upload() {
    let Some(ev) = shared_events("modbus/ndpi_umas_modicon.pcap") else { return };
    let plc = "192.168.63.253";
    let station = "192.168.63.100";
    // UMAS Read ID (0x02) answer of a Modicon Quantum.
    assert!(has_fact(&ev, Protocol::Modbus, plc, IdentityField::Model, "140 CPU 311 10"));
    assert!(has_fact(&ev, Protocol::Modbus, plc, IdentityField::Firmware, "2.70"));
    assert!(has_fact(&ev, Protocol::Modbus, plc, IdentityField::Vendor, "Schneider Electric"));
    assert!(has_fact(&ev, Protocol::Modbus, plc, IdentityField::Role, "controller"));
    assert!(has_fact(&ev, Protocol::Modbus, station, IdentityField::Role, "engineering-workstation"));
    assert!(has_fact(&ev, Protocol::Modbus, station, IdentityField::Hostname, "USER-714E74F21B"));

    let ops = operations(&ev, Protocol::Modbus);
    assert!(ops.iter().all(|o| o.code == 90 && o.client.ip == ip(station) && o.server.ip == ip(plc)));
    assert!(ops.iter().all(|o| o.target.as_deref().is_some_and(|t| t.starts_with("umas:0x"))));
    assert!(ops.iter().all(|o| o.result == OperationResult::Success), "{ops:#?}");
    let targets: BTreeSet<&str> = ops.iter().filter_map(|o| o.target.as_deref()).collect();
    // UMAS codes in the capture: 01 02 03 04 0a 10 12 20 33 34 35 50 58.
    assert_eq!(targets.len(), 13, "{targets:?}");
    // The station reads the program out of the PLC: 0x33, 53 x 0x34, 0x35.
    let upload: Vec<_> = ops.iter().filter(|o| o.kind == OperationKind::ProgramUpload).collect();
    assert_eq!(upload.len(), 3, "{upload:#?}");
    assert!(upload.iter().any(|o| o.target.as_deref() == Some("umas:0x34 download block (from PLC)") && o.count >= 1));
    assert!(ops.iter().any(|o| o.kind == OperationKind::Login && o.target.as_deref() == Some("umas:0x10 take reservation")));
    assert!(ops.iter().any(|o| o.kind == OperationKind::Identify && o.target.as_deref() == Some("umas:0x02 read id")));
    assert!(!ops
        .iter()
        .any(|o| matches!(o.kind, OperationKind::ProgramDownload | OperationKind::ControllerStop | OperationKind::ControllerStart)));

    assert!(violations(&ev, Protocol::Modbus).is_empty(), "{:#?}", violations(&ev, Protocol::Modbus));
}
