//! Modbus/TCP (TCP 502), with Schneider UMAS inside function 90.
//!
//! Both directions of the reassembled stream are cut into ADUs by the MBAP
//! length; a capture that starts mid-stream is resynchronised by looking for
//! a plausible header followed by another one (or by the end of the data).
//! Requests wait in a small table until the response with the same
//! transaction id arrives; the operation is then reported with its result.
//! A request pushed out of the table unanswered is reported without one.

mod parser;
mod umas;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{FunctionClass, Mbap, Problem, Request, Table, FC_MEI, FC_UMAS, MAX_SPEC_LENGTH, MBAP_LEN, MEI_CANOPEN};
use std::fmt;

/// Requests remembered per flow while their responses are awaited.
const PENDING: usize = 16;
/// Violations reported per flow at most (a broken flow would repeat them).
const MAX_VIOLATIONS: u16 = 64;
/// Bytes skipped without ever finding an ADU before the flow is given up.
const GIVE_UP_BYTES: u32 = 16 * 1024;

/// Recognises Modbus/TCP from the first payload of a flow: an MBAP header
/// with protocol id 0, a length that fits the payload and a PDU that makes
/// sense on its own.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    if !is_tcp {
        return false;
    }
    let Some(h) = Mbap::parse(payload) else { return false };
    if h.protocol != 0 || !(2..=MAX_SPEC_LENGTH).contains(&h.length) {
        return false;
    }
    let end = h.adu_len();
    let Some(pdu) = payload.get(MBAP_LEN..end) else { return false };
    parser::plausible_pdu(pdu) && payload.get(end..).is_some_and(|rest| rest.is_empty() || next_header_ok(rest))
}

/// True if `rest` starts with a plausible MBAP header (used to confirm an
/// ADU boundary).
fn next_header_ok(rest: &[u8]) -> bool {
    match Mbap::parse(rest) {
        Some(h) => h.protocol == 0 && h.length_ok() && rest.get(MBAP_LEN).is_some_and(|&fc| plausible_function(fc)),
        // Too short to tell: only the protocol id, if present, can be checked.
        None => !matches!(rest.get(2..4), Some(id) if id != [0, 0]),
    }
}

/// True for a function code worth trusting when looking for ADU boundaries.
fn plausible_function(fc: u8) -> bool {
    let base = fc & 0x7F;
    base == FC_UMAS || parser::classify(base) == FunctionClass::Public
}

/// A request waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    transaction: u16,
    function: u8,
    request: Request,
}

/// Per-flow state of the Modbus dissector.
#[derive(Default)]
pub struct Modbus {
    /// Outstanding requests, allocated at the first request of the flow.
    pending: Option<Box<[Option<Pending>; PENDING]>>,
    /// Next slot to reuse when the table is full.
    evict: u8,
    /// Per direction: ADU boundaries are known.
    synced: [bool; 2],
    /// A response was matched to a request (so unmatched ones are suspect).
    paired: bool,
    /// Roles reported: bit 0 scada-client, bit 1 controller, bit 2 engineering workstation.
    roles: u8,
    /// Violations reported so far.
    violations: u16,
    /// An ADU was seen in this flow.
    seen_adu: bool,
    /// Bytes skipped while looking for an ADU boundary before any was seen.
    skipped: u32,
}

impl Dissector for Modbus {
    const REGISTRATION: Registration = Registration { tcp_ports: &[502], probe: Some(probe), ..Registration::new(Protocol::Modbus) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut pos = 0usize;
        while let Some(rest) = data.get(pos..) {
            let Some(h) = Mbap::parse(rest) else { break };
            let synced = self.synced.get(d).copied().unwrap_or(false);
            let end = h.adu_len();
            if synced && h.length_ok() {
                let Some(adu) = rest.get(..end) else { break };
                let pdu = adu.get(MBAP_LEN..).unwrap_or_default();
                if h.protocol == 0 {
                    self.adu(ctx, h, pdu);
                    pos += end;
                    continue;
                }
                if pdu.first().is_some_and(|&fc| plausible_function(fc)) {
                    self.violation(ctx, ViolationKind::ReservedValue, format_args!("MBAP protocol id {} instead of 0", h.protocol));
                    pos += end;
                    continue;
                }
            }
            if synced {
                self.violation(
                    ctx,
                    ViolationKind::Malformed,
                    format_args!("invalid MBAP header (protocol id {}, length {}); resynchronising", h.protocol, h.length),
                );
                self.set_synced(d, false);
            }
            // Looking for a boundary: a plausible header whose ADU is
            // followed by another plausible header or ends the data.
            if rest.len() <= MBAP_LEN {
                break;
            }
            let candidate = h.protocol == 0 && h.length_ok() && rest.get(MBAP_LEN).is_some_and(|&fc| plausible_function(fc));
            if candidate {
                match rest.get(end..) {
                    None => break,
                    Some(after) if after.is_empty() || next_header_ok(after) => {
                        if rest.get(MBAP_LEN..end).is_some_and(parser::plausible_pdu) {
                            self.set_synced(d, true);
                            continue;
                        }
                    }
                    Some(_) => {}
                }
            }
            pos += 1;
            if !self.seen_adu {
                self.skipped = self.skipped.saturating_add(1);
            }
        }
        pos.min(data.len())
    }

    fn gap(&mut self, dir: Direction) {
        self.set_synced(dir.index(), false);
    }

    fn finished(&self) -> bool {
        !self.seen_adu && self.skipped > GIVE_UP_BYTES
    }
}

impl Modbus {
    fn set_synced(&mut self, d: usize, value: bool) {
        if let Some(s) = self.synced.get_mut(d) {
            *s = value;
        }
    }

    /// Reports a violation unless the flow already reported too many.
    fn violation(&mut self, ctx: &mut Ctx<'_>, kind: ViolationKind, detail: fmt::Arguments<'_>) {
        if self.violations < MAX_VIOLATIONS {
            self.violations += 1;
            ctx.violation(kind, detail.to_string());
        }
    }

    /// Reports a role of the sender once per flow.
    fn role(&mut self, ctx: &mut Ctx<'_>, bit: u8, role: &str) {
        if self.roles & bit == 0 {
            self.roles |= bit;
            ctx.sender_identity(IdentityField::Role, role);
        }
    }

    /// One complete ADU with protocol id 0; `pdu` starts at the function code.
    fn adu(&mut self, ctx: &mut Ctx<'_>, h: Mbap, pdu: &[u8]) {
        self.seen_adu = true;
        let Some(&fc) = pdu.first() else { return };
        match ctx.dir {
            Direction::ToServer => self.request(ctx, h, fc, pdu),
            Direction::ToClient => self.response(ctx, h, fc, pdu),
        }
    }

    fn request(&mut self, ctx: &mut Ctx<'_>, h: Mbap, fc: u8, pdu: &[u8]) {
        self.role(ctx, 1, "scada-client");
        if fc != FC_UMAS {
            match parser::classify(fc) {
                FunctionClass::Public | FunctionClass::UserDefined => {}
                FunctionClass::Reserved => self.violation(ctx, ViolationKind::ReservedValue, format_args!("reserved function code {fc}")),
                FunctionClass::Unassigned => {
                    self.violation(ctx, ViolationKind::IllegalFunction, format_args!("illegal function code {fc}"))
                }
            }
        }
        let request = match parser::parse_request(pdu) {
            Ok(r) => r,
            Err(p) => {
                self.problem(ctx, p);
                Request::Other
            }
        };
        if let Request::Umas { code } = request {
            if umas::is_program_transfer(code) {
                self.role(ctx, 4, "engineering-workstation");
            }
            if code == umas::TAKE_RESERVATION {
                if let Some(name) = umas::reservation_name(pdu).and_then(text) {
                    ctx.sender_identity(IdentityField::Hostname, name);
                }
            }
        }
        self.remember(ctx, Pending { transaction: h.transaction, function: fc, request });
    }

    fn problem(&mut self, ctx: &mut Ctx<'_>, p: Problem) {
        self.violation(ctx, p.kind(), format_args!("{p}"));
    }

    /// Puts a request in the table; one it displaces is reported unanswered.
    fn remember(&mut self, ctx: &mut Ctx<'_>, new: Pending) {
        let table = self.pending.get_or_insert_with(|| Box::new([None; PENDING]));
        let slot = table
            .iter()
            .position(|p| p.is_some_and(|p| p.transaction == new.transaction))
            .or_else(|| table.iter().position(Option::is_none))
            .unwrap_or_else(|| {
                self.evict = (self.evict + 1) % PENDING as u8;
                usize::from(self.evict)
            });
        if let Some(entry) = table.get_mut(slot) {
            if let Some(old) = entry.replace(new) {
                emit(ctx, &old, OperationResult::Unknown);
            }
        }
    }

    /// Removes and returns the request with this transaction id.
    fn take(&mut self, transaction: u16) -> Option<Pending> {
        let table = self.pending.as_mut()?;
        table.iter_mut().find(|p| p.is_some_and(|p| p.transaction == transaction))?.take()
    }

    fn response(&mut self, ctx: &mut Ctx<'_>, h: Mbap, fc: u8, pdu: &[u8]) {
        self.role(ctx, 2, "controller");
        if fc == FC_MEI {
            device_identity(ctx, pdu);
        }
        let Some(req) = self.take(h.transaction) else {
            if self.paired {
                self.violation(
                    ctx,
                    ViolationKind::UnexpectedResponse,
                    format_args!("response with transaction id {} matches no request", h.transaction),
                );
            }
            return;
        };
        self.paired = true;
        let result = if fc & 0x80 != 0 {
            let code = pdu.get(1).copied().unwrap_or(0);
            if fc & 0x7F != req.function {
                self.problem(ctx, Problem::FunctionMismatch { request: req.function, response: fc & 0x7F });
            } else if pdu.len() != 2 {
                self.problem(ctx, Problem::Length { fc, expected: 2, found: pdu.len() });
            }
            OperationResult::Error(u32::from(code))
        } else if let Err(p) = parser::check_response(req.function, &req.request, pdu) {
            let mismatch = matches!(p, Problem::FunctionMismatch { .. });
            self.problem(ctx, p);
            if mismatch {
                OperationResult::Unknown
            } else {
                OperationResult::Success
            }
        } else if let Request::Umas { code } = req.request {
            umas_response(ctx, code, pdu)
        } else {
            OperationResult::Success
        };
        emit(ctx, &req, result);
    }
}

/// Identity facts from a UMAS response; returns the operation's result.
fn umas_response(ctx: &mut Ctx<'_>, code: u8, pdu: &[u8]) -> OperationResult {
    match umas::response_status(pdu) {
        Some(Ok(())) => {
            if code == umas::READ_ID {
                if let Some(id) = umas::read_id(pdu) {
                    if let Some(model) = text(id.model) {
                        ctx.sender_identity(IdentityField::Vendor, "Schneider Electric");
                        ctx.sender_identity(IdentityField::Model, model);
                        let mut buf = [0u8; 8];
                        if let Some(fw) = hex_version(&mut buf, id.firmware) {
                            ctx.sender_identity(IdentityField::Firmware, fw);
                        }
                    }
                }
            }
            OperationResult::Success
        }
        Some(Err(e)) => OperationResult::Error(u32::from(e)),
        None => OperationResult::Unknown,
    }
}

/// Formats (0x02, 0x70) as "2.70" into `buf` without allocating.
fn hex_version(buf: &mut [u8; 8], (major, minor): (u8, u8)) -> Option<&str> {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    write!(cursor, "{major:x}.{minor:02x}").ok()?;
    let n = usize::try_from(cursor.position()).ok()?;
    std::str::from_utf8(buf.get(..n)?).ok()
}

/// Identity facts from a Read Device Identification response.
fn device_identity(ctx: &mut Ctx<'_>, pdu: &[u8]) {
    for (id, value) in parser::device_id_objects(pdu) {
        let field = match id {
            0 => IdentityField::Vendor,
            1 => IdentityField::OrderNumber,
            2 => IdentityField::Firmware,
            4 => IdentityField::ProductName,
            5 => IdentityField::Model,
            6 => IdentityField::DeviceName,
            _ => continue,
        };
        if let Some(value) = text(value) {
            ctx.sender_identity(field, value);
        }
    }
}

/// `bytes` as text if it is UTF-8 without control characters (trailing NULs
/// and spaces are allowed; the sink trims them).
fn text(bytes: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(bytes).ok()?;
    let trimmed = s.trim_end_matches(['\0', ' ']);
    (!trimmed.is_empty() && !trimmed.chars().any(char::is_control)).then_some(trimmed)
}

/// The operation kind of a request.
fn kind(req: &Request) -> OperationKind {
    match *req {
        Request::Read { .. } | Request::Fifo { .. } => OperationKind::Read,
        Request::Write { .. } | Request::ReadWrite { .. } => OperationKind::Write,
        Request::File { write, .. } => {
            if write {
                OperationKind::Write
            } else {
                OperationKind::Read
            }
        }
        Request::Diagnostic { sub: 1 } => OperationKind::WarmRestart,
        Request::Diagnostic { sub: 3 | 4 } => OperationKind::ConfigurationChange,
        Request::Diagnostic { .. } | Request::Plain => OperationKind::Diagnostics,
        Request::DeviceId { .. } => OperationKind::Identify,
        Request::Umas { code } => umas::kind(code),
        Request::Mei { .. } | Request::Other => OperationKind::Other,
    }
}

/// The object an operation touches, formatted only when reported.
struct Target<'a>(&'a Request);

/// Writes `table:first-last`.
fn range(f: &mut fmt::Formatter<'_>, table: Table, start: u16, count: u16) -> fmt::Result {
    let last = u32::from(start) + u32::from(count.max(1)) - 1;
    write!(f, "{}:{start}-{last}", table.name())
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            Request::Read { table, start, count } | Request::Write { table, start, count } => range(f, table, start, count),
            Request::ReadWrite { read_start, read_count, write_start, write_count } => {
                f.write_str("read ")?;
                range(f, Table::Holding, read_start, read_count)?;
                f.write_str(" write ")?;
                range(f, Table::Holding, write_start, write_count)
            }
            Request::Diagnostic { sub } => write!(f, "subfunction {sub}"),
            Request::File { first: Some((file, record)), .. } => write!(f, "file:{file} record:{record}"),
            Request::Fifo { address } => write!(f, "fifo:{address}"),
            Request::DeviceId { code, object } => write!(f, "device-id code {code} object {object}"),
            Request::Mei { mei_type: MEI_CANOPEN } => f.write_str("canopen"),
            Request::Mei { mei_type } => write!(f, "mei:{mei_type}"),
            Request::Umas { code } => umas::Target(code).fmt(f),
            Request::File { first: None, .. } | Request::Plain | Request::Other => Ok(()),
        }
    }
}

/// Reports the operation of a request with its result.
fn emit(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    let kind = kind(&p.request);
    let code = u32::from(p.function);
    let has_target = !matches!(p.request, Request::File { first: None, .. } | Request::Plain | Request::Other);
    if has_target {
        let t = Target(&p.request);
        ctx.operation(kind, code, Some(format_args!("{t}")), result);
    } else {
        ctx.operation(kind, code, None, result);
    }
}

#[cfg(test)]
mod tests;
