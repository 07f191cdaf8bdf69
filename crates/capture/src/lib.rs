//! Packet sources: everything that yields captured frames.
//!
//! Files (classic pcap in both byte orders with µs or ns timestamps, pcapng
//! with several interfaces, either of them gzip-compressed), directories
//! (recursively, merged in time order), standard input and live interfaces
//! all implement [`PacketSource`], so the rest of the pipeline cannot tell
//! them apart. Memory-mapped files hand out slices of the mapping: no copy.

mod bytes;
mod error;
mod link;
#[cfg(target_os = "linux")]
pub mod live;
mod merge;
mod open;
mod pcap;
mod pcapng;
pub mod write;

pub use bytes::{ByteWindow, MappedFile, StreamWindow};
pub use error::CaptureError;
pub use link::LinkType;
pub use merge::MergedSource;
pub use open::{expand_inputs, open_file, open_input, open_reader, FileReader, Input};
pub use pcap::PcapReader;
pub use pcapng::PcapngReader;

use palisade_model::Timestamp;
use std::sync::Arc;

/// One captured frame, borrowed from its source.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Link type of the interface it was captured on.
    pub link_type: LinkType,
    /// The captured bytes (possibly fewer than `orig_len` when the snap length cut it).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
}

/// A source of packets.
///
/// `next_packet` lends each packet until the next call. After an error the
/// source is finished: it returns `None` from then on. Everything read
/// before the error has been returned.
pub trait PacketSource: Send {
    /// The next packet, `None` at the end, or the error that ended the source.
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>>;

    /// A human-readable name for messages (the path, `-`, or the interface).
    fn name(&self) -> &str;

    /// Bytes consumed so far from the underlying input (compressed bytes for
    /// gzip), for progress reporting.
    fn position(&self) -> u64;

    /// Total size of the underlying input when known (files), for progress.
    fn total_size(&self) -> Option<u64>;

    /// The memory map that the packets' `data` slices point into, when the
    /// source is a mapped file: lets the pipeline hand packets to workers as
    /// offsets instead of copies.
    fn mapping(&self) -> Option<Arc<MappedFile>> {
        None
    }

    /// Problems met along the way that did not end the source (for example
    /// one unreadable file in a directory), taken once.
    fn take_errors(&mut self) -> Vec<CaptureError> {
        Vec::new()
    }
}

impl PacketSource for Box<dyn PacketSource> {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        (**self).next_packet()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
    fn total_size(&self) -> Option<u64> {
        (**self).total_size()
    }
    fn mapping(&self) -> Option<Arc<MappedFile>> {
        (**self).mapping()
    }
    fn take_errors(&mut self) -> Vec<CaptureError> {
        (**self).take_errors()
    }
}
