//! Omron FINS on UDP 9600 (bare FINS frames) and TCP 9600 (FINS frames in
//! the "FINS" envelope with length, command and error code).
//!
//! Commands are reported as operations once their response arrives, matched
//! by service id, command code and the commander's node address; a command
//! that asks for no response is reported at once. Responses that match no
//! command are not flagged: many FINS commanders use one fixed service id,
//! so retransmissions and late answers are common. The responder of a
//! Controller Data Read gives its model and version strings.

mod parser;

use crate::dnp3::{operation_from, Reporter};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{Header, Node, Request, HEADER_LEN, TCP_FRAME, TCP_HEADER_LEN};

/// Commands remembered per flow while their responses are awaited.
const PENDING: usize = 8;
/// ICF bit: the commander wants no response.
const ICF_NO_RESPONSE: u8 = 0x01;
/// Controller Data Read.
const CONTROLLER_DATA_READ: u16 = 0x0501;
/// Bytes (TCP) or datagrams (UDP) without any FINS frame before the flow is given up.
const GIVE_UP_BYTES: u32 = 16 * 1024;
const GIVE_UP_DATAGRAMS: u32 = 32;
/// Role bits, each reported once per flow.
const ROLE_CLIENT: u8 = 1;
const ROLE_PLC: u8 = 2;
const ROLE_ENGINEERING: u8 = 4;

/// Recognises a FINS/TCP envelope (carrying a plausible FINS frame when it
/// is a frame message) or a bare FINS frame in a UDP datagram.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    if !is_tcp {
        return parser::plausible(payload);
    }
    let Some(h) = parser::tcp_header(payload) else { return false };
    if !h.plausible() {
        return false;
    }
    if h.command != TCP_FRAME {
        return true;
    }
    let end = h.message_len().min(payload.len());
    payload.get(TCP_HEADER_LEN..end).is_some_and(|f| f.len() < HEADER_LEN || parser::plausible(f))
}

/// A command waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    sid: u8,
    command: u16,
    /// The commander's node address (the response's destination).
    commander: Node,
    request: Request,
    dir: Direction,
    ts: Timestamp,
}

/// Per-flow state of the FINS dissector.
#[derive(Default)]
pub struct Fins {
    /// Outstanding commands, allocated at the first command of the flow.
    pending: Option<Box<[Option<Pending>; PENDING]>>,
    /// Next slot to reuse when the table is full.
    evict: u8,
    /// Roles reported so far (`ROLE_*` bits).
    roles: u8,
    report: Reporter,
    /// A FINS frame was seen in this flow.
    seen: bool,
    /// Per TCP direction: a malformed envelope was reported and no good one seen since.
    lost: [bool; 2],
    /// Bytes skipped (TCP) or datagrams rejected (UDP) before any frame.
    skipped: u32,
    /// The flow is UDP.
    udp: bool,
}

impl Dissector for Fins {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[9600], udp_ports: &[9600], probe: Some(probe), ..Registration::new(Protocol::Fins) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut pos = 0usize;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            if rest.get(..4) != Some(b"FINS".as_slice()) {
                if rest.len() < 4 && b"FINS".starts_with(rest) {
                    break;
                }
                // Resynchronise on the next magic (keeping a possible partial one at the end).
                let skip = rest.windows(4).skip(1).position(|w| w == b"FINS").map_or(rest.len().saturating_sub(3).max(1), |i| i + 1);
                pos += skip;
                if !self.seen {
                    self.skipped = self.skipped.saturating_add(u32::try_from(skip).unwrap_or(u32::MAX));
                }
                continue;
            }
            let Some(h) = parser::tcp_header(rest) else { break };
            if !h.plausible() {
                if !self.lost.get(d).copied().unwrap_or(true) {
                    self.report.flag(
                        ctx,
                        ViolationKind::Malformed,
                        format!("implausible FINS/TCP header (length {}, command {})", h.length, h.command),
                    );
                }
                self.set_lost(d, true);
                pos += 4;
                continue;
            }
            let Some(message) = rest.get(..h.message_len()) else { break };
            self.set_lost(d, false);
            if h.command == TCP_FRAME {
                self.frame(ctx, message.get(TCP_HEADER_LEN..).unwrap_or_default());
            }
            pos += message.len();
        }
        pos.min(data.len())
    }

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        self.udp = true;
        if self.seen || parser::frame(data).is_some() {
            self.frame(ctx, data);
        } else {
            self.skipped = self.skipped.saturating_add(1);
        }
    }

    fn gap(&mut self, dir: Direction) {
        self.set_lost(dir.index(), true);
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(table) = self.pending.as_mut() {
            for p in table.iter_mut().filter_map(Option::take) {
                emit(ctx, &p, OperationResult::Unknown);
            }
        }
    }

    fn finished(&self) -> bool {
        !self.seen && self.skipped > if self.udp { GIVE_UP_DATAGRAMS } else { GIVE_UP_BYTES }
    }
}

impl Fins {
    fn set_lost(&mut self, d: usize, value: bool) {
        if let Some(l) = self.lost.get_mut(d) {
            *l = value;
        }
    }

    /// Reports a role of the sender once per flow.
    fn role(&mut self, ctx: &mut Ctx<'_>, bit: u8, role: &str) {
        if self.roles & bit == 0 {
            self.roles |= bit;
            ctx.sender_identity(IdentityField::Role, role);
        }
    }

    /// One FINS frame (a UDP datagram or the body of a FINS/TCP message).
    fn frame(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let Some((h, rest)) = parser::frame(data) else {
            let detail = if data.len() < HEADER_LEN {
                format!("FINS frame of {} bytes is shorter than its header", data.len())
            } else {
                "FINS header with reserved ICF bits, RSV or gateway count set".to_string()
            };
            self.report.flag(ctx, ViolationKind::Malformed, detail);
            return;
        };
        self.seen = true;
        if h.is_response() {
            self.response(ctx, h, rest);
        } else {
            self.command(ctx, h, rest);
        }
    }

    fn command(&mut self, ctx: &mut Ctx<'_>, h: Header, params: &[u8]) {
        self.role(ctx, ROLE_CLIENT, "scada-client");
        if parser::command_kind(h.command).is_none() {
            self.report.flag(ctx, ViolationKind::IllegalFunction, format!("unknown FINS command code {:04x}", h.command));
        }
        let request = parser::request(h.command, params).unwrap_or_else(|short| {
            self.report.flag(ctx, ViolationKind::LengthMismatch, short.to_string());
            Request::Plain
        });
        let kind = parser::kind(h.command, &request);
        if matches!(kind, OperationKind::ProgramUpload | OperationKind::ProgramDownload | OperationKind::ProgramDelete) {
            self.role(ctx, ROLE_ENGINEERING, "engineering-workstation");
        }
        let p = Pending { sid: h.sid, command: h.command, commander: h.src, request, dir: ctx.dir, ts: ctx.ts };
        if h.icf & ICF_NO_RESPONSE != 0 {
            emit(ctx, &p, OperationResult::Unknown);
        } else {
            self.remember(ctx, p);
        }
    }

    /// Puts a command in the table; one it displaces is reported unanswered.
    fn remember(&mut self, ctx: &mut Ctx<'_>, new: Pending) {
        let table = self.pending.get_or_insert_with(|| Box::new([None; PENDING]));
        let same = |p: &Option<Pending>| p.is_some_and(|p| p.sid == new.sid && p.command == new.command && p.commander == new.commander);
        let slot = table.iter().position(same).or_else(|| table.iter().position(Option::is_none)).unwrap_or_else(|| {
            self.evict = (self.evict + 1) % PENDING as u8;
            usize::from(self.evict)
        });
        if let Some(old) = table.get_mut(slot).and_then(|e| e.replace(new)) {
            emit(ctx, &old, OperationResult::Unknown);
        }
    }

    fn response(&mut self, ctx: &mut Ctx<'_>, h: Header, rest: &[u8]) {
        self.role(ctx, ROLE_PLC, "plc");
        let Some(end) = parser::end_code(rest) else {
            self.report.flag(ctx, ViolationKind::Malformed, format!("FINS response {:04x} without end code", h.command));
            return;
        };
        if h.command == CONTROLLER_DATA_READ && end == 0 {
            if let Some((model, version)) = rest.get(2..).and_then(parser::controller_data) {
                if let Some(model) = text(model) {
                    ctx.sender_identity(IdentityField::Model, model);
                }
                if let Some(version) = text(version) {
                    ctx.sender_identity(IdentityField::Firmware, version);
                }
            }
        }
        let found = self.pending.as_mut().and_then(|table| {
            table.iter_mut().find(|p| p.is_some_and(|p| p.sid == h.sid && p.command == h.command && p.commander == h.dst))?.take()
        });
        if let Some(p) = found {
            let result = if end == 0 { OperationResult::Success } else { OperationResult::Error(u32::from(end)) };
            emit(ctx, &p, result);
        }
    }
}

/// `bytes` as text if it is printable ASCII once trailing spaces and NULs go.
fn text(bytes: &[u8]) -> Option<&str> {
    let end = bytes.iter().rposition(|&b| b != b' ' && b != 0)? + 1;
    let t = bytes.get(..end)?;
    if t.iter().all(|&b| b.is_ascii_graphic() || b == b' ') {
        std::str::from_utf8(t).ok()
    } else {
        None
    }
}

/// Reports the operation of a command with its result.
fn emit(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    let kind = parser::kind(p.command, &p.request);
    let target = parser::has_target(&p.request).then_some(&p.request as &dyn std::fmt::Display);
    operation_from(ctx, p.dir, p.ts, kind, u32::from(p.command), target, result);
}

#[cfg(test)]
mod tests;
