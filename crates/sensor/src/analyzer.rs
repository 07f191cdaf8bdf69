//! One worker's packet path.

use crate::defrag::Defragmenter;
use crate::evidence::{EvidenceLog, FlowPackets, PacketOrigin};
use palisade_capture::LinkType;
use palisade_decode::{decode, parse_transport, Frame, IpPacket, Net, Tcp, TcpFlags, Transport as Wire};
use palisade_flow::{Direction, Flow, FlowKey, FlowTable, StreamSink, TableLimits};
use palisade_model::{
    Contact, Endpoint, Event, EvidenceMark, MacAddr, Operation, OperationKind, OperationResult, Protocol, ProtocolSet, Timestamp,
    Transport, ViolationKind,
};
use palisade_protocols::{arp, Carrier, Ctx, EventSink, FlowDissector};
use std::net::Ipv4Addr;

/// Payload-carrying packets of an unidentified flow that are offered to the probes.
const PROBE_PACKETS: u8 = 4;
/// ARP bindings are re-reported at most this often (ns).
const ARP_REPEAT_NS: i64 = 60_000_000_000;
/// Distinct ARP bindings remembered before the memory is reset.
const ARP_MEMORY: usize = 100_000;

/// An ARP binding as reported: link source, sender IP, operation, unicast
/// link destination and (for replies) target IP.
type ArpKey = (Option<MacAddr>, Ipv4Addr, u16, Option<MacAddr>, Ipv4Addr);

/// Per-flow application state: the chosen dissector and how it was chosen.
#[derive(Default)]
pub struct AppState {
    dissector: FlowDissector,
    also: ProtocolSet,
    /// The dissector has been given payload (a port alone names no protocol).
    spoke: bool,
    probes_left: u8,
    checked: bool,
    /// Where the flow's first and latest packets are (evidence).
    packets: FlowPackets,
}

/// Counters of one analyzer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnalyzerStats {
    /// Packets handled.
    pub packets: u64,
    /// Bytes on the wire of those packets.
    pub bytes: u64,
    /// Packets whose headers could not be decoded completely.
    pub decode_errors: u64,
    /// Flows created.
    pub flows: u64,
    /// Flows evicted because the table was full.
    pub evicted_flows: u64,
    /// Fragmented datagrams given up on.
    pub dropped_fragments: u64,
}

/// Decodes packets, keeps the flow table, runs the dissectors and collects
/// their events. One per worker thread.
pub struct Analyzer {
    table: FlowTable<AppState>,
    sink: EventSink,
    defrag: Defragmenter,
    arp_seen: hashbrown::HashMap<ArpKey, Timestamp>,
    evidence: EvidenceLog,
    packets: u64,
    bytes: u64,
    decode_errors: u64,
    last_ts: Timestamp,
    dissectors: ProtocolSet,
}

/// Feeds reassembled stream bytes to a flow's dissector.
struct Feed<'a, 'b> {
    dissector: &'a mut FlowDissector,
    ctx: Ctx<'b>,
}

impl StreamSink for Feed<'_, '_> {
    fn data(&mut self, bytes: &[u8]) -> usize {
        self.dissector.stream(&mut self.ctx, bytes)
    }
    fn gap(&mut self) {
        self.dissector.gap(self.ctx.dir);
    }
    fn wants_data(&self) -> bool {
        !self.dissector.finished()
    }
}

/// The transport-level facts of a packet that the flow code needs.
struct Segment<'p> {
    carrier: Option<Carrier>,
    transport: Transport,
    src_port: u16,
    dst_port: u16,
    payload: &'p [u8],
    tcp: Option<Tcp<'p>>,
}

impl Analyzer {
    /// A new analyzer with the given flow-table limits.
    pub fn new(limits: TableLimits) -> Self {
        Analyzer {
            table: FlowTable::new(limits),
            sink: EventSink::default(),
            defrag: Defragmenter::default(),
            arp_seen: hashbrown::HashMap::new(),
            evidence: EvidenceLog::default(),
            packets: 0,
            bytes: 0,
            decode_errors: 0,
            last_ts: Timestamp(0),
            dissectors: ProtocolSet::all(),
        }
    }

    /// Runs only the dissectors of `protocols` (all by default); flows of
    /// the others are still tracked and counted.
    pub fn with_dissectors(mut self, protocols: ProtocolSet) -> Self {
        self.dissectors = protocols;
        self
    }

    /// Counters so far.
    pub fn stats(&self) -> AnalyzerStats {
        let t = self.table.stats();
        AnalyzerStats {
            packets: self.packets,
            bytes: self.bytes,
            decode_errors: self.decode_errors,
            flows: t.created,
            evicted_flows: t.evicted,
            dropped_fragments: self.defrag.dropped,
        }
    }

    /// Number of events waiting.
    pub fn pending_events(&self) -> usize {
        self.sink.len()
    }

    /// Moves the waiting events to the end of `out`.
    pub fn take_events(&mut self, out: &mut Vec<Event>) {
        if out.is_empty() {
            self.sink.swap(out);
        } else {
            let mut mine = Vec::new();
            self.sink.swap(&mut mine);
            out.append(&mut mine);
        }
    }

    /// Swaps the waiting events with `spare` (which should be empty).
    pub fn swap_events(&mut self, spare: &mut Vec<Event>) {
        self.sink.swap(spare);
    }

    /// Swaps the evidence marks of the waiting events, and the packet bytes
    /// they carry, with `marks` and `bytes` (empty ones to reuse). Take them
    /// together with the events: marks index the events.
    pub fn swap_marks(&mut self, marks: &mut Vec<EvidenceMark>, bytes: &mut Vec<u8>) {
        self.evidence.swap(marks, bytes);
    }

    /// Handles one captured frame (no evidence is kept for it).
    pub fn packet(&mut self, ts: Timestamp, link_type: LinkType, data: &[u8], orig_len: u32) {
        self.packet_at(ts, link_type, data, orig_len, PacketOrigin::Unknown);
    }

    /// Handles one captured frame found at `origin`, so that events it
    /// causes carry evidence marks locating it.
    pub fn packet_at(&mut self, ts: Timestamp, link_type: LinkType, data: &[u8], orig_len: u32, origin: PacketOrigin) {
        self.evidence.locate(ts, link_type.number() as u16, data, origin);
        self.packets += 1;
        self.bytes += u64::from(orig_len);
        self.last_ts = self.last_ts.max(ts);
        let frame = decode(link_type, data);
        if frame.error.is_some() {
            self.decode_errors += 1;
        }
        let out = std::cell::RefCell::new((&mut self.sink, &mut self.evidence));
        self.table.expire(
            ts,
            |flow| {
                let (sink, evidence) = &mut *out.borrow_mut();
                ended(flow, sink, evidence)
            },
            |flow| {
                let (sink, evidence) = &mut *out.borrow_mut();
                reported(flow, sink, evidence)
            },
        );
        match frame.net {
            Net::Ip(ip) => match ip.fragment {
                None => self.ip_packet(ts, &frame, &ip, ip.transport, orig_len),
                Some(frag) => {
                    // Count the fragment as IP-level traffic of the pair, then
                    // dissect the datagram once it is whole.
                    self.ip_packet(ts, &frame, &ip, Wire::None, orig_len);
                    if let Some(whole) = self.defrag.add(ts, &ip, frag) {
                        let (transport, _) = parse_transport(ip.protocol, &whole);
                        self.ip_packet(ts, &frame, &ip, transport, 0);
                    }
                }
            },
            Net::Arp(a) => self.arp(ts, &frame, &a, orig_len),
            Net::Ethertype { ethertype, payload } => self.layer2(ts, &frame, Carrier::Ethertype(ethertype), payload, orig_len),
            Net::Llc(llc) => {
                let carrier = llc.snap.map_or(Carrier::Ethertype(0), |(oui, pid)| Carrier::Snap(oui, pid));
                self.layer2(ts, &frame, carrier, llc.payload, orig_len)
            }
            Net::None => self.layer2(ts, &frame, Carrier::Ethertype(0), &[], orig_len),
        }
    }

    /// Ends every flow, flushing reassembly buffers (end of input).
    pub fn finish(&mut self) {
        let (sink, evidence) = (&mut self.sink, &mut self.evidence);
        self.table.drain(|flow| ended(flow, sink, evidence));
    }

    fn arp(&mut self, ts: Timestamp, frame: &Frame<'_>, a: &palisade_decode::Arp, orig_len: u32) {
        let key = (
            frame.src_mac,
            a.sender_ip,
            a.operation,
            frame.dst_mac.filter(|m| m.is_unicast()),
            if a.operation == 2 { a.target_ip } else { Ipv4Addr::UNSPECIFIED },
        );
        if self.arp_seen.len() >= ARP_MEMORY {
            self.arp_seen.clear();
        }
        let fresh = match self.arp_seen.get(&key) {
            Some(last) => ts.0.saturating_sub(last.0) > ARP_REPEAT_NS,
            None => true,
        };
        let before = self.sink.len();
        if fresh {
            self.arp_seen.insert(key, ts);
            self.sink.push(arp::contact(ts, a, frame.src_mac, frame.dst_mac, orig_len));
        }
        if a.operation == 1 && !a.target_ip.is_unspecified() && a.target_ip != a.sender_ip {
            // Who has the target? (folded per asker and target): what address sweeps are made of.
            let asker = Endpoint { mac: frame.src_mac, ip: (!a.sender_ip.is_unspecified()).then_some(a.sender_ip.into()), port: 0 };
            let target = Endpoint { mac: None, ip: Some(a.target_ip.into()), port: 0 };
            let op = Operation {
                ts,
                client: asker,
                server: target,
                protocol: Protocol::Arp,
                kind: OperationKind::Identify,
                code: 1,
                target: None,
                result: OperationResult::Unknown,
                count: 1,
            };
            self.sink.operation(op, None);
        }
        self.evidence.mark_current(u64::from(u32::from(a.sender_ip)), before, self.sink.len());
    }

    fn layer2(&mut self, ts: Timestamp, frame: &Frame<'_>, carrier: Carrier, payload: &[u8], orig_len: u32) {
        let (Some(src), Some(dst)) = (frame.src_mac, frame.dst_mac.or(frame.src_mac)) else { return };
        let ethertype = match carrier {
            Carrier::Ethertype(t) => t,
            Carrier::Snap(_, pid) => pid,
            _ => 0,
        };
        let (key, src_is_lo) = FlowKey::ethernet(src, dst, ethertype);
        let segment =
            Segment { carrier: Some(carrier), transport: Transport::Ethernet(ethertype), src_port: 0, dst_port: 0, payload, tcp: None };
        let to_group = dst.is_group();
        self.flow_packet(ts, frame, key, src_is_lo, Endpoint::default(), Endpoint::default(), segment, orig_len, to_group);
    }

    fn ip_packet(&mut self, ts: Timestamp, frame: &Frame<'_>, ip: &IpPacket<'_>, transport: Wire<'_>, orig_len: u32) {
        if let Wire::Tcp(t) = &transport {
            crate::syn::report(&mut self.sink, ts, ip, t);
        }
        let segment = match transport {
            Wire::Tcp(t) => Segment {
                carrier: Some(Carrier::Tcp),
                transport: Transport::Tcp,
                src_port: t.src_port,
                dst_port: t.dst_port,
                payload: t.payload,
                tcp: Some(t),
            },
            Wire::Udp(u) => Segment {
                carrier: Some(Carrier::Udp),
                transport: Transport::Udp,
                src_port: u.src_port,
                dst_port: u.dst_port,
                payload: u.payload,
                tcp: None,
            },
            Wire::Icmp(_) => Segment { carrier: None, transport: Transport::Icmp, src_port: 0, dst_port: 0, payload: &[], tcp: None },
            Wire::None => {
                Segment { carrier: None, transport: Transport::Ip(ip.protocol), src_port: 0, dst_port: 0, payload: &[], tcp: None }
            }
        };
        let (key, src_is_lo) = FlowKey::ip(ip.src, segment.src_port, ip.dst, segment.dst_port, ip.protocol);
        let src = Endpoint { mac: None, ip: Some(ip.src), port: segment.src_port };
        let dst = Endpoint { mac: None, ip: Some(ip.dst), port: segment.dst_port };
        let to_group =
            frame.dst_mac.is_some_and(|m| m.is_group()) || ip.dst.is_multicast() || ip.dst == std::net::IpAddr::V4(Ipv4Addr::BROADCAST);
        self.flow_packet(ts, frame, key, src_is_lo, src, dst, segment, orig_len, to_group);
    }

    #[allow(clippy::too_many_arguments)]
    fn flow_packet(
        &mut self,
        ts: Timestamp,
        frame: &Frame<'_>,
        key: FlowKey,
        src_is_lo: bool,
        src: Endpoint,
        dst: Endpoint,
        seg: Segment<'_>,
        orig_len: u32,
        to_group: bool,
    ) {
        let (sink, evidence, enabled) = (&mut self.sink, &mut self.evidence, self.dissectors);
        let make = || {
            let client_is_src = client_is_source(&seg);
            let (client, server) = if client_is_src { (src, dst) } else { (dst, src) };
            let dissector = match seg.carrier {
                Some(c @ (Carrier::Tcp | Carrier::Udp)) => FlowDissector::by_port(c, server.port, client.port, enabled),
                Some(c) => FlowDissector::by_port(c, 0, 0, enabled),
                None => FlowDissector::None,
            };
            Flow {
                key,
                client_is_lo: src_is_lo == client_is_src,
                client,
                server,
                macs_out: [None; 2],
                macs_in: [None; 2],
                transport: seg.transport,
                first_seen: ts,
                last_seen: ts,
                report_from: ts,
                packets: [0; 2],
                bytes: [0; 2],
                streams: Default::default(),
                closed: false,
                link_broadcast: frame.dst_mac == Some(MacAddr::BROADCAST),
                state: AppState {
                    dissector,
                    also: ProtocolSet::default(),
                    spoke: false,
                    probes_left: PROBE_PACKETS,
                    checked: false,
                    packets: FlowPackets::new(flow_id(&key, ts)),
                },
            }
        };
        let flow = self.table.get_or_insert_with(key, ts, make, |old| ended(old, sink, evidence));
        flow.state.packets.record(&evidence.current);
        let dir = flow.direction(src_is_lo);
        if flow.observe_macs(dir, frame.src_mac, frame.dst_mac, false) {
            reported(flow, sink, evidence);
            flow.observe_macs(dir, frame.src_mac, frame.dst_mac, true);
        }
        if flow.packets[0] + flow.packets[1] == 0 {
            flow.report_from = ts;
        }
        flow.count(dir, ts, orig_len);
        if let Some(t) = &seg.tcp {
            if t.flags.has(TcpFlags::RST) {
                flow.closed = true;
            }
        }
        if let Some(carrier) = seg.carrier {
            let before = sink.len();
            dissect(flow, sink, ts, dir, (carrier, enabled), &seg, to_group);
            evidence.mark(&flow.state.packets, before, sink.len());
        }
        if let Some(t) = &seg.tcp {
            if t.flags.has(TcpFlags::FIN) && flow.streams[0].finished() && flow.streams[1].finished() {
                flow.closed = true;
            }
        }
    }
}

/// Decides whether the sender of a flow's first packet opened it.
fn client_is_source(seg: &Segment<'_>) -> bool {
    if let Some(t) = &seg.tcp {
        if t.flags.has(TcpFlags::SYN) {
            return !t.flags.has(TcpFlags::ACK);
        }
    }
    if let Some(c @ (Carrier::Tcp | Carrier::Udp)) = seg.carrier {
        let dst_known = FlowDissector::known_port(c, seg.dst_port);
        let src_known = FlowDissector::known_port(c, seg.src_port);
        if dst_known != src_known {
            return dst_known;
        }
        if seg.src_port != seg.dst_port {
            return seg.src_port > seg.dst_port;
        }
    }
    true
}

/// Chooses (or confirms) the flow's dissector among the `enabled` ones and
/// hands it the payload.
fn dissect(
    flow: &mut Flow<AppState>,
    sink: &mut EventSink,
    ts: Timestamp,
    dir: Direction,
    (carrier, enabled): (Carrier, ProtocolSet),
    seg: &Segment<'_>,
    to_group: bool,
) {
    let payload = seg.payload;
    let (client, server, _, _) = flow.endpoints();
    let app = &mut flow.state;
    if !payload.is_empty() {
        if app.dissector.protocol().is_none() && app.probes_left > 0 {
            app.probes_left -= 1;
            app.dissector = FlowDissector::by_payload(carrier, payload, enabled);
            app.checked = true;
            if let Some(protocol) = app.dissector.protocol() {
                let port = server.port;
                let mut ctx = Ctx::new(ts, dir, client, server, protocol, sink);
                ctx.violation(ViolationKind::NonStandardPort, format!("{protocol} on non-standard port {port}"));
            }
        } else if !app.checked {
            app.checked = true;
            if app.dissector.rejects(carrier, payload) {
                let other = FlowDissector::by_payload(carrier, payload, enabled);
                if other.protocol().is_some() {
                    app.dissector = other;
                }
            }
        }
    }
    let Some(protocol) = app.dissector.protocol() else { return };
    app.spoke |= !payload.is_empty();
    let mut ctx = Ctx::new(ts, dir, client, server, protocol, sink);
    ctx.to_group = to_group;
    match &seg.tcp {
        Some(t) => {
            let mut feed = Feed { dissector: &mut app.dissector, ctx };
            let syn = t.flags.has(TcpFlags::SYN);
            let fin = t.flags.has(TcpFlags::FIN);
            flow.streams[dir.index()].segment(t.seq, syn, fin, payload, &mut feed);
            app.also.extend(feed.ctx.also);
        }
        None if !payload.is_empty() && !app.dissector.finished() => {
            app.dissector.datagram(&mut ctx, payload);
            app.also.extend(ctx.also);
        }
        None => {}
    }
}

/// Emits the flow's counts since its last report.
fn report(flow: &mut Flow<AppState>, sink: &mut EventSink) {
    if !flow.has_unreported() {
        return;
    }
    let (client, server, client_mac_inbound, server_mac_inbound) = flow.endpoints();
    let spoken = flow.state.dissector.protocol().filter(|_| flow.state.spoke);
    let protocol = spoken.or((flow.transport == Transport::Icmp).then_some(Protocol::Icmp));
    sink.push(Event::Contact(Contact {
        first_seen: flow.report_from,
        last_seen: flow.last_seen,
        client,
        server,
        client_mac_inbound,
        server_mac_inbound,
        transport: flow.transport,
        protocol,
        also: flow.state.also,
        packets_to_server: flow.packets[0],
        packets_to_client: flow.packets[1],
        bytes_to_server: flow.bytes[0],
        bytes_to_client: flow.bytes[1],
        link_broadcast: flow.link_broadcast,
    }));
    flow.packets = [0; 2];
    flow.bytes = [0; 2];
    flow.report_from = flow.last_seen;
}

/// A flow's id in evidence marks: its key and start.
fn flow_id(key: &FlowKey, start: Timestamp) -> u64 {
    ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one((key, start.0))
}

/// [`report`], with an evidence mark for the contact.
fn reported(flow: &mut Flow<AppState>, sink: &mut EventSink, evidence: &mut EvidenceLog) {
    let before = sink.len();
    report(flow, sink);
    evidence.mark(&flow.state.packets, before, sink.len());
}

/// [`end_flow`], with an evidence mark for its last events.
fn ended(flow: Flow<AppState>, sink: &mut EventSink, evidence: &mut EvidenceLog) {
    let before = sink.len();
    let packets = flow.state.packets;
    end_flow(flow, sink);
    evidence.mark(&packets, before, sink.len());
}

/// Flushes a flow's reassembly buffers and reports it for the last time.
fn end_flow(mut flow: Flow<AppState>, sink: &mut EventSink) {
    if let Some(protocol) = flow.state.dissector.protocol() {
        let (client, server, _, _) = flow.endpoints();
        for dir in [Direction::ToServer, Direction::ToClient] {
            let ctx = Ctx::new(flow.last_seen, dir, client, server, protocol, sink);
            let mut feed = Feed { dissector: &mut flow.state.dissector, ctx };
            flow.streams[dir.index()].flush(&mut feed);
            flow.state.also.extend(feed.ctx.also);
        }
        let mut ctx = Ctx::new(flow.last_seen, Direction::ToServer, client, server, protocol, sink);
        flow.state.dissector.end(&mut ctx);
        flow.state.also.extend(ctx.also);
    }
    report(&mut flow, sink);
}
