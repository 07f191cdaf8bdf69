//! EtherCAT dissector over the shared real captures (TwinCAT masters).
//!
//! Each frame appears twice: as sent by the master (00:00:00:00:00:00,
//! working counter 0) and as it came back through the segment with the
//! source MAC's local bit set (02:00:00:00:00:00). Broadcast writes in the
//! returned frames count the slaves: 2 (EK1100 + EL1004) in the run capture,
//! 10 in the scan capture.

use palisade_model::{Event, IdentityField, MacAddr, Protocol};
use std::path::PathBuf;

/// Analyses a shared capture, or `None` when the shared data is absent.
fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps/ethercat").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

const RETURNED: MacAddr = MacAddr([2, 0, 0, 0, 0, 0]);

/// The EtherCAT facts `(field, value)` about `mac`.
fn facts(ev: &[Event], mac: MacAddr) -> Vec<(IdentityField, String)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Identity(f) if f.protocol == Protocol::Ethercat && f.subject.mac == Some(mac) => Some((f.field, f.value.clone())),
            _ => None,
        })
        .collect()
}

fn check(file: &str, slaves: &str) {
    let Some(ev) = events(file) else { return };
    assert_eq!(
        facts(&ev, RETURNED),
        vec![(IdentityField::Role, "ethercat-master".to_string()), (IdentityField::Description, slaves.to_string())]
    );
    assert!(ev.iter().any(|e| matches!(e, Event::Contact(c) if c.protocol == Some(Protocol::Ethercat) && c.client.mac == Some(RETURNED))));
    assert!(!ev.iter().any(|e| matches!(e, Event::Violation(_) | Event::Operation(_))), "unexpected events");
}

#[test]
fn twincat_run_ek1100_el1004() {
    check("ethercrab_twincat_run_ek1100_el1004.pcapng", "ethercat master, 2 slaves");
    let Some(ev) = events("ethercrab_twincat_run_ek1100_el1004.pcapng") else { return };
    assert_eq!(facts(&ev, MacAddr([0; 6])), vec![(IdentityField::Role, "ethercat-master".to_string())]);
}

#[test]
fn twincat_scan_devices() {
    check("ethercrab_twincat_scan_devices.pcapng", "ethercat master, 10 slaves");
}
