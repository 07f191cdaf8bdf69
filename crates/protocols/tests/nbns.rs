//! NetBIOS name and datagram service dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`nbns.name`,
//! `browser.server`) and from what tshark shows of each message.

use palisade_model::{Event, IdentityField, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

/// Analyses a shared capture, or `None` when the shared data is absent.
fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

/// The NetBIOS facts `(ip, field, value)` of a capture, sorted.
fn facts(ev: &[Event]) -> Vec<(IpAddr, IdentityField, &str)> {
    let mut out: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Identity(f) if f.protocol == Protocol::Nbns => Some((f.subject.ip?, f.field, f.value.as_str())),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip literal")
}

fn no_violations(ev: &[Event]) -> bool {
    !ev.iter().any(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Nbns))
}

#[test]
fn windows_lan_names_and_announcements() {
    let Some(ev) = events("netbios/ndpi_netbios.pcap") else { return };
    const WIN7: &str = "Windows 7 / Server 2008 R2";
    let mut want = vec![
        // Host announcements (browser.server NVR9 and BOWIE, OS 6.1) to VIGILANT_GROUP<1d>.
        (ip("10.0.5.9"), IdentityField::Hostname, "NVR9"),
        (ip("10.0.5.9"), IdentityField::Os, WIN7),
        (ip("10.0.5.9"), IdentityField::Domain, "VIGILANT_GROUP"),
        (ip("10.0.5.93"), IdentityField::Hostname, "BOWIE"),
        (ip("10.0.5.93"), IdentityField::Os, WIN7),
        (ip("10.0.5.93"), IdentityField::Domain, "VIGILANT_GROUP"),
        // Node status and name query responses of 10.0.4.24 (GUNNAR<00>, VIGILANT_GROUP<00> group).
        (ip("10.0.4.24"), IdentityField::Hostname, "GUNNAR"),
        (ip("10.0.4.24"), IdentityField::Domain, "VIGILANT_GROUP"),
        // Positive query response for GURU<00> from 10.0.5.1.
        (ip("10.0.5.1"), IdentityField::Hostname, "GURU"),
    ];
    want.sort();
    // Only answers name hosts: XSTREAM_HY, MULI and the OZI<1c> queries are nobody's facts.
    assert_eq!(facts(&ev), want);
    // Facts carry the sender's MAC where it owns the name.
    assert!(ev.iter().any(|e| matches!(e, Event::Identity(f) if f.protocol == Protocol::Nbns
        && f.value == "GUNNAR" && f.subject.mac.map(|m| m.to_string()).as_deref() == Some("00:1c:c4:10:79:0f"))));
    assert!(no_violations(&ev));
}

#[test]
fn scada_pc_master_browser() {
    let Some(ev) = events("lldp/iti_profinet_lan_lldp_scalance.pcap") else { return };
    // A Domain/Workgroup Announcement (browser.server WORKGROUP) and a Local
    // Master Announcement (browser.server SCADA-PC-060839, OS 6.1).
    let pc = ip("10.10.10.70");
    let mut want = vec![
        (pc, IdentityField::Hostname, "SCADA-PC-060839"),
        (pc, IdentityField::Domain, "WORKGROUP"),
        (pc, IdentityField::Os, "Windows 7 / Server 2008 R2"),
        (pc, IdentityField::Role, "master-browser"),
    ];
    want.sort();
    assert_eq!(facts(&ev), want);
    assert!(no_violations(&ev));
}
