//! S7comm and S7comm-plus dissectors over the shared real captures.

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::testdata::{self, assert_facts, has_fact, host_protocols, ip, shared_events, violation_details};

/// The operations of both S7 dissectors (classic and plus share port 102).
fn operations(events: &[Event]) -> Vec<&Operation> {
    [testdata::operations(events, Protocol::S7comm), testdata::operations(events, Protocol::S7commPlus)].concat()
}

/// The violations of both S7 dissectors, as (kind, detail).
fn violations(events: &[Event]) -> Vec<(ViolationKind, &str)> {
    [violation_details(events, Protocol::S7comm), violation_details(events, Protocol::S7commPlus)].concat()
}

#[test]
fn snap7_s300_identity_and_operations() {
    let Some(ev) = shared_events("s7comm/icsnpp_s7comm_snap7_s300.pcap") else { return };
    let plc = "134.217.61.211";
    assert_facts(
        &ev,
        Protocol::S7comm,
        plc,
        &[
            (IdentityField::OrderNumber, "6ES7 315-2EH14-0AB0"),
            (IdentityField::Model, "CPU 315-2 PN/DP"),
            (IdentityField::DeviceName, "S7300/ET200M station_1"),
            (IdentityField::Description, "PLC_1"),
            (IdentityField::Serial, "S C-B1U393142011"),
            (IdentityField::Firmware, "V3.2.7"),
            (IdentityField::HardwareVersion, "3"),
            (IdentityField::Vendor, "Siemens"),
            (IdentityField::Role, "plc"),
        ],
    );
    assert!(has_fact(&ev, Protocol::S7comm, "134.217.61.131", IdentityField::Role, "engineering-workstation"));
    assert!(!ev
        .iter()
        .any(|e| matches!(e, Event::Identity(f) if f.subject.ip == ip("134.217.61.131") && f.field == IdentityField::Serial)));

    let ops = operations(&ev);
    let find = |kind: OperationKind, target: Option<&str>| {
        ops.iter().find(|o| o.kind == kind && (target.is_none() || o.target.as_deref() == target)).copied()
    };
    for szl in ["SZL 0x0011 index 0x0000", "SZL 0x001c index 0x0000"] {
        assert_eq!(find(OperationKind::Identify, Some(szl)).map(|o| (o.code, o.result)), Some((0x0401, OperationResult::Success)), "{szl}");
    }
    assert!(find(OperationKind::Diagnostics, Some("SZL 0x0424 index 0x0000")).is_some());
    assert_eq!(find(OperationKind::ProgramUpload, Some("SDB0")).map(|o| o.result), Some(OperationResult::Success));
    assert_eq!(find(OperationKind::ProgramUpload, Some("OB0")).map(|o| o.result), Some(OperationResult::Error(0xd20c)));
    assert!(find(OperationKind::TimeSet, Some("clock")).is_some());
    assert!(find(OperationKind::Read, Some("clock")).is_some());
    assert_eq!(ops.iter().filter(|o| o.kind == OperationKind::Read && o.code == 4).count(), 2);
    assert_eq!(ops.iter().filter(|o| o.kind == OperationKind::Write && o.code == 5).count(), 2);
    assert!(find(OperationKind::Read, Some("M16 len 4")).is_some());
    assert!(find(OperationKind::ControllerStop, None).is_some());
    assert!(find(OperationKind::ColdRestart, Some("P_PROGRAM")).is_some());
    assert!(find(OperationKind::ConfigurationChange, Some("_MODU")).is_some());
    assert!(ops.iter().all(|o| o.protocol == Protocol::S7comm && o.server.ip == ip(plc)));
    assert_eq!(violations(&ev), []);
}

#[test]
fn wincc_s400_reads() {
    let Some(ev) = shared_events("s7comm/iti_wincc_s400_production.pcapng") else { return };
    assert!(has_fact(&ev, Protocol::S7comm, "194.250.63.170", IdentityField::Role, "plc"));
    let ops = operations(&ev);
    let reads = ops.iter().filter(|o| o.kind == OperationKind::Read && o.code == 4).count();
    let writes = ops.iter().filter(|o| o.kind == OperationKind::Write && o.code == 5).count();
    assert!(reads >= 10, "{reads} reads");
    assert!(writes >= 10, "{writes} writes");
    assert!(ops.iter().any(|o| o.target.as_deref() == Some("DB74.DBX108.0 len 2, DB76.DBX404.0 len 4, DB81.DBX60.0 len 2")));
    assert!(ops.iter().all(|o| o.server.ip == ip("194.250.63.170")));
    // The capture lacks a few bytes before every client segment, so client
    // requests reach the dissector late: at most one orphan response is flagged.
    let v = violations(&ev);
    assert!(v.len() <= 1 && v.iter().all(|(k, _)| *k == ViolationKind::UnexpectedResponse), "{v:?}");
}

#[test]
fn s7comm_plus_mixed_with_classic() {
    let Some(ev) = shared_events("s7comm-plus/icsnpp_s7comm_plus.pcap") else { return };
    let ops = operations(&ev);
    let plus: Vec<_> = ops.iter().filter(|o| o.protocol == Protocol::S7commPlus).collect();
    assert!(plus.iter().any(|o| o.kind == OperationKind::Read && o.code == 0x054c && o.result == OperationResult::Success));
    assert!(plus.iter().any(|o| o.kind == OperationKind::Write && o.code == 0x0542));
    assert!(plus.iter().all(|o| o.client.ip == ip("192.168.0.3") && o.server.ip == ip("192.168.0.1")));
    let classic: Vec<_> = ops.iter().filter(|o| o.protocol == Protocol::S7comm).collect();
    assert!(classic.iter().any(|o| o.kind == OperationKind::Read && o.target.as_deref() == Some("DB5.DBX0.0 len 8")));
    assert!(classic.iter().any(|o| o.kind == OperationKind::Session && o.target.as_deref() == Some("tsap 0x0101 rack 0 slot 1")));
    assert!(classic.iter().all(|o| o.client.ip == ip("192.168.0.33")));
    assert!(has_fact(&ev, Protocol::S7comm, "192.168.0.1", IdentityField::Role, "plc"));
    let plc = host_protocols(&ev, "192.168.0.1");
    assert!(plc.contains(&Protocol::S7comm) && plc.contains(&Protocol::S7commPlus), "{plc:?}");
    assert!(host_protocols(&ev, "192.168.0.3").contains(&Protocol::S7commPlus));
    assert_eq!(violations(&ev), []);
}

#[test]
fn s7_1200_hmi_session() {
    let Some(ev) = shared_events("s7comm-plus/iti_s7_1200_hmi.pcap") else { return };
    let (plc, hmi) = ("192.168.25.131", "192.168.25.177");
    assert!(has_fact(&ev, Protocol::S7commPlus, plc, IdentityField::OrderNumber, "6ES7 211-1BE31-0XB0"));
    assert!(has_fact(&ev, Protocol::S7commPlus, plc, IdentityField::Firmware, "V3.0"));
    assert!(has_fact(&ev, Protocol::S7commPlus, plc, IdentityField::Role, "plc"));
    assert!(has_fact(&ev, Protocol::S7commPlus, hmi, IdentityField::Role, "hmi"));
    for host in [plc, hmi] {
        assert_eq!(host_protocols(&ev, host), [Protocol::S7commPlus], "{host}");
    }
    let ops = operations(&ev);
    assert!(ops.iter().any(|o| o.kind == OperationKind::Session && o.code == 0x04ca && o.result == OperationResult::Success));
    assert!(ops.iter().any(|o| o.kind == OperationKind::Session && o.target.as_deref() == Some("tsap SIMATIC-ROOT-HMI")));
    assert!(ops.iter().any(|o| o.kind == OperationKind::Read && o.code == 0x054c));
    assert!(ops.iter().all(|o| o.protocol == Protocol::S7commPlus));
    assert_eq!(violations(&ev), []);
}
