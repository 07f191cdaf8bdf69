//! LLMNR dissector end to end (capture file → sensor → events).
//!
//! None of the shared captures carries LLMNR (see the `protocols` column of
//! MANIFEST.tsv), so this test writes a small pcap of its own: a Windows-style
//! query for "FILESRV01" to 224.0.0.252 and the unicast answer of the host
//! that owns the name, plus a reverse (PTR) exchange.

use palisade_model::{IdentityField, Protocol};
use palisade_sensor::testdata::{ip_facts, violations};
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

/// An Ethernet + IPv4 + UDP frame.
fn frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let dst_mac: [u8; 6] = if dst[0] == 224 { [0x01, 0x00, 0x5e, 0, 0, 0xfc] } else { [0x02, 0, 0, 0, 0, dst[3]] };
    let mut f = dst_mac.to_vec();
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, src[3], 0x08, 0x00]);
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 1, 17, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = ip.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum::<u32>();
    let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    for word in [sport, dport, 8 + payload.len() as u16, 0] {
        f.extend_from_slice(&word.to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

/// Writes the frames as a classic pcap (Ethernet) file.
fn write_pcap(path: &std::path::Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    for word in
        [0xa1b2_c3d4u32.to_le_bytes(), [2, 0, 4, 0], 0u32.to_le_bytes(), 0u32.to_le_bytes(), 65535u32.to_le_bytes(), 1u32.to_le_bytes()]
    {
        out.extend_from_slice(&word);
    }
    for (i, f) in frames.iter().enumerate() {
        for word in [1_700_000_000u32 + i as u32, 0, f.len() as u32, f.len() as u32] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).expect("write pcap");
}

#[test]
fn response_names_the_responder_query_names_nobody() {
    let frames = [
        frame(QUERIER, GROUP, 50123, 5355, &message(0x4a1f, "FILESRV01", 1, None)),
        frame(RESPONDER, QUERIER, 5355, 50123, &message(0x4a1f, "FILESRV01", 1, Some(&RESPONDER))),
        frame(QUERIER, GROUP, 50124, 5355, &message(0x4a20, "9.1.1.10.in-addr.arpa", 12, None)),
        frame(RESPONDER, QUERIER, 5355, 50124, &{
            let mut target = Vec::new();
            name(&mut target, "FILESRV01");
            message(0x4a20, "9.1.1.10.in-addr.arpa", 12, Some(&target))
        }),
    ];
    let path = std::env::temp_dir().join(format!("palisade-llmnr-test-{}.pcap", std::process::id()));
    write_pcap(&path, &frames);
    let events = palisade_sensor::analyze_path_events(&path);
    let _ = std::fs::remove_file(&path);
    let events = events.expect("capture reads");
    assert_eq!(
        ip_facts(&events, Protocol::Llmnr),
        vec![(Some(IpAddr::V4(Ipv4Addr::from(RESPONDER))), IdentityField::Hostname, "FILESRV01")]
    );
    assert!(violations(&events, Protocol::Llmnr).is_empty());
}
