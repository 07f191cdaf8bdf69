//! Evidence: where the packets behind events can be found again.
//!
//! Workers do not copy packets for evidence. Each flow remembers the
//! locations of a few of its packets ([`PacketRef`]); when the flow emits
//! events, the worker sends an [`EvidenceMark`] with those locations beside
//! the events. Packets of memory-mapped capture files are located by input
//! and byte offset, so the bytes are read back from the file after analysis;
//! packets of streams and live interfaces are copied once into a bounded
//! per-worker ring and travel with the mark.

use crate::Timestamp;

/// How many packet locations a mark carries (the first packets of the flow
/// and its most recent ones).
pub const EVIDENCE_PACKETS: usize = 12;

/// Where one captured packet is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PacketRef {
    /// Capture time.
    pub ts: Timestamp,
    /// Byte offset of the packet's data in its source.
    pub offset: u64,
    /// Captured length.
    pub len: u32,
    /// The input the packet came from (its position in the analysis' input
    /// list), or [`PacketRef::IN_BATCH`] when the bytes travel with the mark.
    pub source: u16,
    /// Link type of the packet (the pcap `LINKTYPE_*` number).
    pub link_type: u16,
}

impl PacketRef {
    /// `source` of packets whose bytes are in the byte buffer sent with the marks.
    pub const IN_BATCH: u16 = u16::MAX;
    /// `source` of packets whose location is not known (no evidence for them).
    pub const UNKNOWN: u16 = u16::MAX - 1;
}

/// The packets of one flow behind a run of events of a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvidenceMark {
    /// Index of the first event covered, in the batch's event list.
    pub first_event: u32,
    /// One past the last event covered.
    pub end_event: u32,
    /// Identifies the flow (the same value in every mark of the flow).
    pub flow: u64,
    /// How many entries of `packets` are used.
    pub len: u8,
    /// Packet locations, oldest first.
    pub packets: [PacketRef; EVIDENCE_PACKETS],
}

impl EvidenceMark {
    /// The packet locations in use.
    pub fn packets(&self) -> &[PacketRef] {
        self.packets.get(..usize::from(self.len)).unwrap_or(&self.packets)
    }

    /// True if the mark covers event `index`.
    pub fn covers(&self, index: usize) -> bool {
        (self.first_event as usize..self.end_event as usize).contains(&index)
    }
}
