//! BACnet/IP dissector over the shared real captures.

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{self, assert_facts, capture_violations, has_fact, shared_events};

fn operations(events: &[Event]) -> Vec<&Operation> {
    testdata::operations(events, Protocol::Bacnet)
}

/// True if a BACnet operation from `client` to `server` has this kind, service, target and result.
fn has_op(events: &[Event], client: &str, server: &str, kind: OperationKind, code: u32, target: &str, result: OperationResult) -> bool {
    testdata::has_op(&operations(events), client, server, kind, code, Some(target), result)
}

#[test]
fn icsnpp_services_identity_and_operations() {
    let Some(ev) = shared_events("bacnet/icsnpp_bacnet_services.pcap") else { return };
    // The Lithonia SYSC MLX (device 29) answers through 192.168.0.24, an
    // Automated Logic router in front of MS/TP network 3.
    assert_facts(
        &ev,
        Protocol::Bacnet,
        "192.168.0.24",
        &[
            (IdentityField::Vendor, "Lithonia Lighting, Inc."),
            (IdentityField::Model, "SYSC MLX"),
            (IdentityField::Firmware, "2.62"),
            (IdentityField::Description, "application software 16-Dec-2004"),
            (IdentityField::DeviceName, "SYNERGY"),
            (IdentityField::Vendor, "Automated Logic Corporation"),
            (IdentityField::Vendor, "Acuity Brands Lighting, Inc."),
            (IdentityField::Role, "building-controller"),
            (IdentityField::Role, "gateway"),
        ],
    );
    assert_facts(
        &ev,
        Protocol::Bacnet,
        "192.168.0.16",
        &[(IdentityField::Vendor, "Acuity Brands Lighting, Inc."), (IdentityField::Role, "building-controller")],
    );
    assert_facts(&ev, Protocol::Bacnet, "192.168.0.50", &[(IdentityField::Role, "scada-client")]);
    assert!(!has_fact(&ev, Protocol::Bacnet, "192.168.0.50", IdentityField::Model, "SYSC MLX"), "requester got the device's facts");

    let (c, s) = ("192.168.0.50", "192.168.0.24");
    use OperationKind::*;
    use OperationResult::{Error, Success};
    assert!(has_op(&ev, c, s, Read, 12, "device,29 object-list", Success));
    assert!(has_op(&ev, c, s, Write, 15, "binary-value,1 present-value", Success));
    assert!(has_op(&ev, c, s, ConfigurationChange, 17, "disable for 1 min", Success));
    assert!(has_op(&ev, c, s, ConfigurationChange, 17, "enable", Error(26)));
    assert!(has_op(&ev, c, s, ColdRestart, 20, "coldstart", Success));
    assert!(has_op(&ev, c, s, WarmRestart, 20, "warmstart", Success));
    assert!(has_op(&ev, c, s, ProgramUpload, 6, "file,1", Success));
    assert!(has_op(&ev, c, s, ProgramDownload, 7, "file,0", Success));
    assert!(operations(&ev).iter().any(|o| o.kind == Read && o.code == 14 && o.result == Success), "no ReadPropertyMultiple");
    // 3265 ReadProperty requests; the sink folds repeats within a minute
    // into counts (the last fold of each is still pending at the end).
    let reads: u32 = operations(&ev).iter().filter(|o| o.code == 12).map(|o| o.count).sum();
    assert!((3000..=3265).contains(&reads), "{reads} reads");
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn arkime_stack_services() {
    let Some(ev) = shared_events("bacnet/arkime_bacnet_stack_services.pcap") else { return };
    assert_facts(
        &ev,
        Protocol::Bacnet,
        "192.168.0.5",
        &[
            (IdentityField::Vendor, "Acuity Brands Lighting, Inc."),
            (IdentityField::DeviceName, "SYNERGY"),
            (IdentityField::Role, "building-controller"),
        ],
    );
    assert_facts(&ev, Protocol::Bacnet, "192.168.0.13", &[(IdentityField::Vendor, "ASHRAE"), (IdentityField::DeviceName, "SimpleServer")]);
    use OperationKind::*;
    use OperationResult::{Error, Success};
    // Both peers issue requests; the operation's client is the requester.
    assert!(has_op(&ev, "192.168.0.13", "192.168.0.5", ConfigurationChange, 17, "enable", Success));
    assert!(has_op(&ev, "192.168.0.5", "192.168.0.13", ConfigurationChange, 17, "disable", Success));
    assert!(has_op(&ev, "192.168.0.5", "192.168.0.13", ColdRestart, 20, "coldstart", Success));
    assert!(has_op(&ev, "192.168.0.13", "192.168.0.5", ColdRestart, 20, "coldstart", Error(26)));
    assert!(has_op(&ev, "192.168.0.13", "192.168.0.5", Write, 15, "analog-output,0 present-value", Error(31)));
    assert!(has_op(&ev, "192.168.0.5", "192.168.0.13", ProgramUpload, 6, "file,0", Success));
    // Reject (unrecognized service) is a result, not a violation.
    assert!(has_op(&ev, "192.168.0.5", "192.168.0.13", ProgramDownload, 7, "file,0", Error(9)));
    assert!(has_op(&ev, "192.168.0.13", "192.168.0.255", Identify, 8, "device,61-61", OperationResult::Unknown));
    assert!(operations(&ev).iter().any(|o| o.kind == TimeSet && o.code == 6));
    // The bacnet-stack test capture holds one NPDU of version 0x10 and four
    // NPDUs without APDU (Wireshark: "Malformed Packet").
    let mut v = capture_violations(&ev);
    v.sort();
    assert_eq!(v.len(), 5, "{v:?}");
    assert_eq!(v.iter().filter(|s| s.as_str() == "malformed NPDU without APDU").count(), 4);
    assert!(v.contains(&"malformed NPDU version 16 instead of 1".to_string()));
}
