//! DHCPv6 dissector end to end (capture file → sensor → events).
//!
//! No shared capture carries DHCPv6 (grep truth/*.truth.json), so this test
//! writes its own, byte by byte from the RFC 8415 formats: a Windows-style
//! SOLICIT to the All_DHCP_Relay_Agents_and_Servers group, the server's
//! ADVERTISE, and a unicast RENEW answered by a REPLY on the same flow.

mod handmade;

use handmade::{analyze, udp};
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{assert_facts_on, has_fact_on, has_op, operations, violation_details};
use std::net::Ipv6Addr;

const CLIENT_MAC: [u8; 6] = [0x00, 0x0c, 0x29, 0x11, 0x22, 0x33];
const SERVER_MAC: [u8; 6] = [0x00, 0x50, 0x56, 0x01, 0x02, 0x03];

/// One DHCPv6 option.
fn opt(code: u16, value: &[u8]) -> Vec<u8> {
    [&code.to_be_bytes()[..], &u16::try_from(value.len()).expect("short option").to_be_bytes(), value].concat()
}

/// A message: type, transaction id, options.
fn message(kind: u8, transaction: [u8; 3], options: &[Vec<u8>]) -> Vec<u8> {
    [&[kind][..], &transaction, &options.concat()].concat()
}

/// A DUID-LLT (type 1, Ethernet, a time) of a MAC.
fn duid_llt(mac: [u8; 6]) -> Vec<u8> {
    [&[0u8, 1, 0, 1, 0x2b, 0x1c, 0x2d, 0x3e][..], &mac].concat()
}

/// An IA_NA (IAID 0x0e000c29, T1 1800, T2 2880) holding one address.
fn ia_na(addr: &str) -> Vec<u8> {
    let addr: Ipv6Addr = addr.parse().expect("ip");
    let iaaddr = opt(5, &[&addr.octets()[..], &[0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20]].concat());
    opt(3, &[&[0x0e, 0, 0x0c, 0x29, 0, 0, 0x07, 0x08, 0, 0, 0x0b, 0x40][..], &iaaddr].concat())
}

#[test]
fn solicit_advertise_and_renewal() {
    let client_ll = ("fe80::20c:29ff:fe11:2233", CLIENT_MAC, 546);
    let client_global = ("2001:db8::5", CLIENT_MAC, 546);
    let group = ("ff02::1:2", [0; 6], 547);
    let server_ll = ("fe80::250:56ff:fe01:203", SERVER_MAC, 547);
    let server_global = ("2001:db8::1", SERVER_MAC, 547);
    let client_id = opt(1, &duid_llt(CLIENT_MAC));
    let server_id = opt(2, &duid_llt(SERVER_MAC));
    let vendor_class = opt(16, &[&311u32.to_be_bytes()[..], &[0, 8], b"MSFT 5.0"].concat());
    let fqdn = opt(39, b"\x00\x0bENG-STATION\x05plant\x07example\x00");
    let oro = opt(6, &[0, 17, 0, 23, 0, 24, 0, 39]);
    let elapsed = opt(8, &[0, 0]);
    let dns = opt(23, &"2001:db8::53".parse::<Ipv6Addr>().expect("ip").octets());
    let frames = [
        udp(client_ll, group, &message(1, [0x1a, 0x2b, 0x3c], &[client_id.clone(), elapsed, fqdn, vendor_class, oro.clone()])),
        udp(server_ll, client_ll, &message(2, [0x1a, 0x2b, 0x3c], &[server_id.clone(), client_id.clone(), ia_na("2001:db8::5"), dns])),
        udp(client_global, server_global, &message(5, [0x77, 0, 1], &[client_id.clone(), server_id.clone(), ia_na("2001:db8::5"), oro])),
        udp(server_global, client_global, &message(7, [0x77, 0, 1], &[server_id, client_id, ia_na("2001:db8::5"), opt(13, &[0, 0])])),
    ];
    let ev = analyze("dhcpv6", &frames);
    let mac = Some("00:0c:29:11:22:33");
    assert_facts_on(
        &ev,
        Protocol::Dhcpv6,
        mac,
        Some("fe80::20c:29ff:fe11:2233"),
        &[
            (IdentityField::Hostname, "ENG-STATION"),
            (IdentityField::Domain, "plant.example"),
            (IdentityField::VendorClass, "MSFT 5.0 (enterprise 311)"),
            (IdentityField::Os, "Windows"),
            (IdentityField::DhcpFingerprint, "v6:17,23,24,39"),
        ],
    );
    assert!(has_fact_on(&ev, Protocol::Dhcpv6, mac, Some("2001:db8::5"), IdentityField::DhcpFingerprint, "v6:17,23,24,39"));
    for server in ["fe80::250:56ff:fe01:203", "2001:db8::1"] {
        assert!(has_fact_on(&ev, Protocol::Dhcpv6, Some("00:50:56:01:02:03"), Some(server), IdentityField::Service, "dhcpv6-server"));
    }
    assert!(has_fact_on(&ev, Protocol::Dhcpv6, None, Some("2001:db8::53"), IdentityField::Role, "dns-server"));
    let ops = operations(&ev, Protocol::Dhcpv6);
    assert!(has_op(&ops, "2001:db8::5", "2001:db8::1", OperationKind::Other, 5, Some("renew 2001:db8::5"), OperationResult::Success));
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert!(violation_details(&ev, Protocol::Dhcpv6).is_empty());
}
