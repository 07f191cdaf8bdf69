//! Siemens S7comm-plus (protocol id 0x72) on ISO transport, TCP 102: the
//! protocol of S7-1200/1500 PLCs with TIA Portal and HMIs.
//!
//! Transport and the choice between S7comm and S7comm-plus per flow are
//! shared with the classic dissector (see [`crate::s7comm`]); this folder
//! decodes the S7comm-plus PDUs: version, opcode (request, response,
//! notification), function code and sequence number, mapped to operations
//! (read, write, session, program download), plus the order number and
//! firmware version a PLC announces in cleartext when a session is created.

mod parser;

pub(crate) use parser::{looks_like_plus, PROTOCOL_ID};

use crate::s7comm::{family, Family, Iso, PENDING};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{Message, Pdu, PduError};

/// S7comm-plus dissector (also decodes classic S7comm PDUs on its flows).
#[derive(Default)]
pub struct S7commPlus(Iso);

impl Dissector for S7commPlus {
    const REGISTRATION: Registration = Registration { tcp_ports: &[102], probe: Some(probe), ..Registration::new(Protocol::S7commPlus) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        self.0.stream(ctx, data)
    }

    fn gap(&mut self, dir: Direction) {
        self.0.gap(dir);
    }

    fn finished(&self) -> bool {
        self.0.finished()
    }
}

fn probe(payload: &[u8], is_tcp: bool) -> bool {
    is_tcp && family(payload) == Some(Family::Plus)
}

/// An outstanding request.
#[derive(Clone, Copy, Debug)]
struct Pending {
    seq: u16,
    function: u16,
    kind: OperationKind,
    ts: Timestamp,
}

/// S7comm-plus state of one flow.
#[derive(Default)]
pub(crate) struct Session {
    pending: [Option<Pending>; PENDING],
    next: usize,
    seen_request: bool,
    /// A response without request was already reported (once per flow).
    reported_orphan: bool,
    /// Per direction: the last PDU had no trailer, so the next TSDU continues it.
    continues: [bool; 2],
}

impl Session {
    /// Bytes were lost in `dir`: a continued PDU cannot be followed.
    pub(crate) fn gap(&mut self, dir: Direction) {
        self.continues[dir.index()] = false;
    }

    /// Handles one TSDU starting with protocol id 0x72.
    pub(crate) fn pdu(&mut self, ctx: &mut Ctx<'_>, tsdu: &[u8]) {
        let continues = &mut self.continues[ctx.dir.index()];
        match parser::pdu(tsdu) {
            Ok(Pdu::KeepAlive) => {}
            Ok(Pdu::Data { data, complete, .. }) => {
                if !std::mem::replace(continues, !complete) {
                    self.message(ctx, data);
                }
            }
            Err(PduError::Malformed) => ctx.violation(ViolationKind::Malformed, "S7comm-plus header too short"),
            Err(PduError::UnknownVersion(v)) => {
                ctx.violation(ViolationKind::ReservedValue, format!("unknown S7comm-plus version 0x{v:02x}"))
            }
            Err(PduError::Length { declared, actual }) => {
                *continues = false;
                ctx.violation(ViolationKind::LengthMismatch, format!("S7comm-plus header announces {declared} bytes, PDU has {actual}"));
            }
        }
    }

    fn message(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let Some(m) = parser::message(data) else {
            let opcode = data.first().copied().unwrap_or(0);
            return ctx.violation(ViolationKind::ReservedValue, format!("unknown S7comm-plus opcode 0x{opcode:02x}"));
        };
        match m.opcode {
            parser::OP_REQUEST => self.request(ctx, &m),
            parser::OP_NOTIFICATION => {
                if ctx.dir == Direction::ToClient {
                    ctx.sender_identity(IdentityField::Role, "plc");
                }
            }
            _ => self.response(ctx, &m),
        }
    }

    fn request(&mut self, ctx: &mut Ctx<'_>, m: &Message<'_>) {
        if !parser::known_function(m.function) {
            ctx.violation(ViolationKind::IllegalFunction, format!("unknown S7comm-plus function 0x{:04x}", m.function));
        }
        let kind = kind_of(m);
        if kind == OperationKind::ProgramDownload {
            ctx.sender_identity(IdentityField::Role, "engineering-workstation");
        }
        if m.flags & parser::FLAG_NO_RESPONSE != 0 {
            return ctx.operation(kind, u32::from(m.function), None, OperationResult::Unknown);
        }
        self.seen_request = true;
        let slot = self.pending.iter().position(Option::is_none).unwrap_or(self.next);
        let request = Pending { seq: m.seq, function: m.function, kind, ts: ctx.ts };
        // A request evicted unanswered is still reported, without result.
        if let Some(old) = self.pending.get_mut(slot).and_then(|s| s.replace(request)) {
            emit(ctx, &old, OperationResult::Unknown);
        }
        self.next = (slot + 1) % PENDING;
    }

    fn response(&mut self, ctx: &mut Ctx<'_>, m: &Message<'_>) {
        let found = self.pending.iter_mut().find(|p| p.is_some_and(|p| p.seq == m.seq && p.function == m.function)).and_then(Option::take);
        let Some(p) = found else {
            if self.seen_request && !std::mem::replace(&mut self.reported_orphan, true) {
                ctx.violation(ViolationKind::UnexpectedResponse, format!("S7comm-plus response to unknown sequence number {}", m.seq));
            }
            return;
        };
        if ctx.dir == Direction::ToClient {
            ctx.sender_identity(IdentityField::Role, "plc");
            if m.function == parser::FC_CREATE_OBJECT {
                if let Some((order, firmware)) = parser::station_version(m.body) {
                    ctx.sender_identity(IdentityField::OrderNumber, order);
                    ctx.sender_identity(IdentityField::Firmware, firmware);
                    ctx.sender_identity(IdentityField::Vendor, "Siemens");
                }
            }
        }
        let result = parser::response_error(m.body).map_or(OperationResult::Success, |e| OperationResult::Error(u32::from(e)));
        emit(ctx, &p, result);
    }
}

/// Reports a request's operation at the request's time.
fn emit(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    let now = ctx.ts;
    ctx.ts = p.ts;
    ctx.operation(p.kind, u32::from(p.function), None, result);
    ctx.ts = now;
}

/// The operation a request stands for.
fn kind_of(m: &Message<'_>) -> OperationKind {
    use parser::*;
    match m.function {
        FC_CREATE_OBJECT if m.object == SESSION_CONTAINER => OperationKind::Session,
        FC_CREATE_OBJECT if creates_block(m.body) => OperationKind::ProgramDownload,
        // Without a response wanted, SetVariable acknowledges notifications.
        FC_SET_VARIABLE if m.flags & FLAG_NO_RESPONSE != 0 => OperationKind::Other,
        FC_EXPLORE | FC_GET_VARIABLE | FC_GET_LINK | FC_GET_MULTI_VARIABLES | FC_GET_VAR_SUBSTREAMED | FC_GET_VARIABLES_ADDRESS => {
            OperationKind::Read
        }
        FC_SET_VARIABLE | FC_SET_MULTI_VARIABLES | FC_SET_VAR_SUBSTREAMED => OperationKind::Write,
        _ => OperationKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{operation_events, Flow};
    use palisade_model::{Endpoint, Event};

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![3, 0, 0, 0, 2, 0xf0, 0x80];
        f.extend_from_slice(payload);
        let len = f.len() as u16;
        f[2..4].copy_from_slice(&len.to_be_bytes());
        f
    }

    fn plus(data: &[u8]) -> Vec<u8> {
        let mut p = vec![0x72, 2, 0, 0];
        p.extend_from_slice(data);
        let len = (p.len() - 4) as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p.extend([0x72, 2, 0, 0]);
        frame(&p)
    }

    #[test]
    fn read_request_and_response() {
        let request = plus(&[0x31, 0, 0, 0x05, 0x4c, 0, 0, 0, 3, 0, 0, 3, 0xbe, 0x34, 0, 0]);
        let response = plus(&[0x32, 0, 0, 0x05, 0x4c, 0, 0, 0, 3, 0x34, 0, 1]);
        assert!(probe(&request, true));
        assert!(!probe(&request, false));
        let client = Endpoint { ip: Some([10, 0, 0, 1].into()), ..Endpoint::default() };
        let server = Endpoint { ip: Some([10, 0, 0, 2].into()), port: 102, ..Endpoint::default() };
        let events = Flow::<S7commPlus>::new(client, server)
            .whole_streams(&[(Direction::ToServer, &request), (Direction::ToClient, &response)])
            .events();
        let ops = operation_events(&events);
        assert_eq!(ops.len(), 1);
        assert_eq!(
            (ops[0].kind, ops[0].code, ops[0].protocol, ops[0].result),
            (OperationKind::Read, 0x054c, Protocol::S7commPlus, OperationResult::Success)
        );
        assert!(events.iter().any(|e| matches!(e, Event::Identity(f) if f.value == "plc" && f.subject.ip == server.ip)));
        assert!(!events.iter().any(|e| matches!(e, Event::Violation(_))));
    }
}
