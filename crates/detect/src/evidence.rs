//! Evidence pcaps: the packets around an alert.
//!
//! An alert collects the packet locations of the marks of the events that
//! raised it, and of later marks of the same flows, up to a bound. Packets
//! of mapped capture files are read back from the files after analysis;
//! packets that travelled with the marks are copied when collected.

use palisade_capture::write::PcapWriter;
use palisade_capture::{open_file, MappedFile, PacketSource};
use palisade_model::{EvidenceMark, PacketRef, Timestamp};
use std::io;
use std::path::{Path, PathBuf};

/// Most packets kept per alert.
pub const MAX_EVIDENCE_PACKETS: usize = 64;
/// Most bytes copied per alert for packets that are not in a capture file.
const MAX_COPIED_BYTES: usize = 1 << 20;
/// Most flows whose later packets an alert follows.
const MAX_FOLLOWED_FLOWS: usize = 4;

/// A packet of an alert's evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Collected {
    packet: PacketRef,
    /// Start of its bytes in [`Evidence::bytes`], when copied.
    copied_at: Option<usize>,
}

/// The packets collected for one alert during an analysis.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    packets: Vec<Collected>,
    bytes: Vec<u8>,
    flows: Vec<u64>,
}

impl Evidence {
    /// True when no more packets are taken.
    pub fn is_full(&self) -> bool {
        self.packets.len() >= MAX_EVIDENCE_PACKETS
    }

    /// Packets collected.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True when nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// The flows this evidence follows.
    pub fn flows(&self) -> &[u64] {
        &self.flows
    }

    /// Takes the packets of a mark (`batch_bytes`: the bytes sent with it).
    /// Returns true if the mark's flow is newly followed.
    pub fn add_mark(&mut self, mark: &EvidenceMark, batch_bytes: &[u8]) -> bool {
        for p in mark.packets() {
            if self.is_full() {
                break;
            }
            if p.source == PacketRef::UNKNOWN || self.packets.iter().any(|c| same_packet(&c.packet, p)) {
                continue;
            }
            let copied_at = if p.source == PacketRef::IN_BATCH {
                let start = usize::try_from(p.offset).unwrap_or(usize::MAX);
                let Some(data) = start.checked_add(p.len as usize).and_then(|end| batch_bytes.get(start..end)) else { continue };
                if self.bytes.len() + data.len() > MAX_COPIED_BYTES {
                    continue;
                }
                let at = self.bytes.len();
                self.bytes.extend_from_slice(data);
                Some(at)
            } else {
                None
            };
            self.packets.push(Collected { packet: *p, copied_at });
        }
        let follow = !self.flows.contains(&mark.flow) && self.flows.len() < MAX_FOLLOWED_FLOWS && !self.is_full();
        if follow {
            self.flows.push(mark.flow);
        }
        follow
    }

    /// Adds all packets of another evidence set (up to the bound).
    pub fn merge(&mut self, other: &Evidence) {
        for c in &other.packets {
            if self.is_full() {
                break;
            }
            if self.packets.iter().any(|mine| same_packet(&mine.packet, &c.packet)) {
                continue;
            }
            let copied_at = match c.copied_at {
                Some(at) => {
                    let Some(data) = other.bytes.get(at..at + c.packet.len as usize) else { continue };
                    let start = self.bytes.len();
                    self.bytes.extend_from_slice(data);
                    Some(start)
                }
                None => None,
            };
            self.packets.push(Collected { packet: c.packet, copied_at });
        }
        for f in &other.flows {
            if !self.flows.contains(f) && self.flows.len() < MAX_FOLLOWED_FLOWS {
                self.flows.push(*f);
            }
        }
    }
}

/// True for two references to the same captured packet.
fn same_packet(a: &PacketRef, b: &PacketRef) -> bool {
    a.ts == b.ts && a.len == b.len && (a.source == b.source && a.offset == b.offset || a.source == PacketRef::IN_BATCH)
}

/// One packet ready to be written.
struct Frame {
    ts: Timestamp,
    link_type: u16,
    data: Vec<u8>,
}

/// Writes evidence files: reads packets back from the analysed capture files.
pub struct EvidenceWriter {
    /// Path of each input by its index (`None` for inputs that are not files).
    inputs: Vec<Option<PathBuf>>,
    maps: Vec<Option<Option<MappedFile>>>,
}

impl EvidenceWriter {
    /// A writer for an analysis of these inputs (by index).
    pub fn new(inputs: Vec<Option<PathBuf>>) -> Self {
        let maps = inputs.iter().map(|_| None).collect();
        EvidenceWriter { inputs, maps }
    }

    fn mapped_bytes(&mut self, source: u16, offset: u64, len: u32) -> Option<Vec<u8>> {
        let i = usize::from(source);
        let slot = self.maps.get_mut(i)?;
        if slot.is_none() {
            let path = self.inputs.get(i).and_then(|p| p.as_ref());
            *slot = Some(path.and_then(|p| MappedFile::open(p).ok()));
        }
        let map = slot.as_ref()?.as_ref()?;
        let start = usize::try_from(offset).ok()?;
        map.bytes().get(start..start.checked_add(len as usize)?).map(<[u8]>::to_vec)
    }

    /// Writes `evidence` to `out` as a pcap, after the packets already in
    /// `out` (from an earlier analysis) if it exists. Returns the number of
    /// packets in the file; nothing is written when there are none.
    pub fn write(&mut self, evidence: &Evidence, out: &Path) -> io::Result<u32> {
        let mut frames = existing_frames(out);
        let before = frames.len();
        for c in &evidence.packets {
            if frames.len() >= MAX_EVIDENCE_PACKETS * 2 {
                break;
            }
            let data = match c.copied_at {
                Some(at) => evidence.bytes.get(at..at + c.packet.len as usize).map(<[u8]>::to_vec),
                None => self.mapped_bytes(c.packet.source, c.packet.offset, c.packet.len),
            };
            if let Some(data) = data {
                frames.push(Frame { ts: c.packet.ts, link_type: c.packet.link_type, data });
            }
        }
        if frames.is_empty() || frames.len() == before {
            return Ok(before as u32);
        }
        frames.sort_by_key(|f| f.ts);
        frames.dedup_by(|a, b| a.ts == b.ts && a.data == b.data);
        let link_type = frames.first().map_or(1, |f| f.link_type);
        let Some(link) = palisade_capture::LinkType::from_number(u32::from(link_type)) else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("link type {link_type} cannot be written")));
        };
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = out.with_extension("pcap.tmp");
        let file = std::fs::File::create(&tmp)?;
        let mut writer = PcapWriter::new(io::BufWriter::new(file), link, 262_144)?;
        let mut written = 0u32;
        for f in frames.iter().filter(|f| f.link_type == link_type) {
            writer.write_packet(f.ts, &f.data)?;
            written += 1;
        }
        writer.finish()?;
        std::fs::rename(&tmp, out)?;
        Ok(written)
    }
}

/// The packets of an evidence file written before, if any.
fn existing_frames(path: &Path) -> Vec<Frame> {
    let mut out = Vec::new();
    let Ok(mut reader) = open_file(path) else { return out };
    while let Some(Ok(p)) = reader.next_packet() {
        out.push(Frame { ts: p.ts, link_type: p.link_type.number() as u16, data: p.data.to_vec() });
    }
    out
}
