//! IEC 61850 / ICCP MMS (ISO 9506) over the OSI stack on TCP 102: TPKT and
//! COTP (shared helpers in [`crate::cotp`]), ISO session, presentation,
//! ACSE and the MMS PDU.
//!
//! - The association (AARQ/AARE with their AP titles and the MMS initiate
//!   exchange) is one `session` operation.
//! - Confirmed requests are reported once their response (or error) arrives,
//!   paired by invoke id, with the object they name: variables as
//!   `domain/item` (e.g. `LD0/LLN0$ST$Mod`), named variable lists, domains,
//!   program invocations, files (`file <name>`). Both sides may send
//!   requests (ICCP does), so requests are kept per direction.
//! - An identify response gives the responder's Vendor, Model and Firmware.
//! - Errors are `Error(class << 8 | code)`, rejects
//!   `Error(0x10000 | reason << 8 | code)`, a read/write with a failed
//!   item `Error(DataAccessError)`.
//! - Unconfirmed services (information reports) are not reported.
//!
//! TCP 102 is registered by S7comm first: its probe rejects MMS connects
//! (TSAPs such as 0x0001/0x0002) and the registry then asks [`probe`].

mod parser;

use crate::ber::{self, Class, Tlv};
use crate::cotp::{self, Cotp, DataAssembly, Tpkt};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{ApTitle, ObjectName, Pdu, Spdu};
use std::fmt::{self, Write as _};

/// Outstanding requests remembered per direction.
const PENDING: usize = 8;
/// Bytes of an operation's target kept per request.
const TEXT_MAX: usize = 96;
/// Variables named in a target.
const SHOWN: usize = 3;
/// The initiate-RequestPDU tag, used as the association's code.
const INITIATE: u32 = 8;

/// MMS dissector.
#[derive(Default)]
pub struct Mms(Option<Box<Engine>>);

impl Dissector for Mms {
    const REGISTRATION: Registration = Registration { tcp_ports: &[102], probe: Some(probe), ..Registration::new(Protocol::Mms) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        self.0.get_or_insert_with(Box::default).stream(ctx, data)
    }

    fn gap(&mut self, dir: Direction) {
        if let Some(e) = &mut self.0 {
            if let Some(side) = e.sides.get_mut(dir.index()) {
                *side = Side::default();
            }
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(e) = &mut self.0 {
            e.app.associated(ctx, OperationResult::Unknown);
            for p in e.app.pending.iter_mut().flatten().filter_map(Option::take) {
                if let Some(req) = p.op {
                    emit(ctx, &p, &req, OperationResult::Unknown);
                }
            }
        }
    }

    fn finished(&self) -> bool {
        self.0.as_ref().is_some_and(|e| e.app.foreign)
    }
}

/// Recognises MMS from a flow's first payload: a COTP connection request
/// with two-byte TSAPs that are not S7 ones, a data TPDU carrying an ISO
/// session CONNECT/ACCEPT/DATA TRANSFER with presentation data, or a lone
/// TPKT header (stacks that send the header in its own segment; S7 stacks
/// send whole TPKTs).
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    if !is_tcp {
        return false;
    }
    match cotp::tpkt(payload) {
        Tpkt::Whole { tpdu, .. } => match cotp::cotp(tpdu) {
            Some(Cotp::Connect { src_tsap: Some(src), dst_tsap: Some(dst), .. }) => {
                src.len() == 2 && dst.len() == 2 && crate::s7comm::family(payload).is_none()
            }
            Some(Cotp::Data { payload, last: true }) => parser::looks_like_session(payload),
            _ => false,
        },
        Tpkt::Incomplete => payload.len() == 4,
        Tpkt::Invalid => false,
    }
}

/// Framing state of one direction.
#[derive(Default)]
struct Side {
    tsdu: DataAssembly,
    /// A TPKT was found at a known boundary (false at the start and after gaps).
    synced: bool,
}

/// An association waiting for its AARE.
#[derive(Clone, Copy)]
struct Association {
    ts: Timestamp,
    calling: Option<ApTitle>,
    called: Option<ApTitle>,
}

impl fmt::Display for Association {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.calling, self.called) {
            (Some(a), Some(b)) => write!(f, "calling ap-title {a} called ap-title {b}"),
            (Some(a), None) => write!(f, "calling ap-title {a}"),
            (None, Some(b)) => write!(f, "called ap-title {b}"),
            (None, None) => f.write_str("association"),
        }
    }
}

/// A short printable copy of an operation's target.
#[derive(Clone, Copy)]
struct Text {
    buf: [u8; TEXT_MAX],
    len: usize,
}

impl Default for Text {
    fn default() -> Self {
        Text { buf: [0; TEXT_MAX], len: 0 }
    }
}

impl Text {
    /// Appends bytes, non-printable ones as '?', up to the capacity.
    fn push(&mut self, s: &[u8]) -> &mut Self {
        for &b in s {
            let Some(slot) = self.buf.get_mut(self.len) else { break };
            *slot = if (0x20..0x7f).contains(&b) { b } else { b'?' };
            self.len += 1;
        }
        self
    }

    fn name(&mut self, n: &ObjectName<'_>) -> &mut Self {
        if let Some(domain) = n.domain {
            self.push(domain).push(b"/");
        }
        self.push(n.item)
    }

    fn as_str(&self) -> &str {
        self.buf.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request reported when its response arrives.
#[derive(Clone, Copy)]
struct Request {
    kind: OperationKind,
    code: u32,
    target: Text,
}

/// An outstanding invoke id; `op` is None for requests that continue a
/// transfer already reported (file reads, download/upload segments).
#[derive(Clone, Copy)]
struct Pending {
    invoke: u32,
    ts: Timestamp,
    /// The requester: the server of the flow (ICCP peers both request).
    by_server: bool,
    op: Option<Request>,
}

#[derive(Default)]
struct Engine {
    sides: [Side; 2],
    app: App,
}

/// State above COTP.
#[derive(Default)]
struct App {
    /// The flow's first data is not ISO session traffic.
    foreign: bool,
    seen_data: bool,
    /// Presentation context of the MMS abstract syntax, once negotiated.
    mms_context: Option<u64>,
    association: Option<Association>,
    /// Outstanding requests, indexed by the requester's direction.
    pending: [[Option<Pending>; PENDING]; 2],
    next: [usize; 2],
    seen_request: [bool; 2],
    /// A response without request was already reported (once per flow).
    reported_orphan: bool,
}

impl Engine {
    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let mut used = 0;
        while let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) {
            if self.app.foreign {
                return data.len();
            }
            let Some(side) = self.sides.get_mut(ctx.dir.index()) else { return data.len() };
            // Too short to judge (some stacks send the TPKT header alone): wait.
            if !side.synced && rest.len() < 6 && rest.first() == Some(&3) {
                break;
            }
            let framed = if side.synced || cotp::looks_like_tpkt(rest) { cotp::tpkt(rest) } else { Tpkt::Invalid };
            match framed {
                Tpkt::Whole { tpdu, used: n } => {
                    side.synced = true;
                    used += n;
                    match cotp::cotp(tpdu) {
                        None => ctx.violation(ViolationKind::Malformed, "invalid COTP header"),
                        Some(Cotp::Data { payload, last }) => {
                            if let Some(tsdu) = side.tsdu.push(payload, last) {
                                self.app.tsdu(ctx, tsdu);
                            }
                        }
                        Some(_) => {}
                    }
                }
                Tpkt::Incomplete => break,
                Tpkt::Invalid => {
                    if std::mem::take(&mut side.synced) {
                        ctx.violation(ViolationKind::Malformed, "invalid TPKT header");
                        side.tsdu = DataAssembly::default();
                    }
                    used += resync(rest);
                }
            }
        }
        used
    }
}

/// How many bytes to skip to reach the next plausible TPKT start (keeping
/// a possible partial header at the end).
fn resync(data: &[u8]) -> usize {
    (1..data.len())
        .find(|&at| data.get(at..).is_some_and(|c| c.first() == Some(&3) && (c.len() < 6 || cotp::looks_like_tpkt(c))))
        .unwrap_or(data.len())
}

impl App {
    fn tsdu(&mut self, ctx: &mut Ctx<'_>, tsdu: &[u8]) {
        let first = !std::mem::replace(&mut self.seen_data, true);
        let user = match parser::session(tsdu) {
            Some(Spdu::Connect(user) | Spdu::Accept(user)) => match parser::presentation_connect(user) {
                Some(cp) => {
                    self.mms_context = cp.mms_context.or(self.mms_context);
                    cp.user_data
                }
                None => return ctx.violation(ViolationKind::Malformed, "invalid presentation connect PPDU"),
            },
            Some(Spdu::Data(user)) => match parser::presentation_data(user) {
                Some(t) => Some(t),
                None if first => {
                    self.foreign = true;
                    return;
                }
                None => return ctx.violation(ViolationKind::Malformed, "invalid presentation data"),
            },
            Some(Spdu::Refuse) => {
                self.associated(ctx, OperationResult::Error(0x0c));
                return;
            }
            // A flow's first SPDU other than these (finish, disconnect,
            // abort...) means something else runs on this transport.
            Some(Spdu::Other(code)) if first && !matches!(code, 0x08..=0x0a | 0x19 | 0x1a) => {
                self.foreign = true;
                return;
            }
            Some(Spdu::Other(_)) => return,
            None if first => {
                self.foreign = true;
                return;
            }
            None => return ctx.violation(ViolationKind::Malformed, "invalid ISO session SPDU"),
        };
        for pdv in user.iter().flat_map(parser::pdvs) {
            self.pdv(ctx, pdv);
        }
    }

    fn pdv(&mut self, ctx: &mut Ctx<'_>, pdv: parser::Pdv<'_>) {
        let Ok(apdu) = ber::first(pdv.data) else {
            return ctx.violation(ViolationKind::Malformed, "invalid presentation data value");
        };
        match apdu.tag.class {
            Class::Application => {
                if let Some(a) = parser::acse(&apdu) {
                    self.acse(ctx, &a);
                }
            }
            Class::Context if self.mms_context.is_none_or(|c| c == pdv.context) => self.mms(ctx, pdv.data),
            _ => {}
        }
    }

    fn acse(&mut self, ctx: &mut Ctx<'_>, a: &parser::Acse<'_>) {
        match a.kind {
            parser::AARQ => self.association = Some(Association { ts: ctx.ts, calling: a.calling, called: a.called }),
            parser::AARE => {
                let initiate = a.user.and_then(|u| parser::pdu(u).ok());
                let result = match (a.result, initiate) {
                    (Some(r @ 1..), _) => OperationResult::Error(u32::try_from(r).unwrap_or(u32::MAX)),
                    (_, Some(Pdu::InitiateError { class, code })) => OperationResult::Error(error_code(class, code)),
                    _ => OperationResult::Success,
                };
                if let (Some(assoc), Some(resp)) = (self.association.as_mut(), a.responding) {
                    assoc.called = assoc.called.or(Some(resp));
                }
                self.associated(ctx, result);
            }
            _ => {}
        }
    }

    /// Reports the association once its answer is known.
    fn associated(&mut self, ctx: &mut Ctx<'_>, result: OperationResult) {
        let Some(assoc) = self.association.take() else { return };
        let now = ctx.ts;
        ctx.ts = assoc.ts;
        ctx.operation(OperationKind::Session, INITIATE, Some(format_args!("{assoc}")), result);
        ctx.ts = now;
    }

    fn mms(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let pdu = match parser::pdu(data) {
            Ok(p) => p,
            Err(e) => return ctx.violation(ViolationKind::Malformed, e.to_string()),
        };
        match pdu {
            Pdu::Request { invoke, service } => {
                if ctx.dir == Direction::ToServer {
                    ctx.sender_identity(IdentityField::Role, "scada-client");
                }
                let op = request(&service);
                self.remember(ctx, invoke, op);
            }
            Pdu::Response { invoke, service } => {
                if service.is_context(SERVICE_IDENTIFY) {
                    identity(ctx, &service);
                }
                if let Some(p) = self.answered(ctx, invoke) {
                    if let Some(req) = p.op {
                        if req.code != service.tag.number {
                            let detail = format!("MMS response service {} to a request of service {}", service.tag.number, req.code);
                            ctx.violation(ViolationKind::UnexpectedResponse, detail);
                        }
                        emit(ctx, &p, &req, response_result(req.code, &service));
                    }
                }
            }
            Pdu::Error { invoke, class, code } => {
                if let Some(p @ Pending { op: Some(req), .. }) = self.answered(ctx, invoke) {
                    emit(ctx, &p, &req, OperationResult::Error(error_code(class, code)));
                }
            }
            Pdu::Reject { invoke: Some(invoke), reason: (tag, code) } => {
                if let Some(p @ Pending { op: Some(req), .. }) = self.answered(ctx, invoke) {
                    let code = 0x1_0000 | ((tag & 0xff) << 8) | (code & 0xff);
                    emit(ctx, &p, &req, OperationResult::Error(code));
                }
            }
            Pdu::Reject { invoke: None, .. }
            | Pdu::Unconfirmed
            | Pdu::InitiateRequest
            | Pdu::InitiateResponse
            | Pdu::InitiateError { .. }
            | Pdu::Other(_) => {}
        }
    }

    fn remember(&mut self, ctx: &mut Ctx<'_>, invoke: u32, op: Option<Request>) {
        let dir = ctx.dir.index();
        let (Some(ring), Some(next), Some(seen)) = (self.pending.get_mut(dir), self.next.get_mut(dir), self.seen_request.get_mut(dir))
        else {
            return;
        };
        *seen = true;
        let slot = ring.iter().position(Option::is_none).unwrap_or(*next);
        *next = (slot + 1) % PENDING;
        let request = Pending { invoke, ts: ctx.ts, by_server: ctx.dir == Direction::ToClient, op };
        // A request evicted unanswered is still reported, without result.
        if let Some(p @ Pending { op: Some(old), .. }) = ring.get_mut(slot).and_then(|s| s.replace(request)) {
            emit(ctx, &p, &old, OperationResult::Unknown);
        }
    }

    /// The request a response in `ctx.dir` answers (sent the other way).
    fn answered(&mut self, ctx: &mut Ctx<'_>, invoke: u32) -> Option<Pending> {
        if ctx.dir == Direction::ToClient {
            ctx.sender_identity(IdentityField::Role, "ied");
        }
        let requester = 1 - ctx.dir.index();
        let found = self.pending.get_mut(requester)?.iter_mut().find(|p| p.is_some_and(|p| p.invoke == invoke)).and_then(Option::take);
        if found.is_none() && self.seen_request.get(requester) == Some(&true) && !std::mem::replace(&mut self.reported_orphan, true) {
            ctx.violation(ViolationKind::UnexpectedResponse, format!("MMS response to unknown invoke id {invoke}"));
        }
        found
    }
}

/// A confirmed-ErrorPDU's class and code as one result code.
fn error_code(class: u32, code: u32) -> u32 {
    ((class & 0xff) << 8) | (code & 0xff)
}

/// Reports an operation at its request's time, with the requester as the
/// operation's client.
fn emit(ctx: &mut Ctx<'_>, p: &Pending, req: &Request, result: OperationResult) {
    let now = ctx.ts;
    ctx.ts = p.ts;
    if p.by_server {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
    if req.target.len == 0 {
        ctx.operation(req.kind, req.code, None, result);
    } else {
        ctx.operation(req.kind, req.code, Some(format_args!("{}", req.target)), result);
    }
    if p.by_server {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
    ctx.ts = now;
}

/// Service tags used by name.
const SERVICE_IDENTIFY: u32 = 2;
const SERVICE_READ: u32 = 4;
const SERVICE_WRITE: u32 = 5;

/// Vendor, model and revision of an identify response describe its sender.
fn identity(ctx: &mut Ctx<'_>, service: &Tlv<'_>) {
    let (vendor, model, revision) = parser::identify(service);
    for (field, value) in [(IdentityField::Vendor, vendor), (IdentityField::Model, model), (IdentityField::Firmware, revision)] {
        if let Some(v) = value {
            ctx.sender_identity(field, v);
        }
    }
}

/// The result of a response: read and write name a failed item.
fn response_result(code: u32, service: &Tlv<'_>) -> OperationResult {
    let failure = match code {
        SERVICE_READ => service.context_child(1).and_then(|r| parser::first_failure(&r)),
        SERVICE_WRITE => parser::first_failure(service),
        _ => None,
    };
    failure.map_or(OperationResult::Success, OperationResult::Error)
}

/// Names of the basic object classes (getNameList).
const OBJECT_CLASSES: [&str; 14] = [
    "namedVariable",
    "scatteredAccess",
    "namedVariableList",
    "namedType",
    "semaphore",
    "eventCondition",
    "eventAction",
    "eventEnrollment",
    "journal",
    "domain",
    "programInvocation",
    "operatorStation",
    "dataExchange",
    "accessControlList",
];

/// What a confirmed service request does and names; None for requests
/// that continue a transfer (segments, file reads and closes).
fn request(service: &Tlv<'_>) -> Option<Request> {
    use OperationKind::*;
    let code = service.tag.number;
    let mut target = Text::default();
    let t = &mut target;
    let child = |n| service.context_child(n);
    let identifier = |t: &mut Text, prefix: &[u8], v: Option<Tlv<'_>>| {
        if let Some(v) = v {
            t.push(prefix).push(v.value);
        }
    };
    let kind = match code {
        0 => Diagnostics,
        1 => {
            let class = child(0).and_then(|c| c.inner()).filter(|c| c.is_context(0)).and_then(|c| parser::small(&c));
            let class = class.and_then(|c| OBJECT_CLASSES.get(c as usize)).copied().unwrap_or("object");
            t.push(b"names of ").push(class.as_bytes());
            match child(1).and_then(|s| s.inner()) {
                Some(s) if s.is_context(1) => identifier(t, b" in domain ", Some(s)),
                Some(s) if s.is_context(2) => {
                    t.push(b" of association");
                }
                _ => {
                    t.push(b" of vmd");
                }
            }
            Read
        }
        SERVICE_IDENTIFY => Identify,
        3 => {
            if let Some(n) = child(1).and_then(|c| c.inner()).as_ref().and_then(parser::object_name) {
                t.name(&n);
            }
            ConfigurationChange
        }
        SERVICE_READ => {
            if let Some(spec) = child(1).and_then(|s| s.inner()) {
                variables(t, &spec);
            }
            Read
        }
        SERVICE_WRITE => {
            if let Some(Ok(spec)) = service.children().next() {
                variables(t, &spec);
            }
            Write
        }
        6 => {
            // name [0] ObjectName (or an address [1], not named here).
            let name = service.inner().filter(|c| c.is_context(0)).and_then(|c| c.inner());
            if let Some(n) = name.as_ref().and_then(parser::object_name) {
                t.name(&n);
            }
            Read
        }
        12 | 15 => {
            if let Some(n) = service.inner().as_ref().and_then(parser::object_name) {
                t.push(if code == 12 { b"list " } else { b"" }).name(&n);
            }
            Read
        }
        11 => {
            if let Some(n) = service.children().next().and_then(Result::ok).as_ref().and_then(parser::object_name) {
                t.push(b"list ").name(&n);
            }
            ConfigurationChange
        }
        13 => {
            let lists = child(1).map(|l| l.children().map_while(Result::ok).filter_map(|n| parser::object_name(&n).map(|n| (n, true))));
            match lists {
                Some(names) => names_target(t, names),
                None => identifier(t, b"lists of domain ", child(2)),
            }
            ConfigurationChange
        }
        7 | 8 | 10 | 14 | 16 | 21 | 22 | 47 | 48 | 51 | 53 | 54 | 57..=59 | 67 | 69 | 70 => ConfigurationChange,
        37 => {
            t.push(b"domain ").push(service.value);
            Read
        }
        45 => {
            t.push(b"program invocation ").push(service.value);
            Read
        }
        9 | 49 | 50 | 55 | 56 | 60 | 61 | 63..=65 | 68 | 71 => Read,
        26 | 32 | 34 => {
            identifier(t, b"domain ", child(0));
            ProgramDownload
        }
        29 | 36 => {
            t.push(b"domain ").push(service.value);
            if code == 29 {
                ProgramUpload
            } else {
                ProgramDelete
            }
        }
        33 | 35 => {
            identifier(t, b"domain ", child(0));
            ProgramUpload
        }
        38 => {
            identifier(t, b"program invocation ", child(0));
            ConfigurationChange
        }
        39 => {
            t.push(b"program invocation ").push(service.value);
            ConfigurationChange
        }
        40..=44 => {
            identifier(t, b"program invocation ", child(0));
            match code {
                40 | 42 => ControllerStart,
                43 => DeviceReset,
                _ => ControllerStop,
            }
        }
        46 => {
            file(t, child(2).map(|f| f.value));
            ProgramDownload
        }
        66 => Write,
        72 => {
            file(t, child(0).map(|f| f.value));
            Read
        }
        75 => {
            file(t, child(0).map(|f| f.value));
            ConfigurationChange
        }
        76 => {
            file(t, Some(service.value));
            ProgramDelete
        }
        77 => {
            t.push(b"file directory");
            if let Some(spec) = child(0) {
                t.push(b" ");
                parser::file_name(spec.value).for_each(|p| {
                    t.push(p);
                });
            }
            Read
        }
        27 | 28 | 30 | 31 | 73 | 74 => return None,
        _ => Other,
    };
    Some(Request { kind, code, target })
}

/// `file <name>` from a FileName's contents.
fn file(t: &mut Text, name: Option<&[u8]>) {
    t.push(b"file ");
    if let Some(name) = name {
        parser::file_name(name).for_each(|p| {
            t.push(p);
        });
    }
}

/// The variables of a VariableAccessSpecification.
fn variables(t: &mut Text, spec: &Tlv<'_>) {
    let mut names: [Option<(ObjectName<'_>, bool)>; SHOWN] = [None; SHOWN];
    let mut count = 0usize;
    parser::variables(spec, |n, list| {
        if let Some(slot) = names.get_mut(count) {
            *slot = Some((n, list));
        }
        count += 1;
    });
    names_target(t, names.into_iter().flatten());
    if let Some(more @ 1..) = count.checked_sub(SHOWN) {
        let _ = write!(t, " +{more} more");
    }
}

/// Up to [`SHOWN`] names, comma-separated; `true` marks a list name.
fn names_target<'a>(t: &mut Text, names: impl Iterator<Item = (ObjectName<'a>, bool)>) {
    for (i, (n, list)) in names.take(SHOWN).enumerate() {
        if i > 0 {
            t.push(b", ");
        }
        if list {
            t.push(b"list ");
        }
        t.name(&n);
    }
}

#[cfg(test)]
mod tests;
