//! CDP dissector over the shared real captures.

use palisade_model::{Event, IdentityField, MacAddr, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

fn assert_facts(events: &[Event], mac: &str, ip: Option<&str>, want: &[(IdentityField, &str)]) {
    let mac = MacAddr::parse(mac);
    let ip: Option<IpAddr> = ip.map(|i| i.parse().expect("test address"));
    for (field, value) in want {
        let found = events.iter().any(|e| {
            matches!(e, Event::Identity(f) if f.protocol == Protocol::Cdp && f.subject.mac == mac && f.subject.ip == ip && f.field == *field && f.value == *value)
        });
        assert!(found, "{mac:?} {ip:?}: missing {field} = {value}");
    }
}

fn cdp_violations(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| if let Event::Violation(v) = e { (v.protocol == Protocol::Cdp).then(|| v.detail.clone()) } else { None })
        .collect()
}

#[test]
fn tcpdump_catalyst_switches() {
    let Some(ev) = events("cdp/tcpdump_lldp_and_cdp.pcap") else { return };
    let ios = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)";
    assert_facts(
        &ev,
        "00:18:ba:98:68:8f",
        None,
        &[
            (IdentityField::Hostname, "S1"),
            (IdentityField::Model, "cisco WS-C3560-24TS"),
            (IdentityField::Vendor, "Cisco"),
            (IdentityField::Description, ios),
            (IdentityField::Firmware, "12.2(44)SE"),
            (IdentityField::Os, "Cisco IOS"),
            (IdentityField::Role, "switch"),
            (IdentityField::Description, "cdp port FastEthernet0/13, native vlan 1, full duplex"),
        ],
    );
    assert_facts(&ev, "00:19:2f:a7:b2:8d", None, &[(IdentityField::Hostname, "S2"), (IdentityField::Model, "cisco WS-C3560G-24PS")]);
    assert!(cdp_violations(&ev).is_empty(), "{:?}", cdp_violations(&ev));
}

#[test]
fn openics_switch_paired_with_its_address() {
    let Some(ev) = events("enip/iti_openics_cip_program_upload.pcap") else { return };
    let want = [
        (IdentityField::Hostname, "Ns5gt"),
        (IdentityField::Model, "cisco WS-CE500-24TT"),
        (IdentityField::ManagementIp, "192.168.10.253"),
        (IdentityField::Firmware, "12.2(25)SEG4"),
    ];
    assert_facts(&ev, "00:1e:f6:73:59:81", None, &want);
    assert_facts(&ev, "00:1e:f6:73:59:81", Some("192.168.10.253"), &want);
    assert!(cdp_violations(&ev).is_empty(), "{:?}", cdp_violations(&ev));
}
