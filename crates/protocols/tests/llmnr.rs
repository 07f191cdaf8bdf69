//! LLMNR dissector end to end (capture file → sensor → events).
//!
//! None of the shared captures carries LLMNR (see the `protocols` column of
//! MANIFEST.tsv), so this test writes a small pcap of its own: a Windows-style
//! query for "FILESRV01" to 224.0.0.252 and the unicast answer of the host
//! that owns the name, plus a reverse (PTR) exchange.

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{frames_events, ip_facts, udp_frame, violations};
use std::net::{IpAddr, Ipv4Addr};

const QUERIER: [u8; 4] = [10, 1, 1, 5];
const RESPONDER: [u8; 4] = [10, 1, 1, 9];
const GROUP: [u8; 4] = [224, 0, 0, 252];

/// Appends a name in uncompressed form.
fn name(out: &mut Vec<u8>, dotted: &str) {
    for label in dotted.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// An LLMNR message with one question and, for a response, one answer
/// (owner = the question name via a compression pointer).
fn message(id: u16, qname: &str, qtype: u16, answer: Option<&[u8]>) -> Vec<u8> {
    let flags: u16 = if answer.is_some() { 0x8000 } else { 0 };
    let mut m = Vec::new();
    for word in [id, flags, 1, u16::from(answer.is_some()), 0, 0] {
        m.extend_from_slice(&word.to_be_bytes());
    }
    name(&mut m, qname);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    if let Some(rdata) = answer {
        m.extend_from_slice(&[0xc0, 12]);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0, 30]);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(rdata);
    }
    m
}

#[test]
fn response_names_the_responder_query_names_nobody() {
    let events = frames_events(&[
        udp_frame(QUERIER, GROUP, 50123, 5355, &message(0x4a1f, "FILESRV01", 1, None)),
        udp_frame(RESPONDER, QUERIER, 5355, 50123, &message(0x4a1f, "FILESRV01", 1, Some(&RESPONDER))),
        udp_frame(QUERIER, GROUP, 50124, 5355, &message(0x4a20, "9.1.1.10.in-addr.arpa", 12, None)),
        udp_frame(RESPONDER, QUERIER, 5355, 50124, &{
            let mut target = Vec::new();
            name(&mut target, "FILESRV01");
            message(0x4a20, "9.1.1.10.in-addr.arpa", 12, Some(&target))
        }),
    ]);
    assert_eq!(
        ip_facts(&events, Protocol::Llmnr),
        vec![(Some(IpAddr::V4(Ipv4Addr::from(RESPONDER))), IdentityField::Hostname, "FILESRV01")]
    );
    assert!(violations(&events, Protocol::Llmnr).is_empty());
}
