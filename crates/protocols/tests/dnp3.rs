//! DNP3 dissector over the shared real captures.

use palisade_model::{Event, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::analyze_path_events;
use palisade_sensor::testdata::{has_fact, has_op, ip, operations, shared_capture, shared_events, violation_details};

fn has_role(events: &[Event], host: &str, role: &str) -> bool {
    has_fact(events, Protocol::Dnp3, host, IdentityField::Role, role)
}

#[test]
fn zeek_restarts_stops_time_sync_and_refused_control() {
    let Some(events) = shared_events("dnp3/zeek_dnp3.pcap") else { return };
    for host in ["10.0.0.8", "10.0.0.9", "192.168.66.33"] {
        assert!(has_role(&events, host, "scada-client"), "{host}");
    }
    for host in ["10.0.0.3", "192.168.66.34"] {
        assert!(has_role(&events, host, "outstation"), "{host}");
    }
    let ops = operations(&events, Protocol::Dnp3);
    let ok = OperationResult::Success;
    for master in ["10.0.0.8", "10.0.0.9"] {
        assert!(has_op(&ops, master, "10.0.0.3", OperationKind::ColdRestart, 13, None, ok), "{master}");
        assert!(has_op(&ops, master, "10.0.0.3", OperationKind::Write, 2, Some("g80v1 IIN index 7"), ok), "{master}");
        assert!(has_op(&ops, master, "10.0.0.3", OperationKind::ConfigurationChange, 20, Some("g60v2 class 1"), ok), "{master}");
    }
    assert!(has_op(&ops, "10.0.0.8", "10.0.0.3", OperationKind::WarmRestart, 14, None, ok));
    assert!(has_op(&ops, "10.0.0.8", "10.0.0.3", OperationKind::TimeSet, 2, Some("g50v1 time"), ok));
    // Stop application: once to the broadcast address (no answer), twice to
    // outstation 4 (answered with a mismatching sequence number).
    assert_eq!(ops.iter().filter(|o| o.kind == OperationKind::ControllerStop).count(), 2);
    assert!(has_op(&ops, "10.0.0.9", "10.0.0.3", OperationKind::ControllerStop, 18, Some("g60v2 class 1"), OperationResult::Unknown));
    // A select refused with IIN2 parameter error, and a read of an unknown object.
    let crob = Some("g12v1 CROB index 34463");
    assert!(has_op(&ops, "192.168.66.33", "192.168.66.34", OperationKind::Write, 3, crob, OperationResult::Error(4)));
    assert!(has_op(&ops, "192.168.66.33", "192.168.66.34", OperationKind::Read, 1, Some("g255v0"), OperationResult::Error(6)));
    assert!(has_op(&ops, "192.168.66.33", "192.168.66.34", OperationKind::Read, 1, Some("g60v2 class 1"), ok));
    // The only violations: the two stop-application responses whose sequence
    // number is not the request's.
    let v = violation_details(&events, Protocol::Dnp3);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v.iter().all(|(kind, detail)| *kind == ViolationKind::UnexpectedResponse && detail.ends_with("request with sequence 1")));
}

#[test]
fn icsnpp_select_before_operate_on_every_output() {
    let Some(events) = shared_events("dnp3/icsnpp_dnp3_example.pcap") else { return };
    let (master, outstation) = ("10.10.20.5", "10.10.20.8");
    assert!(has_role(&events, master, "scada-client"));
    assert!(has_role(&events, outstation, "outstation"));
    let ops = operations(&events, Protocol::Dnp3);
    let ok = OperationResult::Success;
    for index in 0..=13 {
        let target = format!("g12v1 CROB index {index}");
        assert!(has_op(&ops, master, outstation, OperationKind::Write, 3, Some(&target), ok), "select {index}");
        assert!(has_op(&ops, master, outstation, OperationKind::Write, 4, Some(&target), ok), "operate {index}");
    }
    // Class 0 polls, their multi-fragment responses reassembled and matched.
    assert!(has_op(&ops, master, outstation, OperationKind::Read, 1, Some("g60v1 class 0"), ok));
    assert!(ops.iter().all(|o| o.client.ip == ip(master) && o.result == ok), "{ops:?}");
    let reads: u32 = ops.iter().filter(|o| o.kind == OperationKind::Read).map(|o| o.count).sum();
    assert!(reads >= 60, "{reads} reads");
    assert_eq!(violation_details(&events, Protocol::Dnp3), vec![]);
}

#[test]
fn corrupted_data_block_is_a_checksum_error() {
    let Some(path) = shared_capture("dnp3/icsnpp_dnp3_example.pcap") else { return };
    let mut bytes = std::fs::read(&path).expect("read capture");
    // Flip the transport header of the first link frame (in its first data block).
    let start = bytes.windows(2).position(|w| w == [0x05, 0x64]).expect("a DNP3 frame");
    bytes[start + 10] ^= 0xff;
    let corrupted = std::env::temp_dir().join(format!("palisade-dnp3-crc-{}.pcap", std::process::id()));
    std::fs::write(&corrupted, &bytes).expect("write capture");
    let events = analyze_path_events(&corrupted).expect("capture reads");
    let _ = std::fs::remove_file(&corrupted);
    let v = violation_details(&events, Protocol::Dnp3);
    assert_eq!(v, vec![(ViolationKind::ChecksumError, "DNP3 data block CRC mismatch")]);
}
