//! GOOSE dissector over the shared real capture.

use palisade_model::{Event, IdentityField, MacAddr, Protocol};
use std::path::PathBuf;

fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps/iec61850").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

/// The GE F650 that publishes the GOOSE messages.
const F650: MacAddr = MacAddr([0x00, 0xa0, 0xf4, 0x08, 0x2f, 0x77]);

fn has_fact(events: &[Event], field: IdentityField, value: &str) -> bool {
    events.iter().any(|e| matches!(e, Event::Identity(f) if f.subject.mac == Some(F650) && f.field == field && f.value == value && f.protocol == Protocol::Goose))
}

#[test]
fn ge_f650_publisher() {
    let Some(ev) = events("iti_goose_ge_f650.pcap") else { return };
    assert!(has_fact(&ev, IdentityField::DeviceName, "GEDeviceF650"));
    assert!(has_fact(&ev, IdentityField::Description, "goose gocbRef GEDeviceF650/LLN0$GO$gcb01"));
    assert!(has_fact(&ev, IdentityField::Role, "ied"));
    // stNum stays 1 throughout; sqNum runs 10..12, then the publisher
    // restarts (new event time, sqNum 1..5): no state change, no anomaly.
    let ops = ev.iter().filter(|e| matches!(e, Event::Operation(_))).count();
    assert_eq!(ops, 0);
    let violations: Vec<_> = ev.iter().filter_map(|e| if let Event::Violation(v) = e { Some(v.detail.clone()) } else { None }).collect();
    assert!(violations.is_empty(), "{violations:?}");
    let contact = ev.iter().find_map(|e| if let Event::Contact(c) = e { Some(c) } else { None }).expect("contact");
    assert_eq!(contact.protocol, Some(Protocol::Goose));
}
