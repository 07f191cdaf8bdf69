//! TLS dissector over the shared real capture. The JA3 value comes from
//! `tshark -T fields -e tls.handshake.ja3` (Wireshark 4.0).

use palisade_model::{Event, IdentityField, Protocol};
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

/// (subject ip, field, value) of the facts from `protocol`.
fn facts(ev: &[Event], protocol: Protocol) -> Vec<(String, IdentityField, String)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Identity(f) if f.protocol == protocol => {
                Some((f.subject.ip.map(|i| i.to_string()).unwrap_or_default(), f.field, f.value.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn arkime_tls13_client_fingerprints_without_public_sni() {
    let Some(ev) = events("tls/arkime_tls13_sni.pcap") else { return };
    let f = facts(&ev, Protocol::Tls);
    let client = "2001:16d8:ffce:10:aca8:353c:291d:a9b3".to_string();
    assert!(f.contains(&(client.clone(), IdentityField::Ja3, "4826a90ec2daf4f7b4b64cc1c8bd343b".into())), "{f:?}");
    // The hello offers draft-18 TLS 1.3 (0x7f12) as its highest supported
    // version, which JA4 (FoxIO's spec and ja4.py) writes as "00".
    assert!(f.contains(&(client.clone(), IdentityField::Ja4, "t00d1815h2_a30347de7a75_2a77702ff8e0".into())), "{f:?}");
    // blog.cloudflare.com is a public server: no SNI fact.
    assert!(!f.iter().any(|(_, field, _)| *field == IdentityField::Service), "{f:?}");
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Operation(o) if o.protocol == Protocol::Tls && o.target.as_deref() == Some("tls 1.3 draft"))));
}
