//! LLDP dissector over the shared real captures.

use palisade_model::{Event, IdentityField, MacAddr, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps/lldp").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

/// True if an LLDP fact with this field and value is on `mac` (and `ip`, when given).
fn has_fact(events: &[Event], mac: &str, ip: Option<&str>, field: IdentityField, value: &str) -> bool {
    let mac = MacAddr::parse(mac);
    let ip: Option<IpAddr> = ip.map(|i| i.parse().expect("test address"));
    events.iter().any(|e| {
        matches!(e, Event::Identity(f) if f.protocol == Protocol::Lldp && f.subject.mac == mac && f.subject.ip == ip && f.field == field && f.value == value)
    })
}

fn assert_facts(events: &[Event], mac: &str, ip: Option<&str>, want: &[(IdentityField, &str)]) {
    for (field, value) in want {
        assert!(has_fact(events, mac, ip, *field, value), "{mac} {ip:?}: missing {field} = {value}");
    }
}

fn no_violations(events: &[Event]) {
    let v: Vec<_> =
        events.iter().filter_map(|e| if let Event::Violation(v) = e { Some(format!("{} {}", v.kind, v.detail)) } else { None }).collect();
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn zeek_switch_paired_with_its_management_address() {
    let Some(ev) = events("zeek_lldp.pcap") else { return };
    let want = [
        (IdentityField::Hostname, "SMCGS8P-Smart"),
        (IdentityField::Description, "SMCGS8P-Smart - SMCGS8P-Smart v3.20"),
        (IdentityField::ManagementIp, "192.168.2.10"),
        (IdentityField::Role, "switch"),
        (IdentityField::Description, "lldp port 1 (Port #1)"),
    ];
    assert_facts(&ev, "00:22:2d:81:db:10", None, &want);
    assert_facts(&ev, "00:22:2d:81:db:10", Some("192.168.2.10"), &want);
    no_violations(&ev);
}

#[test]
fn wireshark_sample_switches() {
    let Some(ev) = events("arkime_wireshark_lldp.pcap") else { return };
    assert_facts(
        &ev,
        "00:01:30:f9:ad:a0",
        None,
        &[
            (IdentityField::Hostname, "Summit300-48"),
            (IdentityField::Description, "Summit300-48 - Version 7.4e.1 (Build 5) by Release_Master 05/27/05 04:53:11"),
            (IdentityField::Description, "lldp port 1/1 (Summit300-48-Port 1001), vlan 488, 100BASE-TX full duplex"),
        ],
    );
    assert_facts(
        &ev,
        "00:13:21:57:ca:7f",
        None,
        &[
            (IdentityField::Hostname, "ProCurve Switch 2600-8-PWR"),
            (IdentityField::ManagementIp, "15.255.122.148"),
            (IdentityField::Description, "lldp chassis 00:13:21:57:ca:40"),
        ],
    );
    // A public management address is not paired with the MAC.
    assert!(!ev.iter().any(|e| matches!(e, Event::Identity(f) if f.protocol == Protocol::Lldp && f.subject.ip.is_some())));
    // Not a Cisco description: no firmware guessed.
    assert!(!ev.iter().any(|e| matches!(e, Event::Identity(f) if f.field == IdentityField::Firmware)));
    no_violations(&ev);
}

#[test]
fn profinet_hmi_pc_and_siemens_multiport() {
    let Some(ev) = events("iti_profinet_lan_lldp_scalance.pcap") else { return };
    let pc = [(IdentityField::Hostname, "SCADA-PC-060839"), (IdentityField::Description, "Dell Inc. OptiPlex 990,01,G22XB2S + HMI")];
    assert_facts(&ev, "00:10:18:cb:8c:03", None, &pc);
    assert_facts(&ev, "00:10:18:cb:8c:03", Some("10.10.10.70"), &pc);
    assert_facts(
        &ev,
        "00:1b:1b:34:34:ce",
        None,
        &[
            (IdentityField::Description, "Siemens AG SIMATIC S7 MULTIPORT SCALANCE X 200 FAM"),
            (IdentityField::Description, "lldp chassis 00:1b:1b:34:34:cb"),
        ],
    );
    // 0.0.0.0 is no management address; "station only" gives no role.
    assert!(!ev.iter().any(
        |e| matches!(e, Event::Identity(f) if f.protocol == Protocol::Lldp && (f.value == "0.0.0.0" || f.field == IdentityField::Role))
    ));
    no_violations(&ev);
}
