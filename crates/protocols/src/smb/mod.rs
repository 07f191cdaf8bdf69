//! SMB on TCP 445 and 139 (NetBIOS session service), SMB1 and SMB2/3.
//!
//! - Negotiation: the dialect the server chooses is a `session` operation,
//!   target `smb 3.1.1` and the like. SMBv1 in use (an SMB1 dialect chosen,
//!   or any SMB1 command after negotiation) is a `session` operation with
//!   target `smb1` and the fact `service: smbv1` on the server, once a flow.
//! - Session setup with NTLMSSP: the server's CHALLENGE names its NetBIOS
//!   and DNS computer names (`hostname`) and domain; the client's
//!   AUTHENTICATE names its workstation (`hostname`) and the user, reported
//!   as a `login` operation (`DOMAIN\user`, or `anonymous`) with the
//!   server's answer. The NTLMSSP version field of either side is its `os`;
//!   SMB1 also sends native OS and LAN manager strings (`os`, `server`).
//!   The NetBIOS session request names both sides.
//! - Tree connects are `read` operations on the share path; creates are
//!   `read` or `write` operations on the file name (`write` when the open
//!   can change the file, `delete <name>` when it deletes on close; named
//!   pipes of IPC$ as `pipe <name>`), renames and deletes by SET_INFO are
//!   `write` operations. Each WRITE to a file is a `write` operation on
//!   `file data`, reported when requested (the sink folds repeats into a
//!   count: bursts of them are what ransomware looks like).
//!
//! Messages are cut by the NetBIOS session header. Large messages (WRITE
//! requests, READ responses) are read from their first bytes and the rest
//! is skipped, so bulk data costs nothing. Encrypted SMB3 traffic ends
//! the dissection.

mod ntlmssp;
mod parser;

use crate::text::Text;
use crate::{Ctx, Dissector, Registration};
use ntlmssp::Message;
use palisade_decode::{le16, le32};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{Block, Kind, Smb1, Smb2, NBSS_LEN, NBSS_MESSAGE, NBSS_REQUEST, SMB2_HEADER};
use std::fmt::Write as _;

/// Messages up to this size are waited for whole.
const WHOLE_LIMIT: usize = 16 * 1024;
/// How much of a larger message is read before the rest is skipped.
const PREFIX: usize = 1024;
/// Bytes passed over without finding a message before a direction is given up.
const GIVE_UP: u32 = 64 * 1024;
/// Requests remembered while their responses are awaited.
const PENDING: usize = 16;
/// Named-pipe trees (IPC$) remembered, so RPC over pipes is not taken for file writes.
const PIPE_TREES: usize = 4;
/// Most messages read from one SMB2 compound chain.
const MAX_CHAIN: usize = 16;

/// An operation target: a share path or a file name with a prefix.
type Target = Text<160>;

/// Per-direction framing state.
#[derive(Clone, Copy, Default)]
struct Side {
    /// Bytes of the current (large) message still to pass over.
    skip: usize,
    /// A message boundary is known.
    synced: bool,
    /// Bytes passed over while looking for a message.
    lost: u32,
    /// Given up: nothing looked like SMB.
    dead: bool,
}

/// A request waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    /// SMB2 message id, or an SMB1 key (see [`smb1_key`]).
    key: u64,
    kind: OperationKind,
    code: u32,
    target: Target,
    /// A tree connect to IPC$.
    ipc: bool,
}

/// State kept once a flow carries SMB, boxed so other flows do not pay for it.
struct Session {
    pending: [Option<Pending>; PENDING],
    /// Next slot to reuse when the table is full.
    evict: usize,
    /// Tree ids of IPC$ connections.
    pipe_trees: [Option<u32>; PIPE_TREES],
    next_pipe: usize,
}

impl Default for Session {
    fn default() -> Self {
        Session { pending: [None; PENDING], evict: 0, pipe_trees: [None; PIPE_TREES], next_pipe: 0 }
    }
}

/// SMB flow state.
#[derive(Default)]
pub struct Smb {
    sides: [Side; 2],
    smb1_reported: bool,
    encrypted: bool,
    session: Option<Box<Session>>,
}

impl Dissector for Smb {
    const REGISTRATION: Registration = Registration { tcp_ports: &[445, 139], probe: Some(probe), ..Registration::new(Protocol::Smb) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut pos = 0;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            let Some(side) = self.sides.get_mut(d).copied() else { break };
            if side.dead || self.encrypted {
                break;
            }
            if side.skip > 0 {
                let n = side.skip.min(rest.len());
                self.side(d).skip -= n;
                pos += n;
                continue;
            }
            if rest.len() < NBSS_LEN + 4 {
                return pos;
            }
            let Some(h) = parser::nbss(rest) else {
                pos += self.resync(ctx, d, rest);
                continue;
            };
            let total = NBSS_LEN + h.len;
            self.side(d).synced = true;
            match rest.get(NBSS_LEN..total) {
                Some(payload) => {
                    self.payload(ctx, h.kind, payload);
                    pos += total;
                }
                None if h.kind != NBSS_MESSAGE || h.len <= WHOLE_LIMIT => return pos,
                None => {
                    let Some(prefix) = rest.get(NBSS_LEN..NBSS_LEN + PREFIX) else { return pos };
                    self.message(ctx, prefix);
                    self.side(d).skip = total - rest.len();
                    pos = data.len();
                }
            }
        }
        data.len()
    }

    fn gap(&mut self, dir: Direction) {
        let side = self.side(dir.index());
        *side = Side { dead: side.dead, ..Side::default() };
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        let Some(session) = self.session.as_mut() else { return };
        for p in session.pending.iter_mut().filter_map(Option::take) {
            report(ctx, &p, OperationResult::Unknown);
        }
    }

    fn finished(&self) -> bool {
        self.encrypted || self.sides.iter().all(|s| s.dead)
    }
}

/// Recognises a NetBIOS session message carrying SMB, or a session request.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    if !is_tcp || payload.len() < NBSS_LEN + 4 {
        return false;
    }
    match parser::nbss(payload) {
        Some(h) if h.kind == NBSS_MESSAGE => {
            matches!(parser::kind(payload.get(NBSS_LEN..).unwrap_or_default()), Some(Kind::Smb1 | Kind::Smb2))
        }
        Some(h) if h.kind == NBSS_REQUEST => payload.get(NBSS_LEN..NBSS_LEN + h.len).and_then(parser::session_request_names).is_some(),
        _ => false,
    }
}

/// The key of an SMB1 request: its multiplex id and command.
fn smb1_key(mid: u16, command: u8) -> u64 {
    1 << 63 | u64::from(command) << 16 | u64::from(mid)
}

impl Smb {
    fn side(&mut self, d: usize) -> &mut Side {
        let [to_server, to_client] = &mut self.sides;
        if d == 0 {
            to_server
        } else {
            to_client
        }
    }

    fn session(&mut self) -> &mut Session {
        self.session.get_or_insert_with(Box::default)
    }

    /// Looks for the next message header in `rest`; returns how many bytes
    /// to pass over.
    fn resync(&mut self, ctx: &mut Ctx<'_>, d: usize, rest: &[u8]) -> usize {
        let side = self.side(d);
        let was_synced = std::mem::replace(&mut side.synced, false);
        // A session message header sits 4 bytes before an SMB protocol id.
        let found = rest
            .windows(3)
            .enumerate()
            .skip(NBSS_LEN + 1)
            .filter(|(_, w)| *w == b"SMB")
            .map(|(i, _)| i - 1 - NBSS_LEN)
            .find(|&at| rest.get(at..).and_then(parser::nbss).is_some_and(|h| h.kind == NBSS_MESSAGE));
        let skipped = found.unwrap_or(rest.len().saturating_sub(NBSS_LEN + 3)).max(1);
        side.lost = side.lost.saturating_add(u32::try_from(skipped).unwrap_or(u32::MAX));
        side.dead = side.lost > GIVE_UP;
        if was_synced {
            ctx.violation(ViolationKind::Malformed, "invalid NetBIOS session header in an SMB stream; resynchronising");
        }
        skipped
    }

    /// One whole NetBIOS session payload.
    fn payload(&mut self, ctx: &mut Ctx<'_>, kind: u8, payload: &[u8]) {
        match kind {
            NBSS_MESSAGE => self.message(ctx, payload),
            NBSS_REQUEST => {
                let Some((calling, called)) = parser::session_request_names(payload) else { return };
                if let Some(name) = calling.text() {
                    ctx.identity(ctx.client, IdentityField::Hostname, name);
                }
                if let Some(name) = called.text().filter(|n| !n.eq_ignore_ascii_case("*SMBSERVER")) {
                    ctx.identity(ctx.server, IdentityField::Hostname, name);
                }
            }
            _ => {}
        }
    }

    /// One SMB message (possibly only its first bytes).
    fn message(&mut self, ctx: &mut Ctx<'_>, msg: &[u8]) {
        match parser::kind(msg) {
            Some(Kind::Smb2) => self.smb2(ctx, msg),
            Some(Kind::Smb1) => self.smb1(ctx, msg),
            Some(Kind::Transform) => self.encrypted = true,
            Some(Kind::Compressed) | None => {}
        }
    }

    /// Remembers a request until its response.
    fn expect(&mut self, key: u64, kind: OperationKind, code: u32, target: Target, ipc: bool) {
        let entry = Pending { key, kind, code, target, ipc };
        let s = self.session();
        let slot = match s.pending.iter().position(|p| p.as_ref().is_none_or(|p| p.key == key)) {
            Some(i) => i,
            None => {
                s.evict = (s.evict + 1) % PENDING;
                s.evict
            }
        };
        if let Some(slot) = s.pending.get_mut(slot) {
            // An entry pushed out unanswered is lost: its response is overdue.
            *slot = Some(entry);
        }
    }

    /// Reports the request a response answers.
    fn answer(&mut self, ctx: &mut Ctx<'_>, key: u64, status: u32, tree: u32) {
        let Some(s) = self.session.as_mut() else { return };
        let Some(p) = s.pending.iter_mut().find(|p| p.as_ref().is_some_and(|p| p.key == key)).and_then(Option::take) else {
            return;
        };
        let result = if status == 0 { OperationResult::Success } else { OperationResult::Error(status) };
        if p.ipc && status == 0 {
            if let Some(slot) = s.pipe_trees.get_mut(s.next_pipe) {
                *slot = Some(tree);
            }
            s.next_pipe = (s.next_pipe + 1) % PIPE_TREES;
        }
        report(ctx, &p, result);
    }

    /// True if `tree` is an IPC$ connection.
    fn is_pipe(&self, tree: u32) -> bool {
        self.session.as_ref().is_some_and(|s| s.pipe_trees.contains(&Some(tree)))
    }

    fn smb2(&mut self, ctx: &mut Ctx<'_>, msg: &[u8]) {
        let mut at = 0usize;
        for _ in 0..MAX_CHAIN {
            let Some(m) = msg.get(at..) else { return };
            let Some(h) = Smb2::parse(m) else { return };
            let next = usize::try_from(h.next).unwrap_or(usize::MAX);
            let one = if next == 0 { m } else { m.get(..next).unwrap_or(m) };
            if h.is_response() {
                self.smb2_response(ctx, &h, one);
            } else {
                self.smb2_request(ctx, &h, one);
            }
            if next < SMB2_HEADER {
                return;
            }
            at += next;
        }
    }

    fn smb2_request(&mut self, ctx: &mut Ctx<'_>, h: &Smb2, m: &[u8]) {
        let body = m.get(SMB2_HEADER..).unwrap_or_default();
        let buffer = |offset_at: usize, len_at: usize| parser::smb2_buffer(m, le16(body, offset_at)?, le16(body, len_at)?);
        let code = u32::from(h.command);
        match h.command {
            parser::SMB2_SESSION_SETUP => {
                if let Some(ntlm) = buffer(12, 14).and_then(ntlmssp::find) {
                    self.ntlmssp(ctx, ntlm, h.message_id, code);
                }
            }
            parser::SMB2_TREE_CONNECT => {
                let Some(path) = buffer(4, 6) else { return };
                let target = Target::utf16le(path);
                let ipc = is_ipc(target.as_str());
                self.expect(h.message_id, OperationKind::Read, code, target, ipc);
            }
            parser::SMB2_CREATE => {
                let (Some(name), Some(access), Some(disposition), Some(options)) =
                    (buffer(44, 46), le32(body, 24), le32(body, 36), le32(body, 40))
                else {
                    return;
                };
                let (kind, target) = create(self.is_pipe(h.tree_id), access, disposition, options, |t| t.push_utf16le(name));
                self.expect(h.message_id, kind, code, target, false);
            }
            parser::SMB2_WRITE if !self.is_pipe(h.tree_id) => {
                ctx.operation(OperationKind::Write, code, Some(format_args!("file data")), OperationResult::Unknown);
            }
            parser::SMB2_SET_INFO => {
                let (Some(&1), Some(&class), Some(len), Some(offset)) = (body.get(2), body.get(3), le32(body, 4), le16(body, 8)) else {
                    return;
                };
                let start = usize::from(offset);
                let Some(info) = usize::try_from(len).ok().and_then(|len| m.get(start..start.checked_add(len)?)) else { return };
                let mut target = Target::default();
                match class {
                    // FileRenameInformation: the new name.
                    10 => {
                        let Some(name) = le32(info, 16).and_then(|n| info.get(20..20usize.checked_add(usize::try_from(n).ok()?)?)) else {
                            return;
                        };
                        let _ = target.write_str("rename to ");
                        target.push_utf16le(name);
                    }
                    // FileDispositionInformation(Ex): delete pending.
                    13 | 64 if info.first().is_some_and(|f| f & 1 != 0) => {
                        let _ = target.write_str("delete file");
                    }
                    _ => return,
                }
                self.expect(h.message_id, OperationKind::Write, code, target, false);
            }
            _ => {}
        }
    }

    fn smb2_response(&mut self, ctx: &mut Ctx<'_>, h: &Smb2, m: &[u8]) {
        if h.status == parser::STATUS_PENDING {
            return;
        }
        let body = m.get(SMB2_HEADER..).unwrap_or_default();
        match h.command {
            parser::SMB2_NEGOTIATE if h.status == 0 => {
                let Some(dialect) = le16(body, 4).filter(|&d| d != parser::SMB2_WILDCARD) else { return };
                let code = u32::from(h.command);
                match parser::dialect_name(dialect) {
                    Some(name) => ctx.operation(OperationKind::Session, code, Some(format_args!("smb {name}")), OperationResult::Success),
                    None => ctx.operation(OperationKind::Session, code, Some(format_args!("smb {dialect:#06x}")), OperationResult::Success),
                }
            }
            parser::SMB2_SESSION_SETUP => {
                let blob = le16(body, 4).zip(le16(body, 6)).and_then(|(offset, len)| parser::smb2_buffer(m, offset, len));
                if let Some(ntlm) = blob.and_then(ntlmssp::find) {
                    self.ntlmssp(ctx, ntlm, h.message_id, u32::from(h.command));
                }
            }
            _ => {}
        }
        self.answer(ctx, h.message_id, h.status, h.tree_id);
    }

    fn smb1(&mut self, ctx: &mut Ctx<'_>, msg: &[u8]) {
        let Some(h) = Smb1::parse(msg) else { return };
        for block in parser::blocks(msg) {
            if h.is_reply() {
                self.smb1_reply(ctx, &h, &block);
            } else {
                self.smb1_request(ctx, &h, &block);
            }
        }
    }

    /// Reports SMBv1 in use, once a flow.
    fn smb1_in_use(&mut self, ctx: &mut Ctx<'_>) {
        if std::mem::replace(&mut self.smb1_reported, true) {
            return;
        }
        ctx.operation(OperationKind::Session, u32::from(parser::SMB1_NEGOTIATE), Some(format_args!("smb1")), OperationResult::Success);
        ctx.identity(ctx.server, IdentityField::Service, "smbv1");
    }

    fn smb1_request(&mut self, ctx: &mut Ctx<'_>, h: &Smb1, b: &Block<'_>) {
        if b.command != parser::SMB1_NEGOTIATE {
            self.smb1_in_use(ctx);
        }
        let key = smb1_key(h.mid, b.command);
        let code = u32::from(b.command);
        let unicode = h.unicode();
        match b.command {
            parser::SMB1_SESSION_SETUP => match b.words.len() {
                // Extended security: an NTLMSSP blob, then native OS and LAN manager.
                24 => {
                    let Some(blob_len) = le16(b.words, 14).map(usize::from) else { return };
                    if let Some(ntlm) = b.bytes.get(..blob_len).and_then(ntlmssp::find) {
                        self.ntlmssp(ctx, ntlm, key, code);
                    }
                    if let Some((os, _)) = parser::smb1_string(b, blob_len, unicode) {
                        native(ctx, IdentityField::Os, os, unicode);
                    }
                }
                // Passwords, then account, domain, native OS.
                26 => {
                    let (Some(oem), Some(uni)) = (le16(b.words, 14), le16(b.words, 16)) else { return };
                    let Some((account, at)) = parser::smb1_string(b, usize::from(oem) + usize::from(uni), unicode) else { return };
                    let Some((domain, at)) = parser::smb1_string(b, at, unicode) else { return };
                    let target = login_target(&ntlmssp::Name::decode(domain, unicode), &ntlmssp::Name::decode(account, unicode));
                    self.expect(key, OperationKind::Login, code, target, false);
                    if let Some((os, _)) = parser::smb1_string(b, at, unicode) {
                        native(ctx, IdentityField::Os, os, unicode);
                    }
                }
                _ => {}
            },
            parser::SMB1_TREE_CONNECT => {
                let Some(password_len) = le16(b.words, 6) else { return };
                let Some((path, _)) = parser::smb1_string(b, usize::from(password_len), unicode) else { return };
                let target = Target::decode(path, unicode);
                let ipc = is_ipc(target.as_str());
                self.expect(key, OperationKind::Read, code, target, ipc);
            }
            parser::SMB1_NT_CREATE => {
                let (Some(access), Some(disposition), Some(options)) = (le32(b.words, 15), le32(b.words, 35), le32(b.words, 39)) else {
                    return;
                };
                let Some((name, _)) = parser::smb1_string(b, 0, unicode) else { return };
                let name = ntlmssp::Name::decode(name, unicode);
                let (kind, target) = create(self.is_pipe(u32::from(h.tid)), access, disposition, options, |t| {
                    let _ = t.write_str(name.as_str().trim_start_matches('\\'));
                });
                self.expect(key, kind, code, target, false);
            }
            parser::SMB1_WRITE | parser::SMB1_WRITE_ANDX | parser::SMB1_WRITE_AND_CLOSE if !self.is_pipe(u32::from(h.tid)) => {
                ctx.operation(OperationKind::Write, code, Some(format_args!("file data")), OperationResult::Unknown);
            }
            parser::SMB1_DELETE => {
                let Some((name, _)) = parser::smb1_string(b, 1, unicode) else { return };
                let target =
                    Target::format(format_args!("delete {}", ntlmssp::Name::decode(name, unicode).as_str().trim_start_matches('\\')));
                self.expect(key, OperationKind::Write, code, target, false);
            }
            parser::SMB1_RENAME => {
                let Some((_, at)) = parser::smb1_string(b, 1, unicode) else { return };
                let Some((name, _)) = parser::smb1_string(b, at + 1, unicode) else { return };
                let target =
                    Target::format(format_args!("rename to {}", ntlmssp::Name::decode(name, unicode).as_str().trim_start_matches('\\')));
                self.expect(key, OperationKind::Write, code, target, false);
            }
            _ => {}
        }
    }

    fn smb1_reply(&mut self, ctx: &mut Ctx<'_>, h: &Smb1, b: &Block<'_>) {
        let unicode = h.unicode();
        match b.command {
            // A dialect index other than 0xffff: an SMB1 dialect was chosen.
            parser::SMB1_NEGOTIATE if le16(b.words, 0).is_some_and(|i| i != 0xffff) => self.smb1_in_use(ctx),
            parser::SMB1_NEGOTIATE => {}
            parser::SMB1_SESSION_SETUP => {
                self.smb1_in_use(ctx);
                let blob_len = match b.words.len() {
                    8 => le16(b.words, 6).map_or(0, usize::from),
                    _ => 0,
                };
                if let Some(ntlm) = b.bytes.get(..blob_len).and_then(ntlmssp::find) {
                    self.ntlmssp(ctx, ntlm, smb1_key(h.mid, b.command), u32::from(b.command));
                }
                if let Some((os, at)) = parser::smb1_string(b, blob_len, unicode) {
                    native(ctx, IdentityField::Os, os, unicode);
                    if let Some((lanman, _)) = parser::smb1_string(b, at, unicode) {
                        native(ctx, IdentityField::Server, lanman, unicode);
                    }
                }
            }
            _ => self.smb1_in_use(ctx),
        }
        self.answer(ctx, smb1_key(h.mid, b.command), h.status, u32::from(h.tid));
    }

    /// Facts (and for AUTHENTICATE a login awaiting its answer) from an
    /// NTLMSSP message sent by the current sender.
    fn ntlmssp(&mut self, ctx: &mut Ctx<'_>, m: Message<'_>, key: u64, code: u32) {
        let version = match m {
            Message::Negotiate { version } => version,
            Message::Challenge { version, unicode, target_info } => {
                server_names(ctx, target_info, unicode);
                version
            }
            Message::Authenticate { version, unicode, domain, user, workstation } => {
                let workstation = ntlmssp::Name::decode(workstation, unicode);
                ctx.sender_identity(IdentityField::Hostname, workstation.as_str());
                let target = login_target(&ntlmssp::Name::decode(domain, unicode), &ntlmssp::Name::decode(user, unicode));
                self.expect(key, OperationKind::Login, code, target, false);
                version
            }
        };
        if let Some(os) = version.and_then(ntlmssp::os_name) {
            ctx.sender_identity(IdentityField::Os, os.as_str());
        }
    }
}

/// Host name and domain facts from a CHALLENGE's target information. A
/// domain named like the computer is a standalone machine's, not reported.
fn server_names(ctx: &mut Ctx<'_>, target_info: &[u8], unicode: bool) {
    let mut computer = ntlmssp::Name::default();
    let mut domain = ntlmssp::Name::default();
    for (id, value) in ntlmssp::av_pairs(target_info) {
        let name = ntlmssp::Name::decode(value, unicode);
        match id {
            ntlmssp::AV_NB_COMPUTER => {
                ctx.sender_identity(IdentityField::Hostname, name.as_str());
                computer = name;
            }
            ntlmssp::AV_DNS_COMPUTER if !name.as_str().eq_ignore_ascii_case(computer.as_str()) => {
                ctx.sender_identity(IdentityField::Hostname, name.as_str());
            }
            ntlmssp::AV_DNS_DOMAIN => domain = name,
            ntlmssp::AV_NB_DOMAIN if domain.as_str().is_empty() => domain = name,
            _ => {}
        }
    }
    let standalone = domain.as_str().eq_ignore_ascii_case(computer.as_str())
        || computer.as_str().split('.').next().is_some_and(|c| domain.as_str().eq_ignore_ascii_case(c));
    if !standalone {
        ctx.sender_identity(IdentityField::Domain, domain.as_str());
    }
}

/// A native OS or LAN manager string of an SMB1 session setup, about its sender.
fn native(ctx: &mut Ctx<'_>, field: IdentityField, bytes: &[u8], unicode: bool) {
    ctx.sender_identity(field, ntlmssp::Name::decode(bytes, unicode).as_str());
}

/// `DOMAIN\user`, `user`, or `anonymous` for a null session.
fn login_target(domain: &ntlmssp::Name, user: &ntlmssp::Name) -> Target {
    match (domain.as_str(), user.as_str()) {
        (_, "") => Target::format(format_args!("anonymous")),
        ("", user) => Target::format(format_args!("{user}")),
        (domain, user) => Target::format(format_args!("{domain}\\{user}")),
    }
}

/// True for a share path naming IPC$.
fn is_ipc(path: &str) -> bool {
    path.rsplit('\\').next().is_some_and(|share| share.eq_ignore_ascii_case("IPC$"))
}

/// The operation a create request stands for, with its target built by
/// `name` after a prefix: `pipe` on IPC$, `delete` for delete-on-close,
/// a write when the open can change the file, else a read.
fn create(pipe: bool, access: u32, disposition: u32, options: u32, name: impl FnOnce(&mut Target)) -> (OperationKind, Target) {
    /// FILE_WRITE_DATA, FILE_APPEND_DATA, DELETE, WRITE_DAC, WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE.
    const WRITE_ACCESS: u32 = 0x0000_0002 | 0x0000_0004 | 0x0001_0000 | 0x0004_0000 | 0x0008_0000 | 0x1000_0000 | 0x4000_0000;
    /// FILE_DELETE_ON_CLOSE.
    const DELETE_ON_CLOSE: u32 = 0x0000_1000;
    /// FILE_SUPERSEDE, FILE_CREATE, FILE_OVERWRITE, FILE_OVERWRITE_IF.
    const REPLACING: [u32; 4] = [0, 2, 4, 5];
    let mut target = Target::default();
    let kind = if pipe {
        let _ = target.write_str("pipe ");
        OperationKind::Read
    } else if options & DELETE_ON_CLOSE != 0 {
        let _ = target.write_str("delete ");
        OperationKind::Write
    } else if access & WRITE_ACCESS != 0 || REPLACING.contains(&disposition) {
        OperationKind::Write
    } else {
        OperationKind::Read
    };
    name(&mut target);
    (kind, target)
}

/// Reports an answered (or abandoned) request.
fn report(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    ctx.operation(p.kind, p.code, Some(format_args!("{}", p.target)), result);
}

#[cfg(test)]
mod tests;
