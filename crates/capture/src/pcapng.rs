//! pcapng reader: sections in either byte order, several interfaces with
//! their own link types and timestamp resolutions, enhanced, simple and
//! obsolete packet blocks. Other blocks are skipped.

use crate::pcap::hex_prefix;
use crate::{ByteWindow, CaptureError, LinkType, MappedFile, Packet, PacketSource};
use palisade_model::Timestamp;
use std::sync::Arc;

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const OBSOLETE_PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
/// Largest block accepted; larger lengths mean corruption.
const MAX_BLOCK: usize = 64 << 20;

/// Timestamp resolution of an interface.
#[derive(Clone, Copy)]
enum Resolution {
    /// Units of 10^-n seconds.
    Decimal(u32),
    /// Units of 2^-n seconds.
    Binary(u32),
}

impl Resolution {
    fn to_timestamp(self, ticks: u64, offset_secs: i64) -> Timestamp {
        let ns: u128 = match self {
            Resolution::Decimal(n) if n <= 9 => u128::from(ticks) * 10u128.pow(9 - n),
            Resolution::Decimal(n) => u128::from(ticks) / 10u128.pow((n - 9).min(38)),
            Resolution::Binary(n) => (u128::from(ticks) * 1_000_000_000) >> n.min(127),
        };
        let ns = i64::try_from(ns).unwrap_or(i64::MAX);
        Timestamp(ns.saturating_add(offset_secs.saturating_mul(1_000_000_000)))
    }
}

#[derive(Clone, Copy)]
struct Interface {
    link_type: Option<LinkType>,
    link_number: u32,
    snaplen: u32,
    resolution: Resolution,
    offset_secs: i64,
    warned: bool,
}

/// Reads a pcapng file.
pub struct PcapngReader {
    window: ByteWindow,
    name: String,
    big_endian: bool,
    interfaces: Vec<Interface>,
    packets: u64,
    skipped_unsupported: u64,
    pending: usize,
    last: Option<(Timestamp, LinkType, usize, usize, u32)>,
    last_ts: Timestamp,
    done: bool,
}

/// True if `head` starts with a pcapng section header block.
pub(crate) fn is_pcapng(head: &[u8]) -> bool {
    head.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a])
}

fn u16_at(b: &[u8], at: usize, be: bool) -> u16 {
    let a: [u8; 2] = b.get(at..at + 2).and_then(|s| s.try_into().ok()).unwrap_or([0; 2]);
    if be {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn u32_at(b: &[u8], at: usize, be: bool) -> u32 {
    let a: [u8; 4] = b.get(at..at + 4).and_then(|s| s.try_into().ok()).unwrap_or([0; 4]);
    if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

fn u64_at(b: &[u8], at: usize, be: bool) -> u64 {
    let a: [u8; 8] = b.get(at..at + 8).and_then(|s| s.try_into().ok()).unwrap_or([0; 8]);
    if be {
        u64::from_be_bytes(a)
    } else {
        u64::from_le_bytes(a)
    }
}

impl PcapngReader {
    /// Starts reading at the first section header of `window`.
    pub fn new(mut window: ByteWindow, name: String) -> Result<Self, CaptureError> {
        let head = window.fill(12).map_err(|source| CaptureError::Io { name: name.clone(), source })?;
        if !is_pcapng(head) {
            return Err(CaptureError::NotACapture { magic: hex_prefix(head), name });
        }
        Ok(PcapngReader {
            window,
            name,
            big_endian: false,
            interfaces: Vec::new(),
            packets: 0,
            skipped_unsupported: 0,
            pending: 0,
            last: None,
            last_ts: Timestamp(0),
            done: false,
        })
    }

    fn error(&mut self, truncated: bool, offset: u64, what: String) -> Option<Result<(), CaptureError>> {
        self.done = true;
        let (name, packet) = (self.name.clone(), self.packets);
        Some(Err(if truncated {
            CaptureError::Truncated { name, packet, offset, what }
        } else {
            CaptureError::Corrupt { name, packet, offset, what }
        }))
    }

    /// Moves to the next packet block, handling the blocks before it.
    fn advance(&mut self) -> Option<Result<(), CaptureError>> {
        loop {
            self.window.consume(self.pending);
            self.pending = 0;
            self.last = None;
            if self.done {
                return None;
            }
            let offset = self.window.offset();
            let (head_len, raw_type, order) = match self.window.fill(12) {
                Ok(h) => (h.len(), u32_at(h, 0, false), h.get(8..12).and_then(|o| <[u8; 4]>::try_from(o).ok())),
                Err(source) => {
                    self.done = true;
                    return Some(Err(CaptureError::Io { name: self.name.clone(), source }));
                }
            };
            if head_len == 0 {
                self.done = true;
                if self.packets == 0 && self.skipped_unsupported > 0 {
                    let link_type = self.interfaces.iter().find(|i| i.link_type.is_none()).map_or(0, |i| i.link_number);
                    return Some(Err(CaptureError::UnsupportedLinkType { name: self.name.clone(), link_type }));
                }
                return None;
            }
            if head_len < 12 {
                return self.error(true, offset, format!("block header has {head_len} of 12 bytes"));
            }
            if raw_type == SHB {
                self.big_endian = match order {
                    Some([0x1a, 0x2b, 0x3c, 0x4d]) => true,
                    Some([0x4d, 0x3c, 0x2b, 0x1a]) => false,
                    _ => return self.error(false, offset, "section header has a bad byte-order magic".into()),
                };
                self.interfaces.clear();
            }
            let be = self.big_endian;
            let (block_type, block_len) = {
                let head = self.window.peek();
                (u32_at(head, 0, be), u32_at(head, 4, be) as usize)
            };
            if block_len < 12 || block_len % 4 != 0 || block_len > MAX_BLOCK {
                return self.error(false, offset, format!("block type {block_type:#x} has an invalid length {block_len}"));
            }
            let have = match self.window.fill(block_len) {
                Ok(b) => b.len(),
                Err(source) => {
                    self.done = true;
                    return Some(Err(CaptureError::Io { name: self.name.clone(), source }));
                }
            };
            if have < block_len {
                let what = format!("block type {block_type:#x} has {have} of {block_len} bytes");
                return self.error(true, offset, what);
            }
            let block = self.window.peek();
            if u32_at(block, block_len - 4, be) as usize != block_len {
                return self.error(false, offset, format!("block type {block_type:#x} has mismatched lengths"));
            }
            self.pending = block_len;
            let body_end = block_len - 4;
            match block_type {
                IDB => {
                    let interface = parse_interface(block, body_end, be);
                    self.interfaces.push(interface);
                }
                EPB | OBSOLETE_PB => {
                    let (iface, ts_at, data_at) = if block_type == EPB {
                        (u32_at(block, 8, be) as usize, 12, 28)
                    } else {
                        (usize::from(u16_at(block, 8, be)), 12, 28)
                    };
                    let ticks = (u64::from(u32_at(block, ts_at, be)) << 32) | u64::from(u32_at(block, ts_at + 4, be));
                    let caplen = u32_at(block, 20, be) as usize;
                    let orig_len = u32_at(block, 24, be);
                    if data_at + caplen > body_end {
                        return self.error(false, offset, format!("packet block claims {caplen} bytes, more than the block holds"));
                    }
                    if let Some(found) = self.packet_on(iface, offset, Some(ticks), data_at, caplen, orig_len) {
                        return Some(found);
                    }
                }
                SPB => {
                    let orig_len = u32_at(block, 8, be);
                    let Some(first) = self.interfaces.first() else {
                        return self.error(false, offset, "simple packet block before any interface description".into());
                    };
                    let limit = if first.snaplen == 0 { usize::MAX } else { first.snaplen as usize };
                    let caplen = (orig_len as usize).min(limit).min(body_end.saturating_sub(12));
                    if let Some(found) = self.packet_on(0, offset, None, 12, caplen, orig_len) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
    }

    /// Records a packet of interface `iface`; `None` means skip it. Simple
    /// packet blocks carry no time (`ticks` is `None`): they get the time of
    /// the packet before them.
    fn packet_on(
        &mut self,
        iface: usize,
        offset: u64,
        ticks: Option<u64>,
        data_at: usize,
        caplen: usize,
        orig_len: u32,
    ) -> Option<Result<(), CaptureError>> {
        let Some(interface) = self.interfaces.get_mut(iface) else {
            return self.error(false, offset, format!("packet refers to interface {iface}, which was not described"));
        };
        let Some(link_type) = interface.link_type else {
            if !interface.warned {
                interface.warned = true;
                tracing::warn!(file = %self.name, interface = iface, link_type = interface.link_number, "skipping packets of an interface with an unsupported link type");
            }
            self.skipped_unsupported += 1;
            return None;
        };
        let ts = ticks.map_or(self.last_ts, |t| interface.resolution.to_timestamp(t, interface.offset_secs));
        self.last_ts = ts;
        self.last = Some((ts, link_type, data_at, caplen, orig_len.max(caplen as u32)));
        self.packets += 1;
        Some(Ok(()))
    }

    /// The packet returned by the last call to `next_packet`, again.
    pub fn current(&self) -> Option<Packet<'_>> {
        let (ts, link_type, at, len, orig_len) = self.last?;
        let data = self.window.peek().get(at..at + len)?;
        Some(Packet { ts, link_type, data, orig_len })
    }
}

/// Reads an interface description block's link type and options.
fn parse_interface(block: &[u8], body_end: usize, be: bool) -> Interface {
    let link_number = u32::from(u16_at(block, 8, be));
    let mut interface = Interface {
        link_type: LinkType::from_number(link_number),
        link_number,
        snaplen: u32_at(block, 12, be),
        resolution: Resolution::Decimal(6),
        offset_secs: 0,
        warned: false,
    };
    let mut at = 16;
    while at + 4 <= body_end {
        let code = u16_at(block, at, be);
        let len = usize::from(u16_at(block, at + 2, be));
        let value = block.get(at + 4..(at + 4 + len).min(body_end)).unwrap_or(&[]);
        match (code, value) {
            (0, _) => break,
            (9, [r, ..]) => {
                interface.resolution =
                    if r & 0x80 == 0 { Resolution::Decimal(u32::from(*r)) } else { Resolution::Binary(u32::from(r & 0x7f)) };
            }
            (14, v) if v.len() >= 8 => interface.offset_secs = u64_at(v, 0, be) as i64,
            _ => {}
        }
        at += 4 + len.div_ceil(4) * 4;
    }
    interface
}

impl PacketSource for PcapngReader {
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
