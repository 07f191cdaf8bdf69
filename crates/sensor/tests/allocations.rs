//! The steady state of the packet path allocates nothing per packet: once a
//! flow exists, its further packets (decode, flow lookup, counting, TCP
//! reassembly) cause no heap allocation.

use palisade_capture::LinkType;
use palisade_model::Timestamp;
use palisade_sensor::testdata::tcp_frame;
use palisade_sensor::Analyzer;
mod counting;

use counting::allocations;

#[test]
fn established_flows_allocate_nothing() {
    let mut analyzer = Analyzer::new(Default::default());
    let payload = [0x11u8; 200];
    let hosts: Vec<([u8; 4], u16)> = (0..50u8).map(|i| ([10, 0, 0, i + 10], 40000 + u16::from(i))).collect();
    let mut seq = vec![1000u32; hosts.len()];
    let mut frames = Vec::new();
    // Open each flow, then prepare many in-order data segments.
    for (i, (ip, port)) in hosts.iter().enumerate() {
        frames.push(tcp_frame(*ip, [10, 0, 1, 1], *port, 5450, seq[i] - 1, 0x02, &[]));
    }
    for round in 0..200 {
        for (i, (ip, port)) in hosts.iter().enumerate() {
            frames.push(tcp_frame(*ip, [10, 0, 1, 1], *port, 5450, seq[i], 0x18, &payload[..100 + round % 100]));
            seq[i] += (100 + round % 100) as u32;
        }
    }
    let warm = hosts.len() * 21;
    let mut ts = 1_700_000_000_000_000_000i64;
    for f in &frames[..warm] {
        ts += 1_000_000;
        analyzer.packet(Timestamp(ts), LinkType::Ethernet, f, f.len() as u32);
    }
    let before = allocations();
    for f in &frames[warm..] {
        ts += 1_000_000;
        analyzer.packet(Timestamp(ts), LinkType::Ethernet, f, f.len() as u32);
    }
    let during = allocations() - before;
    assert_eq!(during, 0, "{during} allocations for {} steady-state packets", frames.len() - warm);
}
