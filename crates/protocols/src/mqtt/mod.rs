//! MQTT 3.1, 3.1.1 and 5.0 on TCP 1883 (and wherever a flow opens with a
//! CONNECT).
//!
//! CONNECT names the client (`device_name`: its client id) and is a
//! `session` operation whose target gives the version, a clean session and
//! the will topic ("mqtt 3.1.1, clean session, will plant/status"); with a
//! user name it is also a `login` whose target is the user name, followed
//! by " (cleartext password)" when a password was sent. Both take their
//! result from the CONNACK's return code. A client's PUBLISH is a `write`
//! of its topic (QoS 1 and 2: result from PUBACK or PUBREC; QoS 0 has
//! none), each topic filter of a SUBSCRIBE a `read` with the SUBACK's
//! per-filter code. The broker (which answers CONNACK or SUBACK) gets the
//! `service` fact "mqtt broker".
//!
//! Packets are cut from the reassembled stream by their remaining length;
//! a PUBLISH is read as soon as its topic is in, and its payload skipped
//! as it streams by, so large messages are never held. A direction that
//! does not parse from its first bytes (a capture starting mid-packet) is
//! given up quietly, one that breaks later with a violation.

pub(crate) mod parser;
pub(crate) mod pending;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{Fixed, Problem, CONNACK, CONNECT, PUBACK, PUBLISH, PUBREC, SUBACK, SUBSCRIBE};
use pending::{Lossy, Waiting};

/// Most bytes of an unfinished packet held while waiting for the rest
/// (a larger packet other than PUBLISH is skipped unread).
const MAX_HELD: usize = 16 * 1024;
/// Violations reported per flow at most.
const MAX_VIOLATIONS: u8 = 8;

/// A request waiting for the broker's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    /// CONNECT, as a session.
    Session,
    /// CONNECT with a user name.
    Login,
    /// PUBLISH with QoS 1 or 2, by packet id.
    Publish(u16),
    /// One filter of a SUBSCRIBE: packet id and the filter's index.
    Subscribe(u16, usize),
}

impl Request {
    fn kind(self) -> OperationKind {
        match self {
            Request::Session => OperationKind::Session,
            Request::Login => OperationKind::Login,
            Request::Publish(_) => OperationKind::Write,
            Request::Subscribe(..) => OperationKind::Read,
        }
    }

    fn code(self) -> u32 {
        u32::from(match self {
            Request::Session | Request::Login => CONNECT,
            Request::Publish(_) => PUBLISH,
            Request::Subscribe(..) => SUBSCRIBE,
        })
    }
}

/// The parsing state of one direction.
#[derive(Default)]
struct Side {
    /// Payload bytes of the current PUBLISH still to pass over.
    skip: usize,
    /// A packet was parsed since the start or the last gap.
    synced: bool,
    /// The direction cannot be parsed any more.
    lost: bool,
}

/// Per-flow state, allocated at the flow's first bytes.
#[derive(Default)]
struct State {
    /// Protocol level from the CONNECT (0 until seen).
    level: u8,
    sides: [Side; 2],
    waiting: Waiting<Request>,
    broker_reported: bool,
    violations: u8,
}

/// MQTT flow state.
#[derive(Default)]
pub struct Mqtt {
    state: Option<Box<State>>,
}

/// What became of a packet handed over whole or in part.
enum Outcome {
    /// Read (or skipped, if unreadable).
    Done,
    /// More bytes of the packet are needed.
    NeedMore,
}

impl Dissector for Mqtt {
    const REGISTRATION: Registration = Registration { tcp_ports: &[1883], probe: Some(probe), ..Registration::new(Protocol::Mqtt) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let state = self.state.get_or_insert_with(Box::default);
        let d = ctx.dir.index();
        let mut used = 0;
        loop {
            let Some(side) = state.sides.get_mut(d) else { return data.len() };
            let rest = data.get(used..).unwrap_or_default();
            if side.lost {
                return data.len();
            }
            if rest.is_empty() {
                return used;
            }
            if side.skip > 0 {
                let n = side.skip.min(rest.len());
                side.skip -= n;
                used += n;
                continue;
            }
            let fixed = match parser::fixed_header(rest, state.level) {
                Ok(Some(fixed)) => fixed,
                Ok(None) => return used,
                Err(problem) => {
                    state.broken(ctx, d, problem);
                    return data.len();
                }
            };
            let body = rest.get(fixed.header_len..).unwrap_or_default();
            let complete = body.len() >= fixed.body_len;
            let available = body.get(..fixed.body_len).unwrap_or(body);
            match state.packet(ctx, d, fixed, available, complete) {
                Outcome::Done if complete => used += fixed.total(),
                Outcome::NeedMore if body.len() < MAX_HELD => return used,
                Outcome::Done | Outcome::NeedMore => {
                    // Pass over the rest of the packet as it streams by.
                    if let Some(side) = state.sides.get_mut(d) {
                        side.skip = fixed.total().saturating_sub(rest.len());
                    }
                    return data.len();
                }
            }
        }
    }

    fn gap(&mut self, dir: Direction) {
        if let Some(side) = self.state.as_mut().and_then(|s| s.sides.get_mut(dir.index())) {
            *side = Side::default();
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(state) = self.state.as_mut() {
            while let Some((request, target)) = state.waiting.take_oldest() {
                report(ctx, request, target, OperationResult::Unknown);
            }
        }
    }

    fn finished(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.sides.iter().all(|side| side.lost))
    }
}

impl State {
    /// Handles one packet: `body` is all of it when `complete`, else its
    /// first bytes.
    fn packet(&mut self, ctx: &mut Ctx<'_>, d: usize, fixed: Fixed, body: &[u8], complete: bool) -> Outcome {
        let to_server = ctx.dir == Direction::ToServer;
        let read = match fixed.kind {
            PUBLISH => parser::publish(fixed.flags, body, self.level).map(|p| {
                if to_server {
                    self.publish(ctx, &p);
                }
            }),
            _ if !complete => return Outcome::NeedMore,
            CONNECT => parser::connect(body).map(|c| self.connect(ctx, &c)),
            CONNACK if !to_server => parser::connack(body).map(|code| self.connack(ctx, code)),
            PUBACK | PUBREC if !to_server => parser::publish_ack(body).map(|(id, reason)| {
                self.answer(ctx, |r| *r == Request::Publish(id), reason_result(reason));
            }),
            SUBSCRIBE if to_server => parser::subscribe(body, self.level).map(|s| {
                for (i, filter) in s.filters().enumerate() {
                    self.ask(ctx, Request::Subscribe(s.packet_id, i), format_args!("{}", Lossy(filter)));
                }
            }),
            SUBACK if !to_server => parser::suback(body, self.level).map(|(id, codes)| {
                self.broker(ctx);
                for (i, &code) in codes.iter().enumerate() {
                    self.answer(ctx, |r| *r == Request::Subscribe(id, i), reason_result(code));
                }
            }),
            _ => Ok(()),
        };
        match read {
            Ok(()) => {
                if let Some(side) = self.sides.get_mut(d) {
                    side.synced = true;
                }
                Outcome::Done
            }
            Err(Problem::Truncated(_)) if !complete => Outcome::NeedMore,
            Err(problem) => {
                self.broken(ctx, d, problem);
                Outcome::Done
            }
        }
    }

    /// A CONNECT: the client's id and the session (and login) it asks for.
    fn connect(&mut self, ctx: &mut Ctx<'_>, c: &parser::Connect<'_>) {
        self.level = c.level;
        if let Ok(id) = std::str::from_utf8(c.client_id) {
            ctx.sender_identity(IdentityField::DeviceName, id);
        }
        if ctx.dir != Direction::ToServer {
            return;
        }
        let version = parser::version_name(c.level);
        let clean = if c.clean() { ", clean session" } else { "" };
        match c.will_topic {
            Some(will) => self.ask(ctx, Request::Session, format_args!("mqtt {version}{clean}, will {}", Lossy(will))),
            None => self.ask(ctx, Request::Session, format_args!("mqtt {version}{clean}")),
        }
        if let Some(user) = c.user {
            let password = if c.password() { " (cleartext password)" } else { "" };
            self.ask(ctx, Request::Login, format_args!("{}{password}", Lossy(user)));
        }
    }

    /// A CONNACK: the broker's answer to the session and login.
    fn connack(&mut self, ctx: &mut Ctx<'_>, code: u8) {
        self.broker(ctx);
        let result = if code == 0 { OperationResult::Success } else { OperationResult::Error(u32::from(code)) };
        self.answer(ctx, |r| *r == Request::Session, result);
        self.answer(ctx, |r| *r == Request::Login, result);
    }

    /// A client's PUBLISH: a write of its topic.
    fn publish(&mut self, ctx: &mut Ctx<'_>, p: &parser::Publish<'_>) {
        match (p.packet_id, p.alias.filter(|_| p.topic.is_empty())) {
            (Some(id), None) => self.ask(ctx, Request::Publish(id), format_args!("{}", Lossy(p.topic))),
            (Some(id), Some(alias)) => self.ask(ctx, Request::Publish(id), format_args!("topic alias {alias}")),
            (None, None) => report(ctx, Request::Publish(0), format_args!("{}", Lossy(p.topic)), OperationResult::Unknown),
            (None, Some(alias)) => report(ctx, Request::Publish(0), format_args!("topic alias {alias}"), OperationResult::Unknown),
        }
    }

    /// Keeps a request until its answer; the oldest is reported unanswered
    /// when there is no room.
    fn ask(&mut self, ctx: &mut Ctx<'_>, request: Request, target: std::fmt::Arguments<'_>) {
        while self.waiting.is_full() {
            let Some((old, old_target)) = self.waiting.take_oldest() else { break };
            report(ctx, old, old_target, OperationResult::Unknown);
        }
        self.waiting.push(request, target);
    }

    /// Reports the oldest waiting request that `matches` with `result`.
    fn answer(&mut self, ctx: &mut Ctx<'_>, matches: impl FnMut(&Request) -> bool, result: OperationResult) {
        if let Some((request, target)) = self.waiting.take(matches) {
            report(ctx, request, target, result);
        }
    }

    /// The sender answered as a broker.
    fn broker(&mut self, ctx: &mut Ctx<'_>) {
        if !self.broker_reported {
            self.broker_reported = true;
            ctx.sender_identity(IdentityField::Service, "mqtt broker");
        }
    }

    /// A direction that cannot be parsed: given up, with a violation if it
    /// had parsed before.
    fn broken(&mut self, ctx: &mut Ctx<'_>, d: usize, problem: Problem) {
        let Some(side) = self.sides.get_mut(d) else { return };
        side.lost = true;
        if side.synced && self.violations < MAX_VIOLATIONS {
            self.violations += 1;
            ctx.violation(ViolationKind::Malformed, problem.to_string());
        }
    }
}

/// The result an MQTT reason or return code stands for (below 0x80: success).
fn reason_result(code: u8) -> OperationResult {
    if code < 0x80 {
        OperationResult::Success
    } else {
        OperationResult::Error(u32::from(code))
    }
}

/// Reports a request as an operation of the flow's client.
fn report(ctx: &mut Ctx<'_>, request: Request, target: impl std::fmt::Display, result: OperationResult) {
    ctx.operation(request.kind(), request.code(), Some(format_args!("{target}")), result);
}

/// Recognises a flow that opens with an MQTT CONNECT.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    is_tcp && parser::looks_like_connect(payload)
}

#[cfg(test)]
mod tests {
    use super::parser::tests::{connect_body, field, packet};
    use super::parser::{LEVEL_3_1_1, LEVEL_5};
    use super::*;
    use crate::testing::{ep, ip_facts, operations, violations, Flow, APART};

    const UP: Direction = Direction::ToServer;
    const DOWN: Direction = Direction::ToClient;

    fn flow() -> Flow<Mqtt> {
        Flow::new(ep(1, 50000), ep(2, 1883)).every(APART)
    }

    fn op(kind: OperationKind, code: u8, target: &str, result: OperationResult) -> (OperationKind, u32, Option<String>, OperationResult) {
        (kind, u32::from(code), Some(target.to_string()), result)
    }

    fn publish(qos: u8, topic: &[u8], id: u16, payload: &[u8]) -> Vec<u8> {
        let mut body = field(topic);
        if qos > 0 {
            body.extend_from_slice(&id.to_be_bytes());
        }
        body.extend_from_slice(payload);
        packet(0x30 | (qos << 1), &body)
    }

    #[test]
    fn session_publish_and_subscribe() {
        let connect = packet(0x10, &connect_body(LEVEL_3_1_1, 0xc6, b"paho/34AA", Some(b"plant/status"), Some(b"operator")));
        let subscribe = packet(0x82, &[&[0u8, 2][..], &field(b"cmd/#"), &[1], &field(b"$SYS/x"), &[0]].concat());
        let mut f = flow();
        f.whole_streams(&[
            (UP, connect),
            (DOWN, packet(0x20, &[0, 0])),
            (UP, publish(0, b"plant/temp", 0, b"21.5")),
            (UP, publish(1, b"plant/valve", 7, b"open")),
            (DOWN, packet(0x40, &[0, 7])),
            (UP, subscribe),
            (DOWN, packet(0x90, &[0, 2, 1, 0x80])),
            (UP, publish(2, b"plant/unanswered", 8, b"")),
            (DOWN, publish(0, b"cmd/go", 0, b"now")),
            (UP, vec![0xc0, 0x00]),
            (DOWN, vec![0xd0, 0x00]),
        ])
        .end();
        let ev = f.events();
        assert_eq!(
            ip_facts(&ev),
            [
                (ep(1, 0).ip, IdentityField::DeviceName, "paho/34AA".to_string()),
                (ep(2, 0).ip, IdentityField::Service, "mqtt broker".to_string()),
            ]
        );
        use OperationKind::{Login, Read, Session, Write};
        use OperationResult::{Error, Success, Unknown};
        assert_eq!(
            operations(&ev),
            [
                op(Session, CONNECT, "mqtt 3.1.1, clean session, will plant/status", Success),
                op(Login, CONNECT, "operator (cleartext password)", Success),
                op(Write, PUBLISH, "plant/temp", Unknown),
                op(Write, PUBLISH, "plant/valve", Success),
                op(Read, SUBSCRIBE, "cmd/#", Success),
                op(Read, SUBSCRIBE, "$SYS/x", Error(0x80)),
                op(Write, PUBLISH, "plant/unanswered", Unknown),
            ]
        );
        assert!(!f.dissector().finished());
    }

    #[test]
    fn refused_connection() {
        let connect = packet(0x10, &connect_body(LEVEL_3_1_1, 0x80, b"", None, Some(b"guest")));
        let ev = flow().whole_streams(&[(UP, connect), (DOWN, packet(0x20, &[0, 5]))]).events();
        assert_eq!(
            operations(&ev),
            [
                op(OperationKind::Session, CONNECT, "mqtt 3.1.1", OperationResult::Error(5)),
                op(OperationKind::Login, CONNECT, "guest", OperationResult::Error(5)),
            ]
        );
        assert_eq!(ip_facts(&ev), [(ep(2, 0).ip, IdentityField::Service, "mqtt broker".to_string())]);
    }

    #[test]
    fn packets_split_anywhere_and_big_payloads_are_not_held() {
        let connect = packet(0x10, &connect_body(LEVEL_5, 0x02, b"sensor-7", None, None));
        // MQTT 5: an empty property block before each payload.
        let big = publish(1, b"images/cam1", 3, &[&[0u8][..], &[0xaa; 100_000]].concat());
        let stream = [connect.clone(), big, publish(0, b"after", 0, b"\0x")].concat();
        // One byte at a time through the CONNECT and the start of the
        // PUBLISH, then segments of 1460 bytes.
        let (head, tail) = stream.split_at(connect.len() + 12);
        let mut f = flow();
        let (mut held, mut most_held) = (Vec::new(), 0);
        for chunk in head.chunks(1).chain(tail.chunks(1460)) {
            held.extend_from_slice(chunk);
            let used = f.stream(UP, &held);
            held.drain(..used);
            most_held = most_held.max(held.len());
        }
        assert!(held.is_empty());
        f.whole_streams(&[(DOWN, packet(0x20, &[0, 0, 0])), (DOWN, packet(0x40, &[0, 3, 0x10, 0]))]);
        assert!(most_held < 64, "{most_held} bytes held");
        assert_eq!(
            operations(&f.events()),
            [
                op(OperationKind::Write, PUBLISH, "after", OperationResult::Unknown),
                op(OperationKind::Session, CONNECT, "mqtt 5.0, clean session", OperationResult::Success),
                op(OperationKind::Write, PUBLISH, "images/cam1", OperationResult::Success),
            ]
        );
    }

    #[test]
    fn topic_alias_in_mqtt_5() {
        let connect = packet(0x10, &connect_body(LEVEL_5, 0x02, b"c", None, None));
        let aliased = packet(0x30, &[&field(b"")[..], &[3, 0x23, 0, 4], b"v"].concat());
        let ev = flow().whole_streams(&[(UP, connect), (UP, aliased)]).events();
        assert_eq!(operations(&ev), [op(OperationKind::Write, PUBLISH, "topic alias 4", OperationResult::Unknown)]);
    }

    #[test]
    fn garbage_gives_up_quietly_and_breakage_is_reported() {
        let mut f = flow();
        f.whole_streams(&[(UP, vec![0x00; 10]), (DOWN, vec![0x0f, 1, 2])]);
        assert!(f.events().is_empty());
        assert!(f.dissector().finished());
        let mut f = flow();
        f.whole_streams(&[(UP, vec![0xc0, 0x00, 0x36, 0x00])]);
        assert_eq!(violations(&f.events()), [(ViolationKind::Malformed, "MQTT PUBLISH with QoS 3".to_string())]);
        assert!(!f.dissector().finished());
    }

    #[test]
    fn a_gap_resynchronises() {
        let mut f = flow();
        let big = publish(0, b"a", 0, &[0; 500]);
        assert_eq!(f.stream(UP, &big[..100]), 100);
        f.gap(UP);
        f.whole_streams(&[(UP, publish(0, b"b", 0, b""))]);
        let targets: Vec<_> = operations(&f.events()).into_iter().filter_map(|(_, _, target, _)| target).collect();
        assert_eq!(targets, ["a", "b"]);
    }

    #[test]
    fn probe_needs_a_connect_over_tcp() {
        let connect = packet(0x10, &connect_body(LEVEL_3_1_1, 0x02, b"x", None, None));
        assert!(probe(&connect, true));
        assert!(!probe(&connect, false));
        assert!(!probe(&[0xc0, 0x00], true));
        assert!(!probe(&publish(0, b"t", 0, b""), true));
    }
}
