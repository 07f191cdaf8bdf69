//! No panics on garbage, without nightly or cargo-fuzz: 20,000 pseudo-random
//! frames (mostly valid headers with random tails, from the same synthesiser
//! the `sensor_packets` fuzz target uses) through one [`Analyzer`], then
//! [`analyze_path_events`] over damaged and random capture files and a
//! directory of them. Deterministic: the PRNG seed is fixed.

#[path = "../../../fuzz/src/frames.rs"]
mod frames;

use frames::{Frames, LINK_TYPES};
use palisade_capture::write::PcapWriter;
use palisade_capture::LinkType;
use palisade_sensor::{analyze_path_events, Analyzer};
use std::path::Path;

/// SplitMix64: small, deterministic, good enough to make garbage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Bytes in runs of different kinds: uniform noise, small numbers
    /// (lengths, counts, flags), zeros, and repeats of earlier bytes.
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let run = 1 + self.below(24);
            let kind = self.below(4);
            for _ in 0..run {
                let b = match kind {
                    0 => self.next() as u8,
                    1 => self.below(8) as u8,
                    2 => 0,
                    _ => out.get(self.below(out.len())).copied().unwrap_or(0),
                };
                out.push(b);
            }
        }
        out.truncate(n);
        out
    }

    /// Flips a few random bytes of `data`.
    fn damage(&mut self, data: &mut [u8]) {
        for _ in 0..1 + self.below(8) {
            let at = self.below(data.len());
            if let Some(b) = data.get_mut(at) {
                *b ^= 1 << self.below(8);
            }
        }
    }
}

const FRAMES: usize = 20_000;

#[test]
fn random_frames_through_one_analyzer() {
    let mut rng = Rng(0x5eed_0001);
    let mut analyzer = Analyzer::new(Default::default());
    let mut events = Vec::new();
    let mut fed = 0;
    while fed < FRAMES {
        // Each batch restarts the synthesiser's clock: time also goes backwards.
        let input = rng.bytes(1 << 16);
        for frame in Frames::new(&input).take(FRAMES - fed) {
            analyzer.packet(frame.ts, frame.link_type, &frame.data, frame.data.len() as u32);
            analyzer.take_events(&mut events);
            fed += 1;
        }
    }
    analyzer.finish();
    analyzer.take_events(&mut events);
    let stats = analyzer.stats();
    assert_eq!(stats.packets, FRAMES as u64);
    assert!(stats.flows > 100, "the synthesiser should make many flows: {stats:?}");
    assert!(!events.is_empty());
}

/// A pcap of `count` synthesised frames (all labelled with `link`).
fn pcap_of_frames(rng: &mut Rng, link: LinkType, count: usize) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), link, 65535).expect("pcap header");
    let input = rng.bytes(count * 64);
    for frame in Frames::new(&input).take(count) {
        w.write_packet(frame.ts, &frame.data).expect("write");
    }
    w.finish().expect("finish")
}

/// A little-endian pcapng block.
fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let len = (12 + padded) as u32;
    let mut b = kind.to_le_bytes().to_vec();
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(body);
    b.resize(8 + padded, 0);
    b.extend_from_slice(&len.to_le_bytes());
    b
}

/// A pcapng with a few interfaces of random link types and resolutions and
/// enhanced / simple packet blocks of synthesised frames.
fn pcapng_of_frames(rng: &mut Rng, count: usize) -> Vec<u8> {
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    let mut out = block(0x0a0d_0d0a, &shb);
    let interfaces = 1 + rng.below(3);
    for _ in 0..interfaces {
        let link = LINK_TYPES[rng.below(LINK_TYPES.len())].number() as u16;
        let mut idb = link.to_le_bytes().to_vec();
        idb.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        idb.extend_from_slice(&[9, 0, 1, 0, rng.next() as u8, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&block(1, &idb));
    }
    let input = rng.bytes(count * 64);
    for frame in Frames::new(&input).take(count) {
        let len = frame.data.len() as u32;
        if rng.below(5) == 0 {
            let mut spb = len.to_le_bytes().to_vec();
            spb.extend_from_slice(&frame.data);
            out.extend_from_slice(&block(3, &spb));
        } else {
            let ticks = rng.next() >> rng.below(64);
            let mut epb = (rng.below(interfaces) as u32).to_le_bytes().to_vec();
            epb.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
            epb.extend_from_slice(&(ticks as u32).to_le_bytes());
            epb.extend_from_slice(&len.to_le_bytes());
            epb.extend_from_slice(&len.to_le_bytes());
            epb.extend_from_slice(&frame.data);
            out.extend_from_slice(&block(6, &epb));
        }
    }
    out
}

fn analyze(path: &Path) -> Result<usize, String> {
    analyze_path_events(path).map(|events| events.len())
}

#[test]
fn random_and_damaged_files() {
    let mut rng = Rng(0x5eed_0002);
    let dir = tempfile::tempdir().expect("temp dir");
    for i in 0..60 {
        let link = LINK_TYPES[rng.below(LINK_TYPES.len())];
        let (name, mut bytes) = match i % 6 {
            0 | 1 => (format!("{i}.pcap"), pcap_of_frames(&mut rng, link, 50)),
            2 | 3 => (format!("{i}.pcapng"), pcapng_of_frames(&mut rng, 50)),
            4 => {
                let mut b = vec![0xd4, 0xc3, 0xb2, 0xa1];
                b.extend_from_slice(&rng.bytes(4096));
                (format!("{i}-noise.pcap"), b)
            }
            _ => {
                let mut b = vec![0x0a, 0x0d, 0x0d, 0x0a];
                b.extend_from_slice(&rng.bytes(4096));
                (format!("{i}-noise.pcapng"), b)
            }
        };
        let path = dir.path().join(&name);
        if i % 6 < 4 {
            // Whole files read without an error.
            std::fs::write(&path, &bytes).expect("write");
            if let Err(e) = analyze(&path) {
                panic!("{name}: a well-formed capture failed: {e}");
            }
            // Then damaged or cut short: any result, but no panic.
            if i % 2 == 0 {
                rng.damage(&mut bytes);
            } else {
                bytes.truncate(rng.below(bytes.len()));
            }
        }
        std::fs::write(&path, &bytes).expect("write");
        let _ = analyze(&path);
    }
    // All of them as one directory, merged in time order.
    let _ = analyze(dir.path());
}
