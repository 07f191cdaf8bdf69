//! DNP3 (IEEE 1815) on TCP and UDP port 20000: link frames with CRC checks,
//! transport reassembly, and application requests reported as operations,
//! matched to their responses by application sequence number.

mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{AppHeader, Link, LinkHeader, ObjectRef, Transport, MAX_USER_DATA};
use std::fmt;

/// Bytes of one application fragment kept while reassembling (the
/// application header and the first object header are all that is read).
const MAX_FRAGMENT: usize = 2048;
/// Outstanding requests remembered per flow.
const PENDING: usize = 8;
/// Violations reported per flow at most, so a garbage stream cannot flood.
const MAX_VIOLATIONS: u8 = 32;
/// Destination addresses from 0xfffd up are broadcasts (no response).
const BROADCAST: u16 = 0xfffd;

/// Reports an operation whose request went in `request_dir` at `request_ts`:
/// the endpoint that sent the request is the operation's client even when it
/// is the flow's server (a station that was listening, or a guess from ports).
pub(crate) fn operation_from(
    ctx: &mut Ctx<'_>,
    request_dir: Direction,
    request_ts: Timestamp,
    kind: OperationKind,
    code: u32,
    target: Option<&dyn fmt::Display>,
    result: OperationResult,
) {
    let swap = request_dir == Direction::ToClient;
    if swap {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
    let now = std::mem::replace(&mut ctx.ts, request_ts);
    match target {
        Some(t) => ctx.operation(kind, code, Some(format_args!("{t}")), result),
        None => ctx.operation(kind, code, None, result),
    }
    ctx.ts = now;
    if swap {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
}

/// Per-flow reporting limits shared by the OT dissectors: a role fact once
/// per direction, and at most [`MAX_VIOLATIONS`] violations.
#[derive(Default)]
pub(crate) struct Reporter {
    roles_reported: [bool; 2],
    violations: u8,
}

impl Reporter {
    /// Reports a violation unless the flow already reported many.
    pub(crate) fn flag(&mut self, ctx: &mut Ctx<'_>, kind: ViolationKind, detail: impl Into<String>) {
        if self.violations < MAX_VIOLATIONS {
            self.violations += 1;
            ctx.violation(kind, detail);
        }
    }

    /// Reports the sender's role, once per direction.
    pub(crate) fn role(&mut self, ctx: &mut Ctx<'_>, role: &str) {
        if let Some(seen) = self.roles_reported.get_mut(ctx.dir.index()).filter(|seen| !**seen) {
            *seen = true;
            ctx.sender_identity(IdentityField::Role, role);
        }
    }
}

/// Recognises a link header with a valid CRC.
fn probe(payload: &[u8], _is_tcp: bool) -> bool {
    payload.len() >= parser::HEADER_LEN && matches!(parser::link(payload), Link::Whole { .. } | Link::Incomplete)
}

/// Per-flow DNP3 state.
#[derive(Default)]
pub struct Dnp3 {
    /// Transport reassembly per direction.
    assembly: [Assembly; 2],
    /// Application and link state.
    app: AppState,
}

/// Joins transport segments into an application fragment, within a bound.
#[derive(Default)]
struct Assembly {
    buf: Vec<u8>,
    /// Sequence number of the segment expected next, while a fragment is open.
    next: Option<u8>,
}

impl Assembly {
    /// Adds one transport segment; returns the fragment when it is complete.
    fn push<'s>(&'s mut self, t: Transport, payload: &'s [u8]) -> Option<&'s [u8]> {
        if t.fir() {
            self.buf.clear();
            if t.fin() {
                self.next = None;
                return Some(payload);
            }
        } else if self.next != Some(t.seq()) {
            // A repeated segment is ignored; any other break drops the fragment.
            if self.next != Some((t.seq() + 1) & 0x3f) {
                self.reset();
            }
            return None;
        }
        let room = MAX_FRAGMENT.saturating_sub(self.buf.len()).min(payload.len());
        self.buf.extend_from_slice(payload.get(..room).unwrap_or_default());
        if t.fin() {
            self.next = None;
            return Some(&self.buf);
        }
        self.next = Some((t.seq() + 1) & 0x3f);
        None
    }

    /// Forgets a fragment in progress.
    fn reset(&mut self) {
        self.buf.clear();
        self.next = None;
    }
}

/// A request waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    seq: u8,
    function: u8,
    kind: OperationKind,
    object: Option<ObjectRef>,
    request_dir: Direction,
    request_ts: Timestamp,
    /// Order of arrival.
    stamp: u32,
}

/// Everything but the reassembly buffers.
#[derive(Default)]
struct AppState {
    pending: [Option<Pending>; PENDING],
    /// Stamp of the latest request.
    stamp: u32,
    /// A request was seen, so unmatched responses are worth reporting.
    requests_seen: bool,
    /// Sequence number of the last response matched (repeats are not flagged).
    last_answered: Option<u8>,
    report: Reporter,
    /// A reset-link request is outstanding from this direction.
    link_reset: [bool; 2],
    /// The stream in this direction is at a frame boundary.
    synced: [bool; 2],
    /// What the last file-open request did (upload or download).
    file_mode: Option<OperationKind>,
}

impl AppState {
    /// Handles the link function of a frame (before any user data).
    fn link_function(&mut self, ctx: &mut Ctx<'_>, header: LinkHeader) {
        let d = ctx.dir;
        match (header.primary(), header.function()) {
            (true, 0) => self.link_reset[d.index()] = true,
            (false, f @ (0 | 1)) if self.link_reset[d.reverse().index()] => {
                self.link_reset[d.reverse().index()] = false;
                let result = if f == 0 { OperationResult::Success } else { OperationResult::Error(1) };
                operation_from(ctx, d.reverse(), ctx.ts, OperationKind::Session, 0, Some(&"link reset"), result);
            }
            _ => {}
        }
    }

    /// Handles one whole application fragment.
    fn fragment(&mut self, ctx: &mut Ctx<'_>, link: LinkHeader, fragment: &[u8]) {
        let Some((app, objects)) = parser::app_header(fragment) else {
            self.report.flag(ctx, ViolationKind::Malformed, "DNP3 application fragment shorter than its header");
            return;
        };
        if app.is_response() {
            self.response(ctx, app);
        } else {
            self.request(ctx, link, app, objects);
        }
    }

    /// A request from the master: an operation, emitted when answered.
    fn request(&mut self, ctx: &mut Ctx<'_>, link: LinkHeader, app: AppHeader, objects: &[u8]) {
        self.report.role(ctx, "scada-client");
        self.requests_seen = true;
        let first = parser::first_object(objects);
        let object = first.map(|(o, _)| o);
        let kind = match app.function {
            0 => return,
            1 | 28 => OperationKind::Read,
            2 if object.is_some_and(|o| o.group == 50) => OperationKind::TimeSet,
            2..=12 => OperationKind::Write,
            13 => OperationKind::ColdRestart,
            14 => OperationKind::WarmRestart,
            15 | 16 => OperationKind::DeviceReset,
            17 => OperationKind::ControllerStart,
            18 => OperationKind::ControllerStop,
            19..=22 | 31 => OperationKind::ConfigurationChange,
            23 => OperationKind::Diagnostics,
            24 => OperationKind::TimeSet,
            25 => {
                let mode = first.and_then(|(o, rest)| parser::file_open_mode(o, rest));
                let kind = match mode {
                    Some(1) => OperationKind::ProgramUpload,
                    Some(2 | 3) => OperationKind::ProgramDownload,
                    _ => OperationKind::Other,
                };
                self.file_mode = Some(kind);
                kind
            }
            26 | 30 => self.file_mode.unwrap_or(OperationKind::Other),
            27 => OperationKind::ProgramDelete,
            29 | 32 | 33 => OperationKind::Login,
            f => {
                self.report.flag(ctx, ViolationKind::IllegalFunction, format!("undefined DNP3 function code {f}"));
                return;
            }
        };
        let code = u32::from(app.function);
        let target = object.as_ref().map(|o| o as &dyn fmt::Display);
        if matches!(app.function, 6 | 8 | 10 | 12 | 33) || link.dst >= BROADCAST {
            // No response will come.
            operation_from(ctx, ctx.dir, ctx.ts, kind, code, target, OperationResult::Unknown);
            return;
        }
        let seq = app.seq();
        // A request reusing the sequence number of an unanswered one with
        // another function means that one will not be answered any more.
        for slot in &mut self.pending {
            if let Some(old) = slot.take_if(|p| p.seq == seq && p.function != app.function) {
                emit(ctx, old, OperationResult::Unknown);
            }
        }
        self.stamp = self.stamp.wrapping_add(1);
        let new = Pending { seq, function: app.function, kind, object, request_dir: ctx.dir, request_ts: ctx.ts, stamp: self.stamp };
        let slot = self.pending.iter().position(Option::is_none).or_else(|| self.oldest(|_| true));
        if let Some(old) = slot.and_then(|i| self.pending.get_mut(i)).and_then(|p| p.replace(new)) {
            emit(ctx, old, OperationResult::Unknown);
        }
    }

    /// The slot of the oldest pending request that `matches`.
    fn oldest(&self, matches: impl Fn(&Pending) -> bool) -> Option<usize> {
        let candidates = self.pending.iter().enumerate().filter_map(|(i, p)| p.filter(|p| matches(p)).map(|p| (i, p.stamp)));
        candidates.max_by_key(|&(_, stamp)| self.stamp.wrapping_sub(stamp)).map(|(i, _)| i)
    }

    /// A response from the outstation: completes the matching request.
    fn response(&mut self, ctx: &mut Ctx<'_>, app: AppHeader) {
        self.report.role(ctx, "outstation");
        if app.function == parser::UNSOLICITED || !app.fir() {
            return;
        }
        if app.function > parser::AUTH_RESPONSE {
            self.report.flag(ctx, ViolationKind::IllegalFunction, format!("undefined DNP3 function code {}", app.function));
            return;
        }
        let seq = app.seq();
        let iin = app.iin.unwrap_or(0);
        let result = match iin & parser::IIN_REFUSED {
            0 => OperationResult::Success,
            refused => OperationResult::Error(u32::from(refused)),
        };
        if let Some(p) = self.oldest(|p| p.seq == seq).and_then(|i| self.pending.get_mut(i)).and_then(Option::take) {
            self.last_answered = Some(seq);
            emit(ctx, p, result);
            return;
        }
        if !self.requests_seen || self.last_answered == Some(seq) {
            return;
        }
        // Only one request may be outstanding: a response with another
        // sequence number still answers the latest request.
        let latest = self.pending.iter().flatten().min_by_key(|p| self.stamp.wrapping_sub(p.stamp)).map(|p| p.seq);
        let detail = match latest {
            Some(asked) => format!("DNP3 response with sequence {seq} to a request with sequence {asked}"),
            None => format!("DNP3 response with sequence {seq} matches no request"),
        };
        self.report.flag(ctx, ViolationKind::UnexpectedResponse, detail);
        if let Some(p) = self.oldest(|p| Some(p.seq) == latest).and_then(|i| self.pending.get_mut(i)).and_then(Option::take) {
            emit(ctx, p, result);
        }
    }
}

/// Reports a pending request with its result.
fn emit(ctx: &mut Ctx<'_>, p: Pending, result: OperationResult) {
    let target = p.object.as_ref().map(|o| o as &dyn fmt::Display);
    operation_from(ctx, p.request_dir, p.request_ts, p.kind, u32::from(p.function), target, result);
}

/// Where the next frame could start after bytes that are not one.
fn skip_to_start(rest: &[u8]) -> usize {
    match rest.windows(2).skip(1).position(|w| w == parser::START) {
        Some(i) => i + 1,
        None if rest.last() == Some(&parser::START[0]) => rest.len() - 1,
        None => rest.len(),
    }
}

impl Dnp3 {
    /// Reads the link frames at the start of `data`; returns the bytes used.
    fn frames(&mut self, ctx: &mut Ctx<'_>, data: &[u8], stream: bool) -> usize {
        let d = ctx.dir.index();
        let mut out = [0u8; MAX_USER_DATA];
        let mut at = 0;
        while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
            let synced = self.app.synced.get(d).copied().unwrap_or(false);
            match parser::link(rest) {
                Link::Whole { header, frame_len } => {
                    self.app.synced[d] = true;
                    self.frame(ctx, header, rest.get(..frame_len).unwrap_or(rest), &mut out);
                    at += frame_len;
                }
                Link::Incomplete if stream => break,
                Link::Incomplete => {
                    self.app.report.flag(ctx, ViolationKind::LengthMismatch, "DNP3 datagram ends inside a link frame");
                    at = data.len();
                }
                bad => {
                    if synced {
                        let (kind, detail) = match bad {
                            Link::BadCrc => (ViolationKind::ChecksumError, "DNP3 link header CRC mismatch"),
                            Link::BadLength => (ViolationKind::Malformed, "DNP3 link length below 5"),
                            _ => (ViolationKind::Malformed, "bytes that do not start a DNP3 link frame"),
                        };
                        self.app.report.flag(ctx, kind, detail);
                        self.app.synced[d] = false;
                        self.assembly[d].reset();
                    }
                    at += skip_to_start(rest);
                }
            }
        }
        at
    }

    /// Handles one whole link frame with a good header.
    fn frame(&mut self, ctx: &mut Ctx<'_>, header: LinkHeader, frame: &[u8], out: &mut [u8; MAX_USER_DATA]) {
        let d = ctx.dir.index();
        if !header.function_defined() {
            let detail = format!("reserved DNP3 link function code {} (PRM={})", header.function(), u8::from(header.primary()));
            self.app.report.flag(ctx, ViolationKind::ReservedValue, detail);
            return;
        }
        self.app.link_function(ctx, header);
        if header.user_len() == 0 {
            return;
        }
        let Some(n) = parser::user_data(frame, out) else {
            self.app.report.flag(ctx, ViolationKind::ChecksumError, "DNP3 data block CRC mismatch");
            self.assembly[d].reset();
            return;
        };
        if !(header.primary() && matches!(header.function(), 3 | 4)) {
            return;
        }
        let Some((&th, payload)) = out.get(..n).and_then(|u| u.split_first()) else { return };
        if let Some(fragment) = self.assembly[d].push(Transport(th), payload) {
            self.app.fragment(ctx, header, fragment);
        }
    }
}

impl Dissector for Dnp3 {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[20000], udp_ports: &[20000], probe: Some(probe), ..Registration::new(Protocol::Dnp3) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        self.frames(ctx, data, true)
    }

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        // Every datagram starts at a frame boundary.
        self.app.synced[ctx.dir.index()] = true;
        self.frames(ctx, data, false);
    }

    fn gap(&mut self, dir: Direction) {
        self.app.synced[dir.index()] = false;
        self.assembly[dir.index()].reset();
    }
}

#[cfg(test)]
mod tests {
    use super::parser::tests::frame;
    use super::*;
    use crate::testing::{field_values, operations, port_ep, violation_kinds, Flow};
    use palisade_model::Event;

    /// Runs `(direction, bytes)` pieces through one flow as a TCP stream.
    fn run(pieces: &[(Direction, Vec<u8>)]) -> Vec<Event> {
        Flow::<Dnp3>::new(port_ep(40000), port_ep(20000)).whole_streams(pieces).events()
    }

    /// A master request fragment in one link frame.
    fn request(seq: u8, function: u8, objects: &[u8]) -> Vec<u8> {
        let mut user = vec![0xc0, 0xc0 | seq, function];
        user.extend_from_slice(objects);
        frame(0xc4, 10, 1, &user)
    }

    /// An outstation response fragment in one link frame.
    fn response(seq: u8, iin: u16, objects: &[u8]) -> Vec<u8> {
        let mut user = vec![0xc0, 0xc0 | seq, 129];
        user.extend_from_slice(&iin.to_be_bytes());
        user.extend_from_slice(objects);
        frame(0x44, 1, 10, &user)
    }

    #[test]
    fn direct_operate_matched_with_response() {
        let crob = [12, 1, 0x17, 1, 3, 0x41, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let events = run(&[(Direction::ToServer, request(5, 5, &crob)), (Direction::ToClient, response(5, 0, &crob))]);
        let ops = operations(&events);
        assert_eq!(ops, vec![(OperationKind::Write, 5, Some("g12v1 CROB index 3".into()), OperationResult::Success)]);
        let roles: Vec<_> = field_values(&events).into_iter().map(|(_, value)| value).collect();
        assert_eq!(roles, vec!["scada-client", "outstation"]);
    }

    #[test]
    fn refused_request_and_unanswered_restart() {
        let events = run(&[
            (Direction::ToServer, request(1, 2, &[50, 1, 0x07, 1, 0, 0, 0, 0, 0, 0])),
            (Direction::ToClient, response(1, 0x0002, &[])),
            (Direction::ToServer, request(2, 13, &[])),
        ]);
        assert_eq!(operations(&events), vec![(OperationKind::TimeSet, 2, Some("g50v1 time".into()), OperationResult::Error(2))]);
        // A broadcast stop needs no response.
        let events = run(&[(Direction::ToServer, frame(0xc4, 0xffff, 1, &[0xc0, 0xc3, 18]))]);
        assert_eq!(operations(&events), vec![(OperationKind::ControllerStop, 18, None, OperationResult::Unknown)]);
    }

    #[test]
    fn multi_segment_fragment_is_reassembled() {
        let mut objects = vec![60, 2, 0x06, 60, 3, 0x06, 60, 4, 0x06];
        objects.resize(300, 0);
        let mut app = vec![0xc7, 1];
        app.extend_from_slice(&objects);
        let (a, b) = app.split_at(249);
        let mut first = vec![0x40];
        first.extend_from_slice(a);
        let mut last = vec![0x81];
        last.extend_from_slice(b);
        let bytes = [frame(0xc4, 10, 1, &first), frame(0xc4, 10, 1, &last)].concat();
        let events = run(&[(Direction::ToServer, bytes), (Direction::ToClient, response(7, 0, &[]))]);
        assert_eq!(operations(&events), vec![(OperationKind::Read, 1, Some("g60v2 class 1".into()), OperationResult::Success)]);
    }

    #[test]
    fn crc_errors_are_violations() {
        let good = request(1, 1, &[60, 1, 0x06]);
        let mut bad_block = request(2, 1, &[60, 1, 0x06]);
        bad_block[12] ^= 0xff;
        let mut bad_header = request(3, 1, &[60, 1, 0x06]);
        bad_header[5] ^= 0x01;
        let events = run(&[(Direction::ToServer, [good.clone(), bad_block, good.clone(), bad_header, good].concat())]);
        assert_eq!(violation_kinds(&events), vec![ViolationKind::ChecksumError, ViolationKind::ChecksumError]);
    }

    #[test]
    fn unexpected_response_only_after_a_request() {
        let events = run(&[(Direction::ToClient, response(4, 0, &[]))]);
        assert!(events.iter().all(|e| !matches!(e, Event::Violation(_))));
        let events = run(&[
            (Direction::ToServer, request(1, 1, &[60, 1, 0x06])),
            (Direction::ToClient, response(1, 0, &[])),
            (Direction::ToClient, response(9, 0, &[])),
        ]);
        assert!(events.iter().any(|e| matches!(e, Event::Violation(v) if v.kind == ViolationKind::UnexpectedResponse)));
    }

    #[test]
    fn probe_and_resync() {
        let f = request(1, 1, &[60, 1, 0x06]);
        assert!(probe(&f, true));
        assert!(probe(&f[..10], false));
        assert!(!probe(&f[..9], true));
        assert!(!probe(b"GET / HTTP/1.1\r\n", true));
        let mut stream = vec![1, 2, 3, 0x05];
        stream.extend_from_slice(&f);
        let events = run(&[(Direction::ToServer, stream)]);
        assert!(events.iter().all(|e| !matches!(e, Event::Violation(_))));
        assert_eq!(skip_to_start(&[1, 2, 0x05]), 2);
    }
}
