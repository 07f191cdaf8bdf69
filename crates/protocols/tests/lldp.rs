//! LLDP dissector over the shared real captures.

use palisade_model::{Event, IdentityField, Protocol};
use palisade_sensor::testdata::{assert_facts_on, capture_violations, facts, shared_events};

#[test]
fn zeek_switch_paired_with_its_management_address() {
    let Some(ev) = shared_events("lldp/zeek_lldp.pcap") else { return };
    let want = [
        (IdentityField::Hostname, "SMCGS8P-Smart"),
        (IdentityField::Description, "SMCGS8P-Smart - SMCGS8P-Smart v3.20"),
        (IdentityField::ManagementIp, "192.168.2.10"),
        (IdentityField::Role, "switch"),
        (IdentityField::Description, "lldp port 1 (Port #1)"),
    ];
    assert_facts_on(&ev, Protocol::Lldp, Some("00:22:2d:81:db:10"), None, &want);
    assert_facts_on(&ev, Protocol::Lldp, Some("00:22:2d:81:db:10"), Some("192.168.2.10"), &want);
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn wireshark_sample_switches() {
    let Some(ev) = shared_events("lldp/arkime_wireshark_lldp.pcap") else { return };
    assert_facts_on(
        &ev,
        Protocol::Lldp,
        Some("00:01:30:f9:ad:a0"),
        None,
        &[
            (IdentityField::Hostname, "Summit300-48"),
            (IdentityField::Description, "Summit300-48 - Version 7.4e.1 (Build 5) by Release_Master 05/27/05 04:53:11"),
            (IdentityField::Description, "lldp port 1/1 (Summit300-48-Port 1001), vlan 488, 100BASE-TX full duplex"),
        ],
    );
    assert_facts_on(
        &ev,
        Protocol::Lldp,
        Some("00:13:21:57:ca:7f"),
        None,
        &[
            (IdentityField::Hostname, "ProCurve Switch 2600-8-PWR"),
            (IdentityField::ManagementIp, "15.255.122.148"),
            (IdentityField::Description, "lldp chassis 00:13:21:57:ca:40"),
        ],
    );
    // A public management address is not paired with the MAC.
    assert!(!facts(&ev, Protocol::Lldp).iter().any(|f| f.subject.ip.is_some()));
    // Not a Cisco description: no firmware guessed.
    assert!(!ev.iter().any(|e| matches!(e, Event::Identity(f) if f.field == IdentityField::Firmware)));
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn profinet_hmi_pc_and_siemens_multiport() {
    let Some(ev) = shared_events("lldp/iti_profinet_lan_lldp_scalance.pcap") else { return };
    let pc = [(IdentityField::Hostname, "SCADA-PC-060839"), (IdentityField::Description, "Dell Inc. OptiPlex 990,01,G22XB2S + HMI")];
    assert_facts_on(&ev, Protocol::Lldp, Some("00:10:18:cb:8c:03"), None, &pc);
    assert_facts_on(&ev, Protocol::Lldp, Some("00:10:18:cb:8c:03"), Some("10.10.10.70"), &pc);
    assert_facts_on(
        &ev,
        Protocol::Lldp,
        Some("00:1b:1b:34:34:ce"),
        None,
        &[
            (IdentityField::Description, "Siemens AG SIMATIC S7 MULTIPORT SCALANCE X 200 FAM"),
            (IdentityField::Description, "lldp chassis 00:1b:1b:34:34:cb"),
        ],
    );
    // 0.0.0.0 is no management address; "station only" gives no role.
    assert!(!facts(&ev, Protocol::Lldp).iter().any(|f| f.value == "0.0.0.0" || f.field == IdentityField::Role));
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}
