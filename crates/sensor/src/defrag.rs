//! Bounded IP fragment reassembly.

use palisade_decode::{Fragment, IpPacket};
use palisade_model::Timestamp;
use std::net::IpAddr;

/// Datagrams being reassembled at once, at most.
const MAX_DATAGRAMS: usize = 1024;
/// Largest datagram reassembled.
const MAX_DATAGRAM: usize = 65_535;
/// Fragments older than this are dropped.
const TIMEOUT_NS: i64 = 30_000_000_000;

type Key = (IpAddr, IpAddr, u8, u32);

struct Pending {
    first: Timestamp,
    data: Vec<u8>,
    /// Covered byte ranges, kept sorted and merged.
    covered: Vec<(usize, usize)>,
    total: Option<usize>,
}

impl Pending {
    fn add(&mut self, offset: usize, bytes: &[u8], last: bool) -> bool {
        let end = offset + bytes.len();
        if end > MAX_DATAGRAM {
            return false;
        }
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        self.data[offset..end].copy_from_slice(bytes);
        if last {
            self.total = Some(end);
        }
        self.covered.push((offset, end));
        self.covered.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.covered.len());
        for &(s, e) in &self.covered {
            match merged.last_mut() {
                Some(m) if s <= m.1 => m.1 = m.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.covered = merged;
        true
    }

    fn complete(&self) -> bool {
        matches!((self.total, self.covered.as_slice()), (Some(t), [(0, e)]) if *e >= t)
    }
}

/// Reassembles fragmented IP datagrams within fixed bounds.
#[derive(Default)]
pub struct Defragmenter {
    pending: hashbrown::HashMap<Key, Pending>,
    /// Datagrams dropped for age, size or lack of room.
    pub dropped: u64,
}

impl Defragmenter {
    /// Adds a fragment; returns the whole IP payload once every piece is in.
    pub fn add(&mut self, ts: Timestamp, ip: &IpPacket<'_>, frag: Fragment) -> Option<Vec<u8>> {
        let key = (ip.src, ip.dst, ip.protocol, frag.id);
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= MAX_DATAGRAMS {
                let before = self.pending.len();
                self.pending.retain(|_, p| ts.0.saturating_sub(p.first.0) < TIMEOUT_NS);
                self.dropped += (before - self.pending.len()) as u64;
                if self.pending.len() >= MAX_DATAGRAMS {
                    self.dropped += 1;
                    return None;
                }
            }
            self.pending.insert(key, Pending { first: ts, data: Vec::new(), covered: Vec::new(), total: None });
        }
        let entry = self.pending.get_mut(&key)?;
        if !entry.add(frag.offset as usize, ip.payload, !frag.more) {
            self.pending.remove(&key);
            self.dropped += 1;
            return None;
        }
        if entry.complete() {
            let total = entry.total.unwrap_or(0);
            let mut done = self.pending.remove(&key)?.data;
            done.truncate(total);
            return Some(done);
        }
        None
    }
}
