//! DHCP dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`dhcp.option.*`)
//! and from what `tshark -V` shows of each capture's DHCP messages.

use palisade_model::{Event, IdentityField, MacAddr, Protocol};
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

/// True if a DHCP fact `field = value` was reported about the device with
/// `mac` (if given) and `ip` (if given).
fn has_fact(ev: &[Event], mac: Option<&str>, ip: Option<&str>, field: IdentityField, value: &str) -> bool {
    let mac = mac.map(|m| MacAddr::parse(m).expect("mac literal"));
    let ip = ip.map(|i| i.parse::<IpAddr>().expect("ip literal"));
    ev.iter().any(|e| {
        matches!(e, Event::Identity(f) if f.protocol == Protocol::Dhcp
            && (mac.is_none() || f.subject.mac == mac)
            && f.subject.ip == ip
            && f.field == field
            && f.value == value)
    })
}

fn no_violations(ev: &[Event]) -> bool {
    !ev.iter().any(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Dhcp))
}

#[test]
fn raspberry_pi_behind_a_relay() {
    let Some(ev) = events("dhcp/tcpdump_dhcp_mud_raspberrypi.pcap") else { return };
    // The relayed REQUEST renews 62.12.173.123 (ciaddr) for chaddr b8:27:eb:b8:53:c8.
    let pi = (Some("b8:27:eb:b8:53:c8"), Some("62.12.173.123"));
    for (field, value) in [
        (IdentityField::Hostname, "raspberrypi"),
        (IdentityField::VendorClass, "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"),
        (IdentityField::Os, "Linux"),
        (IdentityField::DhcpFingerprint, "1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119"),
        (IdentityField::MudUrl, "https://mudctl.example.com/.well-known/mud/v1/rasbp101"),
    ] {
        assert!(has_fact(&ev, pi.0, pi.1, field, value), "{field} {value}");
    }
    // The ACK comes from the server itself (server identifier 62.12.173.114),
    // which is also the DNS server; the relay is the router.
    assert!(has_fact(&ev, Some("00:23:54:c2:57:02"), Some("62.12.173.114"), IdentityField::Service, "dhcp-server"));
    assert!(has_fact(&ev, Some("00:23:54:c2:57:02"), Some("62.12.173.114"), IdentityField::Role, "dns-server"));
    assert!(has_fact(&ev, None, Some("62.12.173.121"), IdentityField::Role, "router"));
    assert!(no_violations(&ev));
}

#[test]
fn windows_discover_in_a_twincat_scan() {
    let Some(ev) = events("ethercat/ethercrab_twincat_scan_devices.pcapng") else { return };
    // DISCOVERs carry no address: the facts are about the MAC alone.
    let nic = Some("00:e1:00:00:03:fb");
    assert!(has_fact(&ev, nic, None, IdentityField::Hostname, "Compube"));
    assert!(has_fact(&ev, nic, None, IdentityField::VendorClass, "MSFT 5.0"));
    assert!(has_fact(&ev, nic, None, IdentityField::Os, "Windows"));
    assert!(has_fact(&ev, nic, None, IdentityField::DhcpFingerprint, "1,3,6,15,31,33,43,44,46,47,119,121,249,252"));
    assert!(no_violations(&ev));
}
