//! The flow table.

use crate::{Direction, FlowKey, TcpStream};
use palisade_model::{Endpoint, MacAddr, Timestamp, Transport};

/// How often (capture time) the table looks for idle flows.
const SWEEP_INTERVAL_NS: i64 = 15_000_000_000;

/// Sizes and timeouts of a flow table.
#[derive(Clone, Copy, Debug)]
pub struct TableLimits {
    /// Hard bound on live flows; inserting beyond it evicts.
    pub max_flows: usize,
    /// A TCP flow with no packet for this long (ns of capture time) ends.
    pub tcp_idle_ns: i64,
    /// A UDP, ICMP or layer-2 flow with no packet for this long ends.
    pub other_idle_ns: i64,
    /// A TCP flow closed by FIN/RST ends after this long.
    pub closed_linger_ns: i64,
    /// Live flows report their counts at least this often.
    pub report_interval_ns: i64,
}

impl Default for TableLimits {
    fn default() -> Self {
        const SEC: i64 = 1_000_000_000;
        TableLimits {
            max_flows: 500_000,
            tcp_idle_ns: 600 * SEC,
            other_idle_ns: 60 * SEC,
            closed_linger_ns: 5 * SEC,
            report_interval_ns: 300 * SEC,
        }
    }
}

/// Counters of a flow table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowTableStats {
    /// Flows created.
    pub created: u64,
    /// Flows ended by idle timeout or close.
    pub expired: u64,
    /// Flows evicted early because the table was full.
    pub evicted: u64,
}

/// One conversation.
#[derive(Debug)]
pub struct Flow<S> {
    /// Its key.
    pub key: FlowKey,
    /// Whether the client is the key's "lo" side.
    pub client_is_lo: bool,
    /// The side that opened the flow (its `mac` is unused: see `macs_out`).
    pub client: Endpoint,
    /// The other side.
    pub server: Endpoint,
    /// Each side's MAC as a sender (client, server).
    pub macs_out: [Option<MacAddr>; 2],
    /// Each side's MAC as a receiver (client, server).
    pub macs_in: [Option<MacAddr>; 2],
    /// Transport.
    pub transport: Transport,
    /// First packet time.
    pub first_seen: Timestamp,
    /// Last packet time.
    pub last_seen: Timestamp,
    /// Start of the counts not yet reported.
    pub report_from: Timestamp,
    /// Packets per direction since the last report.
    pub packets: [u64; 2],
    /// Frame bytes per direction since the last report.
    pub bytes: [u64; 2],
    /// TCP reassembly per direction (unused for other transports).
    pub streams: [TcpStream; 2],
    /// A FIN was seen each way, or a RST.
    pub closed: bool,
    /// The destination of the first packet was the link broadcast address.
    pub link_broadcast: bool,
    /// What the owner keeps per flow (dissector state).
    pub state: S,
}

impl<S> Flow<S> {
    /// The direction of a packet whose source is the key's "lo" side when `src_is_lo`.
    pub fn direction(&self, src_is_lo: bool) -> Direction {
        if src_is_lo == self.client_is_lo {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// Counts a packet.
    pub fn count(&mut self, dir: Direction, ts: Timestamp, frame_len: u32) {
        let i = dir.index();
        self.packets[i] += 1;
        self.bytes[i] += u64::from(frame_len);
        self.last_seen = ts;
    }

    /// Notes the link addresses of a packet; returns true when one differs
    /// from what was seen before (the caller reports the counts so far
    /// first, then calls again with `force`).
    pub fn observe_macs(&mut self, dir: Direction, src: Option<MacAddr>, dst: Option<MacAddr>, force: bool) -> bool {
        let (sender, receiver) = match dir {
            Direction::ToServer => (0, 1),
            Direction::ToClient => (1, 0),
        };
        let changed = |old: Option<MacAddr>, new: Option<MacAddr>| old.is_some() && new.is_some() && old != new;
        if !force && (changed(self.macs_out[sender], src) || changed(self.macs_in[receiver], dst)) {
            return true;
        }
        if src.is_some() {
            self.macs_out[sender] = src;
        }
        if dst.is_some() {
            self.macs_in[receiver] = dst;
        }
        false
    }

    /// The two endpoints with their MACs, and each side's inbound MAC where
    /// it differs from the one it sends from.
    pub fn endpoints(&self) -> (Endpoint, Endpoint, Option<MacAddr>, Option<MacAddr>) {
        let side = |ep: Endpoint, i: usize| {
            let out = self.macs_out[i];
            let inbound = self.macs_in[i];
            let mac = out.or(inbound);
            (Endpoint { mac, ..ep }, inbound.filter(|m| Some(*m) != mac))
        };
        let (client, client_in) = side(self.client, 0);
        let (server, server_in) = side(self.server, 1);
        (client, server, client_in, server_in)
    }

    /// True if counts are waiting to be reported.
    pub fn has_unreported(&self) -> bool {
        self.packets[0] + self.packets[1] > 0
    }
}

/// A flow table owned by one worker (no locks).
pub struct FlowTable<S> {
    flows: hashbrown::HashMap<FlowKey, Flow<S>, ahash::RandomState>,
    limits: TableLimits,
    last_sweep: Timestamp,
    stats: FlowTableStats,
}

impl<S> FlowTable<S> {
    /// An empty table.
    pub fn new(limits: TableLimits) -> Self {
        FlowTable {
            flows: hashbrown::HashMap::with_hasher(ahash::RandomState::new()),
            limits,
            last_sweep: Timestamp(i64::MIN),
            stats: FlowTableStats::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> TableLimits {
        self.limits
    }

    /// Live flows.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// True when no flow is live.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> FlowTableStats {
        self.stats
    }

    /// The flow of `key`, if live.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Flow<S>> {
        self.flows.get_mut(key)
    }

    /// The flow of `key`, made with `make` if it is not live yet (evicting
    /// first, through `evict`, if the table is full). One hash lookup for a
    /// live flow, which is nearly every packet.
    pub fn get_or_insert_with(
        &mut self,
        key: FlowKey,
        now: Timestamp,
        make: impl FnOnce() -> Flow<S>,
        mut evict: impl FnMut(Flow<S>),
    ) -> &mut Flow<S> {
        if self.flows.len() >= self.limits.max_flows && !self.flows.contains_key(&key) {
            self.sweep(now, &mut evict, &mut |_| {});
            if self.flows.len() >= self.limits.max_flows {
                // Still full: drop the least recently active eighth.
                let mut ages: Vec<i64> = self.flows.values().map(|f| f.last_seen.0).collect();
                let cut = ages.len() / 8;
                let (_, threshold, _) = ages.select_nth_unstable(cut);
                let threshold = *threshold;
                let evicted = self.flows.extract_if(|_, f| f.last_seen.0 <= threshold);
                for (_, f) in evicted {
                    self.stats.evicted += 1;
                    evict(f);
                }
            }
        }
        let created = &mut self.stats.created;
        self.flows.entry(key).or_insert_with(|| {
            *created += 1;
            make()
        })
    }

    /// At most once per sweep interval of capture time: ends flows that are
    /// idle or closed (through `done`) and hands live flows whose counts are
    /// older than the report interval to `report`, in one pass.
    pub fn expire(&mut self, now: Timestamp, mut done: impl FnMut(Flow<S>), mut report: impl FnMut(&mut Flow<S>)) {
        if now.0.saturating_sub(self.last_sweep.0) < SWEEP_INTERVAL_NS {
            return;
        }
        self.sweep(now, &mut done, &mut report);
    }

    fn sweep(&mut self, now: Timestamp, done: &mut impl FnMut(Flow<S>), report: &mut impl FnMut(&mut Flow<S>)) {
        self.last_sweep = now;
        let limits = self.limits;
        let ended = self.flows.extract_if(|_, f| {
            let idle = now.0.saturating_sub(f.last_seen.0);
            let timeout = if f.closed {
                limits.closed_linger_ns
            } else if f.transport == Transport::Tcp {
                limits.tcp_idle_ns
            } else {
                limits.other_idle_ns
            };
            if idle > timeout {
                return true;
            }
            if f.has_unreported() && now.0.saturating_sub(f.report_from.0) > limits.report_interval_ns {
                report(f);
            }
            false
        });
        for (_, f) in ended {
            self.stats.expired += 1;
            done(f);
        }
    }

    /// Ends every flow (end of input).
    pub fn drain(&mut self, mut done: impl FnMut(Flow<S>)) {
        for (_, f) in self.flows.drain() {
            done(f);
        }
    }
}
