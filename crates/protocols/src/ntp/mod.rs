//! NTP on UDP 123 (and wherever a strict probe recognises it).
//!
//! A client's poll (mode 3) is a `read` of `time` (code 3), reported when
//! the server answers (a kiss-o'-death answer is an error whose code is
//! the kiss code's four ASCII bytes). Servers, peers and broadcasters that
//! are synchronised get a `service` fact "ntp server stratum N", with the
//! reference clock's name at stratum 1 ("ntp server stratum 1 (GPS)").
//! Mode 6 (ntpq) and mode 7 (ntpdc) requests, the ones abused for
//! amplification (monlist), are `diagnostics` operations, or
//! `configuration-change` for the mode 6 writes; their code is
//! `mode << 8 | opcode` and their target "control:<name>" or
//! "private:<name>". A flow whose first datagrams are all undecodable is
//! given up.

mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{Packet, MODE_BROADCAST, MODE_CLIENT, MODE_CONTROL, MODE_PRIVATE, MODE_SERVER, MODE_SYMMETRIC_ACTIVE, MODE_SYMMETRIC_PASSIVE};
use std::fmt;

/// Undecodable datagrams, with none decoded, after which the flow is given up.
const GIVE_UP_AFTER: u8 = 4;
/// Highest stratum of a synchronised server.
const MAX_SYNCED_STRATUM: u8 = 15;

/// What a request asked, kept until its answer arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    /// A mode 3 poll.
    Time,
    /// A mode 6 operation code.
    Control(u8),
    /// A mode 7 request code.
    Private(u8),
}

impl Request {
    fn kind(self) -> OperationKind {
        match self {
            Request::Time => OperationKind::Read,
            Request::Control(op) if parser::control_changes_configuration(op) => OperationKind::ConfigurationChange,
            Request::Control(_) | Request::Private(_) => OperationKind::Diagnostics,
        }
    }

    fn code(self) -> u32 {
        match self {
            Request::Time => u32::from(MODE_CLIENT),
            Request::Control(op) => u32::from(MODE_CONTROL) << 8 | u32::from(op),
            Request::Private(req) => u32::from(MODE_PRIVATE) << 8 | u32::from(req),
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Request::Time => f.write_str("time"),
            Request::Control(op) => match parser::control_name(op) {
                Some(name) => write!(f, "control:{name}"),
                None => write!(f, "control:{op}"),
            },
            Request::Private(req) => match parser::private_name(req) {
                Some(name) => write!(f, "private:{name}"),
                None => write!(f, "private:{req}"),
            },
        }
    }
}

/// NTP flow state.
#[derive(Default)]
pub struct Ntp {
    /// The client's request awaiting its answer.
    pending: Option<Request>,
    /// Per direction: the stratum last reported for the sender (0 for none).
    reported_stratum: [u8; 2],
    /// Datagrams that could not be decoded.
    undecodable: u8,
    /// Some datagram was decoded.
    decoded: bool,
}

impl Dissector for Ntp {
    const REGISTRATION: Registration = Registration { udp_ports: &[123], probe: Some(probe), ..Registration::new(Protocol::Ntp) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let packet = match parser::parse(data) {
            Ok(packet) => packet,
            Err(problem) => {
                if self.undecodable == 0 {
                    ctx.violation(ViolationKind::Malformed, problem.to_string());
                }
                self.undecodable = self.undecodable.saturating_add(1);
                return;
            }
        };
        self.decoded = true;
        match (packet, ctx.dir) {
            (Packet::Time(t), Direction::ToServer) if t.mode == MODE_CLIENT => self.request(ctx, Request::Time),
            (Packet::Time(t), _) => {
                if matches!(t.mode, MODE_SERVER | MODE_BROADCAST | MODE_SYMMETRIC_ACTIVE | MODE_SYMMETRIC_PASSIVE) {
                    self.server(ctx, t.stratum, &t.reference);
                }
                if t.mode == MODE_SERVER && ctx.dir == Direction::ToClient {
                    let result =
                        if t.stratum == 0 { OperationResult::Error(u32::from_be_bytes(t.reference)) } else { OperationResult::Success };
                    self.answer(ctx, Request::Time, result);
                }
            }
            (Packet::Control(c), Direction::ToServer) if !c.response => self.request(ctx, Request::Control(c.opcode)),
            (Packet::Control(c), Direction::ToClient) if c.response => {
                let result = if c.error { OperationResult::Error(u32::from(c.status >> 8)) } else { OperationResult::Success };
                self.answer(ctx, Request::Control(c.opcode), result);
            }
            (Packet::Private(p), Direction::ToServer) if !p.response => self.request(ctx, Request::Private(p.request)),
            (Packet::Private(p), Direction::ToClient) if p.response => {
                let result = if p.error != 0 { OperationResult::Error(u32::from(p.error)) } else { OperationResult::Success };
                self.answer(ctx, Request::Private(p.request), result);
            }
            _ => {}
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(request) = self.pending.take() {
            report(ctx, request, OperationResult::Unknown);
        }
    }

    fn finished(&self) -> bool {
        !self.decoded && self.undecodable >= GIVE_UP_AFTER
    }
}

impl Ntp {
    /// A client's request: the one still waiting is reported unanswered.
    fn request(&mut self, ctx: &mut Ctx<'_>, request: Request) {
        if let Some(earlier) = self.pending.replace(request) {
            report(ctx, earlier, OperationResult::Unknown);
        }
    }

    /// A server's answer to `request`, if that is what waits.
    fn answer(&mut self, ctx: &mut Ctx<'_>, request: Request, result: OperationResult) {
        if self.pending == Some(request) {
            self.pending = None;
            report(ctx, request, result);
        }
    }

    /// A synchronised server, peer or broadcaster: its stratum (and clock).
    fn server(&mut self, ctx: &mut Ctx<'_>, stratum: u8, reference: &[u8; 4]) {
        let Some(reported) = self.reported_stratum.get_mut(ctx.dir.index()) else { return };
        if !(1..=MAX_SYNCED_STRATUM).contains(&stratum) || *reported == stratum {
            return;
        }
        *reported = stratum;
        let service = match parser::clock_name(reference).filter(|_| stratum == 1) {
            Some(clock) => format!("ntp server stratum 1 ({clock})"),
            None => format!("ntp server stratum {stratum}"),
        };
        ctx.sender_identity(IdentityField::Service, &service);
    }
}

/// Reports a request as an operation of the flow's client.
fn report(ctx: &mut Ctx<'_>, request: Request, result: OperationResult) {
    ctx.operation(request.kind(), request.code(), Some(format_args!("{request}")), result);
}

/// Recognises NTP on any UDP port.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    !is_tcp && parser::looks_like_ntp(payload)
}

#[cfg(test)]
mod tests {
    use super::parser::tests::time_packet;
    use super::*;
    use crate::testing::{ep, ip_facts, operations, violations, Flow, APART};

    const UP: Direction = Direction::ToServer;
    const DOWN: Direction = Direction::ToClient;

    fn flow() -> Flow<Ntp> {
        Flow::new(ep(1, 123), ep(2, 123)).every(APART)
    }

    fn op(kind: OperationKind, code: u32, target: &str, result: OperationResult) -> (OperationKind, u32, Option<String>, OperationResult) {
        (kind, code, Some(target.to_string()), result)
    }

    #[test]
    fn poll_and_answer() {
        let poll = time_packet(4, MODE_CLIENT, 0, &[0; 4]);
        let answer = time_packet(4, MODE_SERVER, 1, b"GPS\0");
        let later = time_packet(4, MODE_SERVER, 2, &[10, 0, 0, 9]);
        let mut f = flow();
        f.datagrams(&[(UP, &poll), (DOWN, &answer), (UP, &poll), (DOWN, &answer), (UP, &poll), (DOWN, &later), (UP, &poll)]).end();
        let ev = f.events();
        let server = ep(2, 0).ip;
        assert_eq!(
            ip_facts(&ev),
            [
                (server, IdentityField::Service, "ntp server stratum 1 (GPS)".to_string()),
                (server, IdentityField::Service, "ntp server stratum 2".to_string()),
            ]
        );
        let success = op(OperationKind::Read, 3, "time", OperationResult::Success);
        let unanswered = op(OperationKind::Read, 3, "time", OperationResult::Unknown);
        assert_eq!(operations(&ev), [success.clone(), success.clone(), success, unanswered]);
        assert!(!f.dissector().finished());
    }

    #[test]
    fn kiss_of_death_is_an_error() {
        let poll = time_packet(4, MODE_CLIENT, 0, &[0; 4]);
        let kiss = time_packet(4, MODE_SERVER, 0, b"RATE");
        let ev = flow().datagrams(&[(UP, &poll), (DOWN, &kiss)]).events();
        assert_eq!(operations(&ev), [op(OperationKind::Read, 3, "time", OperationResult::Error(u32::from_be_bytes(*b"RATE")))]);
        assert!(ip_facts(&ev).is_empty());
    }

    #[test]
    fn broadcasts_and_peers_are_servers_not_operations() {
        let broadcast = time_packet(4, MODE_BROADCAST, 3, &[10, 0, 0, 9]);
        let peer = time_packet(4, MODE_SYMMETRIC_ACTIVE, 16, &[0; 4]);
        let ev = flow().datagrams(&[(UP, &broadcast), (DOWN, &peer)]).end().events();
        assert_eq!(ip_facts(&ev), [(ep(1, 0).ip, IdentityField::Service, "ntp server stratum 3".to_string())]);
        assert!(operations(&ev).is_empty());
    }

    #[test]
    fn control_and_private_queries() {
        let readvar = [0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let readvar_error = [0x16, 0xc2, 0, 1, 0x04, 0, 0, 0, 0, 0, 0, 0];
        let configure = [0x16, 0x08, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut monlist = vec![0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
        monlist.extend_from_slice(&[0; 40]);
        let monlist_answer = [0x97, 0x00, 0x03, 0x2a, 0x00, 0x06, 0x00, 0x48];
        let ev = flow()
            .datagrams(&[
                (UP, &readvar[..]),
                (DOWN, &readvar_error[..]),
                (UP, &monlist[..]),
                (DOWN, &monlist_answer[..]),
                (UP, &configure[..]),
            ])
            .end()
            .events();
        assert_eq!(
            operations(&ev),
            [
                op(OperationKind::Diagnostics, 0x602, "control:readvar", OperationResult::Error(4)),
                op(OperationKind::Diagnostics, 0x72a, "private:monlist", OperationResult::Success),
                op(OperationKind::ConfigurationChange, 0x608, "control:configure", OperationResult::Unknown),
            ]
        );
    }

    #[test]
    fn garbage_is_reported_once_then_given_up() {
        let junk: &[u8] = &[0x03; 60];
        let mut f = flow();
        let ev = f.datagrams(&[(UP, junk); 3]).events();
        assert_eq!(violations(&ev), [(ViolationKind::Malformed, "NTP version 0 is not 1 to 4".to_string())]);
        assert!(!f.dissector().finished());
        f.datagrams(&[(UP, junk)]);
        assert!(f.dissector().finished());
    }

    #[test]
    fn probe_is_udp_only() {
        let poll = time_packet(4, MODE_CLIENT, 0, &[0; 4]);
        assert!(probe(&poll, false));
        assert!(!probe(&poll, true));
    }
}
