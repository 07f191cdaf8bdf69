//! Captures that tests write themselves, for protocols no shared capture
//! carries: Ethernet frames of UDP over IPv4 or IPv6, written to a pcap
//! file and analysed by the sensor.

use palisade_capture::write::PcapWriter;
use palisade_model::{Event, Timestamp};
use std::net::IpAddr;

/// One side of a datagram: address, MAC, port.
pub type Side<'a> = (&'a str, [u8; 6], u16);

/// An Ethernet frame with a UDP datagram over IPv4 or IPv6 (checksums
/// left zero); a multicast destination gets its group MAC.
pub fn udp(src: Side<'_>, dst: Side<'_>, payload: &[u8]) -> Vec<u8> {
    let (src_ip, dst_ip): (IpAddr, IpAddr) = (src.0.parse().expect("source IP"), dst.0.parse().expect("destination IP"));
    let udp_len = u16::try_from(8 + payload.len()).expect("small datagram");
    let (dst_mac, ethertype, ip_header) = match (src_ip, dst_ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let o = d.octets();
            let mac = if d.is_multicast() { [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]] } else { dst.1 };
            let total = (udp_len + 20).to_be_bytes();
            let header = [&[0x45, 0, total[0], total[1], 0, 0, 0x40, 0, 64, 17, 0, 0][..], &s.octets(), &o].concat();
            (mac, [0x08, 0x00], header)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let o = d.octets();
            let mac = if d.is_multicast() { [0x33, 0x33, o[12], o[13], o[14], o[15]] } else { dst.1 };
            let len = udp_len.to_be_bytes();
            (mac, [0x86, 0xdd], [&[0x60, 0, 0, 0, len[0], len[1], 17, 64][..], &s.octets(), &o].concat())
        }
        _ => panic!("{} and {} are not of one IP version", src.0, dst.0),
    };
    let ports = [src.2.to_be_bytes(), dst.2.to_be_bytes(), udp_len.to_be_bytes(), [0, 0]].concat();
    [&dst_mac[..], &src.1, &ethertype, &ip_header, &ports, payload].concat()
}

/// Writes `frames` (one millisecond apart) to a temporary pcap named after
/// `test` and returns every event the sensor reports for it.
pub fn analyze(test: &str, frames: &[Vec<u8>]) -> Vec<Event> {
    let path = std::env::temp_dir().join(format!("palisade-{test}-{}.pcap", std::process::id()));
    let file = std::fs::File::create(&path).expect("create pcap");
    let mut w = PcapWriter::new(file, palisade_capture::LinkType::Ethernet, 65535).expect("pcap writer");
    for (i, f) in frames.iter().enumerate() {
        let ts = 1_700_000_000_000_000_000 + i64::try_from(i).expect("few frames") * 1_000_000;
        w.write_packet(Timestamp(ts), f).expect("write frame");
    }
    w.finish().expect("finish pcap");
    let events = palisade_sensor::analyze_path_events(&path);
    let _ = std::fs::remove_file(&path);
    events.expect("capture reads")
}
