//! FINS dissector over the shared real capture (every FINS command of the
//! Zeek/ICSNPP test trace, sent by 10.4.14.102 to 10.130.130.130:9600; the
//! responses travel the same way, so their sender is 10.4.14.102 too).

use palisade_model::{IdentityField, Operation, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{has_fact, ip, operations, shared_events, violations};

fn has_op(ops: &[&Operation], kind: OperationKind, code: u32, target: Option<&str>) -> bool {
    ops.iter().any(|o| o.kind == kind && o.code == code && o.target.as_deref() == target)
}

#[test]
fn icsnpp_udp_commands_and_controller_data() {
    let Some(events) = shared_events("omron-fins/icsnpp_omron_fins_udp.pcap") else { return };
    let (commander, plc) = ("10.4.14.102", "10.130.130.130");
    assert!(has_fact(&events, Protocol::Fins, commander, IdentityField::Model, "AAAAAAAAAAAAAAAAAAAA"));
    assert!(has_fact(&events, Protocol::Fins, commander, IdentityField::Firmware, "BBBBBBBBBBBBBBBBBBBB"));
    assert!(has_fact(&events, Protocol::Fins, commander, IdentityField::Role, "scada-client"));
    assert!(has_fact(&events, Protocol::Fins, commander, IdentityField::Role, "engineering-workstation"));
    assert!(has_fact(&events, Protocol::Fins, commander, IdentityField::Role, "plc"));

    let ops = operations(&events, Protocol::Fins);
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

    assert_eq!(violations(&events, Protocol::Fins).len(), 0);
}
