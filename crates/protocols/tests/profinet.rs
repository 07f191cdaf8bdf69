//! PROFINET DCP and PNIO-CM dissectors over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`pn_dcp.*`) and
//! `tshark -r F -V`: the Set IP capture is a tool (VMware MAC) identifying
//! a Siemens X208 switch and setting its address to 192.168.0.10; the
//! Identify capture holds ten devices looking for their own names of
//! station; the PNIO-CM capture is one Read Implicit of record 0xF840.

use palisade_model::{Event, IdentityField, MacAddr, OperationKind, OperationResult, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

/// Analyses a shared capture, or `None` when the shared data is absent.
fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps/profinet").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

fn mac(text: &str) -> MacAddr {
    let mut m = [0; 6];
    for (byte, part) in m.iter_mut().zip(text.split(':')) {
        *byte = u8::from_str_radix(part, 16).expect("mac literal");
    }
    MacAddr(m)
}

/// True if a PROFINET fact `field = value` was reported about the device with MAC `device`.
fn has_fact(ev: &[Event], device: &str, field: IdentityField, value: &str) -> bool {
    ev.iter().any(|e| {
        matches!(e, Event::Identity(f) if f.protocol == Protocol::Profinet && f.subject.mac == Some(mac(device)) && f.field == field && f.value == value)
    })
}

fn violations(ev: &[Event]) -> Vec<String> {
    ev.iter().filter_map(|e| if let Event::Violation(v) = e { Some(format!("{} {}", v.kind, v.detail)) } else { None }).collect()
}

fn operations(ev: &[Event]) -> Vec<(MacAddr, OperationKind, String, OperationResult)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Operation(o) if o.protocol == Protocol::Profinet => {
                Some((o.client.mac.unwrap_or_default(), o.kind, o.target.clone().unwrap_or_default(), o.result))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn dcp_set_ip_of_x208() {
    let Some(ev) = events("iti_pn_dcp_change_ip.pcap") else { return };
    let switch = "08:00:06:93:cf:32";
    for (field, value) in [
        (IdentityField::DeviceName, "X208-BORD"),
        (IdentityField::ProductName, "INC"),
        (IdentityField::Vendor, "Siemens"),
        (IdentityField::Description, "profinet vendor 0x002a device 0x0a01"),
        (IdentityField::Role, "io-device"),
    ] {
        assert!(has_fact(&ev, switch, field, value), "missing {field} = {value}");
    }
    // The Identify response names the switch by MAC and IP address together.
    let ip: IpAddr = "192.168.0.6".parse().unwrap();
    assert!(ev.iter().any(|e| matches!(e, Event::Identity(f) if f.subject.mac == Some(mac(switch)) && f.subject.ip == Some(ip) && f.field == IdentityField::DeviceName)));
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
    assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
}

#[test]
fn dcp_identify_names_of_station() {
    let Some(ev) = events("iti_pn_dcp_identify.pcap") else { return };
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
        assert!(has_fact(&ev, device, IdentityField::DeviceName, name), "{device}: missing name {name}");
    }
    let ops = operations(&ev);
    assert!(
        ops.len() >= 11
            && ops.iter().all(|(_, kind, target, _)| *kind == OperationKind::Identify && target.starts_with("name of station ")),
        "{ops:?}"
    );
    let contacts = ev.iter().filter(|e| matches!(e, Event::Contact(c) if c.protocol == Some(Protocol::Profinet))).count();
    assert_eq!(contacts, 11);
    assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
}

#[test]
fn pnio_cm_read_implicit() {
    let Some(ev) = events("iti_pnio_cm_dcerpc.pcap") else { return };
    let device = "00:09:91:44:20:17";
    assert!(has_fact(&ev, device, IdentityField::Role, "io-device"));
    assert!(has_fact(&ev, device, IdentityField::Description, "profinet vendor 0x015a device 0x0003"));
    assert_eq!(
        operations(&ev),
        vec![(mac("00:90:27:4e:e3:fc"), OperationKind::Read, "record 0xF840 I&M0FilterData".to_string(), OperationResult::Success)]
    );
    assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
}
