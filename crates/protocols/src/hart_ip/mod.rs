//! HART-IP on TCP and UDP 5094: session messages and the HART commands
//! carried in token-passing PDUs (passed through a gateway to field
//! devices) and direct PDUs.
//!
//! Requests are reported as operations when the response with the same
//! sequence number arrives. HART commands are named by their command
//! number and the field device they address. Identity from command 0, 13
//! and 20 responses goes on the HART-IP server: every HART device seen
//! behind it gets a `Description` ("hart device Rosemount type 0x264e id
//! 0x0000d2"); vendor, firmware and device name only come from the server's
//! own HART device (the one answering at polling address 0 or in a direct
//! PDU, and its unique address once learned).

mod parser;

use crate::dnp3::{operation_from, Reporter};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{Address, Frame, Header, HEADER_LEN, ID_DIRECT, ID_SESSION_INITIATE, ID_TOKEN_PASSING, TYPE_PUBLISH, TYPE_REQUEST};

/// Requests remembered per flow while their responses are awaited.
const PENDING: usize = 8;
/// Bytes (TCP) or datagrams (UDP) without any HART-IP message before the flow is given up.
const GIVE_UP_BYTES: u32 = 16 * 1024;
const GIVE_UP_DATAGRAMS: u32 = 32;
/// Role bits, each reported once per flow.
const ROLE_CLIENT: u8 = 1;
const ROLE_GATEWAY: u8 = 2;

/// Recognises a whole HART-IP message: a plausible header whose length
/// fits the payload (equals it on UDP) and a body that suits the message.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    let Some(h) = parser::header(payload) else { return false };
    if !h.plausible() || h.message_len() > payload.len() || (!is_tcp && h.message_len() != payload.len()) {
        return false;
    }
    let body = payload.get(HEADER_LEN..h.message_len()).unwrap_or_default();
    match h.message_id {
        ID_SESSION_INITIATE => body.len() == 5 && body.first().is_some_and(|&master| master <= 1),
        1 | 2 => body.len() <= 1,
        ID_TOKEN_PASSING => parser::frame(body).is_ok(),
        _ => true,
    }
}

/// A request waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    sequence: u16,
    message_id: u8,
    /// The HART command of a PDU and the device it addresses (none: the
    /// HART-IP device itself, in a direct PDU).
    command: Option<(u16, Option<Address>)>,
    dir: Direction,
    ts: Timestamp,
}

/// Per-flow state of the HART-IP dissector.
#[derive(Default)]
pub struct HartIp {
    /// Outstanding requests, allocated at the first request of the flow.
    pending: Option<Box<[Option<Pending>; PENDING]>>,
    /// Next slot to reuse when the table is full.
    evict: u8,
    /// Roles reported so far (`ROLE_*` bits).
    roles: u8,
    report: Reporter,
    /// A HART-IP message was seen in this flow.
    seen: bool,
    /// A response was matched to a request (so unmatched ones are suspect).
    paired: bool,
    /// Per TCP direction: a bad header was reported and no good one seen since.
    lost: [bool; 2],
    /// Bytes skipped (TCP) or datagrams rejected (UDP) before any message.
    skipped: u32,
    /// The flow is UDP.
    udp: bool,
    /// The unique address of the server's own HART device, once learned.
    own: Option<Address>,
}

impl Dissector for HartIp {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[5094], udp_ports: &[5094], probe: Some(probe), ..Registration::new(Protocol::HartIp) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut pos = 0usize;
        while let Some(rest) = data.get(pos..) {
            let Some(h) = parser::header(rest) else { break };
            if !h.plausible() {
                if !self.lost.get(d).copied().unwrap_or(true) {
                    let detail = format!(
                        "implausible HART-IP header (version {}, type {}, id {}, length {}); resynchronising",
                        h.version, h.message_type, h.message_id, h.length
                    );
                    self.report.flag(ctx, ViolationKind::Malformed, detail);
                }
                self.set_lost(d, true);
                pos += 1;
                if !self.seen {
                    self.skipped = self.skipped.saturating_add(1);
                }
                continue;
            }
            let Some(message) = rest.get(..h.message_len()) else { break };
            self.set_lost(d, false);
            self.message(ctx, h, message.get(HEADER_LEN..).unwrap_or_default());
            pos += message.len();
        }
        pos.min(data.len())
    }

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        self.udp = true;
        let Some(h) = parser::header(data).filter(Header::plausible) else {
            if self.seen {
                self.report.flag(ctx, ViolationKind::Malformed, "datagram without a valid HART-IP header");
            } else {
                self.skipped = self.skipped.saturating_add(1);
            }
            return;
        };
        if h.message_len() != data.len() {
            let detail = format!("HART-IP length {} in a datagram of {} bytes", h.length, data.len());
            self.report.flag(ctx, ViolationKind::LengthMismatch, detail);
        }
        let body = data.get(HEADER_LEN..h.message_len().min(data.len())).unwrap_or_default();
        self.message(ctx, h, body);
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

impl HartIp {
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

    /// One HART-IP message; `body` follows the header.
    fn message(&mut self, ctx: &mut Ctx<'_>, h: Header, body: &[u8]) {
        self.seen = true;
        match h.message_type {
            TYPE_REQUEST => self.request(ctx, h, body),
            TYPE_PUBLISH => {
                if h.message_id == ID_TOKEN_PASSING {
                    self.role(ctx, ROLE_GATEWAY, "gateway");
                }
            }
            _ => self.response(ctx, h, body),
        }
    }

    fn request(&mut self, ctx: &mut Ctx<'_>, h: Header, body: &[u8]) {
        self.role(ctx, ROLE_CLIENT, "scada-client");
        let command = match h.message_id {
            ID_TOKEN_PASSING => match parser::frame(body) {
                Ok(f) => {
                    if !f.is_request {
                        self.report.flag(ctx, ViolationKind::Malformed, "HART-IP request carries a HART response frame");
                    }
                    Some((f.command, f.address))
                }
                Err(p) => {
                    self.report.flag(ctx, p.kind(), p.to_string());
                    None
                }
            },
            ID_DIRECT => parser::direct(body, true).map(|f| (f.command, f.address)),
            _ => None,
        };
        self.remember(ctx, Pending { sequence: h.sequence, message_id: h.message_id, command, dir: ctx.dir, ts: ctx.ts });
    }

    /// Puts a request in the table; one it displaces is reported unanswered.
    fn remember(&mut self, ctx: &mut Ctx<'_>, new: Pending) {
        let table = self.pending.get_or_insert_with(|| Box::new([None; PENDING]));
        let slot = table
            .iter()
            .position(|p| p.is_some_and(|p| p.sequence == new.sequence))
            .or_else(|| table.iter().position(Option::is_none))
            .unwrap_or_else(|| {
                self.evict = (self.evict + 1) % PENDING as u8;
                usize::from(self.evict)
            });
        if let Some(old) = table.get_mut(slot).and_then(|e| e.replace(new)) {
            emit(ctx, &old, OperationResult::Unknown);
        }
    }

    fn response(&mut self, ctx: &mut Ctx<'_>, h: Header, body: &[u8]) {
        let mut answer: Option<Frame<'_>> = None;
        if !h.is_error() {
            match h.message_id {
                ID_TOKEN_PASSING => {
                    self.role(ctx, ROLE_GATEWAY, "gateway");
                    match parser::frame(body) {
                        Ok(f) if f.is_request => {
                            self.report.flag(ctx, ViolationKind::Malformed, "HART-IP response carries a HART request frame")
                        }
                        Ok(f) => answer = Some(f),
                        Err(p) => self.report.flag(ctx, p.kind(), p.to_string()),
                    }
                }
                ID_DIRECT => answer = parser::direct(body, false),
                _ => {}
            }
        }
        if let Some(f) = answer.filter(|f| matches!(f.status, Some((0, _)))) {
            self.identity(ctx, f.command, f.data, f.address);
        }
        let result = match answer.and_then(|f| f.status) {
            _ if h.is_error() => OperationResult::Error(u32::from(h.status)),
            Some((0, _)) => OperationResult::Success,
            Some((code, _)) => OperationResult::Error(u32::from(code)),
            _ if h.status == 0 => OperationResult::Success,
            _ => OperationResult::Error(u32::from(h.status)),
        };
        let found = self.pending.as_mut().and_then(|t| t.iter_mut().find(|p| p.is_some_and(|p| p.sequence == h.sequence))?.take());
        match found {
            Some(p) => {
                self.paired = true;
                emit(ctx, &p, result);
            }
            None if self.paired => {
                let detail = format!("HART-IP response with sequence number {} matches no request", h.sequence);
                self.report.flag(ctx, ViolationKind::UnexpectedResponse, detail);
            }
            None => {}
        }
    }

    /// True if `address` (none: a direct PDU) is the server's own HART device.
    fn is_own(&self, address: Option<Address>) -> bool {
        match address {
            None | Some(Address::Polling(0)) => true,
            Some(a) => self.own == Some(a),
        }
    }

    /// Identity facts from a successful HART response, all about the sender.
    fn identity(&mut self, ctx: &mut Ctx<'_>, command: u16, data: &[u8], address: Option<Address>) {
        match command {
            0 | 11 | 21 => {
                let Some(id) = parser::unique_id(data) else { return };
                let own = self.is_own(address) || self.own == Some(id.address());
                if own {
                    self.own = Some(id.address());
                }
                let vendor = parser::manufacturer(id.manufacturer);
                let description = match vendor {
                    Some(v) => format!("hart device {v} {}", id.address()),
                    None => format!("hart device manufacturer 0x{:04x} {}", id.manufacturer, id.address()),
                };
                ctx.sender_identity(IdentityField::Description, &description);
                if own {
                    if let Some(v) = vendor {
                        ctx.sender_identity(IdentityField::Vendor, v);
                    }
                    ctx.sender_identity(IdentityField::Firmware, &format!("sw {} hw {}", id.software, id.hardware));
                }
            }
            13 => {
                let mut buf = [0u8; 32];
                let tag = parser::packed_ascii(data.get(..6).unwrap_or_default(), &mut buf);
                if !parser::blank(tag) {
                    self.tag(ctx, tag, address);
                }
                let descriptor = parser::packed_ascii(data.get(6..18).unwrap_or_default(), &mut buf);
                if !parser::blank(descriptor) && self.is_own(address) {
                    ctx.sender_identity(IdentityField::Description, descriptor);
                }
            }
            20 => {
                let mut buf = [0u8; 64];
                if let Some(tag) = data.get(..32).and_then(|field| parser::latin1(field, &mut buf)) {
                    if !parser::blank(tag) {
                        self.tag(ctx, tag, address);
                    }
                }
            }
            _ => {}
        }
    }

    /// A tag names the server when it is the server's own device, else
    /// describes a device behind it.
    fn tag(&self, ctx: &mut Ctx<'_>, tag: &str, address: Option<Address>) {
        match address {
            Some(a) if !self.is_own(address) => ctx.sender_identity(IdentityField::Description, &format!("hart device {a} tag {tag}")),
            _ => ctx.sender_identity(IdentityField::DeviceName, tag),
        }
    }
}

/// Reports the operation of a request with its result.
fn emit(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    match p.command {
        Some((command, Some(address))) => {
            operation_from(ctx, p.dir, p.ts, parser::command_kind(command), u32::from(command), Some(&address), result)
        }
        Some((command, None)) => {
            operation_from(ctx, p.dir, p.ts, parser::command_kind(command), u32::from(command), Some(&"direct"), result)
        }
        None => operation_from(ctx, p.dir, p.ts, parser::message_kind(p.message_id), u32::from(p.message_id), None, result),
    }
}

#[cfg(test)]
mod tests;
