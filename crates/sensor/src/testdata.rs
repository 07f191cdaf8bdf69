//! Access to the shared real captures (`../shared/testdata/pcaps` beside the
//! repository) for tests, small queries over the events they give, and
//! hand-built frames analysed as a capture of their own. In a clone without
//! the shared captures, every loader prints
//! `skipped: ../shared/testdata not present` and returns `None`, so tests
//! skip instead of failing.

use crate::analyze_path_events;
use palisade_capture::write::PcapWriter;
use palisade_capture::LinkType;
use palisade_model::{
    Contact, Event, IdentityFact, IdentityField, MacAddr, Operation, OperationKind, OperationResult, Protocol, Timestamp, Violation,
    ViolationKind,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The folder of the shared captures, if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps");
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        println!("skipped: ../shared/testdata not present");
        None
    }
}

/// The path of one shared capture (`folder/file`), if present.
pub fn shared_capture(file: &str) -> Option<PathBuf> {
    shared_dir().map(|dir| dir.join(file))
}

/// Every event of one shared capture, analysed on the calling thread.
pub fn shared_events(file: &str) -> Option<Vec<Event>> {
    let path = shared_capture(file)?;
    Some(analyze_path_events(&path).unwrap_or_else(|e| panic!("{file}: {e}")))
}

/// An IP address written in a test (panics on a typo).
pub fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap_or_else(|_| panic!("bad IP literal {text:?}")))
}

/// A MAC address written in a test (panics on a typo).
pub fn mac(text: &str) -> MacAddr {
    MacAddr::parse(text).unwrap_or_else(|| panic!("bad MAC literal {text:?}"))
}

/// The identity facts that `protocol` reported.
pub fn facts(events: &[Event], protocol: Protocol) -> Vec<&IdentityFact> {
    events.iter().filter_map(|e| if let Event::Identity(f) = e { Some(f) } else { None }).filter(|f| f.protocol == protocol).collect()
}

/// The operations that `protocol` reported.
pub fn operations(events: &[Event], protocol: Protocol) -> Vec<&Operation> {
    events.iter().filter_map(|e| if let Event::Operation(o) = e { Some(o) } else { None }).filter(|o| o.protocol == protocol).collect()
}

/// The violations that `protocol` reported.
pub fn violations(events: &[Event], protocol: Protocol) -> Vec<&Violation> {
    events.iter().filter_map(|e| if let Event::Violation(v) = e { Some(v) } else { None }).filter(|v| v.protocol == protocol).collect()
}

/// The violations that `protocol` reported, as (kind, detail).
pub fn violation_details(events: &[Event], protocol: Protocol) -> Vec<(ViolationKind, &str)> {
    violations(events, protocol).into_iter().map(|v| (v.kind, v.detail.as_str())).collect()
}

/// True when `host` (an IP or a MAC, as text) is the fact's subject.
pub fn is_subject(fact: &IdentityFact, host: &str) -> bool {
    match host.parse::<IpAddr>() {
        Ok(addr) => fact.subject.ip == Some(addr),
        Err(_) => fact.subject.mac == Some(mac(host)),
    }
}

/// The values of the `field` facts that `protocol` reported about `host` (an IP or a MAC).
pub fn fact_values<'a>(events: &'a [Event], protocol: Protocol, host: &str, field: IdentityField) -> Vec<&'a str> {
    facts(events, protocol).into_iter().filter(|f| is_subject(f, host) && f.field == field).map(|f| f.value.as_str()).collect()
}

/// True if `protocol` reported `field = value` about `host` (an IP or a MAC).
pub fn has_fact(events: &[Event], protocol: Protocol, host: &str, field: IdentityField, value: &str) -> bool {
    facts(events, protocol).iter().any(|f| is_subject(f, host) && f.field == field && f.value == value)
}

/// True if `protocol` reported `field = value` about exactly the subject with
/// this MAC and IP (`None`: the fact carries none).
pub fn has_fact_on(events: &[Event], protocol: Protocol, mac: Option<&str>, ip: Option<&str>, field: IdentityField, value: &str) -> bool {
    let (mac, ip) = (mac.map(self::mac), ip.and_then(self::ip));
    facts(events, protocol).iter().any(|f| f.subject.mac == mac && f.subject.ip == ip && f.field == field && f.value == value)
}

/// Asserts that `protocol` reported every `field = value` of `want` about
/// `host` (an IP or a MAC).
pub fn assert_facts(events: &[Event], protocol: Protocol, host: &str, want: &[(IdentityField, &str)]) {
    for (field, value) in want {
        assert!(has_fact(events, protocol, host, *field, value), "{host}: missing {protocol:?} fact {field} = {value}");
    }
}

/// Asserts that `protocol` reported every `field = value` of `want` about
/// exactly the subject with this MAC and IP (see [`has_fact_on`]).
pub fn assert_facts_on(events: &[Event], protocol: Protocol, mac: Option<&str>, ip: Option<&str>, want: &[(IdentityField, &str)]) {
    for (field, value) in want {
        assert!(has_fact_on(events, protocol, mac, ip, *field, value), "{mac:?} {ip:?}: missing {protocol:?} fact {field} = {value}");
    }
}

/// The identity facts that `protocol` reported, as (subject IP, field,
/// value), sorted.
pub fn ip_facts(events: &[Event], protocol: Protocol) -> Vec<(Option<IpAddr>, IdentityField, &str)> {
    let mut out: Vec<_> = facts(events, protocol).into_iter().map(|f| (f.subject.ip, f.field, f.value.as_str())).collect();
    out.sort();
    out
}

/// True if one of `ops` went from `client` to `server` (IPs) with this kind,
/// code, target and result.
pub fn has_op(
    ops: &[&Operation],
    client: &str,
    server: &str,
    kind: OperationKind,
    code: u32,
    target: Option<&str>,
    result: OperationResult,
) -> bool {
    ops.iter().any(|o| {
        o.client.ip == ip(client)
            && o.server.ip == ip(server)
            && o.kind == kind
            && o.code == code
            && o.target.as_deref() == target
            && o.result == result
    })
}

/// Every violation of the capture as "kind detail", whatever protocol
/// reported it: for tests that claim a whole capture is clean.
pub fn capture_violations(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| if let Event::Violation(v) = e { Some(format!("{} {}", v.kind, v.detail)) } else { None }).collect()
}

/// The conversations of the capture.
pub fn contacts(events: &[Event]) -> Vec<&Contact> {
    events.iter().filter_map(|e| if let Event::Contact(c) = e { Some(c) } else { None }).collect()
}

/// The protocols `host` (an IP) shows in its conversations, primary and
/// carried, sorted and without repeats.
pub fn host_protocols(events: &[Event], host: &str) -> Vec<Protocol> {
    let addr = ip(host);
    let mut out: Vec<Protocol> = contacts(events)
        .into_iter()
        .filter(|c| c.client.ip == addr || c.server.ip == addr)
        .flat_map(|c| c.protocol.into_iter().chain(c.also.iter()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The MAC address test frames give `ip`: the IPv4 multicast mapping for a
/// group address, broadcast for 255.255.255.255, else 02:00:00:00:00:<last octet>.
fn frame_mac(ip: [u8; 4]) -> [u8; 6] {
    match ip {
        [224..=239, b, c, d] => [0x01, 0x00, 0x5e, b & 0x7f, c, d],
        [255, 255, 255, 255] => [0xff; 6],
        [.., last] => [0x02, 0, 0, 0, 0, last],
    }
}

/// An Ethernet/IPv4 frame from `src` to `dst` carrying `transport` (a TCP
/// or UDP header and its payload) of IP protocol `protocol`.
fn ipv4_frame(src: [u8; 4], dst: [u8; 4], protocol: u8, transport: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + transport.len()).expect("test frame fits an IPv4 packet");
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum: u32 = ip.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
    let checksum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    let mut frame = frame_mac(dst).to_vec();
    frame.extend_from_slice(&frame_mac(src));
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(transport);
    frame
}

/// An Ethernet/IPv4/TCP frame from `src:sport` to `dst:dport` with sequence
/// number `seq` and `flags` (the TCP checksum is left zero: the sensor does
/// not check it).
pub fn tcp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut tcp = sport.to_be_bytes().to_vec();
    tcp.extend_from_slice(&dport.to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    tcp.extend_from_slice(payload);
    ipv4_frame(src, dst, 6, &tcp)
}

/// An Ethernet/IPv4/UDP frame from `src:sport` to `dst:dport` (without UDP
/// checksum).
pub fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(8 + payload.len()).expect("test datagram fits UDP");
    let mut udp = sport.to_be_bytes().to_vec();
    udp.extend_from_slice(&dport.to_be_bytes());
    udp.extend_from_slice(&length.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    ipv4_frame(src, dst, 17, &udp)
}

/// Every event of Ethernet `frames` written as a capture, a millisecond
/// apart, and analysed on the calling thread.
pub fn frames_events(frames: &[Vec<u8>]) -> Vec<Event> {
    static CAPTURES: AtomicU32 = AtomicU32::new(0);
    let n = CAPTURES.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("palisade-test-{}-{n}.pcap", std::process::id()));
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut writer = PcapWriter::new(file, LinkType::Ethernet, 65535).expect("pcap header written");
    for (i, frame) in (0i64..).zip(frames) {
        writer.write_packet(Timestamp(1_700_000_000_000_000_000 + i * 1_000_000), frame).expect("packet written");
    }
    writer.finish().expect("capture written");
    let events = analyze_path_events(&path);
    let _ = std::fs::remove_file(&path);
    events.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
