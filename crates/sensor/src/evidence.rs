//! Evidence on the packet path, without copies or allocations per packet.
//!
//! Each flow remembers where its first and latest packets are
//! ([`FlowPackets`]: a few [`PacketRef`]s, no bytes). Packets of mapped
//! capture files are located by input and offset. Packets of streams and
//! live interfaces are copied once into a fixed-size per-worker ring
//! ([`ByteRing`]), allocated on first use. When a flow emits events, the
//! worker writes an [`EvidenceMark`] with the flow's packet locations beside
//! them; ring packets still in the ring are copied into the batch's bytes
//! then, so the analysis side can read them.

use palisade_model::{EvidenceMark, PacketRef, EVIDENCE_PACKETS};

/// First packets of a flow kept.
const HEAD: usize = 3;
/// Latest packets of a flow kept.
const TAIL: usize = EVIDENCE_PACKETS - HEAD;
/// Size of a worker's ring of copied packets.
const RING_BYTES: usize = 8 << 20;
/// `source` of a packet whose bytes are in the worker's ring.
const IN_RING: u16 = PacketRef::UNKNOWN - 1;

/// Where a packet handed to the analyzer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketOrigin {
    /// Unknown: no evidence is kept for it.
    Unknown,
    /// In a memory-mapped capture file: input index and byte offset.
    Mapped {
        /// Index of the input in the analysis.
        input: u16,
        /// Offset of the packet's bytes in the file.
        offset: u64,
    },
    /// In a buffer that will be reused: the worker copies it into its ring.
    Transient,
}

/// The packet locations a flow keeps: its first packets and its latest ones.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowPackets {
    id: u64,
    head: [PacketRef; HEAD],
    tail: [PacketRef; TAIL],
    seen: u32,
}

impl FlowPackets {
    /// An empty list for the flow with this id.
    pub fn new(id: u64) -> Self {
        FlowPackets { id, ..Default::default() }
    }

    /// Remembers a packet's location.
    pub fn record(&mut self, packet: &PacketRef) {
        if packet.source == PacketRef::UNKNOWN {
            return;
        }
        let n = self.seen as usize;
        if let Some(slot) = self.head.get_mut(n) {
            *slot = *packet;
        } else if let Some(slot) = self.tail.get_mut((n - HEAD) % TAIL) {
            *slot = *packet;
        }
        self.seen = self.seen.saturating_add(1);
    }

    /// The locations, oldest first.
    fn each(&self, mut f: impl FnMut(&PacketRef)) {
        let n = self.seen as usize;
        self.head.iter().take(n).for_each(&mut f);
        if n > HEAD {
            let in_tail = (n - HEAD).min(TAIL);
            let start = if n - HEAD > TAIL { (n - HEAD) % TAIL } else { 0 };
            for i in 0..in_tail {
                if let Some(p) = self.tail.get((start + i) % TAIL) {
                    f(p);
                }
            }
        }
    }
}

/// A fixed-size ring of copied packet bytes, addressed by absolute position.
struct ByteRing {
    buf: Vec<u8>,
    written: u64,
}

impl ByteRing {
    /// Copies `data` in; returns its absolute position, or `None` if it does not fit.
    fn push(&mut self, data: &[u8]) -> Option<u64> {
        let cap = self.buf.len() as u64;
        let len = data.len() as u64;
        if len == 0 || len > cap {
            return None;
        }
        if self.written % cap + len > cap {
            self.written = self.written.div_ceil(cap) * cap;
        }
        let at = self.written;
        let start = (at % cap) as usize;
        self.buf.get_mut(start..start + data.len())?.copy_from_slice(data);
        self.written += len;
        Some(at)
    }

    /// The bytes at an absolute position, if not overwritten since.
    fn get(&self, at: u64, len: u32) -> Option<&[u8]> {
        let cap = self.buf.len() as u64;
        if self.written > at.saturating_add(cap) {
            return None;
        }
        let start = (at % cap) as usize;
        self.buf.get(start..start.checked_add(len as usize)?)
    }
}

/// A worker's evidence: the location of the packet being handled, the
/// marks written beside its events, the bytes sent with them, and the ring.
#[derive(Default)]
pub struct EvidenceLog {
    /// The packet being handled.
    pub current: PacketRef,
    marks: Vec<EvidenceMark>,
    bytes: Vec<u8>,
    ring: Option<ByteRing>,
}

impl EvidenceLog {
    /// Notes where the packet about to be handled is.
    pub fn locate(&mut self, ts: palisade_model::Timestamp, link_type: u16, data: &[u8], origin: PacketOrigin) {
        let len = data.len() as u32;
        self.current = match origin {
            PacketOrigin::Unknown => PacketRef { source: PacketRef::UNKNOWN, ..PacketRef::default() },
            PacketOrigin::Mapped { input, offset } => PacketRef { ts, offset, len, source: input, link_type },
            PacketOrigin::Transient => {
                let ring = self.ring.get_or_insert_with(|| ByteRing { buf: vec![0; RING_BYTES], written: 0 });
                match ring.push(data) {
                    Some(at) => PacketRef { ts, offset: at, len, source: IN_RING, link_type },
                    None => PacketRef { source: PacketRef::UNKNOWN, ..PacketRef::default() },
                }
            }
        };
    }

    /// Writes a mark for events `first..end` of the batch, emitted by the flow with these packets.
    pub fn mark(&mut self, packets: &FlowPackets, first: usize, end: usize) {
        if end <= first || packets.seen == 0 {
            return;
        }
        let mut mark = EvidenceMark { first_event: first as u32, end_event: end as u32, flow: packets.id, ..Default::default() };
        let (ring, bytes) = (&self.ring, &mut self.bytes);
        packets.each(|p| {
            let located = if p.source == IN_RING {
                ring.as_ref().and_then(|r| r.get(p.offset, p.len)).map(|data| {
                    let at = bytes.len() as u64;
                    bytes.extend_from_slice(data);
                    PacketRef { offset: at, source: PacketRef::IN_BATCH, ..*p }
                })
            } else {
                Some(*p)
            };
            if let (Some(p), Some(slot)) = (located, mark.packets.get_mut(usize::from(mark.len))) {
                *slot = p;
                mark.len += 1;
            }
        });
        if mark.len > 0 {
            self.marks.push(mark);
        }
    }

    /// Writes a mark for events `first..end` caused by the current packet alone.
    pub fn mark_current(&mut self, flow: u64, first: usize, end: usize) {
        let mut packets = FlowPackets::new(flow);
        packets.record(&self.current);
        self.mark(&packets, first, end);
    }

    /// Swaps the marks and bytes with `marks` and `bytes` (empty ones to reuse).
    pub fn swap(&mut self, marks: &mut Vec<EvidenceMark>, bytes: &mut Vec<u8>) {
        std::mem::swap(&mut self.marks, marks);
        std::mem::swap(&mut self.bytes, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::Timestamp;

    fn at(offset: u64) -> PacketRef {
        PacketRef { ts: Timestamp(offset as i64), offset, len: 10, source: 0, link_type: 1 }
    }

    #[test]
    fn flows_keep_first_and_latest_packets() {
        let mut f = FlowPackets::new(7);
        for i in 0..20 {
            f.record(&at(i));
        }
        let mut seen = Vec::new();
        f.each(|p| seen.push(p.offset));
        assert_eq!(seen, [0, 1, 2, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        let mut short = FlowPackets::new(7);
        for i in 0..5 {
            short.record(&at(i));
        }
        let mut seen = Vec::new();
        short.each(|p| seen.push(p.offset));
        assert_eq!(seen, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn ring_packets_travel_with_the_mark_while_they_last() {
        let mut log = EvidenceLog::default();
        let mut flow = FlowPackets::new(1);
        log.locate(Timestamp(1), 1, b"first packet", PacketOrigin::Transient);
        flow.record(&log.current);
        log.mark(&flow, 0, 1);
        let (mut marks, mut bytes) = (Vec::new(), Vec::new());
        log.swap(&mut marks, &mut bytes);
        assert_eq!(marks.len(), 1);
        let p = marks[0].packets()[0];
        assert_eq!(p.source, PacketRef::IN_BATCH);
        assert_eq!(&bytes[p.offset as usize..][..p.len as usize], b"first packet");
        // Once the ring has wrapped over it, the packet is gone.
        for _ in 0..(RING_BYTES / 1000 + 2) {
            log.locate(Timestamp(2), 1, &[0u8; 1000], PacketOrigin::Transient);
        }
        log.mark(&flow, 0, 1);
        log.swap(&mut marks, &mut bytes);
        assert!(marks.is_empty());
    }
}
