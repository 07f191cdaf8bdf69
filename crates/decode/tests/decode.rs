//! Decoding hand-built frames of every supported link type and layer, and
//! every prefix of each of them (a capture cut at any byte must give the
//! layers that were whole, report the cut, and never panic).

use palisade_capture::LinkType;
use palisade_decode::{decode, decode_network, DecodeError, Fragment, Frame, IpPacket, Net, Transport};
use palisade_model::MacAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const SRC_MAC: [u8; 6] = [0x00, 0x1b, 0x1b, 0x11, 0x22, 0x33];
const DST_MAC: [u8; 6] = [0x00, 0x0e, 0x8c, 0x44, 0x55, 0x66];
const SRC4: [u8; 4] = [192, 168, 1, 10];
const DST4: [u8; 4] = [192, 168, 1, 20];
const SRC6: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x1b, 0x1b, 0xff, 0xfe, 0x11, 0x22, 0x33];
const DST6: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];

fn ethernet(dst: [u8; 6], tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&SRC_MAC);
    for (tpid, tci) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Pads a frame to the Ethernet minimum of 60 bytes.
fn padded(mut f: Vec<u8>) -> Vec<u8> {
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

fn ipv4(protocol: u8, options: &[u8], frag: u16, payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let header_len = 20 + options.len();
    let total = (header_len + payload.len()) as u16;
    let mut p = vec![0x40 | (header_len / 4) as u8, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&0x1234u16.to_be_bytes());
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, protocol, 0, 0]);
    p.extend_from_slice(&SRC4);
    p.extend_from_slice(&DST4);
    p.extend_from_slice(options);
    p.extend_from_slice(payload);
    p
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 255]);
    p.extend_from_slice(&SRC6);
    p.extend_from_slice(&DST6);
    p.extend_from_slice(payload);
    p
}

fn tcp(options: &[u8], flags: u8, payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let mut t = Vec::new();
    t.extend_from_slice(&49152u16.to_be_bytes());
    t.extend_from_slice(&502u16.to_be_bytes());
    t.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    t.extend_from_slice(&0x0a0b_0c0du32.to_be_bytes());
    t.push((((20 + options.len()) / 4) as u8) << 4);
    t.push(flags);
    t.extend_from_slice(&8192u16.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(options);
    t.extend_from_slice(payload);
    t
}

fn udp(src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&src.to_be_bytes());
    u.extend_from_slice(&dst.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn arp_request() -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&SRC_MAC);
    a.extend_from_slice(&SRC4);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&DST4);
    a
}

fn ip_of<'a>(frame: &Frame<'a>) -> IpPacket<'a> {
    *frame.ip().unwrap_or_else(|| panic!("no IP layer: {frame:?}"))
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn v6(a: [u8; 16]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(a))
}

const TCP_OPTIONS: [u8; 12] = [2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7];
const IP_OPTIONS: [u8; 4] = [0x94, 4, 0, 0]; // router alert

fn tcp_frame() -> Vec<u8> {
    padded(ethernet(DST_MAC, &[], 0x0800, &ipv4(6, &IP_OPTIONS, 0x4000, &tcp(&TCP_OPTIONS, 0x18, b"hi"))))
}

#[test]
fn ethernet_ipv4_options_tcp_options_padding_excluded() {
    let bytes = tcp_frame();
    assert_eq!(bytes.len(), 14 + 24 + 32 + 2, "no padding needed at 72 bytes");
    // Force padding: a 1-byte payload in a 60-byte minimum frame.
    let bytes_padded = padded(ethernet(DST_MAC, &[], 0x0800, &ipv4(6, &[], 0, &tcp(&[], 0x18, b"x"))));
    for (bytes, options, payload) in [(&bytes, &TCP_OPTIONS[..], &b"hi"[..]), (&bytes_padded, &[][..], &b"x"[..])] {
        let f = decode(LinkType::Ethernet, bytes);
        assert_eq!(f.error, None);
        assert_eq!((f.src_mac, f.dst_mac), (Some(MacAddr(SRC_MAC)), Some(MacAddr(DST_MAC))));
        assert_eq!(f.vlans, [0, 0]);
        let ip = f.ip().expect("IP");
        assert_eq!((ip.src, ip.dst, ip.ttl, ip.protocol, ip.fragment), (v4(SRC4), v4(DST4), 64, 6, None));
        assert_eq!(ip.payload.len(), 20 + options.len() + payload.len(), "IP payload ends at the total length");
        let Transport::Tcp(t) = ip.transport else { panic!("not TCP: {:?}", ip.transport) };
        assert_eq!((t.src_port, t.dst_port, t.seq, t.ack, t.window), (49152, 502, 0x0102_0304, 0x0a0b_0c0d, 8192));
        assert!(t.flags.has(0x08 | 0x10) && !t.flags.has(0x02));
        assert_eq!(t.options, options);
        assert_eq!(t.payload, payload, "Ethernet padding is not TCP payload");
    }
}

#[test]
fn vlan_and_qinq() {
    let dot1q = ethernet(DST_MAC, &[(0x8100, 0x2064)], 0x0800, &ipv4(17, &[], 0, &udp(1000, 2000, b"abc")));
    let f = decode(LinkType::Ethernet, &dot1q);
    assert_eq!((f.vlans, f.error), ([100, 0], None));
    assert_eq!(ip_of(&f).src, v4(SRC4));

    let qinq = ethernet(DST_MAC, &[(0x88a8, 0x00c8), (0x8100, 0xe12c)], 0x86dd, &ipv6(17, &udp(5353, 5353, b"q")));
    let f = decode(LinkType::Ethernet, &qinq);
    assert_eq!((f.vlans, f.error), ([200, 300], None));
    let ip = f.ip().expect("IPv6");
    assert_eq!((ip.src, ip.dst, ip.ttl), (v6(SRC6), v6(DST6), 255));
    let Transport::Udp(u) = ip.transport else { panic!("not UDP") };
    assert_eq!((u.src_port, u.dst_port, u.payload), (5353, 5353, &b"q"[..]));

    let too_many = ethernet(DST_MAC, &[(0x8100, 1); 5], 0x0800, &[]);
    assert_eq!(decode(LinkType::Ethernet, &too_many).error, Some(DecodeError::Invalid("VLAN")));
}

#[test]
fn arp() {
    let bytes = padded(ethernet([0xff; 6], &[], 0x0806, &arp_request()));
    let f = decode(LinkType::Ethernet, &bytes);
    assert_eq!(f.error, None);
    let Net::Arp(a) = f.net else { panic!("not ARP: {:?}", f.net) };
    assert_eq!(a.operation, 1);
    assert_eq!((a.sender_mac, a.sender_ip), (MacAddr(SRC_MAC), Ipv4Addr::from(SRC4)));
    assert_eq!((a.target_mac, a.target_ip), (MacAddr([0; 6]), Ipv4Addr::from(DST4)));

    let mut other = arp_request();
    other[1] = 6; // token ring
    let bytes = ethernet([0xff; 6], &[], 0x0806, &other);
    let f = decode(LinkType::Ethernet, &bytes);
    assert_eq!(f.error, Some(DecodeError::Invalid("ARP")));
}

#[test]
fn ipv4_fragments() {
    let first = ethernet(DST_MAC, &[], 0x0800, &ipv4(17, &[], 0x2000, &udp(1, 2, &[0; 32])));
    let f = decode(LinkType::Ethernet, &first);
    let ip = f.ip().expect("IP");
    assert_eq!(ip.fragment, Some(Fragment { id: 0x1234, offset: 0, more: true }));
    assert!(matches!(ip.transport, Transport::None), "fragments are not parsed as transport");
    assert_eq!(ip.payload.len(), 40);

    let last = ethernet(DST_MAC, &[], 0x0800, &ipv4(17, &[], 185, &[7; 16]));
    let ip = ip_of(&decode(LinkType::Ethernet, &last));
    assert_eq!(ip.fragment, Some(Fragment { id: 0x1234, offset: 1480, more: false }));

    let df_only = ethernet(DST_MAC, &[], 0x0800, &ipv4(17, &[], 0x4000, &udp(1, 2, b"")));
    assert_eq!(ip_of(&decode(LinkType::Ethernet, &df_only)).fragment, None);
}

/// Hop-by-hop (PadN) then a fragment header, then `payload` of protocol `next`.
fn v6_ext(frag_field: u16, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![44, 0, 1, 4, 0, 0, 0, 0];
    body.extend_from_slice(&[next, 0]);
    body.extend_from_slice(&frag_field.to_be_bytes());
    body.extend_from_slice(&0xdead_beefu32.to_be_bytes());
    body.extend_from_slice(payload);
    ipv6(0, &body)
}

#[test]
fn ipv6_extension_headers() {
    let first = ethernet(DST_MAC, &[], 0x86dd, &v6_ext(0x0001, 17, &udp(547, 546, b"dhcp")));
    let f = decode(LinkType::Ethernet, &first);
    assert_eq!(f.error, None);
    let ip = f.ip().expect("IPv6");
    assert_eq!(ip.protocol, 17);
    assert_eq!(ip.fragment, Some(Fragment { id: 0xdead_beef, offset: 0, more: true }));
    assert!(matches!(ip.transport, Transport::None));
    assert_eq!(ip.payload.len(), 12);

    let later = ethernet(DST_MAC, &[], 0x86dd, &v6_ext((100 << 3) | 1, 17, &[0; 8]));
    assert_eq!(ip_of(&decode(LinkType::Ethernet, &later)).fragment, Some(Fragment { id: 0xdead_beef, offset: 800, more: true }));

    // An atomic fragment (offset 0, no more) is a whole datagram.
    let atomic = ethernet(DST_MAC, &[], 0x86dd, &v6_ext(0, 17, &udp(547, 546, b"dhcp")));
    let ip = *decode(LinkType::Ethernet, &atomic).ip().expect("IPv6");
    assert_eq!(ip.fragment, None);
    let Transport::Udp(u) = ip.transport else { panic!("not UDP") };
    assert_eq!((u.src_port, u.dst_port, u.payload), (547, 546, &b"dhcp"[..]));
}

#[test]
fn udp_length_bounds_payload() {
    let mut datagram = udp(161, 40000, b"snmp");
    datagram.extend_from_slice(b"trailer");
    let bytes = ethernet(DST_MAC, &[], 0x0800, &ipv4(17, &[], 0, &datagram));
    let f = decode(LinkType::Ethernet, &bytes);
    let Transport::Udp(u) = f.ip().expect("IP").transport else { panic!("not UDP") };
    assert_eq!((u.src_port, u.dst_port, u.payload), (161, 40000, &b"snmp"[..]));
    assert_eq!(f.error, None);
}

#[test]
fn icmp_and_icmpv6() {
    let echo = [8, 0, 0, 0, 0, 1, 0, 2, b'p', b'i', b'n', b'g'];
    let bytes = padded(ethernet(DST_MAC, &[], 0x0800, &ipv4(1, &[], 0, &echo)));
    let f = decode(LinkType::Ethernet, &bytes);
    let Transport::Icmp(i) = f.ip().expect("IP").transport else { panic!("not ICMP") };
    assert_eq!((i.kind, i.code, i.payload), (8, 0, &echo[4..]));

    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&DST6);
    let bytes = ethernet([0x33, 0x33, 0xff, 0, 0, 1], &[], 0x86dd, &ipv6(58, &ns));
    let f = decode(LinkType::Ethernet, &bytes);
    let ip = f.ip().expect("IPv6");
    assert_eq!(ip.protocol, 58);
    let Transport::Icmp(i) = ip.transport else { panic!("not ICMPv6") };
    assert_eq!((i.kind, i.code, i.payload.len()), (135, 0, 20));
}

/// An 802.3 frame: length field, then `llc`, padded to 60.
fn dot3(dst: [u8; 6], llc: &[u8]) -> Vec<u8> {
    padded(ethernet(dst, &[], llc.len() as u16, llc))
}

fn cdp_llc() -> Vec<u8> {
    let mut l = vec![0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];
    l.extend_from_slice(&[0x02, 0xb4, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, b'S', b'W']);
    l
}

#[test]
fn llc_snap() {
    let cdp = dot3([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc], &cdp_llc());
    let f = decode(LinkType::Ethernet, &cdp);
    assert_eq!(f.error, None);
    let Net::Llc(l) = f.net else { panic!("not LLC: {:?}", f.net) };
    assert_eq!((l.dsap, l.ssap, l.snap), (0xaa, 0xaa, Some((0x00000c, 0x2000))));
    assert_eq!(l.payload, &cdp_llc()[8..], "the 802.3 length bounds the payload");

    let stp = dot3([0x01, 0x80, 0xc2, 0, 0, 0], &[0x42, 0x42, 0x03, 0, 0, 0, 0]);
    let Net::Llc(l) = decode(LinkType::Ethernet, &stp).net else { panic!("not LLC") };
    assert_eq!((l.dsap, l.ssap, l.snap, l.payload), (0x42, 0x42, None, &[0u8, 0, 0, 0][..]));

    // RFC 1042: SNAP with a zero OUI carries an ethertype.
    let mut rfc1042 = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06];
    rfc1042.extend_from_slice(&arp_request());
    assert!(matches!(decode(LinkType::Ethernet, &dot3([0xff; 6], &rfc1042)).net, Net::Arp(_)));
}

#[test]
fn other_ethertypes_are_passed_on() {
    let lldp = ethernet([0x01, 0x80, 0xc2, 0, 0, 0x0e], &[], 0x88cc, &[2, 7, 4]);
    let f = decode(LinkType::Ethernet, &lldp);
    assert!(matches!(f.net, Net::Ethertype { ethertype: 0x88cc, payload: [2, 7, 4] }), "{:?}", f.net);
}

fn sll(arphrd: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0];
    f.extend_from_slice(&arphrd.to_be_bytes());
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(&SRC_MAC);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn sll2(arphrd: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = protocol.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 3]);
    f.extend_from_slice(&arphrd.to_be_bytes());
    f.extend_from_slice(&[4, 6]);
    f.extend_from_slice(&SRC_MAC);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

#[test]
fn linux_cooked() {
    let packet = ipv4(17, &[], 0, &udp(53, 5000, b"dns"));
    for (link, bytes) in [(LinkType::LinuxSll, sll(1, 0x0800, &packet)), (LinkType::LinuxSll2, sll2(1, 0x0800, &packet))] {
        let f = decode(link, &bytes);
        assert_eq!((f.src_mac, f.dst_mac, f.error), (Some(MacAddr(SRC_MAC)), None, None), "{link:?}");
        assert_eq!(ip_of(&f).dst, v4(DST4));
    }
    // Not an Ethernet sender (ARPHRD_IPGRE = 778): no MAC.
    for (link, bytes) in [(LinkType::LinuxSll, sll(778, 0x0800, &packet)), (LinkType::LinuxSll2, sll2(778, 0x0800, &packet))] {
        let f = decode(link, &bytes);
        assert_eq!(f.src_mac, None, "{link:?}");
        assert!(f.ip().is_some());
    }
    let bytes = sll2(1, 0x0806, &arp_request());
    let f = decode(LinkType::LinuxSll2, &bytes);
    assert!(matches!(f.net, Net::Arp(_)));
}

#[test]
fn bsd_loopback_both_byte_orders() {
    let v4_packet = ipv4(6, &[], 0, &tcp(&[], 0x02, b""));
    let v6_packet = ipv6(17, &udp(1, 2, b""));
    for family in [2u32, 24, 28, 30] {
        let packet = if family == 2 { &v4_packet } else { &v6_packet };
        for header in [family.to_le_bytes(), family.to_be_bytes()] {
            let mut bytes = header.to_vec();
            bytes.extend_from_slice(packet);
            let f = decode(LinkType::Null, &bytes);
            assert_eq!(f.error, None, "family {family} {header:?}");
            assert_eq!(ip_of(&f).src, if family == 2 { v4(SRC4) } else { v6(SRC6) });
        }
        // OpenBSD loop: network order only.
        let mut bytes = family.to_be_bytes().to_vec();
        bytes.extend_from_slice(packet);
        assert!(decode(LinkType::Loop, &bytes).ip().is_some(), "loop family {family}");
    }
    let mut bad = 99u32.to_le_bytes().to_vec();
    bad.extend_from_slice(&v4_packet);
    assert_eq!(decode(LinkType::Null, &bad).error, Some(DecodeError::Invalid("loopback family")));
}

#[test]
fn raw_ip() {
    let v4_packet = ipv4(17, &[], 0, &udp(1, 2, b"x"));
    let v6_packet = ipv6(58, &[128, 0, 0, 0, 0, 1, 0, 1]);
    for link in [LinkType::RawIp, LinkType::Ipv4] {
        let f = decode(link, &v4_packet);
        assert_eq!((f.src_mac, f.error), (None, None));
        assert_eq!(ip_of(&f).src, v4(SRC4));
    }
    for link in [LinkType::RawIp, LinkType::Ipv6] {
        let ip = ip_of(&decode(link, &v6_packet));
        assert_eq!((ip.src, ip.protocol), (v6(SRC6), 58));
    }
    assert_eq!(decode(LinkType::RawIp, &[0x50, 0, 0, 0]).error, Some(DecodeError::Invalid("IP version")));
}

/// A test frame and the offsets at which its layers become complete.
struct Case {
    name: &'static str,
    link: LinkType,
    bytes: Vec<u8>,
    /// Bytes needed for the link-layer addresses.
    macs_at: Option<usize>,
    /// Bytes needed for the whole IP header (with options / extension headers).
    ip_at: Option<usize>,
    /// Bytes needed for the transport header.
    l4_at: Option<usize>,
    /// Where meaningful bytes end (padding follows).
    end: usize,
}

fn cases() -> Vec<Case> {
    let tcp_frame = tcp_frame();
    let udp_padded = padded(ethernet(DST_MAC, &[], 0x0800, &ipv4(17, &[], 0, &udp(1, 2, b"x"))));
    let qinq = ethernet(DST_MAC, &[(0x88a8, 200), (0x8100, 300)], 0x0800, &ipv4(6, &[], 0, &tcp(&TCP_OPTIONS, 0x10, b"abc")));
    let arp = padded(ethernet([0xff; 6], &[], 0x0806, &arp_request()));
    let frag = ethernet(DST_MAC, &[], 0x0800, &ipv4(17, &[], 0x2000, &[9; 24]));
    let v6ext = ethernet(DST_MAC, &[], 0x86dd, &v6_ext(0, 17, &udp(547, 546, b"dhcp")));
    let icmp6 = ethernet(DST_MAC, &[], 0x86dd, &ipv6(58, &[135, 0, 0, 0, 0, 0, 0, 0]));
    let cdp = dot3([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc], &cdp_llc());
    let cdp_end = 14 + cdp_llc().len();
    let mut null = 24u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ipv6(6, &tcp(&[], 0x02, b"")));
    let raw = ipv4(1, &IP_OPTIONS, 0, &[0, 0, 0, 0, 1, 2]);
    let sll = sll(1, 0x0800, &ipv4(17, &[], 0, &udp(1, 2, b"abc")));
    let sll2 = sll2(1, 0x86dd, &ipv6(17, &udp(1, 2, b"abc")));
    vec![
        Case {
            name: "tcp",
            link: LinkType::Ethernet,
            end: tcp_frame.len(),
            bytes: tcp_frame,
            macs_at: Some(12),
            ip_at: Some(38),
            l4_at: Some(70),
        },
        Case {
            name: "udp padded",
            link: LinkType::Ethernet,
            bytes: udp_padded,
            macs_at: Some(12),
            ip_at: Some(34),
            l4_at: Some(42),
            end: 43,
        },
        Case { name: "qinq", link: LinkType::Ethernet, end: qinq.len(), bytes: qinq, macs_at: Some(12), ip_at: Some(42), l4_at: Some(74) },
        Case { name: "arp", link: LinkType::Ethernet, bytes: arp, macs_at: Some(12), ip_at: None, l4_at: None, end: 42 },
        Case {
            name: "ipv4 fragment",
            link: LinkType::Ethernet,
            end: frag.len(),
            bytes: frag,
            macs_at: Some(12),
            ip_at: Some(34),
            l4_at: None,
        },
        Case {
            name: "ipv6 ext",
            link: LinkType::Ethernet,
            end: v6ext.len(),
            bytes: v6ext,
            macs_at: Some(12),
            ip_at: Some(54),
            l4_at: Some(78),
        },
        Case { name: "icmpv6", link: LinkType::Ethernet, end: icmp6.len(), bytes: icmp6, macs_at: Some(12), ip_at: Some(54), l4_at: None },
        Case { name: "cdp", link: LinkType::Ethernet, bytes: cdp, macs_at: Some(12), ip_at: None, l4_at: None, end: cdp_end },
        Case { name: "null", link: LinkType::Null, end: null.len(), bytes: null, macs_at: None, ip_at: Some(44), l4_at: Some(64) },
        Case { name: "raw", link: LinkType::RawIp, end: raw.len(), bytes: raw, macs_at: None, ip_at: Some(24), l4_at: None },
        Case { name: "sll", link: LinkType::LinuxSll, end: sll.len(), bytes: sll, macs_at: Some(16), ip_at: Some(36), l4_at: Some(44) },
        Case { name: "sll2", link: LinkType::LinuxSll2, end: sll2.len(), bytes: sll2, macs_at: Some(20), ip_at: Some(60), l4_at: Some(68) },
    ]
}

fn ports(t: &Transport<'_>) -> Option<(u16, u16)> {
    match t {
        Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
        Transport::Udp(u) => Some((u.src_port, u.dst_port)),
        _ => None,
    }
}

#[test]
fn every_prefix_decodes_partially_without_panicking() {
    for case in cases() {
        let whole = decode(case.link, &case.bytes);
        assert_eq!(whole.error, None, "{}: whole frame has an error", case.name);
        let whole_ip = whole.ip().map(|ip| (ip.src, ip.dst, ports(&ip.transport)));
        for n in 0..case.bytes.len() {
            let f = decode(case.link, &case.bytes[..n]);
            let at = format!("{} cut at {n} of {}", case.name, case.bytes.len());
            let net = decode_network(case.link, &case.bytes[..n]);
            assert_eq!((net.src_mac, net.dst_mac, net.vlans), (f.src_mac, f.dst_mac, f.vlans), "{at}: decode_network differs");
            assert_eq!(
                net.ip().map(|i| (i.src, i.dst, i.fragment)),
                f.ip().map(|i| (i.src, i.dst, i.fragment)),
                "{at}: decode_network differs"
            );
            if n < case.end {
                assert!(f.error.is_some(), "{at}: the cut is not reported");
            } else {
                assert_eq!(f.error, None, "{at}: only padding is missing");
            }
            if case.macs_at.is_some_and(|m| n >= m) {
                assert_eq!(f.src_mac, whole.src_mac, "{at}");
                assert_eq!(f.dst_mac, whole.dst_mac, "{at}");
            }
            if case.ip_at.is_some_and(|m| n >= m) {
                let ip = f.ip().unwrap_or_else(|| panic!("{at}: IP header is whole but missing"));
                assert_eq!((ip.src, ip.dst), whole_ip.map(|w| (w.0, w.1)).expect("whole IP"), "{at}");
                if case.l4_at.is_some_and(|m| n >= m) {
                    assert_eq!(ports(&ip.transport), whole_ip.and_then(|w| w.2), "{at}: transport header is whole");
                }
            }
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    // Every link type over every prefix of every case with each byte flipped.
    let links = [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::Null,
        LinkType::Loop,
    ];
    for case in cases() {
        for i in 0..case.bytes.len() {
            for flip in [0xffu8, 0x0f, 0x80] {
                let mut bytes = case.bytes.clone();
                bytes[i] ^= flip;
                for link in links {
                    let _ = decode(link, &bytes);
                    let _ = decode_network(link, &bytes);
                }
            }
        }
    }
}
