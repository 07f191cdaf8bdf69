//! The simulated network: addressing, IP identifiers, ephemeral ports, TCP
//! connection state and the time-ordered list of generated frames.

use crate::plant::{self, Host};
use crate::rng::Rng;
use crate::wire::{self, Ip, TcpHdr, L2};
use palisade_model::MacAddr;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// One millisecond in nanoseconds.
pub(crate) const MS: i64 = 1_000_000;
/// One second in nanoseconds.
pub(crate) const SEC: i64 = 1_000_000_000;

/// TTL seen on packets that come from the Internet.
const INTERNET_TTL: u8 = 116;
/// Maximum TCP segment size used by every host.
const MSS: usize = 1460;
/// TCP options of SYN and SYN/ACK: MSS 1460, NOP, NOP, SACK permitted.
const SYN_OPTIONS: [u8; 8] = [2, 4, 0x05, 0xb4, 1, 1, 4, 2];
/// Receive window advertised by every host (no window scaling).
const WINDOW: u16 = 64240;

/// A generated frame waiting to be sorted by time.
pub(crate) struct Record {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts: i64,
    seq: u64,
    pub frame: Vec<u8>,
}

/// One leg of an IP packet's path as seen on the mirrored trunk.
struct Hop {
    l2: L2,
    ttl: u8,
    delay: i64,
}

/// State of one TCP connection.
pub(crate) struct Conn {
    pub client: Ipv4Addr,
    pub server: Ipv4Addr,
    pub cport: u16,
    pub sport: u16,
    /// Next sequence number the client sends.
    cseq: u32,
    /// Next sequence number the server sends.
    sseq: u32,
    /// Time of the last packet of the connection.
    pub t: i64,
    /// Typical round-trip time.
    pub rtt: i64,
}

/// The simulated network and the frames it produced.
pub(crate) struct Sim {
    pub rng: Rng,
    /// Start of the capture (ns since the epoch).
    pub start: i64,
    /// End of the capture (ns since the epoch).
    pub end: i64,
    /// Generators include their scripted incidents (off for quiet captures).
    pub incidents: bool,
    hosts: HashMap<Ipv4Addr, Host>,
    records: Vec<Record>,
    ip_ids: HashMap<Ipv4Addr, u16>,
    ports: HashMap<Ipv4Addr, u16>,
}

impl Sim {
    /// An empty network with the plant's hosts.
    pub(crate) fn new(seed: u64, start: i64, duration: i64) -> Self {
        Sim {
            rng: Rng::new(seed),
            start,
            end: start + duration,
            incidents: true,
            hosts: plant::all_hosts().into_iter().map(|h| (h.ip, h)).collect(),
            records: Vec::with_capacity(64 * 1024),
            ip_ids: HashMap::new(),
            ports: HashMap::new(),
        }
    }

    /// The point at `fraction` of the capture (0.0 = start, 1.0 = end).
    pub(crate) fn at(&self, fraction: f64) -> i64 {
        self.start + ((self.end - self.start) as f64 * fraction) as i64
    }

    /// A random delay in `lo..hi` nanoseconds.
    pub(crate) fn jitter(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.range(lo, hi)
    }

    /// Records a finished frame.
    pub(crate) fn emit(&mut self, ts: i64, frame: Vec<u8>) {
        let seq = self.records.len() as u64;
        self.records.push(Record { ts, seq, frame });
    }

    /// Records a frame built from link-layer addressing and a payload.
    pub(crate) fn emit_l2(&mut self, ts: i64, l2: &L2, ethertype: u16, payload: &[u8]) {
        let frame = wire::ethernet(l2, ethertype, payload);
        self.emit(ts, frame);
    }

    /// All frames, sorted by time (ties keep generation order).
    pub(crate) fn into_records(mut self) -> Vec<Record> {
        self.records.sort_by_key(|r| (r.ts, r.seq));
        self.records
    }

    fn host(&self, ip: Ipv4Addr) -> Option<Host> {
        self.hosts.get(&ip).copied()
    }

    fn mac_of(&self, ip: Ipv4Addr) -> MacAddr {
        self.host(ip).map(|h| h.mac).unwrap_or(MacAddr::BROADCAST)
    }

    /// Where a packet from `src` to `dst` shows up on the trunk: once on a
    /// subnet, or twice when it is routed between the two local subnets.
    fn hops(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<Hop> {
        let src_net = plant::subnet_of(src);
        let dst_net = plant::subnet_of(dst);
        let src_ttl = self.host(src).map(|h| h.ttl).unwrap_or(INTERNET_TTL);
        let group_mac = |ip: Ipv4Addr| {
            let o = ip.octets();
            if ip.is_multicast() {
                Some(MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]))
            } else if ip.is_broadcast() || o[3] == 255 {
                Some(MacAddr::BROADCAST)
            } else {
                None
            }
        };
        match (src_net, dst_net) {
            (Some(s), _) if group_mac(dst).is_some() => {
                let dst_mac = group_mac(dst).unwrap_or(MacAddr::BROADCAST);
                vec![Hop { l2: L2 { dst: dst_mac, src: self.mac_of(src), vlan: s.vlan }, ttl: src_ttl, delay: 0 }]
            }
            (Some(s), Some(d)) if s.prefix == d.prefix => {
                vec![Hop { l2: L2 { dst: self.mac_of(dst), src: self.mac_of(src), vlan: s.vlan }, ttl: src_ttl, delay: 0 }]
            }
            (Some(s), Some(d)) => {
                let out_gw = plant::gateway_of(src).map(|g| g.mac).unwrap_or(MacAddr::BROADCAST);
                let in_gw = plant::gateway_of(dst).map(|g| g.mac).unwrap_or(MacAddr::BROADCAST);
                vec![
                    Hop { l2: L2 { dst: out_gw, src: self.mac_of(src), vlan: s.vlan }, ttl: src_ttl, delay: 0 },
                    Hop { l2: L2 { dst: self.mac_of(dst), src: in_gw, vlan: d.vlan }, ttl: src_ttl.saturating_sub(2), delay: 180_000 },
                ]
            }
            (Some(s), None) => {
                let gw = plant::gateway_of(src).map(|g| g.mac).unwrap_or(MacAddr::BROADCAST);
                vec![Hop { l2: L2 { dst: gw, src: self.mac_of(src), vlan: s.vlan }, ttl: src_ttl, delay: 0 }]
            }
            (None, Some(d)) => {
                let gw = plant::gateway_of(dst).map(|g| g.mac).unwrap_or(MacAddr::BROADCAST);
                vec![Hop { l2: L2 { dst: self.mac_of(dst), src: gw, vlan: d.vlan }, ttl: src_ttl, delay: 0 }]
            }
            (None, None) => Vec::new(),
        }
    }

    fn next_ip_id(&mut self, src: Ipv4Addr) -> u16 {
        let seed = self.rng.u16();
        let id = self.ip_ids.entry(src).or_insert(seed);
        *id = id.wrapping_add(1);
        *id
    }

    /// A fresh ephemeral port of `ip` (Windows style, 49152 and up).
    pub(crate) fn ephemeral_port(&mut self, ip: Ipv4Addr) -> u16 {
        let first = 49152 + (self.rng.u16() % 8000);
        let port = self.ports.entry(ip).or_insert(first);
        *port = if *port >= 65000 { 49152 } else { *port + 1 };
        *port
    }

    /// Sends an IP packet carrying `segment` (already checksummed).
    pub(crate) fn send_ip(&mut self, ts: i64, src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) {
        self.send_ip_ttl(ts, src, dst, proto, segment, None);
    }

    /// Like [`Sim::send_ip`], with a fixed initial TTL (link-local multicast protocols).
    pub(crate) fn send_ip_ttl(&mut self, ts: i64, src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8], ttl: Option<u8>) {
        let id = self.next_ip_id(src);
        for hop in self.hops(src, dst) {
            let packet = wire::ipv4(&Ip { src, dst, ttl: ttl.unwrap_or(hop.ttl), id }, proto, segment);
            self.emit_l2(ts + hop.delay, &hop.l2, wire::ETH_IPV4, &packet);
        }
    }

    /// Sends a UDP datagram with explicit link-layer addressing (hosts without an address yet).
    pub(crate) fn udp_on(&mut self, ts: i64, l2: &L2, ip: &Ip, sport: u16, dport: u16, payload: &[u8]) {
        let seg = wire::udp(ip.src, ip.dst, sport, dport, payload);
        let packet = wire::ipv4(ip, wire::IP_UDP, &seg);
        self.emit_l2(ts, l2, wire::ETH_IPV4, &packet);
    }

    /// Sends a UDP datagram.
    pub(crate) fn udp(&mut self, ts: i64, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) {
        let seg = wire::udp(src.0, dst.0, src.1, dst.1, payload);
        self.send_ip(ts, src.0, dst.0, wire::IP_UDP, &seg);
    }

    /// A UDP request and its answer `delay` later, from the server port back to the client port.
    pub(crate) fn udp_exchange(
        &mut self,
        ts: i64,
        client: (Ipv4Addr, u16),
        server: (Ipv4Addr, u16),
        request: &[u8],
        response: &[u8],
        delay: i64,
    ) {
        self.udp(ts, client, server, request);
        self.udp(ts + delay, server, client, response);
    }

    /// An ICMP echo request and its reply.
    pub(crate) fn ping(&mut self, ts: i64, src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16) {
        const PAYLOAD: &[u8] = b"abcdefghijklmnopqrstuvwabcdefghi";
        let mut rest = [0u8; 4];
        rest[..2].copy_from_slice(&id.to_be_bytes());
        rest[2..].copy_from_slice(&seq.to_be_bytes());
        let request = wire::icmp(8, 0, rest, PAYLOAD);
        self.send_ip(ts, src, dst, wire::IP_ICMP, &request);
        let reply = wire::icmp(0, 0, rest, PAYLOAD);
        let delay = self.jitter(300_000, 900_000);
        self.send_ip(ts + delay, dst, src, wire::IP_ICMP, &reply);
    }

    /// An ARP request from `asker` for `target` (`None`: nobody answers) and the reply.
    pub(crate) fn arp_exchange(&mut self, ts: i64, asker: &Host, target_ip: Ipv4Addr, target: Option<&Host>) {
        let vlan = plant::subnet_of(asker.ip).and_then(|s| s.vlan);
        let req = wire::arp(1, asker.mac, asker.ip, MacAddr([0; 6]), target_ip);
        self.emit_l2(ts, &L2 { dst: MacAddr::BROADCAST, src: asker.mac, vlan }, wire::ETH_ARP, &req);
        if let Some(t) = target {
            let reply = wire::arp(2, t.mac, t.ip, asker.mac, asker.ip);
            let delay = self.jitter(80_000, 600_000);
            self.emit_l2(ts + delay, &L2 { dst: asker.mac, src: t.mac, vlan }, wire::ETH_ARP, &reply);
        }
    }

    /// A gratuitous ARP (probe from 0.0.0.0, then announcement) after a host got its address.
    pub(crate) fn gratuitous_arp(&mut self, ts: i64, host: &Host) {
        let vlan = plant::subnet_of(host.ip).and_then(|s| s.vlan);
        let l2 = L2 { dst: MacAddr::BROADCAST, src: host.mac, vlan };
        let probe = wire::arp(1, host.mac, Ipv4Addr::UNSPECIFIED, MacAddr([0; 6]), host.ip);
        self.emit_l2(ts, &l2, wire::ETH_ARP, &probe);
        let announce = wire::arp(1, host.mac, host.ip, MacAddr([0; 6]), host.ip);
        self.emit_l2(ts + 400 * MS, &l2, wire::ETH_ARP, &announce);
    }

    /// Sends one TCP segment.
    pub(crate) fn tcp_segment(&mut self, ts: i64, src: Ipv4Addr, dst: Ipv4Addr, hdr: &TcpHdr, options: &[u8], payload: &[u8]) {
        let seg = wire::tcp(src, dst, hdr, options, payload);
        self.send_ip(ts, src, dst, wire::IP_TCP, &seg);
    }

    /// Opens a connection from `client` to `server:port` with a full handshake starting at `ts`.
    pub(crate) fn connect(&mut self, ts: i64, client: Ipv4Addr, server: Ipv4Addr, port: u16) -> Conn {
        let local = plant::subnet_of(server).is_some() && plant::subnet_of(client).is_some();
        let rtt = if local { self.jitter(150_000, 600_000) } else { self.jitter(12 * MS, 30 * MS) };
        let cport = self.ephemeral_port(client);
        let mut conn = Conn { client, server, cport, sport: port, cseq: self.rng.u32(), sseq: self.rng.u32(), t: ts, rtt };
        let syn = TcpHdr { sport: cport, dport: port, seq: conn.cseq, ack: 0, flags: wire::SYN, window: WINDOW };
        self.tcp_segment(ts, client, server, &syn, &SYN_OPTIONS, &[]);
        conn.cseq = conn.cseq.wrapping_add(1);
        let t1 = ts + rtt / 2;
        let syn_ack = TcpHdr { sport: port, dport: cport, seq: conn.sseq, ack: conn.cseq, flags: wire::SYN | wire::ACK, window: WINDOW };
        self.tcp_segment(t1, server, client, &syn_ack, &SYN_OPTIONS, &[]);
        conn.sseq = conn.sseq.wrapping_add(1);
        conn.t = ts + rtt;
        let at = conn.t;
        self.tcp_flags(&mut conn, true, at, wire::ACK, &[]);
        conn
    }

    /// Sends one segment with `flags` on `conn` from the client or the server side.
    fn tcp_flags(&mut self, conn: &mut Conn, from_client: bool, ts: i64, flags: u8, payload: &[u8]) {
        let ts = ts.max(conn.t + 1_000);
        conn.t = ts;
        let (src, dst, sport, dport, seq, ack) = if from_client {
            (conn.client, conn.server, conn.cport, conn.sport, conn.cseq, conn.sseq)
        } else {
            (conn.server, conn.client, conn.sport, conn.cport, conn.sseq, conn.cseq)
        };
        let hdr = TcpHdr { sport, dport, seq, ack, flags, window: WINDOW };
        self.tcp_segment(ts, src, dst, &hdr, &[], payload);
        let used = payload.len() as u32 + u32::from(flags & (wire::SYN | wire::FIN) != 0);
        if from_client {
            conn.cseq = conn.cseq.wrapping_add(used);
        } else {
            conn.sseq = conn.sseq.wrapping_add(used);
        }
    }

    /// Sends `payload` on `conn` at `ts`, split into MSS-sized segments; returns the time of the last one.
    pub(crate) fn send(&mut self, conn: &mut Conn, from_client: bool, ts: i64, payload: &[u8]) -> i64 {
        let count = payload.chunks(MSS).count();
        for (i, chunk) in payload.chunks(MSS).enumerate() {
            let flags = if i + 1 == count { wire::PSH | wire::ACK } else { wire::ACK };
            let at = if i == 0 { ts } else { conn.t + 12_000 };
            self.tcp_flags(conn, from_client, at, flags, chunk);
        }
        conn.t
    }

    /// A pure ACK on `conn`.
    pub(crate) fn ack(&mut self, conn: &mut Conn, from_client: bool, ts: i64) {
        self.tcp_flags(conn, from_client, ts, wire::ACK, &[]);
    }

    /// A request from the client at `ts` and the server's answer after `think` plus half the RTT;
    /// returns the time of the answer.
    pub(crate) fn exchange(&mut self, conn: &mut Conn, ts: i64, request: &[u8], response: &[u8], think: i64) -> i64 {
        let sent = self.send(conn, true, ts, request);
        let at = sent + conn.rtt / 2 + think;
        self.send(conn, false, at, response)
    }

    /// Like [`Sim::exchange`], then the client's delayed ACK of the answer.
    pub(crate) fn exchange_acked(&mut self, conn: &mut Conn, ts: i64, request: &[u8], response: &[u8], think: i64) -> i64 {
        let answered = self.exchange(conn, ts, request, response, think);
        let delay = self.jitter(20 * MS, 120 * MS);
        self.ack(conn, true, answered + delay);
        conn.t
    }

    /// Closes `conn`: FIN from the client (or the server), FIN back, last ACK.
    pub(crate) fn close(&mut self, conn: &mut Conn, by_client: bool, ts: i64) {
        self.tcp_flags(conn, by_client, ts, wire::FIN | wire::ACK, &[]);
        let t = conn.t + conn.rtt / 2;
        self.tcp_flags(conn, !by_client, t, wire::FIN | wire::ACK, &[]);
        let t = conn.t + conn.rtt / 2;
        self.tcp_flags(conn, by_client, t, wire::ACK, &[]);
    }
}
