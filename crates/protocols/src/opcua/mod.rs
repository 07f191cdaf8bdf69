//! OPC UA binary: UA TCP (TCP 4840 and other usual server ports) with UA
//! Secure Conversation.
//!
//! Each direction of the stream is cut into chunks by their 8-byte header;
//! a capture that starts mid-stream is resynchronised on the next plausible
//! chunk header. Hello, Acknowledge, Error and ReverseHello are read in full.
//! OpenSecureChannel chunks tell the channel's security policy (reported as
//! a fact on the server); only when it is `None` are the message bodies
//! plain, and then the service requests are turned into operations, paired
//! with their responses by request id, and the application descriptions,
//! endpoints and BuildInfo values they carry into identity facts. With a
//! real security policy only the headers are read and the flow is given up
//! once the channel is open.

mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{Endpoint, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{Application, HeaderProblem, MessageType, Nodes, Reader, Value, HEADER_LEN};
use std::fmt::{self, Write as _};

/// Requests remembered per flow while their responses are awaited.
const PENDING: usize = 16;
/// Violations reported per flow at most.
const MAX_VIOLATIONS: u16 = 32;
/// Bytes skipped without ever finding a chunk before the flow is given up.
const GIVE_UP_BYTES: u32 = 16 * 1024;
/// Chunks up to this size are waited for whole; of a larger one only the
/// start is read and the rest skipped.
const WAIT_LIMIT: usize = 64 * 1024;
/// Encoding id of a ServiceFault, the response to any failed request.
const SERVICE_FAULT: u32 = 397;
/// OpenSecureChannel request and response encoding ids.
const OPEN_REQUEST: u32 = 446;
const OPEN_RESPONSE: u32 = 449;
/// CloseSecureChannel request encoding id.
const CLOSE_REQUEST: u32 = 452;
/// Identity token encoding ids (ActivateSession).
const ANONYMOUS_TOKEN: u32 = 321;
const USER_NAME_TOKEN: u32 = 324;
const X509_TOKEN: u32 = 327;
const ISSUED_TOKEN: u32 = 940;
/// Node ids of Server_ServerStatus (2256) through its BuildInfo children
/// (2260 BuildInfo, 2261 ProductName ... 2265 BuildNumber).
const SERVER_STATUS: u32 = 2256;
const BUILD_INFO: u32 = 2260;
const BUILD_PRODUCT_NAME: u32 = 2261;
const BUILD_PRODUCT_URI: u32 = 2262;
const BUILD_MANUFACTURER: u32 = 2263;
const BUILD_SOFTWARE_VERSION: u32 = 2264;
const BUILD_NUMBER: u32 = 2265;
/// Role facts.
const ROLE_CLIENT: &str = "opcua-client";
const ROLE_SERVER: &str = "opcua-server";

/// What else a service's request or response is read for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Detail {
    None,
    Read,
    Write,
    Browse,
    HistoryRead,
    Call,
    DeleteNodes,
    MonitoredItems,
    CreateSession,
    ActivateSession,
    GetEndpoints,
    FindServers,
    RegisterServer,
}

/// A service: the binary encoding ids of its request and response (OPC UA
/// NodeIds.csv, `*_Encoding_DefaultBinary`), how it is reported and read.
struct Service {
    request: u32,
    response: u32,
    kind: OperationKind,
    name: &'static str,
    detail: Detail,
}

const fn service(request: u32, response: u32, kind: OperationKind, name: &'static str, detail: Detail) -> Service {
    Service { request, response, kind, name, detail }
}

use OperationKind as K;

/// The services of OPC UA Part 4 with their binary encoding ids.
const SERVICES: &[Service] = &[
    service(422, 425, K::Identify, "find servers", Detail::FindServers),
    service(12208, 12209, K::Identify, "find servers on network", Detail::None),
    service(428, 431, K::Identify, "get endpoints", Detail::GetEndpoints),
    service(437, 440, K::ConfigurationChange, "register server", Detail::RegisterServer),
    service(12211, 12212, K::ConfigurationChange, "register server2", Detail::RegisterServer),
    service(OPEN_REQUEST, OPEN_RESPONSE, K::Session, "open secure channel", Detail::None),
    service(CLOSE_REQUEST, 455, K::Session, "close secure channel", Detail::None),
    service(461, 464, K::Session, "create session", Detail::CreateSession),
    service(467, 470, K::Login, "activate session", Detail::ActivateSession),
    service(473, 476, K::Session, "close session", Detail::None),
    service(479, 482, K::Other, "cancel", Detail::None),
    service(488, 491, K::ConfigurationChange, "add nodes", Detail::None),
    service(494, 497, K::ConfigurationChange, "add references", Detail::None),
    service(500, 503, K::ConfigurationChange, "delete nodes", Detail::DeleteNodes),
    service(506, 509, K::ConfigurationChange, "delete references", Detail::None),
    service(527, 530, K::Read, "browse", Detail::Browse),
    service(533, 536, K::Read, "browse next", Detail::None),
    service(554, 557, K::Read, "translate browse paths", Detail::None),
    service(560, 563, K::Other, "register nodes", Detail::None),
    service(566, 569, K::Other, "unregister nodes", Detail::None),
    service(615, 618, K::Read, "query first", Detail::None),
    service(621, 624, K::Read, "query next", Detail::None),
    service(631, 634, K::Read, "read", Detail::Read),
    service(664, 667, K::Read, "history read", Detail::HistoryRead),
    service(673, 676, K::Write, "write", Detail::Write),
    service(700, 703, K::Write, "history update", Detail::None),
    service(712, 715, K::Other, "call", Detail::Call),
    service(751, 754, K::Read, "create monitored items", Detail::MonitoredItems),
    service(763, 766, K::Other, "modify monitored items", Detail::None),
    service(769, 772, K::Other, "set monitoring mode", Detail::None),
    service(775, 778, K::Other, "set triggering", Detail::None),
    service(781, 784, K::Other, "delete monitored items", Detail::None),
    service(787, 790, K::Other, "create subscription", Detail::None),
    service(793, 796, K::Other, "modify subscription", Detail::None),
    service(799, 802, K::Other, "set publishing mode", Detail::None),
    service(826, 829, K::Read, "publish", Detail::None),
    service(832, 835, K::Read, "republish", Detail::None),
    service(841, 844, K::Other, "transfer subscriptions", Detail::None),
    service(847, 850, K::Other, "delete subscriptions", Detail::None),
];

fn by_request(id: u32) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.request == id)
}

fn by_response(id: u32) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.response == id)
}

/// Recognises UA TCP from the first payload of a flow: a complete chunk of
/// a known type whose size is exactly what is there (or that is followed
/// by another valid header); a Hello or ReverseHello must decode exactly.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    if !is_tcp {
        return false;
    }
    let Some(Ok(h)) = parser::header(payload) else { return false };
    let Some(chunk) = payload.get(..h.size as usize) else { return false };
    let after = payload.get(chunk.len()..).unwrap_or_default();
    if !(after.is_empty() || matches!(parser::header(after), Some(Ok(_)))) {
        return false;
    }
    let body = chunk.get(HEADER_LEN..).unwrap_or_default();
    match h.kind {
        MessageType::Hello => parser::hello(body).is_some_and(|m| {
            m.trailing == 0 && m.receive_buffer >= parser::MIN_BUFFER && m.send_buffer >= parser::MIN_BUFFER && m.endpoint.is_some()
        }),
        MessageType::ReverseHello => {
            parser::reverse_hello(body).is_some_and(|m| m.server_uri.is_some() && m.endpoint.is_some_and(|u| u.starts_with(b"opc.")))
        }
        MessageType::Acknowledge => h.size == 28,
        MessageType::Open => parser::secure(h.kind, body)
            .is_some_and(|s| s.policy.is_some_and(|p| p.starts_with(b"http://opcfoundation.org/UA/SecurityPolicy#"))),
        MessageType::Error => parser::error(body).is_some(),
        MessageType::Message | MessageType::Close => parser::secure(h.kind, body).is_some(),
    }
}

/// A short text kept inline (operation targets, fact values), truncated
/// at a character boundary when too long.
#[derive(Clone, Copy)]
struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Text { buf: [0; N], len: 0 }
    }
}

impl<const N: usize> Text<N> {
    fn format(args: fmt::Arguments<'_>) -> Self {
        let mut t = Text::default();
        let _ = t.write_fmt(args);
        t
    }

    fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N.saturating_sub(self.len);
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        let (src, dst) = (s.as_bytes().get(..n), self.buf.get_mut(self.len..self.len + n));
        if let (Some(src), Some(dst)) = (src, dst) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        Ok(())
    }
}

/// An operation target.
type Target = Text<96>;
/// A fact value built from parts.
type FactText = Text<320>;

/// A request waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    request_id: u32,
    code: u32,
    kind: OperationKind,
    target: Target,
    /// For a Read: the namespace-0 ids of the first nodes read (BuildInfo).
    value_ids: [u32; 8],
}

/// The security policy of the flow's secure channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Policy {
    /// No OpenSecureChannel seen.
    #[default]
    Unknown,
    /// `SecurityPolicy#None`: bodies are plain.
    None,
    /// Signed or encrypted: only headers can be read.
    Secured,
}

/// Per-flow state of the OPC UA dissector.
#[derive(Default)]
pub struct Opcua {
    /// Outstanding requests, allocated at the first request of the flow.
    pending: Option<Box<[Option<Pending>; PENDING]>>,
    /// Next slot to reuse when the table is full.
    evict: u8,
    /// Per direction: chunk boundaries are known.
    synced: [bool; 2],
    /// Per direction: bytes left of an oversized chunk.
    skip: [u32; 2],
    /// Per direction: an intermediate chunk was seen, the next continues it.
    continuing: [bool; 2],
    /// Per direction: largest chunk the receiver announced it accepts.
    limit: [u32; 2],
    /// A ReverseHello was seen: the OPC UA client is the TCP server.
    reverse: bool,
    policy: Policy,
    /// A Hello awaits its Acknowledge or Error.
    hello: bool,
    /// The secured channel is open: nothing more can be read.
    done: bool,
    /// A response was matched to a request (so unmatched ones are suspect).
    paired: bool,
    /// Roles reported: bit 0 client, bit 1 server, bit 2 registering server.
    roles: u8,
    violations: u16,
    /// A chunk was seen in this flow.
    seen: bool,
    /// Bytes skipped while looking for a chunk before any was seen.
    skipped: u32,
}

impl Dissector for Opcua {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[4840, 4841, 48010, 53530], probe: Some(probe), ..Registration::new(Protocol::Opcua) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = ctx.dir.index();
        let mut pos = 0usize;
        if let Some(skip) = self.skip.get_mut(d) {
            let n = (*skip as usize).min(data.len());
            *skip -= n as u32;
            pos = n;
        }
        while let Some(rest) = data.get(pos..) {
            if rest.len() < HEADER_LEN {
                break;
            }
            if !self.synced.get(d).copied().unwrap_or(false) {
                match find_start(rest) {
                    Some(off) => {
                        pos += off;
                        self.set(d, true);
                        continue;
                    }
                    None => {
                        let n = rest.len() + 1 - HEADER_LEN;
                        pos += n;
                        if !self.seen {
                            self.skipped = self.skipped.saturating_add(n as u32);
                        }
                        break;
                    }
                }
            }
            match parser::header(rest) {
                None => break,
                Some(Err(problem)) => {
                    let kind = match problem {
                        HeaderProblem::Size(..) => ViolationKind::LengthMismatch,
                        HeaderProblem::UnknownType(_) | HeaderProblem::ChunkType(..) => ViolationKind::Malformed,
                    };
                    self.violation(ctx, kind, format_args!("{problem}; resynchronising"));
                    self.set(d, false);
                    pos += 1;
                }
                Some(Ok(h)) => {
                    let size = h.size as usize;
                    if let Some(chunk) = rest.get(..size) {
                        self.chunk(ctx, h, chunk, true);
                        pos += size;
                    } else if size > WAIT_LIMIT {
                        self.chunk(ctx, h, rest, false);
                        if let Some(skip) = self.skip.get_mut(d) {
                            *skip = (size - rest.len()) as u32;
                        }
                        pos = data.len();
                    } else {
                        break;
                    }
                }
            }
        }
        pos.min(data.len())
    }

    fn gap(&mut self, dir: Direction) {
        let d = dir.index();
        self.set(d, false);
        if let Some(c) = self.continuing.get_mut(d) {
            *c = false;
        }
        if let Some(s) = self.skip.get_mut(d) {
            *s = 0;
        }
    }

    fn finished(&self) -> bool {
        self.done || (!self.seen && self.skipped > GIVE_UP_BYTES)
    }
}

/// The offset of the first plausible chunk header in `data`: a valid header
/// whose chunk ends the data, is followed by another valid header, or runs
/// past the data without being oversized unless it is right at the start
/// (a false start further on must not make the stream skip far).
fn find_start(data: &[u8]) -> Option<usize> {
    (0..=data.len().checked_sub(HEADER_LEN)?).find(|&off| {
        let Some(rest) = data.get(off..) else { return false };
        if !matches!(rest.first(), Some(b'H' | b'A' | b'E' | b'R' | b'O' | b'M' | b'C')) {
            return false;
        }
        let Some(Ok(h)) = parser::header(rest) else { return false };
        match rest.get(h.size as usize..) {
            None => off == 0 || h.size as usize <= WAIT_LIMIT,
            Some(after) => after.len() < HEADER_LEN || matches!(parser::header(after), Some(Ok(_))),
        }
    })
}

/// The text of a UTF-8 value without control characters.
fn text(bytes: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(bytes).ok()?;
    (!s.is_empty() && !s.chars().any(char::is_control)).then_some(s)
}

/// The short name of a security policy URI (the part after `#`).
fn policy_name(uri: &[u8]) -> &[u8] {
    match uri.iter().rposition(|&b| b == b'#') {
        Some(i) => uri.get(i + 1..).unwrap_or(uri),
        None => uri,
    }
}

/// The name of a MessageSecurityMode.
fn mode_name(mode: u32) -> &'static str {
    match mode {
        1 => "None",
        2 => "Sign",
        3 => "SignAndEncrypt",
        _ => "Invalid",
    }
}

/// True if `url` may name `subject`: its port (if any) is the subject's and
/// its host, if an IP literal, is the subject's address.
fn url_names(url: &[u8], subject: Endpoint) -> bool {
    let Some((host, port)) = parser::url_host_port(url) else { return false };
    if port.is_some_and(|p| p != subject.port) {
        return false;
    }
    match std::str::from_utf8(host).ok().and_then(|h| h.parse::<std::net::IpAddr>().ok()) {
        Some(ip) => subject.ip == Some(ip) || (ip.is_loopback() && subject.ip.is_some_and(|s| s.is_loopback())),
        None => true,
    }
}

impl Opcua {
    fn set(&mut self, d: usize, synced: bool) {
        if let Some(s) = self.synced.get_mut(d) {
            *s = synced;
        }
    }

    /// True if `dir` carries what the OPC UA client sends.
    fn sent_by_client(&self, dir: Direction) -> bool {
        (dir == Direction::ToServer) != self.reverse
    }

    /// Reports a violation unless the flow already reported too many.
    fn violation(&mut self, ctx: &mut Ctx<'_>, kind: ViolationKind, detail: fmt::Arguments<'_>) {
        if self.violations < MAX_VIOLATIONS {
            self.violations += 1;
            ctx.violation(kind, detail.to_string());
        }
    }

    /// Reports a role of `subject` once per flow.
    fn role(&mut self, ctx: &mut Ctx<'_>, subject: Endpoint, bit: u8, role: &str) {
        if self.roles & bit == 0 {
            self.roles |= bit;
            ctx.identity(subject, IdentityField::Role, role);
        }
    }

    /// One chunk; `complete` is false when only the start of an oversized
    /// chunk is given.
    fn chunk(&mut self, ctx: &mut Ctx<'_>, h: parser::Header, chunk: &[u8], complete: bool) {
        self.seen = true;
        let d = ctx.dir.index();
        if let Some(&limit) = self.limit.get(d) {
            if limit != 0 && h.size > limit {
                self.violation(
                    ctx,
                    ViolationKind::LengthMismatch,
                    format_args!("{:?} chunk of {} bytes exceeds the receive buffer of {limit} bytes", h.kind, h.size),
                );
            }
        }
        let payload = chunk.get(HEADER_LEN..).unwrap_or_default();
        match h.kind {
            MessageType::Hello => self.hello(ctx, payload),
            MessageType::Acknowledge => self.acknowledge(ctx, h, payload),
            MessageType::Error => self.error(ctx, payload),
            MessageType::ReverseHello => self.reverse_hello(ctx, payload),
            MessageType::Open | MessageType::Message | MessageType::Close => {
                let first = !self.continuing.get(d).copied().unwrap_or(false);
                if let Some(c) = self.continuing.get_mut(d) {
                    *c = h.chunk == b'C';
                }
                if !first || h.chunk == b'A' {
                    return;
                }
                match parser::secure(h.kind, payload) {
                    Some(s) => self.secure(ctx, h.kind, s),
                    None if complete => {
                        self.violation(ctx, ViolationKind::Malformed, format_args!("{:?} chunk too short for its security header", h.kind))
                    }
                    None => {}
                }
            }
        }
    }

    /// Sets the largest chunk accepted in the direction opposite to `dir`.
    fn set_limit(&mut self, dir: Direction, receive_buffer: u32) {
        if let Some(l) = self.limit.get_mut(dir.reverse().index()) {
            *l = receive_buffer;
        }
    }

    fn hello(&mut self, ctx: &mut Ctx<'_>, payload: &[u8]) {
        self.role(ctx, ctx.sender(), 1, ROLE_CLIENT);
        let Some(m) = parser::hello(payload) else {
            return self.violation(ctx, ViolationKind::Malformed, format_args!("truncated Hello"));
        };
        if m.trailing != 0 {
            self.violation(ctx, ViolationKind::LengthMismatch, format_args!("Hello has {} bytes after its endpoint URL", m.trailing));
        }
        if m.receive_buffer < parser::MIN_BUFFER || m.send_buffer < parser::MIN_BUFFER {
            self.violation(
                ctx,
                ViolationKind::ReservedValue,
                format_args!("Hello buffer sizes {}/{} below the minimum of 8192", m.receive_buffer, m.send_buffer),
            );
        }
        self.set_limit(ctx.dir, m.receive_buffer);
        if let Some(url) = m.endpoint.and_then(text) {
            ctx.identity(ctx.receiver(), IdentityField::Service, url);
        }
        self.hello = true;
    }

    fn acknowledge(&mut self, ctx: &mut Ctx<'_>, h: parser::Header, payload: &[u8]) {
        self.role(ctx, ctx.sender(), 2, ROLE_SERVER);
        if h.size != 28 {
            self.violation(ctx, ViolationKind::LengthMismatch, format_args!("Acknowledge of {} bytes instead of 28", h.size));
        }
        if let Some((receive_buffer, _)) = parser::acknowledge(payload) {
            self.set_limit(ctx.dir, receive_buffer);
        }
        if std::mem::take(&mut self.hello) {
            ctx.operation(OperationKind::Session, 0, Some(format_args!("connect")), OperationResult::Success);
        }
    }

    /// An Error message fails the Hello or every outstanding request.
    fn error(&mut self, ctx: &mut Ctx<'_>, payload: &[u8]) {
        self.role(ctx, ctx.sender(), 2, ROLE_SERVER);
        let Some((status, _reason)) = parser::error(payload) else {
            return self.violation(ctx, ViolationKind::Malformed, format_args!("truncated Error message"));
        };
        let result = OperationResult::Error(status);
        if std::mem::take(&mut self.hello) {
            ctx.operation(OperationKind::Session, 0, Some(format_args!("connect")), result);
        }
        if let Some(table) = self.pending.as_mut() {
            for p in table.iter_mut().filter_map(Option::take) {
                emit(ctx, &p, result);
            }
        }
    }

    fn reverse_hello(&mut self, ctx: &mut Ctx<'_>, payload: &[u8]) {
        self.reverse = ctx.dir == Direction::ToServer;
        self.role(ctx, ctx.sender(), 2, ROLE_SERVER);
        let Some(parser::ReverseHello { server_uri: uri, endpoint: url }) = parser::reverse_hello(payload) else {
            return self.violation(ctx, ViolationKind::Malformed, format_args!("truncated ReverseHello"));
        };
        if let Some(url) = url.and_then(text) {
            ctx.sender_identity(IdentityField::Service, url);
        }
        if let Some(uri) = uri.and_then(text) {
            let fact = FactText::format(format_args!("application uri {uri}"));
            ctx.sender_identity(IdentityField::Description, fact.as_str());
        }
    }

    /// The first chunk of an OPN, MSG or CLO message.
    fn secure(&mut self, ctx: &mut Ctx<'_>, kind: MessageType, s: parser::Secure<'_>) {
        let from_client = self.sent_by_client(ctx.dir);
        if kind == MessageType::Open {
            return self.open(ctx, s, from_client);
        }
        if self.policy == Policy::Secured {
            return;
        }
        let Some((type_id, mut r)) = parser::body_type(s.body) else {
            if self.policy == Policy::None {
                self.violation(ctx, ViolationKind::Malformed, format_args!("{kind:?} body without a type id"));
            }
            return;
        };
        let Some(id) = type_id.ns0() else {
            if self.policy == Policy::None {
                self.violation(ctx, ViolationKind::Malformed, format_args!("{kind:?} body type {type_id} is not a standard service"));
            }
            return;
        };
        if self.policy == Policy::Unknown && !plain_headers(id, r) {
            // Mid-stream without the OpenSecureChannel: only a body whose
            // headers decode is taken for plain text.
            return;
        }
        if let Some(service) = by_request(id) {
            self.request(ctx, service, r, s.request_id);
        } else if let Some(service) = by_response(id) {
            self.response(ctx, Some(service), r, s.request_id);
        } else if id == SERVICE_FAULT {
            self.response(ctx, None, r, s.request_id);
        } else if self.policy == Policy::None {
            // Some service this table does not know.
            if from_client {
                r.request_header();
                let target = Target::format(format_args!("service i={id}"));
                self.remember(ctx, Pending { request_id: s.request_id, code: id, kind: OperationKind::Other, target, value_ids: [0; 8] });
            } else {
                self.response(ctx, None, r, s.request_id);
            }
        }
    }

    fn open(&mut self, ctx: &mut Ctx<'_>, s: parser::Secure<'_>, from_client: bool) {
        let Some(uri) = s.policy else {
            return self.violation(ctx, ViolationKind::Malformed, format_args!("OpenSecureChannel without a security policy"));
        };
        let name = policy_name(uri);
        self.policy = if name == b"None" { Policy::None } else { Policy::Secured };
        let plain = if self.policy == Policy::None { parser::body_type(s.body) } else { None };
        if !from_client {
            self.role(ctx, ctx.sender(), 2, ROLE_SERVER);
            let status = plain.filter(|(t, _)| t.ns0() == Some(OPEN_RESPONSE)).and_then(|(_, mut r)| r.response_header()).map(|(_, st)| st);
            if let Some(p) = self.take(s.request_id) {
                self.paired = true;
                emit(ctx, &p, status.map_or(OperationResult::Success, result));
            }
            self.done = self.policy == Policy::Secured;
            return;
        }
        self.role(ctx, ctx.sender(), 1, ROLE_CLIENT);
        let server = ctx.receiver();
        let mode = plain
            .filter(|(t, _)| t.ns0() == Some(OPEN_REQUEST))
            .and_then(|(_, mut r)| r.request_header().and_then(|_| parser::open_request(&mut r)))
            .map(|(_, mode)| mode);
        let fact = FactText::format(format_args!("opcua security policy {}", parser::Escaped(name)));
        ctx.identity(server, IdentityField::Description, fact.as_str());
        let target = match mode {
            Some(mode) => {
                let fact = FactText::format(format_args!("opcua security mode {}", mode_name(mode)));
                ctx.identity(server, IdentityField::Description, fact.as_str());
                Target::format(format_args!("secure channel policy {} mode {}", parser::Escaped(name), mode_name(mode)))
            }
            None => Target::format(format_args!("secure channel policy {}", parser::Escaped(name))),
        };
        self.remember(
            ctx,
            Pending { request_id: s.request_id, code: OPEN_REQUEST, kind: OperationKind::Session, target, value_ids: [0; 8] },
        );
    }

    /// A service request with a plain body; `r` is after the type id.
    fn request(&mut self, ctx: &mut Ctx<'_>, service: &Service, mut r: Reader<'_>, request_id: u32) {
        self.role(ctx, ctx.sender(), 1, ROLE_CLIENT);
        let header = r.request_header();
        let mut p = Pending { request_id, code: service.request, kind: service.kind, target: Target::default(), value_ids: [0; 8] };
        let nodes = match (header, service.detail) {
            (None, _) => None,
            (Some(_), Detail::Read) => parser::read_request(r),
            (Some(_), Detail::Write | Detail::DeleteNodes) => parser::first_node(r, 0),
            (Some(_), Detail::Browse) => parser::browse_request(r),
            (Some(_), Detail::HistoryRead) => parser::history_read_request(r),
            (Some(_), Detail::Call) => parser::call_request(r),
            // SubscriptionId, TimestampsToReturn, then ReadValueIds.
            (Some(_), Detail::MonitoredItems) => parser::first_node(r, 8),
            (Some(_), Detail::ActivateSession) => {
                p.target = activation_target(r);
                None
            }
            (Some(_), Detail::CreateSession) => {
                if let Some((client, endpoint)) = parser::create_session_request(r) {
                    application_facts(ctx, ctx.sender(), &client);
                    if let Some(url) = endpoint.and_then(text) {
                        ctx.identity(ctx.receiver(), IdentityField::Service, url);
                    }
                }
                None
            }
            (Some(_), Detail::RegisterServer) => {
                if let Some(server) = parser::registered_server(r) {
                    self.role(ctx, ctx.sender(), 4, ROLE_SERVER);
                    application_facts(ctx, ctx.sender(), &server);
                }
                None
            }
            (Some(_), Detail::None | Detail::GetEndpoints | Detail::FindServers) => None,
        };
        if p.target.len == 0 {
            p.target = node_target(service.name, nodes.as_ref());
        }
        if let Some(n) = nodes {
            p.value_ids = n.value_ids;
        }
        if service.request == CLOSE_REQUEST {
            // CloseSecureChannel has no response.
            emit(ctx, &p, OperationResult::Unknown);
        } else {
            self.remember(ctx, p);
        }
    }

    /// A service response (or ServiceFault when `service` is `None`) with a
    /// plain body; `r` is after the type id.
    fn response(&mut self, ctx: &mut Ctx<'_>, service: Option<&Service>, mut r: Reader<'_>, request_id: u32) {
        self.role(ctx, ctx.sender(), 2, ROLE_SERVER);
        let status = r.response_header().map(|(_, status)| status);
        let pending = self.take(request_id);
        if let (Some(service), Some(p)) = (service, &pending) {
            if p.code != service.request {
                self.violation(
                    ctx,
                    ViolationKind::UnexpectedResponse,
                    format_args!("{} response to request {request_id} of service {}", service.name, p.code),
                );
            }
        }
        if status.is_some_and(|s| s & 0x8000_0000 == 0) {
            if let Some(service) = service {
                self.response_facts(ctx, service.detail, r, pending.as_ref());
            }
        }
        match pending {
            Some(p) => {
                self.paired = true;
                emit(ctx, &p, status.map_or(OperationResult::Unknown, result));
            }
            None if self.paired => self.violation(
                ctx,
                ViolationKind::UnexpectedResponse,
                format_args!("response with request id {request_id} matches no request"),
            ),
            None => {}
        }
    }

    /// Identity facts from a good response body.
    fn response_facts(&mut self, ctx: &mut Ctx<'_>, detail: Detail, r: Reader<'_>, pending: Option<&Pending>) {
        let server = ctx.sender();
        match detail {
            Detail::CreateSession => {
                if let Some((certificate, endpoints)) = parser::create_session_response(r) {
                    let fact = if certificate > 0 { "opcua server certificate present" } else { "opcua server certificate absent" };
                    ctx.identity(server, IdentityField::Description, fact);
                    endpoint_facts(ctx, server, endpoints);
                }
            }
            Detail::GetEndpoints => {
                if let Some(endpoints) = parser::Endpoints::new(r) {
                    endpoint_facts(ctx, server, endpoints);
                }
            }
            Detail::FindServers => {
                for app in parser::Applications::new(r).into_iter().flatten() {
                    let mut urls = app.urls;
                    if urls.any(|u| url_names(u, server)) {
                        application_facts(ctx, server, &app);
                    }
                }
            }
            Detail::Read => {
                if let (Some(p), Some(values)) = (pending, parser::Values::new(r)) {
                    for (&node, value) in p.value_ids.iter().zip(values) {
                        build_info_fact(ctx, server, node, value);
                    }
                }
            }
            _ => {}
        }
    }

    /// Puts a request in the table; one it displaces is reported unanswered.
    fn remember(&mut self, ctx: &mut Ctx<'_>, new: Pending) {
        let table = self.pending.get_or_insert_with(|| Box::new([None; PENDING]));
        let slot = table
            .iter()
            .position(|p| p.is_some_and(|p| p.request_id == new.request_id))
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

    /// Removes and returns the request with this request id.
    fn take(&mut self, request_id: u32) -> Option<Pending> {
        let table = self.pending.as_mut()?;
        table.iter_mut().find(|p| p.is_some_and(|p| p.request_id == request_id))?.take()
    }
}

/// True if the body after type id `id` starts with the request or response
/// header that the type calls for.
fn plain_headers(id: u32, mut r: Reader<'_>) -> bool {
    if by_request(id).is_some() {
        r.request_header().is_some()
    } else if by_response(id).is_some() || id == SERVICE_FAULT {
        r.response_header().is_some()
    } else {
        false
    }
}

/// The result of a StatusCode: bad when its severity bit is set.
fn result(status: u32) -> OperationResult {
    if status & 0x8000_0000 != 0 {
        OperationResult::Error(status)
    } else {
        OperationResult::Success
    }
}

/// `name`, the first node and how many more: "read i=2258 (+3 more)".
fn node_target(name: &str, nodes: Option<&Nodes<'_>>) -> Target {
    match nodes {
        Some(Nodes { first: Some(first), count, .. }) if *count > 1 => Target::format(format_args!("{name} {first} (+{} more)", count - 1)),
        Some(Nodes { first: Some(first), .. }) => Target::format(format_args!("{name} {first}")),
        _ => Target::format(format_args!("{name}")),
    }
}

/// The target of an ActivateSession request: which kind of user identity.
fn activation_target(r: Reader<'_>) -> Target {
    match parser::identity_token(r) {
        Some((ANONYMOUS_TOKEN, _)) => Target::format(format_args!("activate session anonymous")),
        Some((USER_NAME_TOKEN, body)) => match body.and_then(parser::user_name) {
            Some(user) => Target::format(format_args!("activate session user {}", parser::Escaped(user))),
            None => Target::format(format_args!("activate session user")),
        },
        Some((X509_TOKEN, _)) => Target::format(format_args!("activate session certificate")),
        Some((ISSUED_TOKEN, _)) => Target::format(format_args!("activate session issued token")),
        _ => Target::format(format_args!("activate session")),
    }
}

/// Reports a request's operation with its result.
fn emit(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    ctx.operation(p.kind, p.code, Some(format_args!("{}", p.target.as_str())), result);
}

/// Facts from an ApplicationDescription about `subject`: its name and
/// product URI as product names, its application URI as a description.
fn application_facts(ctx: &mut Ctx<'_>, subject: Endpoint, app: &Application<'_>) {
    if let Some(name) = app.name.and_then(text) {
        ctx.identity(subject, IdentityField::ProductName, name);
    }
    if let Some(product) = app.product_uri.and_then(text) {
        ctx.identity(subject, IdentityField::ProductName, product);
    }
    if let Some(uri) = app.uri.and_then(text) {
        let fact = FactText::format(format_args!("application uri {uri}"));
        ctx.identity(subject, IdentityField::Description, fact.as_str());
    }
}

/// Facts from the endpoints a server describes: those whose URL names the
/// server give its URLs, its application and the security it offers.
fn endpoint_facts(ctx: &mut Ctx<'_>, server: Endpoint, endpoints: parser::Endpoints<'_>) {
    for ep in endpoints {
        let Some(url) = ep.url.filter(|u| url_names(u, server)) else { continue };
        if let Some(url) = text(url) {
            ctx.identity(server, IdentityField::Service, url);
        }
        application_facts(ctx, server, &ep.server);
        if let Some(policy) = ep.policy {
            let fact = FactText::format(format_args!(
                "opcua endpoint policy {} mode {}",
                parser::Escaped(policy_name(policy)),
                mode_name(ep.mode)
            ));
            ctx.identity(server, IdentityField::Description, fact.as_str());
        }
    }
}

/// A BuildInfo fact from the value read of namespace-0 node `node`.
fn build_info_fact(ctx: &mut Ctx<'_>, server: Endpoint, node: u32, value: Value<'_>) {
    match (node, value) {
        (SERVER_STATUS | BUILD_INFO, Value::Structure(encoding, body)) => {
            if let Some(info) = parser::build_info(encoding, body) {
                let fields = [
                    (IdentityField::ProductName, info.product_name),
                    (IdentityField::ProductName, info.product_uri),
                    (IdentityField::Vendor, info.manufacturer),
                    (IdentityField::Firmware, info.software_version),
                ];
                for (field, v) in fields {
                    if let Some(v) = v.and_then(text) {
                        ctx.identity(server, field, v);
                    }
                }
                build_number_fact(ctx, server, info.build_number);
            }
        }
        (BUILD_PRODUCT_NAME | BUILD_PRODUCT_URI, Value::String(Some(v))) => {
            if let Some(v) = text(v) {
                ctx.identity(server, IdentityField::ProductName, v);
            }
        }
        (BUILD_MANUFACTURER, Value::String(Some(v))) => {
            if let Some(v) = text(v) {
                ctx.identity(server, IdentityField::Vendor, v);
            }
        }
        (BUILD_SOFTWARE_VERSION, Value::String(Some(v))) => {
            if let Some(v) = text(v) {
                ctx.identity(server, IdentityField::Firmware, v);
            }
        }
        (BUILD_NUMBER, Value::String(v)) => build_number_fact(ctx, server, v),
        _ => {}
    }
}

fn build_number_fact(ctx: &mut Ctx<'_>, server: Endpoint, number: Option<&[u8]>) {
    if let Some(n) = number.and_then(text) {
        let fact = FactText::format(format_args!("opcua build number {n}"));
        ctx.identity(server, IdentityField::Description, fact.as_str());
    }
}

#[cfg(test)]
mod tests;
