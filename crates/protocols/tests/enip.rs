//! EtherNet/IP and CIP dissectors over the shared real captures.

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{assert_facts, capture_violations, contacts, facts, has_fact, ip, is_subject, operations, shared_events};

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
    let Some(ev) = shared_events("enip/iti_enip_listidentity_1756_enbt.pcap") else { return };
    assert_facts(&ev, Protocol::Enip, "10.1.1.164", ENBT);
    assert!(!facts(&ev, Protocol::Enip).iter().any(|f| is_subject(f, "10.1.1.167")), "requester got facts");
    assert!(operations(&ev, Protocol::Enip).iter().any(|o| o.kind == OperationKind::Identify
        && o.code == 0x63
        && o.server.ip == ip("10.1.1.164")
        && o.result == OperationResult::Success));
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn explicit_and_implicit_messaging() {
    let Some(ev) = shared_events("enip/icsnpp_enip_cip_example.pcap") else { return };
    assert_facts(&ev, Protocol::Enip, "10.1.1.164", ENBT);
    // Explicit messaging from 192.168.10.105 to the controller at 192.168.10.120.
    let cip = operations(&ev, Protocol::Cip);
    let reads = cip
        .iter()
        .filter(|o| {
            o.kind == OperationKind::Read
                && o.client.ip == ip("192.168.10.105")
                && o.server.ip == ip("192.168.10.120")
                && o.result == OperationResult::Success
        })
        .count();
    assert!(reads > 0, "no CIP reads");
    assert!(cip.iter().any(|o| o.kind == OperationKind::Write && o.code == 0x04), "no Set_Attribute_List");
    // Flows: enip carrying cip on 44818, cip (class-1 I/O) on UDP 2222.
    let contacts = contacts(&ev);
    let contact = |a: &str, b: &str| {
        contacts
            .iter()
            .find(|c| [c.client.ip, c.server.ip].contains(&ip(a)) && [c.client.ip, c.server.ip].contains(&ip(b)) && c.protocol.is_some())
    };
    let explicit = contact("192.168.10.105", "192.168.10.120").expect("explicit flow");
    assert_eq!(explicit.protocol, Some(Protocol::Enip));
    assert!(explicit.also.contains(Protocol::Cip));
    let io = contact("192.168.1.22", "192.168.1.24").expect("I/O flow");
    assert_eq!(io.protocol, Some(Protocol::Cip));
    let list_identity = contact("10.1.1.164", "10.1.1.167").expect("ListIdentity flow");
    assert!(!list_identity.also.contains(Protocol::Cip));
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn program_upload_from_a_controllogix() {
    let Some(ev) = shared_events("enip/iti_openics_cip_program_upload.pcap") else { return };
    assert_facts(&ev, Protocol::Enip, "192.168.10.120", L61);
    assert!(has_fact(&ev, Protocol::Enip, "192.168.10.105", IdentityField::Role, "engineering-workstation"));
    let cip = operations(&ev, Protocol::Cip);
    let uploads: Vec<_> = cip.iter().filter(|o| o.kind == OperationKind::ProgramUpload).collect();
    assert!(uploads.len() >= 10, "only {} program-upload operations", uploads.len());
    assert!(uploads.iter().all(|o| o.client.ip == ip("192.168.10.105") && o.server.ip == ip("192.168.10.120")));
    assert!(uploads.iter().any(|o| o.code == 0x4F && o.result == OperationResult::Success));
    let sessions = cip.iter().filter(|o| o.kind == OperationKind::Session && o.code == 0x54).count();
    assert!(sessions > 0, "no Forward Open");
    // The controller refuses a few requests (path destination unknown, a vendor error): results, not violations.
    assert!(cip.iter().any(|o| o.result == OperationResult::Error(5)));
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}
