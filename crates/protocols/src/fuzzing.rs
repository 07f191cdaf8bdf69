//! Entry points for fuzz targets: run a dissector over arbitrary bytes the
//! way the sensor would (as datagrams and as a stream cut at arbitrary
//! points, both directions), to show it never panics.

use crate::{Ctx, Dissector, EventSink};
use palisade_flow::Direction;
use palisade_model::{Endpoint, Timestamp};

/// Feeds `data` to a fresh `D` as a datagram, then as a TCP stream in
/// chunks whose sizes come from the data itself, in both directions.
pub fn run<D: Dissector>(data: &[u8]) {
    let mut sink = EventSink::default();
    let client = Endpoint::default();
    let server = Endpoint::default();
    let protocol = D::REGISTRATION.protocol;
    if let Some(probe) = D::REGISTRATION.probe {
        let _ = probe(data, true);
        let _ = probe(data, false);
    }
    for dir in [Direction::ToServer, Direction::ToClient] {
        let mut d = D::default();
        let mut ctx = Ctx::new(Timestamp(0), dir, client, server, protocol, &mut sink);
        d.datagram(&mut ctx, data);
        let mut d = D::default();
        let mut pending: Vec<u8> = Vec::new();
        let step = usize::from(data.first().copied().unwrap_or(1)).max(1);
        for chunk in data.chunks(step) {
            pending.extend_from_slice(chunk);
            let mut ctx = Ctx::new(Timestamp(0), dir, client, server, protocol, &mut sink);
            let used = d.stream(&mut ctx, &pending).min(pending.len());
            pending.drain(..used);
            if pending.len() > 1 << 16 {
                pending.clear();
                d.gap(dir);
            }
        }
    }
}
