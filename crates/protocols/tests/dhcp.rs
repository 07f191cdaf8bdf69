//! DHCP dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`dhcp.option.*`)
//! and from what `tshark -V` shows of each capture's DHCP messages.

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{assert_facts_on, has_fact, has_fact_on, shared_events, violations};

#[test]
fn raspberry_pi_behind_a_relay() {
    let Some(ev) = shared_events("dhcp/tcpdump_dhcp_mud_raspberrypi.pcap") else { return };
    // The relayed REQUEST renews 62.12.173.123 (ciaddr) for chaddr b8:27:eb:b8:53:c8.
    let pi = (Some("b8:27:eb:b8:53:c8"), Some("62.12.173.123"));
    assert_facts_on(
        &ev,
        Protocol::Dhcp,
        pi.0,
        pi.1,
        &[
            (IdentityField::Hostname, "raspberrypi"),
            (IdentityField::VendorClass, "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"),
            (IdentityField::Os, "Linux"),
            (IdentityField::DhcpFingerprint, "1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119"),
            (IdentityField::MudUrl, "https://mudctl.example.com/.well-known/mud/v1/rasbp101"),
        ],
    );
    // The ACK comes from the server itself (server identifier 62.12.173.114),
    // which is also the DNS server; the relay is the router.
    assert!(has_fact_on(&ev, Protocol::Dhcp, Some("00:23:54:c2:57:02"), Some("62.12.173.114"), IdentityField::Service, "dhcp-server"));
    assert!(has_fact_on(&ev, Protocol::Dhcp, Some("00:23:54:c2:57:02"), Some("62.12.173.114"), IdentityField::Role, "dns-server"));
    assert!(has_fact(&ev, Protocol::Dhcp, "62.12.173.121", IdentityField::Role, "router"));
    assert!(violations(&ev, Protocol::Dhcp).is_empty());
}

#[test]
fn windows_discover_in_a_twincat_scan() {
    let Some(ev) = shared_events("ethercat/ethercrab_twincat_scan_devices.pcapng") else { return };
    // DISCOVERs carry no address: the facts are about the MAC alone.
    let nic = Some("00:e1:00:00:03:fb");
    assert!(has_fact_on(&ev, Protocol::Dhcp, nic, None, IdentityField::Hostname, "Compube"));
    assert!(has_fact_on(&ev, Protocol::Dhcp, nic, None, IdentityField::VendorClass, "MSFT 5.0"));
    assert!(has_fact_on(&ev, Protocol::Dhcp, nic, None, IdentityField::Os, "Windows"));
    assert!(has_fact_on(&ev, Protocol::Dhcp, nic, None, IdentityField::DhcpFingerprint, "1,3,6,15,31,33,43,44,46,47,119,121,249,252"));
    assert!(violations(&ev, Protocol::Dhcp).is_empty());
}
