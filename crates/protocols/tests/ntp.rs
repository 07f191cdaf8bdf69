//! NTP dissector end to end (capture file → sensor → events).
//!
//! No shared capture carries NTP (grep truth/*.truth.json), so this test
//! writes its own: an ntpd client polling a stratum 2 server, an SNTP
//! client asking a stratum 1 GPS clock over IPv6, a monlist query (the
//! amplification probe) and a poll on a non-standard port, found by the
//! probe.

mod handmade;

use handmade::{analyze, udp};
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::testdata::{has_op, ip, ip_facts, operations, violation_details};

/// A 48-byte NTPv4 time packet (poll 6, precision -20, transmit time set).
fn time(mode: u8, stratum: u8, reference: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0u8; 48];
    p[0] = (4 << 3) | mode;
    p[1] = stratum;
    p[2] = 6;
    p[3] = 0xec;
    p[12..16].copy_from_slice(&reference);
    p[40..44].copy_from_slice(&0xe91c_2a10u32.to_be_bytes());
    p
}

#[test]
fn polls_servers_and_monlist() {
    let mac = |last: u8| [0x02, 0, 0, 0, 0, last];
    let client = |port: u16| ("10.0.0.5", mac(5), port);
    let server = ("10.0.0.1", mac(1), 123);
    let scanner = ("10.0.0.66", mac(66), 50000);
    // The GPS clock answers over IPv6.
    let (client6, gps) = (("fd00::5", mac(5), 40000), ("fd00::2", mac(2), 123));
    let odd = ("10.0.0.3", mac(3), 1123);
    let mut sntp = vec![0u8; 48];
    sntp[0] = 0x1b;
    let mut monlist = vec![0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
    monlist.extend_from_slice(&[0; 40]);
    let mut monlist_answer = vec![0x97, 0x00, 0x03, 0x2a, 0x00, 0x01, 0x00, 0x48];
    monlist_answer.extend_from_slice(&[0; 72]);
    let frames = [
        udp(client(123), server, &time(3, 3, [10, 0, 0, 1])),
        udp(server, client(123), &time(4, 2, [192, 168, 1, 1])),
        udp(client6, gps, &sntp),
        udp(gps, client6, &time(4, 1, *b"GPS\0")),
        udp(scanner, server, &monlist),
        udp(server, scanner, &monlist_answer),
        udp(client(41000), odd, &time(3, 0, [0; 4])),
        udp(odd, client(41000), &time(4, 3, [10, 0, 0, 1])),
    ];
    let ev = analyze("ntp", &frames);
    let mut want = vec![
        (ip("10.0.0.1"), IdentityField::Service, "ntp server stratum 2"),
        (ip("fd00::2"), IdentityField::Service, "ntp server stratum 1 (GPS)"),
        (ip("10.0.0.3"), IdentityField::Service, "ntp server stratum 3"),
    ];
    want.sort();
    assert_eq!(ip_facts(&ev, Protocol::Ntp), want);
    let ops = operations(&ev, Protocol::Ntp);
    assert!(has_op(&ops, "10.0.0.5", "10.0.0.1", OperationKind::Read, 3, Some("time"), OperationResult::Success));
    assert!(has_op(&ops, "fd00::5", "fd00::2", OperationKind::Read, 3, Some("time"), OperationResult::Success));
    assert!(has_op(&ops, "10.0.0.66", "10.0.0.1", OperationKind::Diagnostics, 0x72a, Some("private:monlist"), OperationResult::Success));
    assert!(has_op(&ops, "10.0.0.5", "10.0.0.3", OperationKind::Read, 3, Some("time"), OperationResult::Success));
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert_eq!(violation_details(&ev, Protocol::Ntp), [(ViolationKind::NonStandardPort, "ntp on non-standard port 1123")]);
}
