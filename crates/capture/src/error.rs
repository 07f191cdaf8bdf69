//! Capture errors.

use std::io;

/// Why a capture source stopped or could not be opened. Every message names
/// the input and, where it applies, the byte offset or packet number.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The input could not be opened or read.
    #[error("{name}: {source}")]
    Io {
        /// Input name.
        name: String,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// The input is not a capture file Palisade knows.
    #[error("{name}: not a pcap, pcapng or gzip-compressed capture (starts with {magic})")]
    NotACapture {
        /// Input name.
        name: String,
        /// The first bytes, in hex.
        magic: String,
    },
    /// The capture ends in the middle of a record.
    #[error("{name}: truncated after packet {packet} (byte offset {offset}): {what}; the packets before it were analysed")]
    Truncated {
        /// Input name.
        name: String,
        /// Number of packets read before the cut.
        packet: u64,
        /// Byte offset of the incomplete record.
        offset: u64,
        /// What was incomplete.
        what: String,
    },
    /// A record is malformed and reading cannot continue.
    #[error("{name}: corrupt at packet {packet} (byte offset {offset}): {what}; the packets before it were analysed")]
    Corrupt {
        /// Input name.
        name: String,
        /// Number of packets read before the bad record.
        packet: u64,
        /// Byte offset of the bad record.
        offset: u64,
        /// What was wrong.
        what: String,
    },
    /// The capture uses a link type Palisade cannot decode.
    #[error("{name}: unsupported link type {link_type} (supported: Ethernet, Linux cooked SLL/SLL2, raw IPv4/IPv6, BSD loopback)")]
    UnsupportedLinkType {
        /// Input name.
        name: String,
        /// The DLT/LINKTYPE number.
        link_type: u32,
    },
    /// A live capture could not be set up.
    #[error("{name}: live capture failed: {what}")]
    Live {
        /// Interface name.
        name: String,
        /// What went wrong and what to do.
        what: String,
    },
}
