//! mDNS dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`mdns.resp.name`)
//! and from `tshark -V -Y mdns` on each capture.

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{contacts, ip, ip_facts, shared_events, violations};

#[test]
fn zeek_mdns_hostname_on_both_addresses() {
    let Some(ev) = shared_events("mdns/zeek_mdns.pcap") else { return };
    // The host announces johanna-QEMU-Virtual-Machine.local with A 10.0.2.7
    // (sent from 10.0.2.7) and AAAA fd52:...:4dc4 (sent from that address);
    // its _ipp._tcp / _ipps._tcp questions are services it looks for, not
    // offers.
    let host = "johanna-QEMU-Virtual-Machine";
    let mut want = vec![
        (ip("10.0.2.7"), IdentityField::Hostname, host),
        (ip("fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4"), IdentityField::Hostname, host),
    ];
    want.sort();
    assert_eq!(ip_facts(&ev, Protocol::Mdns), want);
    assert_eq!(violations(&ev, Protocol::Mdns).len(), 0);
}

#[test]
fn open62541_discovery_server_announcement() {
    let Some(ev) = shared_events("opcua/icsnpp_opcua_open62541_discovery.pcap") else { return };
    // One unsolicited response from 192.168.224.105: "Maui-16714" A records
    // for five addresses (one of them the sender's) and the
    // LDS-Maui-16714._opcua-tcp._tcp.local service instance.
    let mut want = vec![
        (ip("192.168.224.105"), IdentityField::Hostname, "Maui-16714"),
        (ip("192.168.224.105"), IdentityField::Service, "_opcua-tcp._tcp"),
    ];
    want.sort();
    assert_eq!(ip_facts(&ev, Protocol::Mdns), want);
    assert_eq!(violations(&ev, Protocol::Mdns).len(), 0);
}

#[test]
fn twincat_host_announcement() {
    let Some(ev) = shared_events("ethercat/ethercrab_twincat_scan_devices.pcapng") else { return };
    // Compube.local: A 169.254.78.37 (the sender) and the reverse PTR for it.
    assert_eq!(ip_facts(&ev, Protocol::Mdns), vec![(ip("169.254.78.37"), IdentityField::Hostname, "Compube")]);
    assert_eq!(violations(&ev, Protocol::Mdns).len(), 0);
}

#[test]
fn profinet_lan_queries_name_nothing() {
    let Some(ev) = shared_events("lldp/iti_profinet_lan_lldp_scalance.pcap") else { return };
    // 10.10.10.80 only asks (81 questions about other hosts' services, over
    // IPv4 and IPv6): no facts about it, and the messages are well formed.
    assert_eq!(ip_facts(&ev, Protocol::Mdns), []);
    assert_eq!(violations(&ev, Protocol::Mdns).len(), 0);
    assert!(contacts(&ev).iter().any(|c| c.protocol == Some(Protocol::Mdns)), "the flow is recognised as mDNS");
}
