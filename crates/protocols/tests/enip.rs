//! EtherNet/IP and CIP dissectors over the shared real captures.

use palisade_model::{Event, IdentityField, OperationKind, OperationResult, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps/enip").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("test address"))
}

/// True if `events` hold the fact `field = value` about `host`.
fn has_fact(events: &[Event], host: &str, field: IdentityField, value: &str) -> bool {
    events.iter().any(|e| matches!(e, Event::Identity(f) if f.subject.ip == ip(host) && f.field == field && f.value == value))
}

fn violations(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| if let Event::Violation(v) = e { Some(format!("{} {}", v.kind, v.detail)) } else { None }).collect()
}

fn assert_identity(events: &[Event], host: &str, want: &[(IdentityField, &str)]) {
    for (field, value) in want {
        assert!(has_fact(events, host, *field, value), "{host}: missing {field} = {value}");
    }
}

const ENBT: &[(IdentityField, &str)] = &[
    (IdentityField::Vendor, "Rockwell Automation/Allen-Bradley"),
    (IdentityField::ProductName, "1756-ENBT/A"),
    (IdentityField::Firmware, "4.03"),
    (IdentityField::Serial, "0x00524d8e"),
    (IdentityField::Role, "io-adapter"),
];

const L61: &[(IdentityField, &str)] = &[
    (IdentityField::Vendor, "Rockwell Automation/Allen-Bradley"),
    (IdentityField::ProductName, "1756-L61/B LOGIX5561"),
    (IdentityField::Firmware, "16.20"),
    (IdentityField::Serial, "0x0051823f"),
    (IdentityField::Role, "plc"),
];

#[test]
fn list_identity_1756_enbt() {
    let Some(ev) = events("iti_enip_listidentity_1756_enbt.pcap") else { return };
    assert_identity(&ev, "10.1.1.164", ENBT);
    assert!(!ev.iter().any(|e| matches!(e, Event::Identity(f) if f.subject.ip == ip("10.1.1.167"))), "requester got facts");
    assert!(
        ev.iter().any(|e| matches!(e, Event::Operation(o)
        if o.kind == OperationKind::Identify && o.code == 0x63 && o.server.ip == ip("10.1.1.164") && o.result == OperationResult::Success))
    );
    assert_eq!(violations(&ev), Vec::<String>::new());
}

#[test]
fn explicit_and_implicit_messaging() {
    let Some(ev) = events("icsnpp_enip_cip_example.pcap") else { return };
    assert_identity(&ev, "10.1.1.164", ENBT);
    // Explicit messaging from 192.168.10.105 to the controller at 192.168.10.120.
    let reads = ev
        .iter()
        .filter(|e| {
            matches!(e, Event::Operation(o) if o.protocol == Protocol::Cip && o.kind == OperationKind::Read
            && o.client.ip == ip("192.168.10.105") && o.server.ip == ip("192.168.10.120") && o.result == OperationResult::Success)
        })
        .count();
    assert!(reads > 0, "no CIP reads");
    assert!(
        ev.iter().any(|e| matches!(e, Event::Operation(o) if o.kind == OperationKind::Write && o.code == 0x04)),
        "no Set_Attribute_List"
    );
    // Flows: enip carrying cip on 44818, cip (class-1 I/O) on UDP 2222.
    let contact = |a: &str, b: &str| {
        ev.iter().find_map(|e| match e {
            Event::Contact(c)
                if [c.client.ip, c.server.ip].contains(&ip(a)) && [c.client.ip, c.server.ip].contains(&ip(b)) && c.protocol.is_some() =>
            {
                Some(*c)
            }
            _ => None,
        })
    };
    let explicit = contact("192.168.10.105", "192.168.10.120").expect("explicit flow");
    assert_eq!(explicit.protocol, Some(Protocol::Enip));
    assert!(explicit.also.contains(Protocol::Cip));
    let io = contact("192.168.1.22", "192.168.1.24").expect("I/O flow");
    assert_eq!(io.protocol, Some(Protocol::Cip));
    let list_identity = contact("10.1.1.164", "10.1.1.167").expect("ListIdentity flow");
    assert!(!list_identity.also.contains(Protocol::Cip));
    assert_eq!(violations(&ev), Vec::<String>::new());
}

#[test]
fn program_upload_from_a_controllogix() {
    let Some(ev) = events("iti_openics_cip_program_upload.pcap") else { return };
    assert_identity(&ev, "192.168.10.120", L61);
    assert!(has_fact(&ev, "192.168.10.105", IdentityField::Role, "engineering-workstation"));
    let uploads: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Operation(o) if o.kind == OperationKind::ProgramUpload => Some(o),
            _ => None,
        })
        .collect();
    assert!(uploads.len() >= 10, "only {} program-upload operations", uploads.len());
    assert!(uploads
        .iter()
        .all(|o| o.protocol == Protocol::Cip && o.client.ip == ip("192.168.10.105") && o.server.ip == ip("192.168.10.120")));
    assert!(uploads.iter().any(|o| o.code == 0x4F && o.result == OperationResult::Success));
    let sessions = ev.iter().filter(|e| matches!(e, Event::Operation(o) if o.kind == OperationKind::Session && o.code == 0x54)).count();
    assert!(sessions > 0, "no Forward Open");
    // The controller refuses a few requests (path destination unknown, a vendor error): results, not violations.
    assert!(ev.iter().any(|e| matches!(e, Event::Operation(o) if o.result == OperationResult::Error(5))));
    assert_eq!(violations(&ev), Vec::<String>::new());
}
