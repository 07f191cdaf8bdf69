//! EtherCAT dissector over the shared real captures (TwinCAT masters).
//!
//! Each frame appears twice: as sent by the master (00:00:00:00:00:00,
//! working counter 0) and as it came back through the segment with the
//! source MAC's local bit set (02:00:00:00:00:00). Broadcast writes in the
//! returned frames count the slaves: 2 (EK1100 + EL1004) in the run capture,
//! 10 in the scan capture.

use palisade_model::{Event, IdentityField, MacAddr, Protocol};
use palisade_sensor::testdata::{capture_violations, contacts, facts, operations, shared_events};

const RETURNED: MacAddr = MacAddr([2, 0, 0, 0, 0, 0]);

/// The EtherCAT facts `(field, value)` about `mac`.
fn facts_about(ev: &[Event], mac: MacAddr) -> Vec<(IdentityField, String)> {
    facts(ev, Protocol::Ethercat).into_iter().filter(|f| f.subject.mac == Some(mac)).map(|f| (f.field, f.value.clone())).collect()
}

fn check(file: &str, slaves: &str) {
    let Some(ev) = shared_events(file) else { return };
    assert_eq!(
        facts_about(&ev, RETURNED),
        vec![(IdentityField::Role, "ethercat-master".to_string()), (IdentityField::Description, slaves.to_string())]
    );
    assert!(contacts(&ev).iter().any(|c| c.protocol == Some(Protocol::Ethercat) && c.client.mac == Some(RETURNED)));
    // EtherCAT reports no operations here (the scan capture's DNS lookups are other protocols'), and the capture is clean.
    assert!(operations(&ev, Protocol::Ethercat).is_empty(), "unexpected operations");
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn twincat_run_ek1100_el1004() {
    check("ethercat/ethercrab_twincat_run_ek1100_el1004.pcapng", "ethercat master, 2 slaves");
    let Some(ev) = shared_events("ethercat/ethercrab_twincat_run_ek1100_el1004.pcapng") else { return };
    assert_eq!(facts_about(&ev, MacAddr([0; 6])), vec![(IdentityField::Role, "ethercat-master".to_string())]);
}

#[test]
fn twincat_scan_devices() {
    check("ethercat/ethercrab_twincat_scan_devices.pcapng", "ethercat master, 10 slaves");
}
