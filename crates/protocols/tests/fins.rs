//! FINS dissector over the shared real capture (every FINS command of the
//! Zeek/ICSNPP test trace, sent by 10.4.14.102 to 10.130.130.130:9600; the
//! responses travel the same way, so their sender is 10.4.14.102 too).

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol};
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

fn has_fact(events: &[Event], host: &str, field: IdentityField, value: &str) -> bool {
    events.iter().any(|e| {
        matches!(e, Event::Identity(f) if f.protocol == Protocol::Fins && f.subject.ip == ip(host) && f.field == field && f.value == value)
    })
}

fn operations(events: &[Event]) -> Vec<&Operation> {
    events
        .iter()
        .filter_map(|e| if let Event::Operation(o) = e { Some(o) } else { None })
        .filter(|o| o.protocol == Protocol::Fins)
        .collect()
}

fn has_op(ops: &[&Operation], kind: OperationKind, code: u32, target: Option<&str>) -> bool {
    ops.iter().any(|o| o.kind == kind && o.code == code && o.target.as_deref() == target)
}

#[test]
fn icsnpp_udp_commands_and_controller_data() {
    let Some(path) = capture("omron-fins/icsnpp_omron_fins_udp.pcap") else { return };
    let events = analyze(&path);
    let (commander, plc) = ("10.4.14.102", "10.130.130.130");
    assert!(has_fact(&events, commander, IdentityField::Model, "AAAAAAAAAAAAAAAAAAAA"));
    assert!(has_fact(&events, commander, IdentityField::Firmware, "BBBBBBBBBBBBBBBBBBBB"));
    assert!(has_fact(&events, commander, IdentityField::Role, "scada-client"));
    assert!(has_fact(&events, commander, IdentityField::Role, "engineering-workstation"));
    assert!(has_fact(&events, commander, IdentityField::Role, "plc"));

    let ops = operations(&events);
    assert!(ops.iter().all(|o| o.client.ip == ip(commander) && o.server.ip == ip(plc)));
    let reads = ops.iter().filter(|o| o.kind == OperationKind::Read && o.code == 0x0101).count();
    assert_eq!(reads, 19, "one memory area read per area code");
    assert!(has_op(&ops, OperationKind::Read, 0x0101, Some("area 0x82 addr 52428.204 count 2")));
    assert!(has_op(&ops, OperationKind::Write, 0x0102, Some("area 0x00 addr 52428.204 count 1")));
    assert!(has_op(&ops, OperationKind::Write, 0x0105, Some("area 0x80 addr 52428 to area 0x81 addr 52429 count 16")));
    assert!(has_op(&ops, OperationKind::ProgramUpload, 0x0306, Some("program 0x0000 addr 0xffffffff count 256")));
    assert!(has_op(&ops, OperationKind::ProgramDownload, 0x0307, Some("program 0x0000 addr 0xffffffff count 256")));
    assert!(has_op(&ops, OperationKind::ProgramDelete, 0x0308, Some("program 0x0000")));
    assert!(has_op(&ops, OperationKind::ControllerStart, 0x0401, Some("mode run")));
    assert!(has_op(&ops, OperationKind::ControllerStop, 0x0402, None));
    assert!(has_op(&ops, OperationKind::TimeSet, 0x0702, Some("2009-01-20 01:02:01")));
    assert!(has_op(&ops, OperationKind::Login, 0x0c01, None));
    assert!(has_op(&ops, OperationKind::ProgramUpload, 0x2202, Some("file filename.exe")));
    assert!(has_op(&ops, OperationKind::ProgramDownload, 0x2203, Some("file filename.exe")));
    assert!(has_op(&ops, OperationKind::ProgramDelete, 0x2205, Some("file filename.one")));
    // The last commands (one service id for all) are answered in order.
    let forced = ops.iter().filter(|o| o.code == 0x2301).map(|o| o.result).collect::<Vec<_>>();
    assert!(forced.contains(&OperationResult::Success), "{forced:?}");
    assert!(has_op(&ops, OperationKind::ConfigurationChange, 0x2601, None));

    let violations = events.iter().filter(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Fins)).count();
    assert_eq!(violations, 0);
}
