//! CDP dissector over the shared real captures.

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{assert_facts_on, shared_events, violations};

#[test]
fn tcpdump_catalyst_switches() {
    let Some(ev) = shared_events("cdp/tcpdump_lldp_and_cdp.pcap") else { return };
    let ios = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)";
    assert_facts_on(
        &ev,
        Protocol::Cdp,
        Some("00:18:ba:98:68:8f"),
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
    assert_facts_on(
        &ev,
        Protocol::Cdp,
        Some("00:19:2f:a7:b2:8d"),
        None,
        &[(IdentityField::Hostname, "S2"), (IdentityField::Model, "cisco WS-C3560G-24PS")],
    );
    assert!(violations(&ev, Protocol::Cdp).is_empty(), "{:?}", violations(&ev, Protocol::Cdp));
}

#[test]
fn openics_switch_paired_with_its_address() {
    let Some(ev) = shared_events("enip/iti_openics_cip_program_upload.pcap") else { return };
    let want = [
        (IdentityField::Hostname, "Ns5gt"),
        (IdentityField::Model, "cisco WS-CE500-24TT"),
        (IdentityField::ManagementIp, "192.168.10.253"),
        (IdentityField::Firmware, "12.2(25)SEG4"),
    ];
    assert_facts_on(&ev, Protocol::Cdp, Some("00:1e:f6:73:59:81"), None, &want);
    assert_facts_on(&ev, Protocol::Cdp, Some("00:1e:f6:73:59:81"), Some("192.168.10.253"), &want);
    assert!(violations(&ev, Protocol::Cdp).is_empty(), "{:?}", violations(&ev, Protocol::Cdp));
}
