//! Writing classic pcap files (evidence, generated captures, test fixtures).

use crate::LinkType;
use palisade_model::Timestamp;
use std::io::{self, Write};

/// Writes a classic little-endian pcap with nanosecond timestamps.
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header and returns the writer.
    pub fn new(mut out: W, link_type: LinkType, snaplen: u32) -> io::Result<Self> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&0xa1b2_3c4d_u32.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&link_type.number().to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out, snaplen })
    }

    /// Appends one frame; frames longer than the snap length are cut, keeping
    /// their original length in the record.
    pub fn write_packet(&mut self, ts: Timestamp, frame: &[u8]) -> io::Result<()> {
        let kept = frame.len().min(self.snaplen as usize);
        let secs = u32::try_from(ts.secs()).unwrap_or(0);
        let nanos = ts.nanos().rem_euclid(1_000_000_000) as u32;
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&secs.to_le_bytes());
        record[4..8].copy_from_slice(&nanos.to_le_bytes());
        record[8..12].copy_from_slice(&(kept as u32).to_le_bytes());
        record[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(&frame[..kept])
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
