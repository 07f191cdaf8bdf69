//! What a dissector sees of its flow, and where its events go.

use palisade_flow::Direction;
use palisade_model::{
    Endpoint, Event, IdentityFact, IdentityField, Operation, OperationKind, OperationResult, Protocol, ProtocolSet, Timestamp, Violation,
    ViolationKind,
};
use std::hash::{Hash, Hasher};

/// How many distinct identity facts a worker remembers to suppress repeats.
const SEEN_FACTS_LIMIT: usize = 200_000;
/// How many distinct operations a worker remembers to fold repeats.
const SEEN_OPERATIONS_LIMIT: usize = 200_000;
/// Identical operations within this time (ns) are folded into one event.
const OPERATION_FOLD_NS: i64 = 60_000_000_000;

/// A hasher that can be written to with `fmt`, so a target can be hashed
/// without building its string.
struct HashWriter(ahash::AHasher);

impl std::fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        s.hash(&mut self.0);
        Ok(())
    }
}

/// Collects the events of one worker; identity facts already reported are
/// dropped before any allocation happens.
#[derive(Default)]
pub struct EventSink {
    events: Vec<Event>,
    seen_facts: hashbrown::HashSet<u64>,
    /// Per distinct operation: when it was last emitted and how many were folded since.
    seen_operations: hashbrown::HashMap<u64, (Timestamp, u32)>,
}

impl EventSink {
    /// Appends an event.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Number of events waiting.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no event waits.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Swaps the waiting events with `spare` (an empty vector to reuse).
    pub fn swap(&mut self, spare: &mut Vec<Event>) {
        std::mem::swap(&mut self.events, spare);
    }

    /// Records an operation, folding identical ones (same endpoints, kind,
    /// code, target and result) seen within a minute into a count (except
    /// failed logins, each reported); the target is only formatted when an
    /// event is emitted.
    pub fn operation(&mut self, mut op: Operation, target: Option<std::fmt::Arguments<'_>>) {
        let mut h = HashWriter(ahash::AHasher::default());
        (op.client.ip, op.server.ip, op.client.mac, op.server.mac, op.protocol, op.kind, op.code, &op.result).hash(&mut h.0);
        if let Some(t) = target {
            let _ = std::fmt::write(&mut h, t);
        }
        let key = h.0.finish();
        if self.seen_operations.len() >= SEEN_OPERATIONS_LIMIT {
            self.seen_operations.clear();
        }
        let entry = self.seen_operations.entry(key).or_insert((Timestamp(i64::MIN), 0));
        // Failed logins are never folded: their repetition is what password guessing looks like.
        let failed_login = op.kind == OperationKind::Login && matches!(op.result, OperationResult::Error(_));
        if !failed_login && op.ts.0.saturating_sub(entry.0 .0) < OPERATION_FOLD_NS {
            entry.1 = entry.1.saturating_add(1);
            return;
        }
        op.count = entry.1.saturating_add(1);
        *entry = (op.ts, 0);
        op.target = target.map(|t| t.to_string());
        self.events.push(Event::Operation(op));
    }

    /// True the first time `subject` shows `what` in `protocol` (within
    /// the bounded memory of facts already reported).
    pub fn first_time(&mut self, subject: Endpoint, protocol: Protocol, what: impl Hash) -> bool {
        let mut h = ahash::AHasher::default();
        (subject.mac, subject.ip, protocol, what).hash(&mut h);
        if self.seen_facts.len() >= SEEN_FACTS_LIMIT {
            self.seen_facts.clear();
        }
        self.seen_facts.insert(h.finish())
    }

    /// Records an identity fact unless the same one was already reported.
    pub fn identity(&mut self, ts: Timestamp, subject: Endpoint, protocol: Protocol, field: IdentityField, value: &str) {
        let value = value.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if value.is_empty() {
            return;
        }
        if !self.first_time(subject, protocol, (field, value)) {
            return;
        }
        let subject = Endpoint { port: 0, ..subject };
        self.events.push(Event::Identity(IdentityFact { ts, subject, protocol, field, value: value.to_string() }));
    }
}

/// The view a dissector gets of one packet or stream chunk.
pub struct Ctx<'a> {
    /// Capture time of the packet.
    pub ts: Timestamp,
    /// Which way the bytes go.
    pub dir: Direction,
    /// The side that opened the flow.
    pub client: Endpoint,
    /// The other side.
    pub server: Endpoint,
    /// The protocol being dissected.
    pub protocol: Protocol,
    /// The destination of the packet was the link broadcast or a multicast address.
    pub to_group: bool,
    /// Protocols found carried inside this flow's protocol (see [`Ctx::carries`]).
    pub also: ProtocolSet,
    sink: &'a mut EventSink,
}

impl<'a> Ctx<'a> {
    /// A context for one packet of a flow.
    pub fn new(ts: Timestamp, dir: Direction, client: Endpoint, server: Endpoint, protocol: Protocol, sink: &'a mut EventSink) -> Self {
        Ctx { ts, dir, client, server, protocol, to_group: false, also: ProtocolSet::default(), sink }
    }

    /// Notes that the flow carries another protocol inside its own (CIP in
    /// EtherNet/IP, UMAS in Modbus...), so both appear on the devices.
    pub fn carries(&mut self, inner: Protocol) {
        self.also.insert(inner);
    }

    /// The sender of the current bytes.
    pub fn sender(&self) -> Endpoint {
        match self.dir {
            Direction::ToServer => self.client,
            Direction::ToClient => self.server,
        }
    }

    /// The receiver of the current bytes.
    pub fn receiver(&self) -> Endpoint {
        match self.dir {
            Direction::ToServer => self.server,
            Direction::ToClient => self.client,
        }
    }

    /// Reports a fact about the sender's identity.
    pub fn sender_identity(&mut self, field: IdentityField, value: &str) {
        let subject = self.sender();
        self.identity(subject, field, value);
    }

    /// True the first time the sender of the current bytes shows `what`
    /// (a key of facts costly to compute, so they are computed once).
    pub fn sender_first_time(&mut self, what: impl Hash) -> bool {
        let subject = self.sender();
        self.sink.first_time(subject, self.protocol, what)
    }

    /// Reports a fact about `subject`'s identity (once per distinct fact).
    pub fn identity(&mut self, subject: Endpoint, field: IdentityField, value: &str) {
        self.sink.identity(self.ts, subject, self.protocol, field, value);
    }

    /// Reports an operation requested by the client of the flow. `target`
    /// is the object or address range in the protocol's terms, e.g.
    /// `Some(format_args!("holding:{first}-{last}"))`.
    pub fn operation(&mut self, kind: OperationKind, code: u32, target: Option<std::fmt::Arguments<'_>>, result: OperationResult) {
        self.operation_as(self.protocol, kind, code, target, result);
    }

    /// Reports an operation of a protocol carried inside this one (a CIP
    /// service inside EtherNet/IP, for instance).
    pub fn operation_as(
        &mut self,
        protocol: Protocol,
        kind: OperationKind,
        code: u32,
        target: Option<std::fmt::Arguments<'_>>,
        result: OperationResult,
    ) {
        let op = Operation { ts: self.ts, client: self.client, server: self.server, protocol, kind, code, target: None, result, count: 1 };
        self.sink.operation(op, target);
    }

    /// Reports a protocol violation in the current bytes.
    pub fn violation(&mut self, kind: ViolationKind, detail: impl Into<String>) {
        let v =
            Violation { ts: self.ts, client: self.sender(), server: self.receiver(), protocol: self.protocol, kind, detail: detail.into() };
        self.sink.push(Event::Violation(v));
    }
}
