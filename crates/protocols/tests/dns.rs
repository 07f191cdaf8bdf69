//! DNS dissector over the shared real captures.
//!
//! Expected values come from truth/ndpi_dns.truth.json and from
//! `tshark -V -Y dns` on the capture.

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{ip, ip_facts, shared_events, violations};

#[test]
fn ndpi_dns_servers_and_no_public_hostnames() {
    let Some(ev) = shared_events("dns/ndpi_dns.pcap") else { return };
    let got = ip_facts(&ev, Protocol::Dns);
    // 192.168.170.20 answers two AAAA queries (no answer records): a DNS
    // server. 82.178.158.181 answers e7.whatsapp.net with eight public
    // addresses inside PPPoE (frames 4-5): public answers never become
    // hostname facts, so at most its server role may appear.
    assert!(got.contains(&(ip("192.168.170.20"), IdentityField::Service, "dns-server")), "{got:?}");
    for (subject, field, value) in &got {
        assert_eq!((*field, *value), (IdentityField::Service, "dns-server"), "{got:?}");
        assert!([ip("192.168.170.20"), ip("82.178.158.181")].contains(subject), "clients are not servers: {got:?}");
    }
    assert_eq!(violations(&ev, Protocol::Dns).len(), 0, "clean capture");
}
