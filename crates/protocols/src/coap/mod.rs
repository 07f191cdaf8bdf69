//! CoAP on UDP 5683 (and wherever a strict probe recognises it).
//!
//! A request is an operation of the client once its response arrives:
//! GET and FETCH are `read`s, POST, PUT, DELETE, PATCH and iPATCH `write`s;
//! the code is the method's (1 to 7), the target the Uri-Path ("/" when it
//! has none). A response matches its request by token (and, piggybacked
//! in an ACK, by message id); success codes (2.xx) are a success, the
//! others an error written as class × 100 + detail (4.04 is 404). A
//! link-format answer (`/.well-known/core`) gives its resource types
//! (`rt=`) as `service` facts on the server. A flow whose first datagrams
//! are all undecodable is given up.

mod parser;

use crate::mqtt::pending::{Lossy, Waiting};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{Message, ACK, LINK_FORMAT, URI_PATH};
use std::fmt;

/// Undecodable datagrams, with none decoded, after which the flow is given up.
const GIVE_UP_AFTER: u8 = 4;

/// A request waiting for its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Request {
    /// Method code (1 GET ... 7 iPATCH).
    method: u8,
    message_id: u16,
    token: [u8; 8],
    token_len: usize,
}

impl Request {
    fn new(m: &Message<'_>) -> Request {
        let mut token = [0; 8];
        let token_len = m.token.len().min(token.len());
        if let (Some(to), Some(from)) = (token.get_mut(..token_len), m.token.get(..token_len)) {
            to.copy_from_slice(from);
        }
        Request { method: m.detail(), message_id: m.message_id, token, token_len }
    }

    fn token(&self) -> &[u8] {
        self.token.get(..self.token_len).unwrap_or_default()
    }

    /// True if `response` answers this request.
    fn answered_by(&self, response: &Message<'_>) -> bool {
        self.token() == response.token && (response.kind != ACK || self.message_id == response.message_id)
    }

    fn kind(&self) -> OperationKind {
        match self.method {
            1 | 5 => OperationKind::Read,
            _ => OperationKind::Write,
        }
    }
}

/// Per-flow state, allocated at the first datagram.
#[derive(Default)]
struct State {
    waiting: Waiting<Request>,
    /// A malformed message was reported on this flow.
    malformed: bool,
    /// Datagrams that could not be decoded.
    undecodable: u8,
    /// Some datagram was decoded.
    decoded: bool,
}

/// CoAP flow state.
#[derive(Default)]
pub struct Coap {
    state: Option<Box<State>>,
}

impl Dissector for Coap {
    const REGISTRATION: Registration = Registration { udp_ports: &[5683], probe: Some(probe), ..Registration::new(Protocol::Coap) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let state = self.state.get_or_insert_with(Box::default);
        let m = match parser::parse(data) {
            Ok(m) => m,
            Err(problem) => {
                if !state.malformed {
                    state.malformed = true;
                    ctx.violation(ViolationKind::Malformed, problem.to_string());
                }
                state.undecodable = state.undecodable.saturating_add(1);
                return;
            }
        };
        state.decoded = true;
        if m.is_request() && ctx.dir == Direction::ToServer {
            while state.waiting.is_full() {
                let Some((old, target)) = state.waiting.take_oldest() else { break };
                report(ctx, old, target, OperationResult::Unknown);
            }
            state.waiting.push(Request::new(&m), format_args!("{}", Path(&m)));
        } else if m.is_response() {
            if m.class() == 2 && m.content_format() == Some(LINK_FORMAT) {
                parser::resource_types(m.payload, |rt| ctx.sender_identity(IdentityField::Service, rt));
            }
            if ctx.dir == Direction::ToClient {
                if let Some((request, target)) = state.waiting.take(|r| r.answered_by(&m)) {
                    report(ctx, request, target, result(&m));
                }
            }
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
        self.state.as_ref().is_some_and(|s| !s.decoded && s.undecodable >= GIVE_UP_AFTER)
    }
}

/// The result a response code stands for.
fn result(response: &Message<'_>) -> OperationResult {
    match response.class() {
        2 => OperationResult::Success,
        class => OperationResult::Error(u32::from(class) * 100 + u32::from(response.detail())),
    }
}

/// Reports a request as an operation of the flow's client.
fn report(ctx: &mut Ctx<'_>, request: Request, target: &str, result: OperationResult) {
    ctx.operation(request.kind(), u32::from(request.method), Some(format_args!("{target}")), result);
}

/// A request's Uri-Path as "/a/b" ("/" when it has none).
struct Path<'m, 'a>(&'m Message<'a>);

impl fmt::Display for Path<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for (_, segment) in self.0.options().filter(|(n, _)| *n == URI_PATH) {
            any = true;
            write!(f, "/{}", Lossy(segment))?;
        }
        if !any {
            f.write_str("/")?;
        }
        Ok(())
    }
}

/// Recognises CoAP on any UDP port.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    !is_tcp && parser::looks_like_coap(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ep, ip_facts, operations, violations, Flow, APART};

    const UP: Direction = Direction::ToServer;
    const DOWN: Direction = Direction::ToClient;

    fn flow() -> Flow<Coap> {
        Flow::new(ep(1, 50250), ep(2, 5683)).every(APART)
    }

    fn op(kind: OperationKind, code: u32, target: &str, result: OperationResult) -> (OperationKind, u32, Option<String>, OperationResult) {
        (kind, code, Some(target.to_string()), result)
    }

    #[test]
    fn piggybacked_and_separate_responses() {
        let datagrams: [(Direction, &[u8]); 9] = [
            // POST /storage, ACK 2.01 Created (the ndpi capture's frames 10 and 11).
            (UP, b"\x40\x02\xce\xa0\xb7storage\xffmyresource"),
            (DOWN, b"\x60\x41\xce\xa0\x87storage\x0amyresource"),
            // PUT without a path, ACK 4.05.
            (UP, b"\x40\x03\xce\xa1\xffmydata"),
            (DOWN, b"\x60\x85\xce\xa1"),
            // GET /separate with a token: empty ACK first, then CON 2.05 with the token.
            (UP, b"\x42\x01\xe9\x1b\x07\x90\xb8separate"),
            (DOWN, b"\x60\x00\xe9\x1b"),
            (DOWN, b"\x42\x45\x57\x0f\x07\x90\xffdone"),
            (UP, b"\x60\x00\x57\x0f"),
            // DELETE never answered.
            (UP, b"\x40\x04\x95\x24\xb7storage"),
        ];
        let ev = flow().datagrams(&datagrams).end().events();
        assert_eq!(
            operations(&ev),
            [
                op(OperationKind::Write, 2, "/storage", OperationResult::Success),
                op(OperationKind::Write, 3, "/", OperationResult::Error(405)),
                op(OperationKind::Read, 1, "/separate", OperationResult::Success),
                op(OperationKind::Write, 4, "/storage", OperationResult::Unknown),
            ]
        );
        assert!(violations(&ev).is_empty());
    }

    #[test]
    fn an_ack_for_another_message_does_not_answer() {
        let datagrams: [(Direction, &[u8]); 3] = [(UP, b"\x40\x01\x00\x01\xb1a"), (DOWN, b"\x60\x45\x00\x02"), (DOWN, b"\x60\x44\x00\x01")];
        let ev = flow().datagrams(&datagrams).events();
        assert_eq!(operations(&ev), [op(OperationKind::Read, 1, "/a", OperationResult::Success)]);
    }

    #[test]
    fn well_known_core_names_resource_types() {
        let answer = b"\x60\x45\x00\x07\xc1\x28\xff</sensors/temp>;rt=\"temperature-c\";if=sensor,</rd>;rt=core.rd";
        let datagrams: [(Direction, &[u8]); 2] = [(UP, b"\x40\x01\x00\x07\xbb.well-known\x04core"), (DOWN, answer)];
        let ev = flow().datagrams(&datagrams).events();
        let server = ep(2, 0).ip;
        assert_eq!(
            ip_facts(&ev),
            [(server, IdentityField::Service, "temperature-c".to_string()), (server, IdentityField::Service, "core.rd".to_string())]
        );
        assert_eq!(operations(&ev), [op(OperationKind::Read, 1, "/.well-known/core", OperationResult::Success)]);
    }

    #[test]
    fn garbage_is_reported_once_then_given_up() {
        let junk: &[u8] = b"\x80\x01\x00\x00";
        let mut f = flow();
        let ev = f.datagrams(&[(UP, junk); 3]).events();
        assert_eq!(violations(&ev), [(ViolationKind::Malformed, "CoAP version 2 instead of 1".to_string())]);
        assert!(!f.dissector().finished());
        f.datagrams(&[(UP, junk)]);
        assert!(f.dissector().finished());
        let mut f = flow();
        let good: &[u8] = b"\x40\x01\x00\x01";
        f.datagrams(&[(UP, good), (UP, junk), (UP, junk), (UP, junk), (UP, junk)]);
        assert!(!f.dissector().finished());
    }

    #[test]
    fn probe_is_udp_only() {
        assert!(probe(b"\x40\x01\x00\x01\xb1a", false));
        assert!(!probe(b"\x40\x01\x00\x01\xb1a", true));
    }
}
