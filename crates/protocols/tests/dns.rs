//! DNS dissector over the shared real captures.
//!
//! Expected values come from truth/ndpi_dns.truth.json and from
//! `tshark -V -Y dns` on the capture.

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

/// The DNS identity facts, as (subject ip, field, value).
fn facts(ev: &[Event]) -> Vec<(Option<IpAddr>, IdentityField, &str)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Identity(IdentityFact { subject, protocol: Protocol::Dns, field, value, .. }) => {
                Some((subject.ip, *field, value.as_str()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn ndpi_dns_servers_and_no_public_hostnames() {
    let Some(ev) = events("dns/ndpi_dns.pcap") else { return };
    let got = facts(&ev);
    // 192.168.170.20 answers two AAAA queries (no answer records): a DNS
    // server. 82.178.158.181 answers e7.whatsapp.net with eight public
    // addresses inside PPPoE (frames 4-5): public answers never become
    // hostname facts, so at most its server role may appear.
    assert!(got.contains(&(ip("192.168.170.20"), IdentityField::Service, "dns-server")), "{got:?}");
    for (subject, field, value) in &got {
        assert_eq!((*field, *value), (IdentityField::Service, "dns-server"), "{got:?}");
        assert!([ip("192.168.170.20"), ip("82.178.158.181")].contains(subject), "clients are not servers: {got:?}");
    }
    let violations = ev.iter().filter(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Dns)).count();
    assert_eq!(violations, 0, "clean capture");
}
