//! DNP3 dissector over the shared real captures.

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol, ViolationKind};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The shared capture `file`, or `None` (with a note) when the shared data is absent.
fn capture(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(path)
}

fn analyze(path: &Path) -> Vec<Event> {
    palisade_sensor::analyze_path_events(path).expect("capture reads")
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("ip"))
}

fn operations(events: &[Event]) -> Vec<&Operation> {
    events
        .iter()
        .filter_map(|e| if let Event::Operation(o) = e { Some(o) } else { None })
        .filter(|o| o.protocol == Protocol::Dnp3)
        .collect()
}

fn violations(events: &[Event]) -> Vec<(ViolationKind, &str)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Violation(v) if v.protocol == Protocol::Dnp3 => Some((v.kind, v.detail.as_str())),
            _ => None,
        })
        .collect()
}

fn has_role(events: &[Event], host: &str, role: &str) -> bool {
    events.iter().any(|e| matches!(e, Event::Identity(f) if f.protocol == Protocol::Dnp3 && f.field == IdentityField::Role && f.subject.ip == ip(host) && f.value == role))
}

/// True if an operation of `kind` and `code` from `client` to `server`, with `target` and `result`, was reported.
fn has_op(
    ops: &[&Operation],
    client: &str,
    server: &str,
    kind: OperationKind,
    code: u32,
    target: Option<&str>,
    result: OperationResult,
) -> bool {
    ops.iter().any(|o| {
        o.client.ip == ip(client)
            && o.server.ip == ip(server)
            && o.kind == kind
            && o.code == code
            && o.target.as_deref() == target
            && o.result == result
    })
}

#[test]
fn zeek_restarts_stops_time_sync_and_refused_control() {
    let Some(path) = capture("dnp3/zeek_dnp3.pcap") else { return };
    let events = analyze(&path);
    for host in ["10.0.0.8", "10.0.0.9", "192.168.66.33"] {
        assert!(has_role(&events, host, "scada-client"), "{host}");
    }
    for host in ["10.0.0.3", "192.168.66.34"] {
        assert!(has_role(&events, host, "outstation"), "{host}");
    }
    let ops = operations(&events);
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
    let v = violations(&events);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v.iter().all(|(kind, detail)| *kind == ViolationKind::UnexpectedResponse && detail.ends_with("request with sequence 1")));
}

#[test]
fn icsnpp_select_before_operate_on_every_output() {
    let Some(path) = capture("dnp3/icsnpp_dnp3_example.pcap") else { return };
    let events = analyze(&path);
    let (master, outstation) = ("10.10.20.5", "10.10.20.8");
    assert!(has_role(&events, master, "scada-client"));
    assert!(has_role(&events, outstation, "outstation"));
    let ops = operations(&events);
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
    assert_eq!(violations(&events), vec![]);
}

#[test]
fn corrupted_data_block_is_a_checksum_error() {
    let Some(path) = capture("dnp3/icsnpp_dnp3_example.pcap") else { return };
    let mut bytes = std::fs::read(&path).expect("read capture");
    // Flip the transport header of the first link frame (in its first data block).
    let start = bytes.windows(2).position(|w| w == [0x05, 0x64]).expect("a DNP3 frame");
    bytes[start + 10] ^= 0xff;
    let corrupted = std::env::temp_dir().join(format!("palisade-dnp3-crc-{}.pcap", std::process::id()));
    std::fs::write(&corrupted, &bytes).expect("write capture");
    let events = analyze(&corrupted);
    let _ = std::fs::remove_file(&corrupted);
    let v = violations(&events);
    assert_eq!(v, vec![(ViolationKind::ChecksumError, "DNP3 data block CRC mismatch")]);
}
