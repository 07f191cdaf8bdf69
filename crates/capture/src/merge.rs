//! Merging several captures into one time-ordered source.

use crate::open::FileReader;
use crate::{CaptureError, Packet, PacketSource};
use palisade_model::Timestamp;

/// Yields the packets of several files in capture-time order (a k-way merge
/// that keeps one packet of each file in hand).
pub struct MergedSource {
    name: String,
    readers: Vec<FileReader>,
    heads: Vec<Option<Timestamp>>,
    returned: Option<usize>,
    started: bool,
    errors: Vec<CaptureError>,
}

impl MergedSource {
    /// Merges `readers`; `errors` are problems already met opening files.
    pub fn new(name: String, readers: Vec<FileReader>, errors: Vec<CaptureError>) -> Self {
        let heads = vec![None; readers.len()];
        MergedSource { name, readers, heads, returned: None, started: false, errors }
    }

    fn advance(&mut self, i: usize) {
        let Some(reader) = self.readers.get_mut(i) else { return };
        self.heads[i] = match reader.next_packet() {
            Some(Ok(p)) => Some(p.ts),
            Some(Err(e)) => {
                self.errors.push(e);
                None
            }
            None => None,
        };
    }
}

impl PacketSource for MergedSource {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if !self.started {
            self.started = true;
            for i in 0..self.readers.len() {
                self.advance(i);
            }
        } else if let Some(i) = self.returned {
            self.advance(i);
        }
        let next = self.heads.iter().enumerate().filter_map(|(i, t)| t.map(|t| (t, i))).min()?;
        self.returned = Some(next.1);
        self.readers.get(next.1)?.current().map(Ok)
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn position(&self) -> u64 {
        self.readers.iter().map(|r| r.position()).sum()
    }
    fn total_size(&self) -> Option<u64> {
        self.readers.iter().map(|r| r.total_size()).sum()
    }
    fn take_errors(&mut self) -> Vec<CaptureError> {
        std::mem::take(&mut self.errors)
    }
}
