//! Bounded TCP stream reassembly, one direction at a time.
//!
//! In-order segments are handed to the sink straight from the packet (no
//! copy). Only what the sink leaves unconsumed (a message split across
//! segments) and segments that arrive early are copied, into buffers that
//! keep their capacity, so a steady stream allocates nothing. Retransmitted
//! and overlapping bytes are trimmed; a gap that is not filled before the
//! early-segment buffer is full is skipped and reported to the sink.

/// Most bytes one direction holds (early segments plus an unfinished message).
pub const REASSEMBLY_LIMIT: usize = 256 * 1024;

/// Receives the in-order bytes of one direction.
pub trait StreamSink {
    /// New in-order bytes; returns how many it consumed. Unconsumed bytes are
    /// offered again, followed by more, on the next call.
    fn data(&mut self, bytes: &[u8]) -> usize;
    /// Bytes were lost before what comes next: drop any partial message.
    fn gap(&mut self);
    /// False once the sink needs no more bytes (then they are only counted).
    fn wants_data(&self) -> bool {
        true
    }
}

/// Reassembly state of one direction of a TCP connection.
#[derive(Debug, Default)]
pub struct TcpStream {
    next_seq: Option<u32>,
    pending: Vec<u8>,
    early: Vec<(u32, Vec<u8>)>,
    early_bytes: usize,
    /// Gaps skipped so far.
    pub gaps: u32,
    /// Payload bytes seen more than once (retransmissions, overlaps).
    pub retransmitted: u64,
    finished: bool,
}

impl TcpStream {
    /// Handles one segment of this direction.
    pub fn segment(&mut self, seq: u32, syn: bool, fin: bool, payload: &[u8], sink: &mut dyn StreamSink) {
        if syn {
            // A SYN (or a retransmitted one) restarts the numbering.
            if self.next_seq.is_none() {
                self.next_seq = Some(seq.wrapping_add(1));
            }
            return self.segment_data(seq.wrapping_add(1), payload, sink);
        }
        self.segment_data(seq, payload, sink);
        if fin {
            self.finished = true;
        }
    }

    /// True once a FIN was seen in this direction.
    pub fn finished(&self) -> bool {
        self.finished
    }

    fn segment_data(&mut self, seq: u32, payload: &[u8], sink: &mut dyn StreamSink) {
        if payload.is_empty() {
            return;
        }
        let next = *self.next_seq.get_or_insert(seq);
        if !sink.wants_data() {
            self.next_seq = Some(next.max_wrapping(seq.wrapping_add(payload.len() as u32)));
            return;
        }
        let offset = seq.wrapping_sub(next) as i32;
        if offset < 0 {
            let skip = offset.unsigned_abs() as usize;
            if skip >= payload.len() {
                self.retransmitted += payload.len() as u64;
                return;
            }
            self.retransmitted += skip as u64;
            self.deliver(&payload[skip..], sink);
        } else if offset == 0 {
            self.deliver(payload, sink);
        } else {
            self.hold_early(seq, payload, sink);
            return;
        }
        self.drain_early(sink);
    }

    /// Delivers in-order bytes and advances the expected sequence number.
    fn deliver(&mut self, bytes: &[u8], sink: &mut dyn StreamSink) {
        if let Some(n) = self.next_seq.as_mut() {
            *n = n.wrapping_add(bytes.len() as u32);
        }
        if self.pending.is_empty() {
            let used = sink.data(bytes).min(bytes.len());
            self.keep_pending(&bytes[used..], sink);
        } else {
            self.pending.extend_from_slice(bytes);
            let used = sink.data(&self.pending).min(self.pending.len());
            self.pending.drain(..used);
            if self.pending.len() > REASSEMBLY_LIMIT / 2 {
                // The sink cannot make sense of this much: resynchronise.
                self.pending.clear();
                self.gaps += 1;
                sink.gap();
            }
        }
    }

    fn keep_pending(&mut self, rest: &[u8], sink: &mut dyn StreamSink) {
        if rest.len() > REASSEMBLY_LIMIT / 2 {
            self.gaps += 1;
            sink.gap();
        } else {
            self.pending.extend_from_slice(rest);
        }
    }

    /// Keeps a segment that arrived before the bytes preceding it. When the
    /// buffer is full, the oldest gap is given up on first.
    fn hold_early(&mut self, seq: u32, payload: &[u8], sink: &mut dyn StreamSink) {
        if self.early.iter().any(|(s, _)| *s == seq) {
            self.retransmitted += payload.len() as u64;
            return;
        }
        if self.early_bytes + payload.len() > REASSEMBLY_LIMIT / 2 {
            if self.early.is_empty() {
                self.pending.clear();
                self.gaps += 1;
                sink.gap();
                self.next_seq = Some(seq);
            } else {
                self.skip_gap(sink);
            }
            return self.segment_data(seq, payload, sink);
        }
        self.early_bytes += payload.len();
        self.early.push((seq, payload.to_vec()));
    }

    /// Delivers early segments that have become in order.
    fn drain_early(&mut self, sink: &mut dyn StreamSink) {
        while !self.early.is_empty() {
            let Some(next) = self.next_seq else { return };
            let Some(i) = self.early.iter().position(|(s, _)| (s.wrapping_sub(next) as i32) <= 0) else { return };
            let (seq, bytes) = self.early.swap_remove(i);
            self.early_bytes -= bytes.len();
            let skip = next.wrapping_sub(seq) as usize;
            if skip < bytes.len() {
                self.deliver(&bytes[skip..], sink);
            } else {
                self.retransmitted += bytes.len() as u64;
            }
        }
    }

    /// Gives up on the missing bytes before the earliest held segment.
    fn skip_gap(&mut self, sink: &mut dyn StreamSink) {
        let Some(next) = self.next_seq else { return };
        let Some(earliest) = self.early.iter().map(|(s, _)| *s).min_by_key(|s| s.wrapping_sub(next)) else { return };
        self.pending.clear();
        self.gaps += 1;
        sink.gap();
        self.next_seq = Some(earliest);
        self.drain_early(sink);
    }

    /// At the end of the flow: skips any gap so held bytes still reach the sink.
    pub fn flush(&mut self, sink: &mut dyn StreamSink) {
        while !self.early.is_empty() {
            let before = self.early.len();
            self.skip_gap(sink);
            if self.early.len() == before {
                break;
            }
        }
    }
}

/// Sequence-number arithmetic modulo 2^32.
trait Wrapping {
    fn max_wrapping(self, other: Self) -> Self;
}

impl Wrapping for u32 {
    fn max_wrapping(self, other: u32) -> u32 {
        if (other.wrapping_sub(self) as i32) > 0 {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects everything; consumes only whole 4-byte records.
    #[derive(Default)]
    struct Records {
        out: Vec<u8>,
        gaps: u32,
    }

    impl StreamSink for Records {
        fn data(&mut self, bytes: &[u8]) -> usize {
            let whole = bytes.len() / 4 * 4;
            self.out.extend_from_slice(&bytes[..whole]);
            whole
        }
        fn gap(&mut self) {
            self.gaps += 1;
        }
    }

    #[test]
    fn in_order_split_messages() {
        let mut s = TcpStream::default();
        let mut r = Records::default();
        s.segment(100, true, false, &[], &mut r);
        s.segment(101, false, false, b"abcdef", &mut r);
        s.segment(107, false, false, b"gh", &mut r);
        assert_eq!(r.out, b"abcdefgh");
    }

    #[test]
    fn retransmission_overlap_and_reordering() {
        let mut s = TcpStream::default();
        let mut r = Records::default();
        s.segment(1000, false, false, b"abcd", &mut r);
        s.segment(1008, false, false, b"ijkl", &mut r); // early
        s.segment(1000, false, false, b"abcd", &mut r); // retransmission
        s.segment(1002, false, false, b"cdefgh", &mut r); // overlap fills the hole
        assert_eq!(r.out, b"abcdefghijkl");
        assert_eq!(r.gaps, 0);
        assert!(s.retransmitted >= 6);
    }

    #[test]
    fn unfilled_gap_is_skipped_at_flush() {
        let mut s = TcpStream::default();
        let mut r = Records::default();
        s.segment(0, false, false, b"abcd", &mut r);
        s.segment(100, false, false, b"wxyz", &mut r);
        s.flush(&mut r);
        assert_eq!(r.out, b"abcdwxyz");
        assert_eq!(r.gaps, 1);
    }

    #[test]
    fn sequence_wraparound() {
        let mut s = TcpStream::default();
        let mut r = Records::default();
        s.segment(u32::MAX - 1, false, false, b"abcd", &mut r);
        s.segment(2, false, false, b"efgh", &mut r);
        assert_eq!(r.out, b"abcdefgh");
    }

    #[test]
    fn early_buffer_is_bounded() {
        let mut s = TcpStream::default();
        let mut r = Records::default();
        s.segment(0, false, false, b"abcd", &mut r);
        let chunk = vec![b'x'; 1000];
        for i in 0..400u32 {
            s.segment(10_000 + i * 1000, false, false, &chunk, &mut r);
        }
        assert!(s.early_bytes <= REASSEMBLY_LIMIT / 2);
        assert!(r.gaps >= 1);
    }
}
