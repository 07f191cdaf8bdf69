//! Keeping evidence costs no allocation per packet either: packets located
//! in a mapped file (input and offset) or copied into the worker's ring
//! (streams, live capture) are remembered per flow without allocating once
//! the flows exist.

use palisade_capture::LinkType;
use palisade_model::Timestamp;
use palisade_sensor::testdata::tcp_frame;
use palisade_sensor::{Analyzer, PacketOrigin};
mod counting;

use counting::allocations;

/// SYNs opening 50 flows, then 200 rounds of in-order data on each.
fn frames() -> (Vec<Vec<u8>>, usize) {
    let payload = [0x11u8; 200];
    let hosts: Vec<([u8; 4], u16)> = (0..50u8).map(|i| ([10, 0, 0, i + 10], 40000 + u16::from(i))).collect();
    let mut seq = vec![1000u32; hosts.len()];
    let mut frames = Vec::new();
    for (i, (ip, port)) in hosts.iter().enumerate() {
        frames.push(tcp_frame(*ip, [10, 0, 1, 1], *port, 5450, seq[i] - 1, 0x02, &[]));
    }
    for round in 0..200 {
        for (i, (ip, port)) in hosts.iter().enumerate() {
            frames.push(tcp_frame(*ip, [10, 0, 1, 1], *port, 5450, seq[i], 0x18, &payload[..100 + round % 100]));
            seq[i] += (100 + round % 100) as u32;
        }
    }
    (frames, hosts.len() * 21)
}

/// Allocations while the steady-state packets go through, with `origin` for each.
fn steady_state_allocations(origin: impl Fn(usize) -> PacketOrigin) -> u64 {
    let (frames, warm) = frames();
    let mut analyzer = Analyzer::new(Default::default());
    let mut ts = 1_700_000_000_000_000_000i64;
    for (i, f) in frames[..warm].iter().enumerate() {
        ts += 1_000_000;
        analyzer.packet_at(Timestamp(ts), LinkType::Ethernet, f, f.len() as u32, origin(i));
    }
    let before = allocations();
    for (i, f) in frames[warm..].iter().enumerate() {
        ts += 1_000_000;
        analyzer.packet_at(Timestamp(ts), LinkType::Ethernet, f, f.len() as u32, origin(warm + i));
    }
    allocations() - before
}

#[test]
fn evidence_on_the_packet_path_allocates_nothing() {
    let mapped = steady_state_allocations(|i| PacketOrigin::Mapped { input: 0, offset: i as u64 * 300 });
    assert_eq!(mapped, 0, "{mapped} allocations with packets located in a mapped file");
    let copied = steady_state_allocations(|_| PacketOrigin::Transient);
    assert_eq!(copied, 0, "{copied} allocations with packets copied into the ring");
}
