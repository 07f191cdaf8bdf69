//! MMS dissector over the shared real capture (ICCP between two AREVA
//! e-terracomm nodes: both sides send requests and answer identify).

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps/iec61850").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("test address"))
}

fn has_fact(events: &[Event], host: &str, field: IdentityField, value: &str) -> bool {
    events.iter().any(|e| matches!(e, Event::Identity(f) if f.subject.ip == ip(host) && f.field == field && f.value == value && f.protocol == Protocol::Mms))
}

fn operations(events: &[Event]) -> impl Iterator<Item = &Operation> {
    events.iter().filter_map(|e| if let Event::Operation(o) = e { Some(o) } else { None })
}

const CLIENT: &str = "10.101.1.2";
const SERVER: &str = "10.101.1.3";

#[test]
fn areva_identify_and_operations() {
    let Some(ev) = events("iti_mms_identify_areva.pcap") else { return };
    // The flow on TCP 102 is MMS, not S7comm.
    let contacts: Vec<_> =
        ev.iter().filter_map(|e| if let Event::Contact(c) = e { Some(c) } else { None }).filter(|c| c.server.port == 102).collect();
    assert!(!contacts.is_empty());
    assert!(contacts.iter().all(|c| c.protocol == Some(Protocol::Mms)), "{:?}", contacts.iter().map(|c| c.protocol).collect::<Vec<_>>());

    // Both nodes answer identify with the same values.
    for host in [SERVER, CLIENT] {
        assert!(has_fact(&ev, host, IdentityField::Vendor, "AREVA T&D Corporation"), "{host} vendor");
        assert!(has_fact(&ev, host, IdentityField::Model, "e-terracomm"), "{host} model");
        assert!(has_fact(&ev, host, IdentityField::Firmware, "2.3.1"), "{host} firmware");
    }
    assert!(has_fact(&ev, SERVER, IdentityField::Role, "ied"));
    assert!(has_fact(&ev, CLIENT, IdentityField::Role, "scada-client"));

    // The association, with its AP titles.
    let session = operations(&ev).find(|o| o.kind == OperationKind::Session).expect("association");
    assert_eq!(session.target.as_deref(), Some("calling ap-title 1.1.1 called ap-title 1.1.2"));
    assert_eq!(session.result, OperationResult::Success);
    assert_eq!(session.client.ip, ip(CLIENT));

    // Identify, answered.
    assert!(operations(&ev).any(|o| o.kind == OperationKind::Identify && o.code == 2 && o.result == OperationResult::Success));
    // Reads of ICCP objects and writes of transfer sets.
    assert!(operations(&ev).any(|o| o.kind == OperationKind::Read
        && o.code == 4
        && o.target.as_deref() == Some("KIRKLAND/Bilateral_Table_ID, TASE2_Version, Supported_Features")
        && o.result == OperationResult::Success));
    assert!(operations(&ev).any(|o| o.kind == OperationKind::Write && o.code == 5 && o.target.as_deref() == Some("KIRKLAND/CITEC_TS0")));
    assert!(operations(&ev)
        .any(|o| o.kind == OperationKind::Read && o.code == 12 && o.target.as_deref() == Some("list KIRKLAND/EMS_ANALOG_ICCP_IN")));
    assert!(operations(&ev).any(|o| o.kind == OperationKind::Read
        && o.code == 1
        && o.target.as_deref() == Some("names of namedVariableList in domain KIRKLAND")));

    let violations: Vec<_> =
        ev.iter().filter_map(|e| if let Event::Violation(v) = e { Some(format!("{} {}", v.kind, v.detail)) } else { None }).collect();
    assert!(violations.is_empty(), "{violations:?}");
}

#[test]
fn iccp_requests_from_the_server_side() {
    let Some(ev) = events("iti_mms_identify_areva.pcap") else { return };
    // 10.101.1.3 also reads from 10.101.1.2 (ICCP is symmetric): the
    // requester is the operation's client.
    let from_server = |target: &str| {
        operations(&ev).any(|o| o.client.ip == ip(SERVER) && o.server.ip == ip(CLIENT) && o.target.as_deref() == Some(target))
    };
    assert!(from_server("KIRKLAND/Bilateral_Table_ID, TASE2_Version, Supported_Features"));
    assert!(from_server("KIRKLAND/CITEC_TS0"));
    let from_client = |target: &str| {
        operations(&ev).any(|o| o.client.ip == ip(CLIENT) && o.server.ip == ip(SERVER) && o.target.as_deref() == Some(target))
    };
    assert!(from_client("BELLEVUE/Bilateral_Table_ID, TASE2_Version, Supported_Features"));
    assert!(from_client("BELLEVUE/EMSICCP_TS0"));
}
