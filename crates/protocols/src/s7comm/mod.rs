//! Siemens S7 communication on ISO transport (TPKT/COTP, TCP 102).
//!
//! TCP 102 carries classic S7comm (protocol id 0x32) and S7comm-plus (0x72),
//! and a flow can only be told apart by its first bytes. Both dissector
//! types, [`S7comm`] and [`crate::s7comm_plus::S7commPlus`], are registered
//! on 102 and share one engine ([`Iso`]): TPKT framing, COTP connection and
//! data TPDUs, TSDU reassembly, then a dispatch on each TSDU's protocol id.
//! Their probes decide which of the two owns the flow (and names it on the
//! Contact): a COTP connect whose TSAP is a "SIMATIC-..." string or a DT
//! carrying 0x72 → S7comm-plus; two-byte S7 TSAPs or a DT carrying 0x32 →
//! S7comm. PDUs of the other family on the same flow are still decoded and
//! reported under their own protocol (and noted with [`Ctx::carries`]).
//!
//! Classic S7comm (this folder): Setup Communication, Read/Write Var with
//! their addresses, block upload/download, PLC stop, PI services (start,
//! block insert/delete...), Userdata (SZL reads with module and component
//! identification, clock, security, block functions). Responses are paired
//! with requests by PDU reference.

mod parser;

use crate::cotp::{self, Cotp, DataAssembly, Tpkt};
use crate::s7comm_plus;
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{Block, Item, UserParam, Version};
use std::fmt;

/// Outstanding requests remembered per flow and protocol.
pub(crate) const PENDING: usize = 8;
/// Largest SZL answer joined from several Userdata data units.
const MAX_SZL: usize = 4096;
/// Variable addresses kept for an operation's target.
const SHOWN_ITEMS: usize = 3;

/// Classic S7comm dissector (also decodes S7comm-plus PDUs on its flows).
#[derive(Default)]
pub struct S7comm(Iso);

impl Dissector for S7comm {
    const REGISTRATION: Registration = Registration { tcp_ports: &[102], probe: Some(probe), ..Registration::new(Protocol::S7comm) };

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
    is_tcp && family(payload) == Some(Family::Classic)
}

/// Which S7 protocol a flow's first payload belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// Classic S7comm (0x32).
    Classic,
    /// S7comm-plus (0x72).
    Plus,
}

/// Recognises the S7 family from a flow's first payload (one whole TPKT).
pub(crate) fn family(payload: &[u8]) -> Option<Family> {
    let Tpkt::Whole { tpdu, .. } = cotp::tpkt(payload) else { return None };
    match cotp::cotp(tpdu)? {
        Cotp::Connect { src_tsap, dst_tsap, .. } => {
            let named = |t: Option<&[u8]>| t.is_some_and(|t| t.starts_with(b"SIMATIC-"));
            if named(src_tsap) || named(dst_tsap) {
                Some(Family::Plus)
            } else if (classic_tsap(src_tsap) || classic_tsap(dst_tsap))
                && src_tsap.is_some_and(|t| t.len() == 2)
                && dst_tsap.is_some_and(|t| t.len() == 2)
            {
                Some(Family::Classic)
            } else {
                None
            }
        }
        Cotp::Data { payload, last } => match payload.first() {
            Some(&parser::PROTOCOL_ID) if parser::looks_like_s7(payload) => Some(Family::Classic),
            Some(&s7comm_plus::PROTOCOL_ID) if s7comm_plus::looks_like_plus(payload, last) => Some(Family::Plus),
            _ => None,
        },
        Cotp::Other(_) => None,
    }
}

/// A two-byte S7 TSAP: connection type (1 PG, 2 OP, 3 S7 basic, 0x10+
/// configured connections), then rack and slot.
fn classic_tsap(tsap: Option<&[u8]>) -> bool {
    matches!(tsap, Some([1..=3 | 0x10..=0x1f, _]))
}

/// The shared per-flow state of both S7 dissectors, boxed on first use so
/// that flows of other protocols do not pay for it.
#[derive(Default)]
pub(crate) struct Iso(Option<Box<Engine>>);

impl Iso {
    /// In-order bytes of one direction; returns how many were consumed.
    pub(crate) fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        self.0.get_or_insert_with(Box::default).stream(ctx, data)
    }

    /// Bytes were lost in `dir`.
    pub(crate) fn gap(&mut self, dir: Direction) {
        if let Some(e) = &mut self.0 {
            e.gap(dir);
        }
    }

    /// True once the flow turned out to carry something else.
    pub(crate) fn finished(&self) -> bool {
        self.0.as_ref().is_some_and(|e| e.apps.foreign)
    }
}

#[derive(Default)]
struct Engine {
    sides: [Side; 2],
    apps: Apps,
}

/// Framing state of one direction.
#[derive(Default)]
struct Side {
    tsdu: DataAssembly,
    /// A TPKT was found at a known boundary (false at the start and after gaps).
    synced: bool,
}

impl Engine {
    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let side = &mut self.sides[ctx.dir.index()];
        let mut used = 0;
        while let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) {
            if self.apps.foreign {
                return data.len();
            }
            let framed = if side.synced || cotp::looks_like_tpkt(rest) { cotp::tpkt(rest) } else { Tpkt::Invalid };
            match framed {
                Tpkt::Whole { tpdu, used: n } => {
                    side.synced = true;
                    used += n;
                    self.apps.tpdu(ctx, &mut side.tsdu, tpdu);
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

    fn gap(&mut self, dir: Direction) {
        let side = &mut self.sides[dir.index()];
        side.synced = false;
        side.tsdu = DataAssembly::default();
        self.apps.plus.gap(dir);
    }
}

/// How many bytes to skip to reach the next plausible TPKT start (keeping
/// a possible partial header at the end).
fn resync(data: &[u8]) -> usize {
    for at in 1..data.len() {
        let Some(candidate) = data.get(at..) else { break };
        if candidate.first() != Some(&3) {
            continue;
        }
        if candidate.len() < 6 || cotp::looks_like_tpkt(candidate) {
            return at;
        }
    }
    data.len()
}

/// A COTP connection request waiting for its confirm.
#[derive(Clone, Copy, Default)]
struct Connect {
    ts: Timestamp,
    tsap: [u8; 16],
    len: u8,
}

impl fmt::Display for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tsap = self.tsap.get(..usize::from(self.len)).unwrap_or(&[]);
        match tsap {
            [hi, lo] if classic_tsap(Some(tsap)) => write!(f, "tsap 0x{hi:02x}{lo:02x} rack {} slot {}", lo >> 5, lo & 0x1f),
            _ if !tsap.is_empty() && tsap.iter().all(|b| (0x20..0x7f).contains(b)) => {
                f.write_str("tsap ")?;
                tsap.iter().try_for_each(|&b| fmt::Write::write_char(f, char::from(b)))
            }
            _ => {
                f.write_str("tsap 0x")?;
                tsap.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// Application state above COTP.
#[derive(Default)]
struct Apps {
    /// The flow's data TPDUs carry neither S7comm nor S7comm-plus.
    foreign: bool,
    seen_data: bool,
    connect: Option<Connect>,
    classic: Classic,
    plus: s7comm_plus::Session,
}

impl Apps {
    fn tpdu(&mut self, ctx: &mut Ctx<'_>, assembly: &mut DataAssembly, tpdu: &[u8]) {
        match cotp::cotp(tpdu) {
            None => ctx.violation(ViolationKind::Malformed, "invalid COTP header"),
            Some(Cotp::Data { payload, last }) => {
                if let Some(tsdu) = assembly.push(payload, last) {
                    self.tsdu(ctx, tsdu);
                }
            }
            Some(Cotp::Connect { confirm: false, dst_tsap, src_tsap }) => self.connect_request(ctx, src_tsap, dst_tsap),
            Some(Cotp::Connect { confirm: true, .. }) => self.connect_result(ctx, OperationResult::Success),
            // Disconnect request or TPDU error in answer to a connect.
            Some(Cotp::Other(kind @ (0x80 | 0x70))) => self.connect_result(ctx, OperationResult::Error(u32::from(kind))),
            Some(Cotp::Other(_)) => {}
        }
    }

    fn connect_request(&mut self, ctx: &mut Ctx<'_>, src: Option<&[u8]>, dst: Option<&[u8]>) {
        if ctx.dir != Direction::ToServer {
            return;
        }
        // The called TSAP names the PLC side (rack/slot, or SIMATIC-ROOT-...).
        let tsap = dst.filter(|t| !t.is_empty()).or(src).unwrap_or(&[]);
        let mut c = Connect { ts: ctx.ts, ..Connect::default() };
        let n = tsap.len().min(c.tsap.len());
        if let (Some(to), Some(from)) = (c.tsap.get_mut(..n), tsap.get(..n)) {
            to.copy_from_slice(from);
        }
        c.len = n as u8;
        self.connect = Some(c);
        let role = |t: Option<&[u8]>| match t {
            Some(b"SIMATIC-ROOT-HMI") => Some("hmi"),
            Some(b"SIMATIC-ROOT-ES") => Some("engineering-workstation"),
            _ => None,
        };
        if let Some(r) = role(src).or(role(dst)) {
            ctx.sender_identity(IdentityField::Role, r);
        }
    }

    fn connect_result(&mut self, ctx: &mut Ctx<'_>, result: OperationResult) {
        if ctx.dir != Direction::ToClient {
            return;
        }
        if let Some(c) = self.connect.take() {
            let now = ctx.ts;
            ctx.ts = c.ts;
            ctx.operation(OperationKind::Session, 0xe0, Some(format_args!("{c}")), result);
            ctx.ts = now;
        }
    }

    fn tsdu(&mut self, ctx: &mut Ctx<'_>, tsdu: &[u8]) {
        let first = !std::mem::replace(&mut self.seen_data, true);
        match tsdu.first() {
            None => {}
            Some(&parser::PROTOCOL_ID) => within(ctx, Protocol::S7comm, |ctx| self.classic.pdu(ctx, tsdu)),
            Some(&s7comm_plus::PROTOCOL_ID) => within(ctx, Protocol::S7commPlus, |ctx| self.plus.pdu(ctx, tsdu)),
            Some(_) if first => self.foreign = true,
            Some(id) => ctx.violation(ViolationKind::Malformed, format!("unknown protocol id 0x{id:02x}")),
        }
    }
}

/// Runs `f` with `ctx` reporting as `protocol` (facts, operations and
/// violations of a PDU belong to its own protocol), noting it as carried
/// when it is not the flow's protocol.
pub(crate) fn within(ctx: &mut Ctx<'_>, protocol: Protocol, f: impl FnOnce(&mut Ctx<'_>)) {
    let outer = ctx.protocol;
    if outer != protocol {
        ctx.carries(protocol);
    }
    ctx.protocol = protocol;
    f(ctx);
    ctx.protocol = outer;
}

/// What an operation names.
#[derive(Clone, Copy, Debug)]
enum Target {
    None,
    Items { items: [Item; SHOWN_ITEMS], count: u16 },
    Block(Block),
    Szl(u16, u16),
    Text(&'static str),
    Pi(&'static str, Option<Block>),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::None => Ok(()),
            Target::Items { items, count } => {
                let shown = usize::from(*count).min(SHOWN_ITEMS);
                for (i, item) in items.iter().take(shown).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                match usize::from(*count).checked_sub(shown) {
                    Some(more @ 1..) => write!(f, " +{more} more"),
                    _ => Ok(()),
                }
            }
            Target::Block(b) => write!(f, "{b}"),
            Target::Szl(id, index) => write!(f, "SZL 0x{id:04x} index 0x{index:04x}"),
            Target::Text(t) => f.write_str(t),
            Target::Pi(name, Some(b)) => write!(f, "{name} {b}"),
            Target::Pi(name, None) => f.write_str(name),
        }
    }
}

/// A request that will be reported when its response arrives.
#[derive(Clone, Copy, Debug)]
struct Request {
    kind: OperationKind,
    code: u32,
    target: Target,
}

/// An outstanding PDU reference; `op` is None for requests that are part of
/// a transfer already reported (download blocks, follow-up data units).
#[derive(Clone, Copy, Debug)]
struct Pending {
    pdu_ref: u16,
    ts: Timestamp,
    op: Option<Request>,
}

/// Classic S7comm state of one flow.
#[derive(Default)]
struct Classic {
    pending: [Option<Pending>; PENDING],
    next: usize,
    seen_request: bool,
    /// A response without request was already reported (once per flow).
    reported_orphan: bool,
    /// SZL answer being joined from several data units.
    szl: Vec<u8>,
}

/// Userdata function groups.
const GROUP_CYCLIC: u8 = 2;
const GROUP_BLOCK: u8 = 3;
const GROUP_CPU: u8 = 4;
const GROUP_SECURITY: u8 = 5;
const GROUP_PROGRAMMER: u8 = 6;
const GROUP_TIME: u8 = 7;

impl Classic {
    fn pdu(&mut self, ctx: &mut Ctx<'_>, pdu: &[u8]) {
        let h = match parser::header(pdu) {
            Ok(h) => h,
            Err(parser::HeaderError::Malformed) => return ctx.violation(ViolationKind::Malformed, "S7comm header too short"),
            Err(parser::HeaderError::UnknownRosctr(r)) => {
                return ctx.violation(ViolationKind::ReservedValue, format!("unknown S7comm ROSCTR {r}"))
            }
            Err(parser::HeaderError::Length { declared, actual }) => {
                return ctx.violation(ViolationKind::LengthMismatch, format!("S7comm header announces {declared} bytes, PDU has {actual}"))
            }
        };
        match h.rosctr {
            parser::JOB => self.job(ctx, &h),
            parser::USERDATA => self.userdata(ctx, &h),
            _ => self.ack(ctx, &h),
        }
    }

    fn remember(&mut self, ctx: &mut Ctx<'_>, pdu_ref: u16, op: Option<Request>) {
        self.seen_request = true;
        let slot = self.pending.iter().position(Option::is_none).unwrap_or(self.next);
        let request = Pending { pdu_ref, ts: ctx.ts, op };
        // A request evicted unanswered is still reported, without result.
        if let Some(Pending { ts, op: Some(old), .. }) = self.pending.get_mut(slot).and_then(|s| s.replace(request)) {
            emit(ctx, ts, &old, OperationResult::Unknown);
        }
        self.next = (slot + 1) % PENDING;
    }

    fn take(&mut self, ctx: &mut Ctx<'_>, pdu_ref: u16) -> Option<Pending> {
        let found = self.pending.iter_mut().find(|p| p.is_some_and(|p| p.pdu_ref == pdu_ref)).and_then(Option::take);
        if found.is_none() && self.seen_request && !std::mem::replace(&mut self.reported_orphan, true) {
            ctx.violation(ViolationKind::UnexpectedResponse, format!("S7comm response to unknown PDU reference {pdu_ref}"));
        }
        found
    }

    fn job(&mut self, ctx: &mut Ctx<'_>, h: &parser::Header<'_>) {
        let Some(&function) = h.param.first() else {
            return ctx.violation(ViolationKind::Malformed, "S7comm job without parameters");
        };
        if !parser::known_job_function(function) {
            ctx.violation(ViolationKind::IllegalFunction, format!("unknown S7comm job function 0x{function:02x}"));
        }
        let code = u32::from(function);
        let op = |kind, target| Some(Request { kind, code, target });
        let request = match function {
            parser::FN_SETUP => op(OperationKind::Session, Target::Text("setup communication")),
            parser::FN_READ_VAR | parser::FN_WRITE_VAR => {
                let mut items = [Item::default(); SHOWN_ITEMS];
                let mut count = 0u16;
                for item in parser::items(h.param) {
                    if let Some(slot) = items.get_mut(usize::from(count)) {
                        *slot = item;
                    }
                    count = count.saturating_add(1);
                }
                ctx.sender_identity(IdentityField::Role, "scada-client");
                let kind = if function == parser::FN_READ_VAR { OperationKind::Read } else { OperationKind::Write };
                op(kind, Target::Items { items, count })
            }
            parser::FN_REQUEST_DOWNLOAD | parser::FN_START_UPLOAD => {
                ctx.sender_identity(IdentityField::Role, "engineering-workstation");
                let target = parser::transfer_block(h.param).map_or(Target::None, Target::Block);
                let kind = if function == parser::FN_START_UPLOAD { OperationKind::ProgramUpload } else { OperationKind::ProgramDownload };
                op(kind, target)
            }
            parser::FN_PI_SERVICE => pi_request(ctx, h.param),
            parser::FN_PLC_STOP => {
                let target = parser::stop_service(h.param).and_then(known_service).map_or(Target::None, |n| Target::Pi(n, None));
                op(OperationKind::ControllerStop, target)
            }
            0x00 => op(OperationKind::Other, Target::Text("cpu services")),
            // Download block/ended and upload/end upload continue a transfer
            // reported at its start.
            _ => None,
        };
        self.remember(ctx, h.pdu_ref, request);
    }

    fn ack(&mut self, ctx: &mut Ctx<'_>, h: &parser::Header<'_>) {
        let Some(p) = self.take(ctx, h.pdu_ref) else { return };
        if ctx.dir == Direction::ToClient {
            ctx.sender_identity(IdentityField::Role, "plc");
        }
        let Some(req) = p.op else { return };
        let result = if h.error != 0 {
            OperationResult::Error(u32::from(h.error))
        } else {
            let function = req.code as u8;
            let item_error = matches!(function, parser::FN_READ_VAR | parser::FN_WRITE_VAR)
                .then(|| parser::first_item_error(function, h.data))
                .flatten();
            item_error.map_or(OperationResult::Success, |c| OperationResult::Error(u32::from(c)))
        };
        emit(ctx, p.ts, &req, result);
    }

    fn userdata(&mut self, ctx: &mut Ctx<'_>, h: &parser::Header<'_>) {
        let Some(p) = parser::user_param(h.param) else {
            return ctx.violation(ViolationKind::Malformed, "invalid S7comm userdata parameters");
        };
        match p.kind {
            4 if p.extended => self.remember(ctx, h.pdu_ref, None),
            4 => {
                let request = user_request(ctx, &p, h.data);
                if p.group == GROUP_CPU && p.sub == 1 {
                    self.szl.clear();
                }
                self.remember(ctx, h.pdu_ref, request);
            }
            8 => {
                let Some(pending) = self.take(ctx, h.pdu_ref) else { return };
                if ctx.dir == Direction::ToClient {
                    ctx.sender_identity(IdentityField::Role, "plc");
                }
                if p.group == GROUP_CPU && p.sub == 1 && p.error == 0 {
                    self.szl_data(ctx, &p, h.data);
                }
                if let Some(req) = pending.op {
                    let result = if p.error != 0 { OperationResult::Error(u32::from(p.error)) } else { OperationResult::Success };
                    emit(ctx, pending.ts, &req, result);
                }
            }
            // Push (cyclic data, mode transitions, alarms) and others.
            _ => {}
        }
    }

    /// Joins SZL data units and reads identity facts from whole answers.
    fn szl_data(&mut self, ctx: &mut Ctx<'_>, p: &UserParam, data: &[u8]) {
        let Some((0xff, payload)) = parser::user_data(data) else { return };
        if p.last && self.szl.is_empty() {
            return szl_facts(ctx, payload);
        }
        if self.szl.len() + payload.len() > MAX_SZL {
            self.szl.clear();
            return;
        }
        self.szl.extend_from_slice(payload);
        if p.last {
            let joined = std::mem::take(&mut self.szl);
            szl_facts(ctx, &joined);
        }
    }
}

/// Reports an operation at its request's time.
fn emit(ctx: &mut Ctx<'_>, ts: Timestamp, req: &Request, result: OperationResult) {
    let now = ctx.ts;
    ctx.ts = ts;
    match req.target {
        Target::None => ctx.operation(req.kind, req.code, None, result),
        t => ctx.operation(req.kind, req.code, Some(format_args!("{t}")), result),
    }
    ctx.ts = now;
}

/// The PI service names worth naming in a target.
fn known_service(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"P_PROGRAM" => "P_PROGRAM",
        b"_INSE" => "_INSE",
        b"_DELE" => "_DELE",
        b"_MODU" => "_MODU",
        b"_GARB" => "_GARB",
        b"_EXEC" => "_EXEC",
        b"_N_LOGIN_" => "_N_LOGIN_",
        _ => return None,
    })
}

/// Maps a PI service request to an operation.
fn pi_request(ctx: &mut Ctx<'_>, param: &[u8]) -> Option<Request> {
    let code = u32::from(parser::FN_PI_SERVICE);
    let Some(pi) = parser::pi_service(param) else {
        ctx.violation(ViolationKind::Malformed, "invalid S7comm PI service parameters");
        return Some(Request { kind: OperationKind::Other, code, target: Target::None });
    };
    let name = known_service(pi.name).unwrap_or("PI service");
    let (kind, block) = match pi.name {
        b"P_PROGRAM" if pi.args.first() == Some(&b'C') => (OperationKind::ColdRestart, None),
        b"P_PROGRAM" => (OperationKind::ControllerStart, None),
        b"_INSE" => (OperationKind::ProgramDownload, parser::pi_block(pi.args)),
        b"_DELE" => (OperationKind::ProgramDelete, parser::pi_block(pi.args)),
        b"_MODU" => (OperationKind::ConfigurationChange, None),
        _ => (OperationKind::Other, None),
    };
    if matches!(kind, OperationKind::ProgramDownload | OperationKind::ProgramDelete) {
        ctx.sender_identity(IdentityField::Role, "engineering-workstation");
    }
    Some(Request { kind, code, target: Target::Pi(name, block) })
}

/// Maps a Userdata request to an operation.
fn user_request(ctx: &mut Ctx<'_>, p: &UserParam, data: &[u8]) -> Option<Request> {
    let code = (u32::from(p.group) << 8) | u32::from(p.sub);
    let op = |kind, target| Some(Request { kind, code, target });
    match (p.group, p.sub) {
        (GROUP_CPU, 1) => {
            let (id, index) = parser::user_data(data).and_then(|(_, d)| parser::szl_request(d))?;
            let kind = if matches!(id & 0xff, 0x11 | 0x1c) { OperationKind::Identify } else { OperationKind::Diagnostics };
            op(kind, Target::Szl(id, index))
        }
        (GROUP_CPU, _) => op(OperationKind::Diagnostics, Target::Text("cpu function")),
        (GROUP_TIME, 1 | 3) => op(OperationKind::Read, Target::Text("clock")),
        (GROUP_TIME, 2 | 4) => op(OperationKind::TimeSet, Target::Text("clock")),
        (GROUP_SECURITY, 1) => op(OperationKind::Login, Target::Text("password")),
        (GROUP_SECURITY, 2) => op(OperationKind::Login, Target::Text("clear password")),
        (GROUP_SECURITY, _) => op(OperationKind::Login, Target::None),
        (GROUP_BLOCK, 1 | 2) => op(OperationKind::Read, Target::Text("block list")),
        (GROUP_BLOCK, 3) => {
            let block = parser::user_data(data).and_then(|(_, d)| parser::block(d.get(1..)?));
            op(OperationKind::Read, block.map_or(Target::Text("block info"), Target::Block))
        }
        (GROUP_CYCLIC, _) => op(OperationKind::Read, Target::Text("cyclic data")),
        (GROUP_PROGRAMMER, _) => op(OperationKind::Diagnostics, Target::Text("programmer command")),
        (0 | 1 | GROUP_BLOCK | GROUP_TIME | 8 | 0x0f, _) => op(OperationKind::Other, Target::None),
        (group, _) => {
            ctx.violation(ViolationKind::ReservedValue, format!("unknown S7comm userdata function group {group}"));
            None
        }
    }
}

/// Order number prefixes of Siemens automation products.
const SIEMENS_ORDER_PREFIXES: [&str; 5] = ["6ES5", "6ES7", "6AG1", "6ED1", "6GK"];

/// Identity facts of an SZL answer (they describe the responding PLC).
fn szl_facts(ctx: &mut Ctx<'_>, payload: &[u8]) {
    let Some(szl) = parser::szl(payload) else { return };
    match szl.id & 0xff {
        // Module identification: order numbers and versions.
        0x11 if szl.record_len >= 28 => {
            for (index, record) in szl.records() {
                let order = record.get(2..22).and_then(parser::text);
                match (index, parser::module_version(record)) {
                    (1 | 6, version) => {
                        if let Some(o) = order {
                            ctx.sender_identity(IdentityField::OrderNumber, o);
                            if SIEMENS_ORDER_PREFIXES.iter().any(|p| o.starts_with(p)) {
                                ctx.sender_identity(IdentityField::Vendor, "Siemens");
                            }
                        }
                        if let (1, Some(v @ Version::Hardware(1..))) = (index, version) {
                            ctx.sender_identity(IdentityField::HardwareVersion, &v.to_string());
                        }
                    }
                    (7, Some(v @ Version::Firmware(..))) => ctx.sender_identity(IdentityField::Firmware, &v.to_string()),
                    _ => {}
                }
            }
        }
        // Component identification: names, serial number, module type.
        0x1c if szl.record_len >= 34 => {
            for (index, record) in szl.records() {
                let Some(value) = record.get(2..34).and_then(parser::text) else { continue };
                match index {
                    1 => ctx.sender_identity(IdentityField::DeviceName, value),
                    2 => ctx.sender_identity(IdentityField::Description, value),
                    3 | 0x0b => ctx.sender_identity(IdentityField::Location, value),
                    4 if value.contains("Siemens") => ctx.sender_identity(IdentityField::Vendor, "Siemens"),
                    5 => ctx.sender_identity(IdentityField::Serial, value),
                    7 => {
                        ctx.sender_identity(IdentityField::Model, value);
                        ctx.sender_identity(IdentityField::ProductName, value);
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
