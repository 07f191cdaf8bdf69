//! The multi-core pipeline: one dispatcher thread reads the inputs and
//! shards packets by a symmetric host-pair hash over worker threads, each
//! with its own [`Analyzer`]; the caller's thread consumes the events.
//!
//! Packets of memory-mapped files travel as offsets into the mapping (no
//! copy); packets of streams (gzip, standard input, live) are copied once
//! into reusable batch buffers. Batches and event vectors are recycled, so
//! the steady state allocates nothing per packet.

use crate::{Analyzer, AnalyzerStats, PacketOrigin};
use crossbeam_channel::{bounded, Receiver, Sender};
use palisade_capture::{CaptureError, LinkType, MappedFile, PacketSource};
use palisade_decode::{decode_network, Net};
use palisade_flow::{FlowKey, TableLimits};
use palisade_model::{Event, EvidenceMark, PacketRef, ProtocolSet, Timestamp};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Packets per batch sent to a worker.
const BATCH_PACKETS: usize = 1024;
/// Batches queued per worker.
const QUEUE_DEPTH: usize = 8;
/// Events per vector sent to the caller.
const EVENT_BATCH: usize = 512;
/// How far reading must move on before mapped pages behind it are released.
const RELEASE_STEP: u64 = 32 << 20;

/// Opens one input when the dispatcher reaches it.
pub type Opener = Box<dyn FnOnce() -> Result<Box<dyn PacketSource>, CaptureError> + Send>;

/// Pipeline settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct PipelineConfig {
    /// Worker threads (0 = one per core).
    pub workers: usize,
    /// Flow-table limits per worker.
    pub limits: TableLimits,
    /// Protocols whose dissectors do not run (none by default): their
    /// flows are still tracked, counted and put in the inventory.
    pub disabled_dissectors: ProtocolSet,
}

/// Live counters for progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input bytes consumed (of all inputs so far).
    pub bytes_done: AtomicU64,
    /// Size of the inputs opened so far, where known.
    pub bytes_total: AtomicU64,
    /// Packets read.
    pub packets: AtomicU64,
}

/// What happened to one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputReport {
    /// Its name.
    pub name: String,
    /// Packets read from it.
    pub packets: u64,
    /// Errors met (the input stopped at the first one; for a directory, one
    /// per unreadable file).
    pub errors: Vec<String>,
}

/// Totals of a run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Sum of the workers' counters.
    pub analyzer: AnalyzerStats,
    /// Per input.
    pub inputs: Vec<InputReport>,
    /// First and last capture times.
    pub first_ts: Option<Timestamp>,
    /// Last capture time.
    pub last_ts: Option<Timestamp>,
}

/// Events of one worker with their evidence: the marks locate the packets
/// behind the events (by event index), `bytes` holds the packets that are
/// not in a capture file.
#[derive(Debug, Default)]
pub struct EventBatch {
    /// Events, in the order the worker produced them.
    pub events: Vec<Event>,
    /// Evidence marks, ordered by the events they cover.
    pub marks: Vec<EvidenceMark>,
    /// Packet bytes the marks point into ([`PacketRef::IN_BATCH`]).
    pub bytes: Vec<u8>,
}

impl EventBatch {
    fn clear(&mut self) {
        self.events.clear();
        self.marks.clear();
        self.bytes.clear();
    }
}

/// Where a packet's bytes are.
#[derive(Clone, Copy)]
struct Packet {
    ts: Timestamp,
    link_type: LinkType,
    /// Index into the batch's mappings, or `u32::MAX` for the owned buffer.
    mapping: u32,
    offset: usize,
    len: u32,
    orig_len: u32,
}

#[derive(Default)]
struct Batch {
    packets: Vec<Packet>,
    mappings: Vec<Arc<MappedFile>>,
    owned: Vec<u8>,
    /// Offset in the current mapping of the first packet, for page release.
    start: u64,
    sequence: u64,
    /// Index of the input the packets come from.
    input: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.packets.clear();
        self.mappings.clear();
        self.owned.clear();
    }

    /// Where a packet is, for evidence.
    fn origin(&self, p: &Packet) -> PacketOrigin {
        match u16::try_from(self.input) {
            Ok(input) if p.mapping != u32::MAX && input < PacketRef::UNKNOWN - 1 => PacketOrigin::Mapped { input, offset: p.offset as u64 },
            _ => PacketOrigin::Transient,
        }
    }

    fn bytes(&self, p: &Packet) -> &[u8] {
        let end = p.offset + p.len as usize;
        let buf = match self.mappings.get(p.mapping as usize) {
            Some(m) => m.bytes(),
            None => &self.owned,
        };
        buf.get(p.offset..end).unwrap_or(&[])
    }
}

/// The worker a packet belongs to: a hash of the host pair (IPs, else
/// MACs), the same both ways.
fn shard(link_type: LinkType, data: &[u8], workers: usize) -> usize {
    if workers <= 1 {
        return 0;
    }
    let hash = ethernet_ip_pair_hash(link_type, data).unwrap_or_else(|| decoded_pair_hash(link_type, data));
    (hash % workers as u64) as usize
}

/// The host-pair hash of an Ethernet frame (with at most one VLAN tag)
/// carrying IPv4 or IPv6, read at fixed offsets: most frames, without
/// decoding them. The same value as [`decoded_pair_hash`] gives.
fn ethernet_ip_pair_hash(link_type: LinkType, data: &[u8]) -> Option<u64> {
    if link_type != LinkType::Ethernet {
        return None;
    }
    let mut at = 12;
    let mut ethertype = palisade_decode::be16(data, at)?;
    if ethertype == 0x8100 {
        at += 4;
        ethertype = palisade_decode::be16(data, at)?;
    }
    let ip = data.get(at + 2..)?;
    match ethertype {
        0x0800 if ip.len() >= 20 && ip[0] >> 4 == 4 && ip[0] & 0x0f >= 5 => Some(FlowKey::host_pair_hash(&ip[12..16], &ip[16..20])),
        0x86dd if ip.len() >= 40 && ip[0] >> 4 == 6 => Some(FlowKey::host_pair_hash(&ip[8..24], &ip[24..40])),
        _ => None,
    }
}

/// The host-pair hash of any frame, from its decoded addresses (the MACs
/// when it carries no IP).
fn decoded_pair_hash(link_type: LinkType, data: &[u8]) -> u64 {
    let frame = decode_network(link_type, data);
    match &frame.net {
        Net::Ip(ip) => match (ip.src, ip.dst) {
            (IpAddr::V4(a), IpAddr::V4(b)) => FlowKey::host_pair_hash(&a.octets(), &b.octets()),
            (IpAddr::V6(a), IpAddr::V6(b)) => FlowKey::host_pair_hash(&a.octets(), &b.octets()),
            (a, b) => FlowKey::host_pair_hash(a.to_string().as_bytes(), b.to_string().as_bytes()),
        },
        _ => {
            let src = frame.src_mac.map(|m| m.0).unwrap_or_default();
            let dst = frame.dst_mac.map(|m| m.0).unwrap_or_default();
            FlowKey::host_pair_hash(&src, &dst)
        }
    }
}

/// Reads all inputs, analyses them on all cores and calls `on_events` on
/// the calling thread with each batch of events. Inputs that fail are
/// reported in the result and the others still run.
pub fn run(
    inputs: Vec<(String, Opener)>,
    config: &PipelineConfig,
    progress: Arc<Progress>,
    mut on_events: impl FnMut(&[Event]),
) -> RunStats {
    run_batches(inputs, config, progress, |batch| on_events(&batch.events))
}

/// Like [`run`], handing over each batch of events with its evidence marks.
/// Packets of mapped capture files are located by their input's index in
/// `inputs` and their offset in the file.
pub fn run_batches(
    inputs: Vec<(String, Opener)>,
    config: &PipelineConfig,
    progress: Arc<Progress>,
    mut on_batch: impl FnMut(&EventBatch),
) -> RunStats {
    let workers = if config.workers == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { config.workers };
    let (free_tx, free_rx) = bounded::<Batch>(workers * (QUEUE_DEPTH + 2));
    let (events_tx, events_rx) = bounded::<EventBatch>(workers * 8);
    let (spare_tx, spare_rx) = bounded::<EventBatch>(workers * 16);
    let done: Arc<Vec<AtomicU64>> = Arc::new((0..workers).map(|_| AtomicU64::new(0)).collect());
    let mut queues = Vec::new();
    let mut handles = Vec::new();
    for i in 0..workers {
        let (tx, rx) = bounded::<Batch>(QUEUE_DEPTH);
        queues.push(tx);
        let (free_tx, events_tx, spare_rx) = (free_tx.clone(), events_tx.clone(), spare_rx.clone());
        let config = *config;
        let done = done.clone();
        let handle = std::thread::Builder::new()
            .name(format!("palisade-worker-{i}"))
            .spawn(move || worker(rx, free_tx, events_tx, spare_rx, config, &done[i]))
            .expect("spawning a worker thread");
        handles.push(handle);
    }
    drop(events_tx);
    drop(spare_rx);
    let dispatcher = {
        let progress = progress.clone();
        std::thread::Builder::new()
            .name("palisade-reader".into())
            .spawn(move || dispatch(inputs, queues, free_rx, free_tx, progress, done))
            .expect("spawning the reader thread")
    };
    for batch in events_rx.iter() {
        on_batch(&batch);
        let mut batch = batch;
        batch.clear();
        let _ = spare_tx.try_send(batch);
    }
    let (inputs, first_ts, last_ts) = dispatcher.join().unwrap_or_default();
    let mut stats = RunStats { inputs, first_ts, last_ts, ..Default::default() };
    for h in handles {
        if let Ok(s) = h.join() {
            let a = &mut stats.analyzer;
            a.packets += s.packets;
            a.bytes += s.bytes;
            a.decode_errors += s.decode_errors;
            a.flows += s.flows;
            a.evicted_flows += s.evicted_flows;
            a.dropped_fragments += s.dropped_fragments;
        }
    }
    stats
}

fn worker(
    rx: Receiver<Batch>,
    free_tx: Sender<Batch>,
    events_tx: Sender<EventBatch>,
    spare_rx: Receiver<EventBatch>,
    config: PipelineConfig,
    done: &AtomicU64,
) -> AnalyzerStats {
    let mut analyzer = Analyzer::new(config.limits).with_dissectors(ProtocolSet::all().difference(config.disabled_dissectors));
    let send = |analyzer: &mut Analyzer| {
        let mut out =
            spare_rx.try_recv().unwrap_or_else(|_| EventBatch { events: Vec::with_capacity(EVENT_BATCH), ..EventBatch::default() });
        analyzer.swap_events(&mut out.events);
        analyzer.swap_marks(&mut out.marks, &mut out.bytes);
        let _ = events_tx.send(out);
    };
    for mut batch in rx.iter() {
        for p in &batch.packets {
            analyzer.packet_at(p.ts, p.link_type, batch.bytes(p), p.orig_len, batch.origin(p));
            if analyzer.pending_events() >= EVENT_BATCH {
                send(&mut analyzer);
            }
        }
        done.store(batch.sequence, Ordering::Release);
        batch.clear();
        let _ = free_tx.try_send(batch);
        if analyzer.pending_events() > 0 {
            send(&mut analyzer);
        }
    }
    analyzer.finish();
    if analyzer.pending_events() > 0 {
        send(&mut analyzer);
    }
    analyzer.stats()
}

/// Tracks batches in flight so mapped pages behind all of them can be released.
struct Release {
    /// (sequence, worker, start offset) of batches sent and maybe not done.
    in_flight: VecDeque<(u64, usize, u64)>,
    released: u64,
}

fn dispatch(
    inputs: Vec<(String, Opener)>,
    queues: Vec<Sender<Batch>>,
    free_rx: Receiver<Batch>,
    free_tx: Sender<Batch>,
    progress: Arc<Progress>,
    done: Arc<Vec<AtomicU64>>,
) -> (Vec<InputReport>, Option<Timestamp>, Option<Timestamp>) {
    drop(free_tx);
    let workers = queues.len();
    let mut reports = Vec::new();
    let mut first_ts: Option<Timestamp> = None;
    let mut last_ts: Option<Timestamp> = None;
    let mut sequence = 0u64;
    let mut bytes_before = 0u64;
    let new_batch = |free_rx: &Receiver<Batch>| {
        free_rx.try_recv().unwrap_or_else(|_| Batch { packets: Vec::with_capacity(BATCH_PACKETS), ..Default::default() })
    };
    for (input, (name, open)) in inputs.into_iter().enumerate() {
        let mut report = InputReport { name: name.clone(), packets: 0, errors: Vec::new() };
        let mut source = match open() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("{e}");
                report.errors.push(e.to_string());
                reports.push(report);
                continue;
            }
        };
        let total = source.total_size().unwrap_or(0);
        progress.bytes_total.fetch_add(total, Ordering::Relaxed);
        let mapping = source.mapping();
        let base = mapping.as_ref().map_or(0usize, |m| m.bytes().as_ptr() as usize);
        let mut batches: Vec<Batch> = (0..workers).map(|_| Batch { input, ..new_batch(&free_rx) }).collect();
        let mut release = Release { in_flight: VecDeque::new(), released: 0 };
        let mut last_release_at = 0u64;
        loop {
            let packet = match source.next_packet() {
                None => break,
                Some(Err(e)) => {
                    tracing::error!("{e}");
                    report.errors.push(e.to_string());
                    break;
                }
                Some(Ok(p)) => p,
            };
            report.packets += 1;
            first_ts = Some(first_ts.map_or(packet.ts, |t| t.min(packet.ts)));
            last_ts = Some(last_ts.map_or(packet.ts, |t| t.max(packet.ts)));
            let w = shard(packet.link_type, packet.data, workers);
            let batch = &mut batches[w];
            let addr = packet.data.as_ptr() as usize;
            let in_mapping = mapping.as_ref().filter(|m| addr >= base && addr + packet.data.len() <= base + m.bytes().len());
            let (index, offset) = match in_mapping {
                Some(m) => {
                    if batch.mappings.is_empty() {
                        batch.mappings.push(m.clone());
                        batch.start = (addr - base) as u64;
                    }
                    (0, addr - base)
                }
                None => {
                    let at = batch.owned.len();
                    batch.owned.extend_from_slice(packet.data);
                    (u32::MAX, at)
                }
            };
            batch.packets.push(Packet {
                ts: packet.ts,
                link_type: packet.link_type,
                mapping: index,
                offset,
                len: packet.data.len() as u32,
                orig_len: packet.orig_len,
            });
            if batch.packets.len() >= BATCH_PACKETS {
                let full = std::mem::replace(batch, Batch { input, ..new_batch(&free_rx) });
                send_batch(&queues[w], full, w, &mut sequence, &mut release);
            }
            if report.packets.is_multiple_of(4096) {
                let pos = source.position();
                progress.bytes_done.store(bytes_before + pos, Ordering::Relaxed);
                progress.packets.fetch_add(4096, Ordering::Relaxed);
                if let Some(m) = &mapping {
                    if pos > last_release_at + RELEASE_STEP {
                        last_release_at = pos;
                        release_pages(m, &mut release, &done, pos);
                    }
                }
            }
        }
        for (w, batch) in batches.into_iter().enumerate() {
            if !batch.packets.is_empty() {
                send_batch(&queues[w], batch, w, &mut sequence, &mut release);
            }
        }
        progress.packets.fetch_add(report.packets % 4096, Ordering::Relaxed);
        bytes_before += source.position();
        progress.bytes_done.store(bytes_before, Ordering::Relaxed);
        for e in source.take_errors() {
            tracing::error!("{e}");
            report.errors.push(e.to_string());
        }
        reports.push(report);
    }
    (reports, first_ts, last_ts)
}

fn send_batch(queue: &Sender<Batch>, mut batch: Batch, worker: usize, sequence: &mut u64, release: &mut Release) {
    *sequence += 1;
    batch.sequence = *sequence;
    if !batch.mappings.is_empty() {
        release.in_flight.push_back((batch.sequence, worker, batch.start));
    }
    let _ = queue.send(batch);
}

/// Releases mapped pages that every worker has finished with: a batch is
/// done once its worker's last finished sequence number has reached it.
fn release_pages(mapping: &MappedFile, release: &mut Release, done: &[AtomicU64], reading_at: u64) {
    release.in_flight.retain(|(seq, worker, _)| done.get(*worker).is_some_and(|d| d.load(Ordering::Acquire) < *seq));
    let low_water = release.in_flight.iter().map(|(_, _, start)| *start).min().unwrap_or(reading_at);
    if low_water > release.released {
        mapping.release_before(release.released, low_water);
        release.released = low_water;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_capture::{open_input, Input};

    /// Every frame of the shared captures that the fixed-offset hash reads
    /// goes to the worker its decoded addresses choose.
    #[test]
    fn fixed_offset_hash_agrees_with_decoding() {
        let Some(dir) = crate::testdata::shared_dir() else { return };
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
        let mut read = 0;
        for file in manifest.lines().skip(1).filter_map(|l| l.split('\t').next()) {
            let Ok(mut source) = open_input(&Input::Path(dir.join(file))) else { continue };
            while let Some(Ok(p)) = source.next_packet() {
                if let Some(fast) = ethernet_ip_pair_hash(p.link_type, p.data) {
                    assert_eq!(fast, decoded_pair_hash(p.link_type, p.data), "{file}");
                    read += 1;
                }
            }
        }
        assert!(read > 10_000, "only {read} frames took the fixed-offset path");
    }
}
