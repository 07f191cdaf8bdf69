//! The harness of the dissectors' unit tests: endpoints, a flow that feeds
//! bytes to one dissector the way the sensor does, and extractors that turn
//! the events into plain tuples a test can compare.

use crate::{Ctx, Dissector, EventSink};
use palisade_flow::Direction;
use palisade_model::{Endpoint, Event, IdentityField, MacAddr, Operation, OperationKind, OperationResult, Timestamp, ViolationKind};
use std::net::{IpAddr, Ipv4Addr};

/// Time between packets (ns) that keeps identical operations apart: the
/// sink folds repeats within a minute.
pub(crate) const APART: i64 = 61_000_000_000;

/// The endpoint 10.0.0.`last`:`port`.
pub(crate) fn ep(last: u8, port: u16) -> Endpoint {
    Endpoint { mac: None, ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))), port }
}

/// The endpoint at the address written `ip`, port `port`.
pub(crate) fn ep_at(ip: &str, port: u16) -> Endpoint {
    Endpoint { mac: None, ip: Some(ip.parse().unwrap_or_else(|_| panic!("bad IP literal {ip:?}"))), port }
}

/// An endpoint known by its port alone.
pub(crate) fn port_ep(port: u16) -> Endpoint {
    Endpoint { port, ..Endpoint::default() }
}

/// A layer-2 endpoint: a MAC address alone.
pub(crate) fn mac_ep(mac: MacAddr) -> Endpoint {
    Endpoint { mac: Some(mac), ..Endpoint::default() }
}

/// One flow from `client` to `server` through a fresh dissector `D`. Packet
/// `n` is stamped `n` times the spacing (1 ns unless [`Flow::every`]).
pub(crate) struct Flow<D> {
    dissector: D,
    client: Endpoint,
    server: Endpoint,
    to_group: bool,
    spacing: i64,
    packets: i64,
    /// Stream bytes not consumed yet, per direction.
    pending: [Vec<u8>; 2],
    sink: EventSink,
}

impl<D: Dissector> Flow<D> {
    /// A flow between two endpoints.
    pub(crate) fn new(client: Endpoint, server: Endpoint) -> Self {
        Flow {
            dissector: D::default(),
            client,
            server,
            to_group: false,
            spacing: 1,
            packets: 0,
            pending: Default::default(),
            sink: EventSink::default(),
        }
    }

    /// Spaces packets `ns` nanoseconds apart.
    pub(crate) fn every(mut self, ns: i64) -> Self {
        self.spacing = ns;
        self
    }

    /// Whether packets are sent to a broadcast or multicast address.
    pub(crate) fn sent_to_group(mut self, to_group: bool) -> Self {
        self.to_group = to_group;
        self
    }

    /// The dissector, to look at its state.
    pub(crate) fn dissector(&self) -> &D {
        &self.dissector
    }

    /// Calls `f` with the dissector and the context of the next packet.
    fn next<R>(&mut self, dir: Direction, f: impl FnOnce(&mut D, &mut Ctx<'_>) -> R) -> R {
        let ts = Timestamp(self.packets * self.spacing);
        self.packets += 1;
        let mut ctx = Ctx::new(ts, dir, self.client, self.server, D::REGISTRATION.protocol, &mut self.sink);
        ctx.to_group = self.to_group;
        f(&mut self.dissector, &mut ctx)
    }

    /// Feeds stream bytes as they are; returns how many were consumed.
    pub(crate) fn stream(&mut self, dir: Direction, bytes: &[u8]) -> usize {
        self.next(dir, |d, ctx| d.stream(ctx, bytes))
    }

    /// Feeds stream chunks that must each be consumed whole.
    pub(crate) fn whole_streams<B: AsRef<[u8]>>(&mut self, chunks: &[(Direction, B)]) -> &mut Self {
        for (i, (dir, bytes)) in chunks.iter().enumerate() {
            let bytes = bytes.as_ref();
            assert_eq!(self.stream(*dir, bytes), bytes.len(), "chunk {i} not consumed whole");
        }
        self
    }

    /// Feeds stream chunks the way the sensor does: each after what its
    /// direction left unconsumed, keeping the rest for the next chunk.
    pub(crate) fn streams<B: AsRef<[u8]>>(&mut self, chunks: &[(Direction, B)]) -> &mut Self {
        for (dir, bytes) in chunks {
            let mut pending = std::mem::take(&mut self.pending[dir.index()]);
            pending.extend_from_slice(bytes.as_ref());
            let used = self.stream(*dir, &pending);
            pending.drain(..used);
            self.pending[dir.index()] = pending;
        }
        self
    }

    /// Feeds datagrams.
    pub(crate) fn datagrams<B: AsRef<[u8]>>(&mut self, datagrams: &[(Direction, B)]) -> &mut Self {
        for (dir, bytes) in datagrams {
            self.next(*dir, |d, ctx| d.datagram(ctx, bytes.as_ref()));
        }
        self
    }

    /// Feeds datagrams that the client sends (layer-2 frames to a group, for instance).
    pub(crate) fn client_sends<B: AsRef<[u8]>>(&mut self, datagrams: &[B]) -> &mut Self {
        for bytes in datagrams {
            self.next(Direction::ToServer, |d, ctx| d.datagram(ctx, bytes.as_ref()));
        }
        self
    }

    /// Tells the dissector that bytes were lost in `dir`.
    pub(crate) fn gap(&mut self, dir: Direction) {
        self.dissector.gap(dir);
    }

    /// Ends the flow (requests still waiting get their unknown result).
    pub(crate) fn end(&mut self) -> &mut Self {
        self.next(Direction::ToServer, |d, ctx| d.end(ctx));
        self
    }

    /// Takes the events reported so far.
    pub(crate) fn events(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        self.sink.swap(&mut out);
        out
    }
}

/// The operations.
pub(crate) fn operation_events(events: &[Event]) -> Vec<&Operation> {
    events.iter().filter_map(|e| if let Event::Operation(o) = e { Some(o) } else { None }).collect()
}

/// The operations as (kind, code, target, result).
pub(crate) fn operations(events: &[Event]) -> Vec<(OperationKind, u32, Option<String>, OperationResult)> {
    operation_events(events).into_iter().map(|o| (o.kind, o.code, o.target.clone(), o.result)).collect()
}

/// The violations as (kind, detail).
pub(crate) fn violations(events: &[Event]) -> Vec<(ViolationKind, String)> {
    events.iter().filter_map(|e| if let Event::Violation(v) = e { Some((v.kind, v.detail.clone())) } else { None }).collect()
}

/// The kinds of the violations.
pub(crate) fn violation_kinds(events: &[Event]) -> Vec<ViolationKind> {
    violations(events).into_iter().map(|(kind, _)| kind).collect()
}

/// The identity facts as (subject, field, value).
pub(crate) fn subject_facts(events: &[Event]) -> Vec<(Endpoint, IdentityField, String)> {
    events.iter().filter_map(|e| if let Event::Identity(f) = e { Some((f.subject, f.field, f.value.clone())) } else { None }).collect()
}

/// The identity facts as (subject IP, field, value).
pub(crate) fn ip_facts(events: &[Event]) -> Vec<(Option<IpAddr>, IdentityField, String)> {
    subject_facts(events).into_iter().map(|(subject, field, value)| (subject.ip, field, value)).collect()
}

/// The identity facts as (field, value).
pub(crate) fn field_values(events: &[Event]) -> Vec<(IdentityField, String)> {
    subject_facts(events).into_iter().map(|(_, field, value)| (field, value)).collect()
}

/// The last octet of an endpoint's IPv4 address (0 without one): the
/// endpoints of [`ep`] told apart.
pub(crate) fn last_octet(endpoint: &Endpoint) -> u8 {
    match endpoint.ip {
        Some(IpAddr::V4(v4)) => v4.octets()[3],
        _ => 0,
    }
}

/// The identity facts as (field, value, [`last_octet`] of the subject).
pub(crate) fn facts(events: &[Event]) -> Vec<(IdentityField, String, u8)> {
    subject_facts(events).into_iter().map(|(subject, field, value)| (field, value, last_octet(&subject))).collect()
}
