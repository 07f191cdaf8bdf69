//! GOOSE dissector over the shared real capture.

use palisade_model::{Event, IdentityField, Protocol};
use palisade_sensor::testdata::{capture_violations, contacts, has_fact, shared_events};

/// The GE F650 that publishes the GOOSE messages.
const F650: &str = "00:a0:f4:08:2f:77";

#[test]
fn ge_f650_publisher() {
    let Some(ev) = shared_events("iec61850/iti_goose_ge_f650.pcap") else { return };
    assert!(has_fact(&ev, Protocol::Goose, F650, IdentityField::DeviceName, "GEDeviceF650"));
    assert!(has_fact(&ev, Protocol::Goose, F650, IdentityField::Description, "goose gocbRef GEDeviceF650/LLN0$GO$gcb01"));
    assert!(has_fact(&ev, Protocol::Goose, F650, IdentityField::Role, "ied"));
    // stNum stays 1 throughout; sqNum runs 10..12, then the publisher
    // restarts (new event time, sqNum 1..5): no state change, no anomaly.
    let ops = ev.iter().filter(|e| matches!(e, Event::Operation(_))).count();
    assert_eq!(ops, 0);
    let violations = capture_violations(&ev);
    assert!(violations.is_empty(), "{violations:?}");
    let contact = contacts(&ev).into_iter().next().expect("contact");
    assert_eq!(contact.protocol, Some(Protocol::Goose));
}
