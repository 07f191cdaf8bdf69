//! TLS dissector over the shared real capture. The JA3 value comes from
//! `tshark -T fields -e tls.handshake.ja3` (Wireshark 4.0).

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{ip, ip_facts, operations, shared_events};

#[test]
fn arkime_tls13_client_fingerprints_without_public_sni() {
    let Some(ev) = shared_events("tls/arkime_tls13_sni.pcap") else { return };
    let f = ip_facts(&ev, Protocol::Tls);
    let client = ip("2001:16d8:ffce:10:aca8:353c:291d:a9b3");
    assert!(f.contains(&(client, IdentityField::Ja3, "4826a90ec2daf4f7b4b64cc1c8bd343b")), "{f:?}");
    // Reference: nDPI 5.0.0 (through nfstream 6.6.0, `client_fingerprint`)
    // gives exactly this JA4. The hello offers draft-18 TLS 1.3 (0x7f12) as
    // its highest supported version, which JA4 writes as "00".
    assert!(f.contains(&(client, IdentityField::Ja4, "t00d1815h2_a30347de7a75_2a77702ff8e0")), "{f:?}");
    // blog.cloudflare.com is a public server: no SNI fact.
    assert!(!f.iter().any(|(_, field, _)| *field == IdentityField::Service), "{f:?}");
    assert!(operations(&ev, Protocol::Tls).iter().any(|o| o.target.as_deref() == Some("tls 1.3 draft")));
}
