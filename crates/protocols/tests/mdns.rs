//! mDNS dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`mdns.resp.name`)
//! and from `tshark -V -Y mdns` on each capture.

use palisade_model::{Event, IdentityFact, IdentityField, Protocol};
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

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().expect("ip literal"))
}

/// The mDNS identity facts, as (subject ip, field, value), sorted.
fn facts(ev: &[Event]) -> Vec<(Option<IpAddr>, IdentityField, &str)> {
    let mut out: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Identity(IdentityFact { subject, protocol: Protocol::Mdns, field, value, .. }) => {
                Some((subject.ip, *field, value.as_str()))
            }
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn mdns_violations(ev: &[Event]) -> usize {
    ev.iter().filter(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Mdns)).count()
}

#[test]
fn zeek_mdns_hostname_on_both_addresses() {
    let Some(ev) = events("mdns/zeek_mdns.pcap") else { return };
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
    assert_eq!(facts(&ev), want);
    assert_eq!(mdns_violations(&ev), 0);
}

#[test]
fn open62541_discovery_server_announcement() {
    let Some(ev) = events("opcua/icsnpp_opcua_open62541_discovery.pcap") else { return };
    // One unsolicited response from 192.168.224.105: "Maui-16714" A records
    // for five addresses (one of them the sender's) and the
    // LDS-Maui-16714._opcua-tcp._tcp.local service instance.
    let mut want = vec![
        (ip("192.168.224.105"), IdentityField::Hostname, "Maui-16714"),
        (ip("192.168.224.105"), IdentityField::Service, "_opcua-tcp._tcp"),
    ];
    want.sort();
    assert_eq!(facts(&ev), want);
    assert_eq!(mdns_violations(&ev), 0);
}

#[test]
fn twincat_host_announcement() {
    let Some(ev) = events("ethercat/ethercrab_twincat_scan_devices.pcapng") else { return };
    // Compube.local: A 169.254.78.37 (the sender) and the reverse PTR for it.
    assert_eq!(facts(&ev), vec![(ip("169.254.78.37"), IdentityField::Hostname, "Compube")]);
    assert_eq!(mdns_violations(&ev), 0);
}

#[test]
fn profinet_lan_queries_name_nothing() {
    let Some(ev) = events("lldp/iti_profinet_lan_lldp_scalance.pcap") else { return };
    // 10.10.10.80 only asks (81 questions about other hosts' services, over
    // IPv4 and IPv6): no facts about it, and the messages are well formed.
    assert_eq!(facts(&ev), vec![]);
    assert_eq!(mdns_violations(&ev), 0);
    assert!(ev.iter().any(|e| matches!(e, Event::Contact(c) if c.protocol == Some(Protocol::Mdns))), "the flow is recognised as mDNS");
}
