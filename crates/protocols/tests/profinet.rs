//! PROFINET DCP and PNIO-CM dissectors over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`pn_dcp.*`) and
//! `tshark -r F -V`: the Set IP capture is a tool (VMware MAC) identifying
//! a Siemens X208 switch and setting its address to 192.168.0.10; the
//! Identify capture holds ten devices looking for their own names of
//! station; the PNIO-CM capture is one Read Implicit of record 0xF840.

use palisade_model::{Event, IdentityField, MacAddr, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{self, assert_facts, capture_violations, contacts, facts, has_fact, ip, mac, shared_events};

/// The PROFINET operations as (client MAC, kind, target, result).
fn operations(ev: &[Event]) -> Vec<(MacAddr, OperationKind, String, OperationResult)> {
    testdata::operations(ev, Protocol::Profinet)
        .into_iter()
        .map(|o| (o.client.mac.unwrap_or_default(), o.kind, o.target.clone().unwrap_or_default(), o.result))
        .collect()
}

#[test]
fn dcp_set_ip_of_x208() {
    let Some(ev) = shared_events("profinet/iti_pn_dcp_change_ip.pcap") else { return };
    let switch = "08:00:06:93:cf:32";
    assert_facts(
        &ev,
        Protocol::Profinet,
        switch,
        &[
            (IdentityField::DeviceName, "X208-BORD"),
            (IdentityField::ProductName, "INC"),
            (IdentityField::Vendor, "Siemens"),
            (IdentityField::Description, "profinet vendor 0x002a device 0x0a01"),
            (IdentityField::Role, "io-device"),
        ],
    );
    // The Identify response names the switch by MAC and IP address together.
    assert!(facts(&ev, Protocol::Profinet)
        .iter()
        .any(|f| f.subject.mac == Some(mac(switch)) && f.subject.ip == ip("192.168.0.6") && f.field == IdentityField::DeviceName));
    let tool = mac("00:0c:29:ba:09:ea");
    assert_eq!(
        operations(&ev),
        vec![
            (tool, OperationKind::Identify, "all".to_string(), OperationResult::Success),
            (
                tool,
                OperationKind::ConfigurationChange,
                "set ip 192.168.0.10/255.255.255.0 gw 192.168.0.1".to_string(),
                OperationResult::Success
            ),
        ]
    );
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn dcp_identify_names_of_station() {
    let Some(ev) = shared_events("profinet/iti_pn_dcp_identify.pcap") else { return };
    for (device, name) in [
        ("00:1b:1b:02:9a:c3", "switch3"),
        ("00:1b:1b:02:e6:1e", "switch1"),
        ("00:1b:1b:35:84:10", "pn-io"),
        ("00:1b:1b:02:e6:0f", "switch4"),
        ("00:1b:1b:02:e6:5a", "switch7"),
        ("00:1b:1b:47:51:84", "swln3"),
        ("00:1b:1b:47:51:6b", "swln4"),
        ("00:1b:1b:02:e5:2e", "switch6"),
        ("00:1b:1b:02:e6:d2", "switch2"),
        ("00:1b:1b:02:e6:78", "switch5"),
    ] {
        assert!(has_fact(&ev, Protocol::Profinet, device, IdentityField::DeviceName, name), "{device}: missing name {name}");
    }
    let ops = operations(&ev);
    assert!(
        ops.len() >= 11
            && ops.iter().all(|(_, kind, target, _)| *kind == OperationKind::Identify && target.starts_with("name of station ")),
        "{ops:?}"
    );
    let contacts = contacts(&ev).iter().filter(|c| c.protocol == Some(Protocol::Profinet)).count();
    assert_eq!(contacts, 11);
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn pnio_cm_read_implicit() {
    let Some(ev) = shared_events("profinet/iti_pnio_cm_dcerpc.pcap") else { return };
    let device = "00:09:91:44:20:17";
    assert!(has_fact(&ev, Protocol::Profinet, device, IdentityField::Role, "io-device"));
    assert!(has_fact(&ev, Protocol::Profinet, device, IdentityField::Description, "profinet vendor 0x015a device 0x0003"));
    assert_eq!(
        operations(&ev),
        vec![(mac("00:90:27:4e:e3:fc"), OperationKind::Read, "record 0xF840 I&M0FilterData".to_string(), OperationResult::Success)]
    );
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}
