//! RDP on TCP 3389 (and wherever a flow opens with an RDP Connection
//! Request), a remote-access marker.
//!
//! - The client's X.224 Connection Request: the user name of its
//!   `mstshash` cookie is a `login` operation (result unknown: the real
//!   authentication happens later, encrypted; the code is the requested
//!   protocol flags).
//! - The server's Connection Confirm: a `session` operation with target
//!   `rdp` (code: the selected protocol; an error with the failure code of
//!   a refused negotiation), and the fact `service: rdp security <tls|nla|
//!   standard|...>` on the server.
//! - With standard RDP security the client's MCS Connect Initial is still
//!   in clear: its client name is the client's `hostname`.
//!
//! After the negotiation the flow is TLS (or RDP-encrypted): nothing more
//! is read.

mod parser;

use crate::text::Text;
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use parser::Pdu;

/// TPKTs read per direction before the negotiation is taken as over.
const MAX_PDUS: u8 = 4;

/// RDP flow state.
#[derive(Default)]
pub struct Rdp {
    /// Per direction: TPKTs read, and whether nothing more is wanted.
    sides: [(u8, bool); 2],
    /// A Connection Request was seen.
    requested: bool,
    /// The session operation was reported.
    confirmed: bool,
}

impl Dissector for Rdp {
    const REGISTRATION: Registration = Registration { tcp_ports: &[3389], probe: Some(parser::probe), ..Registration::new(Protocol::Rdp) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut used = 0;
        while let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) {
            if self.sides.get(d).is_none_or(|&(_, done)| done) {
                break;
            }
            match parser::next(rest) {
                Ok((pdu, n)) => {
                    used += n;
                    self.count(d);
                    if let Some(pdu) = pdu {
                        self.pdu(ctx, pdu);
                    }
                }
                Err(true) => return used,
                Err(false) => self.done(d),
            }
        }
        data.len()
    }

    fn gap(&mut self, dir: Direction) {
        self.done(dir.index());
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if self.requested && !self.confirmed {
            self.confirmed = true;
            ctx.operation(OperationKind::Session, 0, Some(format_args!("rdp")), OperationResult::Unknown);
        }
    }

    fn finished(&self) -> bool {
        self.sides.iter().all(|&(_, done)| done)
    }
}

impl Rdp {
    fn done(&mut self, d: usize) {
        if let Some(side) = self.sides.get_mut(d) {
            side.1 = true;
        }
    }

    /// Counts a TPKT; after a few the negotiation is over.
    fn count(&mut self, d: usize) {
        if let Some(side) = self.sides.get_mut(d) {
            side.0 = side.0.saturating_add(1);
            side.1 |= side.0 >= MAX_PDUS;
        }
    }

    fn pdu(&mut self, ctx: &mut Ctx<'_>, pdu: Pdu<'_>) {
        match (ctx.dir, pdu) {
            (Direction::ToServer, Pdu::Request { user, protocols }) => {
                self.requested = true;
                if let Some(user) = user {
                    let user = Text::<64>::bytes(user);
                    ctx.operation(OperationKind::Login, protocols, Some(format_args!("{}", user.trimmed())), OperationResult::Unknown);
                }
            }
            (Direction::ToClient, Pdu::Confirm(selected)) if !self.confirmed => {
                self.confirmed = true;
                let (code, result) = match selected {
                    Ok(protocol) => (protocol, OperationResult::Success),
                    Err(failure) => (0, OperationResult::Error(failure)),
                };
                ctx.operation(OperationKind::Session, code, Some(format_args!("rdp")), result);
                if let Ok(protocol) = selected {
                    let service = Text::<32>::format(format_args!("rdp security {}", parser::protocol_name(protocol)));
                    ctx.sender_identity(IdentityField::Service, service.as_str());
                }
                // The server has nothing more to say; a client using
                // anything but standard RDP security continues in TLS.
                self.done(Direction::ToClient.index());
                if selected != Ok(0) {
                    self.done(Direction::ToServer.index());
                }
            }
            (Direction::ToServer, Pdu::Data(Some(name))) => {
                ctx.sender_identity(IdentityField::Hostname, Text::<32>::utf16le(name).trimmed());
                self.done(Direction::ToServer.index());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parser::tests::{confirm_bytes, connect_initial, request_bytes};
    use super::*;
    use crate::testing::{ep, facts, operations, Flow};
    use palisade_model::Event;
    use OperationKind::{Login, Session};

    const SERVER: u8 = 6;
    const CLIENT: u8 = 5;

    /// Runs whole segments through a fresh dissector, then ends the flow.
    fn run(segments: &[(Direction, Vec<u8>)]) -> (Vec<Event>, bool) {
        let mut f = Flow::<Rdp>::new(ep(CLIENT, 50000), ep(SERVER, 3389));
        let ev = f.whole_streams(segments).end().events();
        (ev, f.dissector().finished())
    }

    fn rdp() -> Option<String> {
        Some("rdp".into())
    }

    #[test]
    fn nla_negotiation_then_tls() {
        let (ev, finished) = run(&[
            (Direction::ToServer, request_bytes(Some("mstshash=eng01"), Some(3))),
            (Direction::ToClient, confirm_bytes(2, 2)),
            (Direction::ToServer, b"\x16\x03\x01\x00\xa0\x01\x00\x00\x9c\x03\x03".to_vec()),
        ]);
        assert_eq!(
            operations(&ev),
            vec![(Login, 3, Some("eng01".into()), OperationResult::Unknown), (Session, 2, rdp(), OperationResult::Success)]
        );
        assert_eq!(facts(&ev), vec![(IdentityField::Service, "rdp security nla".into(), SERVER)]);
        assert!(finished);
    }

    #[test]
    fn standard_security_names_the_client() {
        let (ev, finished) = run(&[
            (Direction::ToServer, request_bytes(None, None)),
            (Direction::ToClient, confirm_bytes(2, 0)),
            (Direction::ToServer, connect_initial("HMI-02")),
        ]);
        assert_eq!(operations(&ev), vec![(Session, 0, rdp(), OperationResult::Success)]);
        assert_eq!(
            facts(&ev),
            vec![(IdentityField::Service, "rdp security standard".into(), SERVER), (IdentityField::Hostname, "HMI-02".into(), CLIENT)]
        );
        assert!(finished);
    }

    #[test]
    fn refused_and_unanswered() {
        let (ev, _) = run(&[(Direction::ToServer, request_bytes(Some("mstshash=x"), Some(0))), (Direction::ToClient, confirm_bytes(3, 2))]);
        assert_eq!(
            operations(&ev),
            vec![(Login, 0, Some("x".into()), OperationResult::Unknown), (Session, 0, rdp(), OperationResult::Error(2))]
        );
        assert!(facts(&ev).is_empty());
        let (ev, _) = run(&[(Direction::ToServer, request_bytes(None, Some(1)))]);
        assert_eq!(operations(&ev), vec![(Session, 0, rdp(), OperationResult::Unknown)]);
        let (ev, finished) = run(&[(Direction::ToServer, vec![0x42; 40]), (Direction::ToClient, vec![0x42; 40])]);
        assert!(ev.is_empty());
        assert!(finished);
    }
}
