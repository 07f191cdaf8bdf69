//! NetBIOS name and datagram service dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`nbns.name`,
//! `browser.server`) and from what tshark shows of each message.

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{facts, ip, ip_facts, shared_events, violations};

#[test]
fn windows_lan_names_and_announcements() {
    let Some(ev) = shared_events("netbios/ndpi_netbios.pcap") else { return };
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
    assert_eq!(ip_facts(&ev, Protocol::Nbns), want);
    // Facts carry the sender's MAC where it owns the name.
    assert!(facts(&ev, Protocol::Nbns)
        .iter()
        .any(|f| f.value == "GUNNAR" && f.subject.mac.map(|m| m.to_string()).as_deref() == Some("00:1c:c4:10:79:0f")));
    assert!(violations(&ev, Protocol::Nbns).is_empty());
}

#[test]
fn scada_pc_master_browser() {
    let Some(ev) = shared_events("lldp/iti_profinet_lan_lldp_scalance.pcap") else { return };
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
    assert_eq!(ip_facts(&ev, Protocol::Nbns), want);
    assert!(violations(&ev, Protocol::Nbns).is_empty());
}
