//! MMS dissector over the shared real capture (ICCP between two AREVA
//! e-terracomm nodes: both sides send requests and answer identify).

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{self, capture_violations, contacts, has_fact, ip, shared_events};

fn operations(events: &[Event]) -> Vec<&Operation> {
    testdata::operations(events, Protocol::Mms)
}

const CLIENT: &str = "10.101.1.2";
const SERVER: &str = "10.101.1.3";

#[test]
fn areva_identify_and_operations() {
    let Some(ev) = shared_events("iec61850/iti_mms_identify_areva.pcap") else { return };
    // The flow on TCP 102 is MMS, not S7comm.
    let contacts: Vec<_> = contacts(&ev).into_iter().filter(|c| c.server.port == 102).collect();
    assert!(!contacts.is_empty());
    assert!(contacts.iter().all(|c| c.protocol == Some(Protocol::Mms)), "{:?}", contacts.iter().map(|c| c.protocol).collect::<Vec<_>>());

    // Both nodes answer identify with the same values.
    for host in [SERVER, CLIENT] {
        assert!(has_fact(&ev, Protocol::Mms, host, IdentityField::Vendor, "AREVA T&D Corporation"), "{host} vendor");
        assert!(has_fact(&ev, Protocol::Mms, host, IdentityField::Model, "e-terracomm"), "{host} model");
        assert!(has_fact(&ev, Protocol::Mms, host, IdentityField::Firmware, "2.3.1"), "{host} firmware");
    }
    assert!(has_fact(&ev, Protocol::Mms, SERVER, IdentityField::Role, "ied"));
    assert!(has_fact(&ev, Protocol::Mms, CLIENT, IdentityField::Role, "scada-client"));

    // The association, with its AP titles.
    let session = operations(&ev).into_iter().find(|o| o.kind == OperationKind::Session).expect("association");
    assert_eq!(session.target.as_deref(), Some("calling ap-title 1.1.1 called ap-title 1.1.2"));
    assert_eq!(session.result, OperationResult::Success);
    assert_eq!(session.client.ip, ip(CLIENT));

    // Identify, answered.
    assert!(operations(&ev).iter().any(|o| o.kind == OperationKind::Identify && o.code == 2 && o.result == OperationResult::Success));
    // Reads of ICCP objects and writes of transfer sets.
    assert!(operations(&ev).iter().any(|o| o.kind == OperationKind::Read
        && o.code == 4
        && o.target.as_deref() == Some("KIRKLAND/Bilateral_Table_ID, TASE2_Version, Supported_Features")
        && o.result == OperationResult::Success));
    assert!(operations(&ev)
        .iter()
        .any(|o| o.kind == OperationKind::Write && o.code == 5 && o.target.as_deref() == Some("KIRKLAND/CITEC_TS0")));
    assert!(operations(&ev)
        .iter()
        .any(|o| o.kind == OperationKind::Read && o.code == 12 && o.target.as_deref() == Some("list KIRKLAND/EMS_ANALOG_ICCP_IN")));
    assert!(operations(&ev).iter().any(|o| o.kind == OperationKind::Read
        && o.code == 1
        && o.target.as_deref() == Some("names of namedVariableList in domain KIRKLAND")));

    let violations = capture_violations(&ev);
    assert!(violations.is_empty(), "{violations:?}");
}

#[test]
fn iccp_requests_from_the_server_side() {
    let Some(ev) = shared_events("iec61850/iti_mms_identify_areva.pcap") else { return };
    // 10.101.1.3 also reads from 10.101.1.2 (ICCP is symmetric): the
    // requester is the operation's client.
    let from_server = |target: &str| {
        operations(&ev).iter().any(|o| o.client.ip == ip(SERVER) && o.server.ip == ip(CLIENT) && o.target.as_deref() == Some(target))
    };
    assert!(from_server("KIRKLAND/Bilateral_Table_ID, TASE2_Version, Supported_Features"));
    assert!(from_server("KIRKLAND/CITEC_TS0"));
    let from_client = |target: &str| {
        operations(&ev).iter().any(|o| o.client.ip == ip(CLIENT) && o.server.ip == ip(SERVER) && o.target.as_deref() == Some(target))
    };
    assert!(from_client("BELLEVUE/Bilateral_Table_ID, TASE2_Version, Supported_Features"));
    assert!(from_client("BELLEVUE/EMSICCP_TS0"));
}
