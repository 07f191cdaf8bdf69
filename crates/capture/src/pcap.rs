//! Classic pcap reader: both byte orders, microsecond and nanosecond
//! timestamps.

use crate::{ByteWindow, CaptureError, LinkType, MappedFile, Packet, PacketSource};
use palisade_model::Timestamp;
use std::sync::Arc;

const RECORD_HEADER: usize = 16;
/// Largest record accepted when the snap length is smaller (as tcpdump does).
const MAX_RECORD: u32 = 262_144;
/// Largest record accepted whatever the snap length says: a corrupt header
/// must not make a stream reader buffer gigabytes.
const MAX_SNAPLEN: u32 = 64 << 20;

/// Reads a classic pcap file.
pub struct PcapReader {
    window: ByteWindow,
    name: String,
    big_endian: bool,
    nanos: bool,
    link_type: LinkType,
    max_record: u32,
    packets: u64,
    pending: usize,
    last: Option<(Timestamp, u32, u32)>,
    done: bool,
}

/// True if `head` starts with a classic pcap magic number.
pub(crate) fn is_pcap(head: &[u8]) -> bool {
    matches!(head.get(..4), Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]))
}

fn read_u32(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

impl PcapReader {
    /// Reads the file header from `window`.
    pub fn new(mut window: ByteWindow, name: String) -> Result<Self, CaptureError> {
        let io_err = |source| CaptureError::Io { name: name.clone(), source };
        let head = window.fill(24).map_err(io_err)?;
        if head.len() < 24 {
            return Err(CaptureError::Truncated { name, packet: 0, offset: 0, what: "file header is incomplete".into() });
        }
        let (big_endian, nanos) = match head.get(..4) {
            Some([0xd4, 0xc3, 0xb2, 0xa1]) => (false, false),
            Some([0x4d, 0x3c, 0xb2, 0xa1]) => (false, true),
            Some([0xa1, 0xb2, 0xc3, 0xd4]) => (true, false),
            Some([0xa1, 0xb2, 0x3c, 0x4d]) => (true, true),
            _ => return Err(CaptureError::NotACapture { name, magic: hex_prefix(head) }),
        };
        let snaplen = read_u32(head, 16, big_endian);
        let link_number = read_u32(head, 20, big_endian) & 0x0fff_ffff;
        let Some(link_type) = LinkType::from_number(link_number) else {
            return Err(CaptureError::UnsupportedLinkType { name, link_type: link_number });
        };
        window.consume(24);
        Ok(PcapReader {
            window,
            name,
            big_endian,
            nanos,
            link_type,
            max_record: snaplen.clamp(MAX_RECORD, MAX_SNAPLEN),
            packets: 0,
            pending: 0,
            last: None,
            done: false,
        })
    }

    /// Reads the next record header and remembers it; data stays in the window.
    fn advance(&mut self) -> Option<Result<(), CaptureError>> {
        self.window.consume(self.pending);
        self.pending = 0;
        self.last = None;
        if self.done {
            return None;
        }
        let offset = self.window.offset();
        let header = match self.window.fill(RECORD_HEADER) {
            Ok(h) => h,
            Err(source) => return self.fail(CaptureError::Io { name: self.name.clone(), source }),
        };
        if header.is_empty() {
            self.done = true;
            return None;
        }
        if header.len() < RECORD_HEADER {
            let what = format!("record header has {} of 16 bytes", header.len());
            return self.fail(CaptureError::Truncated { name: self.name.clone(), packet: self.packets, offset, what });
        }
        let secs = read_u32(header, 0, self.big_endian);
        let frac = read_u32(header, 4, self.big_endian);
        let caplen = read_u32(header, 8, self.big_endian);
        let orig_len = read_u32(header, 12, self.big_endian);
        if caplen > self.max_record || (!self.nanos && frac >= 1_000_000) || (self.nanos && frac >= 1_000_000_000) {
            let what = format!("record header is implausible (captured length {caplen}, fraction {frac})");
            return self.fail(CaptureError::Corrupt { name: self.name.clone(), packet: self.packets, offset, what });
        }
        let need = RECORD_HEADER + caplen as usize;
        let have = match self.window.fill(need) {
            Ok(b) => b.len(),
            Err(source) => return self.fail(CaptureError::Io { name: self.name.clone(), source }),
        };
        if have < need {
            let what = format!("packet data has {} of {caplen} bytes", have - RECORD_HEADER);
            return self.fail(CaptureError::Truncated { name: self.name.clone(), packet: self.packets, offset, what });
        }
        let nanos = if self.nanos { frac } else { frac * 1000 };
        self.last = Some((Timestamp::from_parts(i64::from(secs), nanos), caplen, orig_len.max(caplen)));
        self.pending = need;
        self.packets += 1;
        Some(Ok(()))
    }

    fn fail(&mut self, e: CaptureError) -> Option<Result<(), CaptureError>> {
        self.done = true;
        Some(Err(e))
    }

    /// The packet returned by the last call to `next_packet`, again.
    pub fn current(&self) -> Option<Packet<'_>> {
        let (ts, caplen, orig_len) = self.last?;
        let data = self.window.peek().get(RECORD_HEADER..RECORD_HEADER + caplen as usize)?;
        Some(Packet { ts, link_type: self.link_type, data, orig_len })
    }
}

impl PacketSource for PcapReader {
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        match self.advance()? {
            Ok(()) => self.current().map(Ok),
            Err(e) => Some(Err(e)),
        }
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn position(&self) -> u64 {
        self.window.position()
    }
    fn total_size(&self) -> Option<u64> {
        self.window.total_size()
    }
    fn mapping(&self) -> Option<Arc<MappedFile>> {
        self.window.mapping()
    }
}

/// The first bytes of `b` in hex, for "not a capture" messages.
pub(crate) fn hex_prefix(b: &[u8]) -> String {
    if b.is_empty() {
        return "nothing: the file is empty".into();
    }
    b.iter().take(8).map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}
