//! HTTP/1.x on TCP 80, 8080, 8000, 8008, 8888 and 81 (and wherever a request
//! or status line opens a flow).
//!
//! Only message heads are read, at most [`MAX_HEADS`] per direction; bodies
//! are skipped by Content-Length while they are short, and anything longer
//! (or chunked, or delimited by the connection's end) finishes the flow, so
//! bulk transfers cost nothing after their heads.
//!
//! Facts: User-Agent (with an OS hint) on the client; Server and the
//! authentication a server asks for on the server; the Host name on a local
//! server; UPnP description XML (manufacturer, model, serial, friendly name)
//! served by a local device. Operations: one per request (GET/HEAD read,
//! POST/PUT/PATCH/DELETE write), matched in order to responses (status 400
//! and up is an error), plus a `login` for Basic credentials (user name
//! only).

pub(crate) mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_model::{is_local_ip, IdentityField, OperationKind, OperationResult, Protocol};
use parser::{Method, StartLine};
use std::collections::VecDeque;

/// Heads read per direction before the flow is left alone.
const MAX_HEADS: u8 = 4;
/// Longest body that is skipped to reach a following head.
const MAX_SKIP: u64 = 64 * 1024;
/// Longest request target kept for an operation.
const MAX_TARGET: usize = 100;
/// How much of an XML body is searched for a UPnP description.
const MAX_PEEK: usize = 8192;

/// HTTP flow state.
#[derive(Default)]
pub struct Http {
    /// Per direction (to server, to client).
    sides: [Side; 2],
    /// Requests waiting for their responses, oldest first.
    pending: VecDeque<Pending>,
}

/// Where one direction's parsing stands.
#[derive(Clone, Copy, Default)]
struct Side {
    /// Heads read so far.
    heads: u8,
    /// The body being passed over.
    body: Body,
    /// Nothing more is read in this direction.
    done: bool,
}

/// The body that follows a head.
#[derive(Clone, Copy, Default)]
enum Body {
    /// None: the next bytes are a head.
    #[default]
    None,
    /// This many bytes to skip.
    Skip(u64),
    /// An XML body of this length, to search before skipping it.
    Peek(u64),
}

/// A request waiting for its response.
struct Pending {
    method: Method,
    target: String,
    /// The user name of Basic credentials sent with the request.
    user: Option<String>,
}

impl Dissector for Http {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[80, 8080, 8000, 8008, 8888, 81], probe: Some(probe), ..Registration::new(Protocol::Http) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let index = ctx.dir.index();
        let mut used = 0;
        loop {
            let Some(side) = self.sides.get(index).copied() else { return data.len() };
            let rest = data.get(used..).unwrap_or_default();
            if side.done {
                return data.len();
            }
            let (next, step) = match side.body {
                Body::Skip(n) => {
                    if rest.is_empty() {
                        return used;
                    }
                    let take = n.min(rest.len() as u64);
                    (Body::Skip(n - take).normal(), take as usize)
                }
                Body::Peek(n) => {
                    let want = usize::try_from(n).unwrap_or(usize::MAX).min(MAX_PEEK);
                    let Some(body) = rest.get(..want) else { return used };
                    description(ctx, body);
                    (Body::Skip(n), 0)
                }
                Body::None => {
                    if rest.is_empty() {
                        return used;
                    }
                    if side.heads >= MAX_HEADS || (rest.len() >= 9 && !parser::looks_like_start(rest)) {
                        self.stop(index);
                        return data.len();
                    }
                    let Some(end) = parser::head_end(rest) else {
                        if rest.len() >= parser::MAX_HEAD {
                            self.stop(index);
                            return data.len();
                        }
                        return used;
                    };
                    let head = rest.get(..end).unwrap_or_default();
                    let after = rest.get(end..).unwrap_or_default();
                    match self.head(ctx, head, after) {
                        Some(body) => (body, end),
                        None => {
                            self.stop(index);
                            return data.len();
                        }
                    }
                }
            };
            used += step;
            if let Some(side) = self.sides.get_mut(index) {
                side.body = next;
                if matches!(side.body, Body::Skip(n) if n > MAX_SKIP) {
                    side.done = true;
                }
            }
            if self.finished() {
                return data.len();
            }
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(p) = self.pending.pop_front() {
            report(ctx, &p, OperationResult::Unknown);
        }
    }

    fn finished(&self) -> bool {
        let [client, server] = self.sides;
        server.done || (client.done && self.pending.is_empty())
    }
}

impl Body {
    /// An empty body is no body at all.
    fn normal(self) -> Body {
        match self {
            Body::Skip(0) | Body::Peek(0) => Body::None,
            b => b,
        }
    }
}

/// Recognises an HTTP/1.x request or status line on TCP.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    is_tcp && parser::looks_like_start(payload)
}

impl Http {
    /// Stops reading direction `index`.
    fn stop(&mut self, index: usize) {
        if let Some(side) = self.sides.get_mut(index) {
            side.done = true;
        }
    }

    /// Handles one head (`after` is what follows it in the data at hand);
    /// returns the body that follows, or `None` when the direction ends.
    fn head(&mut self, ctx: &mut Ctx<'_>, head: &[u8], after: &[u8]) -> Option<Body> {
        let index = ctx.dir.index();
        if let Some(side) = self.sides.get_mut(index) {
            side.heads = side.heads.saturating_add(1);
        }
        let (line, headers) = parser::split_head(head);
        let mut length = None;
        let mut chunked = false;
        let mut xml = false;
        match (parser::start_line(line)?, index) {
            (StartLine::Request(method, target), 0) => {
                let mut user = None;
                for (name, value) in headers {
                    match_header(name, value, &mut length, &mut chunked, &mut xml);
                    if name.eq_ignore_ascii_case(b"user-agent") {
                        user_agent(ctx, value);
                    } else if name.eq_ignore_ascii_case(b"host") {
                        host(ctx, value);
                    } else if name.eq_ignore_ascii_case(b"authorization") {
                        user = basic_user(value);
                    }
                }
                if self.pending.len() < usize::from(MAX_HEADS) {
                    let target = String::from_utf8_lossy(target.get(..target.len().min(MAX_TARGET)).unwrap_or_default());
                    self.pending.push_back(Pending { method, target: target.into_owned(), user });
                }
                if chunked {
                    return None;
                }
                Some(Body::Skip(length.unwrap_or(0)).normal())
            }
            (StartLine::Response(status), 1) => {
                for (name, value) in headers {
                    match_header(name, value, &mut length, &mut chunked, &mut xml);
                    if name.eq_ignore_ascii_case(b"server") {
                        if let Some(v) = text(value) {
                            ctx.sender_identity(IdentityField::Server, v);
                        }
                    } else if name.eq_ignore_ascii_case(b"www-authenticate") {
                        let scheme = value.split(|&b| b == b' ').next().unwrap_or_default();
                        if let Some(s) = text(scheme).filter(|s| s.len() <= 16) {
                            ctx.sender_identity(IdentityField::Service, &format!("http auth {}", s.to_ascii_lowercase()));
                        }
                    }
                }
                if (100..200).contains(&status) && status != 101 {
                    return Some(Body::None);
                }
                let request = self.pending.pop_front();
                let result = if status >= 400 { OperationResult::Error(u32::from(status)) } else { OperationResult::Success };
                if let Some(p) = &request {
                    report(ctx, p, result);
                }
                let method = request.map(|p| p.method);
                if status == 101 || (method == Some(Method::Connect) && status < 300) {
                    self.stop(0);
                    return None;
                }
                if method == Some(Method::Head) || status == 204 || status == 304 {
                    return Some(Body::None);
                }
                let local = ctx.server.ip.is_some_and(is_local_ip);
                match length {
                    Some(n) if xml && local => Some(Body::Peek(n).normal()),
                    Some(n) => Some(Body::Skip(n).normal()),
                    None => {
                        if xml && local {
                            description(ctx, after.get(..after.len().min(MAX_PEEK)).unwrap_or_default());
                        }
                        None
                    }
                }
            }
            _ => None,
        }
    }
}

/// Notes the framing headers of a head.
fn match_header(name: &[u8], value: &[u8], length: &mut Option<u64>, chunked: &mut bool, xml: &mut bool) {
    if name.eq_ignore_ascii_case(b"content-length") {
        *length = parser::decimal(value);
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        *chunked |= parser::contains_ignore_case(value, b"chunked");
    } else if name.eq_ignore_ascii_case(b"content-type") {
        *xml = parser::contains_ignore_case(value, b"xml");
    }
}

/// Reports a request with its result: a read/write/... and, with Basic
/// credentials, a login.
fn report(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    let kind = match p.method {
        Method::Get | Method::Head => OperationKind::Read,
        Method::Post | Method::Put | Method::Patch | Method::Delete => OperationKind::Write,
        Method::Connect => OperationKind::Session,
        Method::Options => OperationKind::Other,
    };
    ctx.operation(kind, p.method.code(), Some(format_args!("{}", p.target)), result);
    if let Some(user) = &p.user {
        ctx.operation(OperationKind::Login, p.method.code(), Some(format_args!("http basic auth user {user}")), result);
    }
}

/// UTF-8 text of a header value.
fn text(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok()
}

/// Reports a client's User-Agent and the OS it names.
fn user_agent(ctx: &mut Ctx<'_>, value: &[u8]) {
    let Some(ua) = text(value) else { return };
    ctx.sender_identity(IdentityField::UserAgent, ua);
    if let Some(os) = os_from_user_agent(ua) {
        ctx.sender_identity(IdentityField::Os, os);
    }
}

/// The operating system a User-Agent names, if any.
pub(crate) fn os_from_user_agent(ua: &str) -> Option<&'static str> {
    const HINTS: [(&str, &str); 9] = [
        ("Windows NT 10.0", "Windows 10/11"),
        ("Windows NT 6.3", "Windows 8.1"),
        ("Windows NT 6.2", "Windows 8"),
        ("Windows NT 6.1", "Windows 7"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    HINTS.iter().find(|(needle, _)| ua.contains(needle)).map(|&(_, os)| os)
}

/// Reports the Host name of a request to a local server.
fn host(ctx: &mut Ctx<'_>, value: &[u8]) {
    if !ctx.server.ip.is_some_and(is_local_ip) {
        return;
    }
    if let Some(name) = text(value).filter(|n| !n.is_empty() && n.len() <= 255) {
        let server = ctx.server;
        ctx.identity(server, IdentityField::Service, &format!("http host {name}"));
    }
}

/// The user name of Basic credentials (the password is never kept).
fn basic_user(value: &[u8]) -> Option<String> {
    value.get(..6).filter(|s| s.eq_ignore_ascii_case(b"basic "))?;
    let mut buf = [0u8; 256];
    let decoded = parser::base64(parser::trim(value.get(6..)?), &mut buf)?;
    let user = decoded.split(|&b| b == b':').next()?;
    text(user).filter(|u| !u.is_empty()).map(str::to_owned)
}

/// Reports the identity in a UPnP device description served by the sender.
fn description(ctx: &mut Ctx<'_>, body: &[u8]) {
    if !parser::contains_ignore_case(body, b"urn:schemas-upnp-org:device-1-0") {
        return;
    }
    const FIELDS: [(&str, IdentityField); 5] = [
        ("manufacturer", IdentityField::Vendor),
        ("modelName", IdentityField::Model),
        ("modelNumber", IdentityField::Model),
        ("serialNumber", IdentityField::Serial),
        ("friendlyName", IdentityField::DeviceName),
    ];
    for (tag, field) in FIELDS {
        if let Some(v) = parser::xml_element(body, tag).and_then(text) {
            ctx.sender_identity(field, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ep_at, field_values as facts, operation_events, Flow};
    use palisade_flow::Direction;
    use palisade_model::Event;

    /// Feeds chunks that must be consumed whole between 10.0.0.1 and port 80
    /// of `server`, then ends the flow; returns the events and whether the
    /// dissector had finished before the end.
    fn run(chunks: &[(Direction, &[u8])], server: &str) -> (Vec<Event>, bool) {
        let mut flow = Flow::<Http>::new(ep_at("10.0.0.1", 5000), ep_at(server, 80));
        flow.whole_streams(chunks);
        let finished = flow.dissector().finished();
        (flow.end().events(), finished)
    }

    fn ops(ev: &[Event]) -> Vec<(OperationKind, String, OperationResult)> {
        operation_events(ev).into_iter().map(|o| (o.kind, o.target.clone().unwrap_or_default(), o.result)).collect()
    }

    #[test]
    fn pipelined_requests_match_in_order() {
        let req = b"GET /a HTTP/1.1\r\nHost: cam.local\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64)\r\nAuthorization: Basic YWRtaW46c2VjcmV0\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz";
        let resp = b"HTTP/1.1 200 OK\r\nServer: lighttpd\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 403 Forbidden\r\nWWW-Authenticate: Basic realm=x\r\nContent-Length: 0\r\n\r\n";
        let (ev, _) = run(&[(Direction::ToServer, req), (Direction::ToClient, resp)], "192.168.1.10");
        let f = facts(&ev);
        assert!(f.contains(&(IdentityField::UserAgent, "Mozilla/5.0 (Windows NT 10.0; Win64)".into())));
        assert!(f.contains(&(IdentityField::Os, "Windows 10/11".into())));
        assert!(f.contains(&(IdentityField::Service, "http host cam.local".into())));
        assert!(f.contains(&(IdentityField::Server, "lighttpd".into())));
        assert!(f.contains(&(IdentityField::Service, "http auth basic".into())));
        assert_eq!(
            ops(&ev),
            vec![
                (OperationKind::Read, "/a".into(), OperationResult::Success),
                (OperationKind::Login, "http basic auth user admin".into(), OperationResult::Success),
                (OperationKind::Write, "/b".into(), OperationResult::Error(403)),
            ]
        );
        assert!(!format!("{ev:?}").contains("secret"));
    }

    #[test]
    fn public_host_is_not_a_fact_and_unanswered_requests_end_unknown() {
        let (ev, finished) = run(&[(Direction::ToServer, b"GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n")], "93.184.216.34");
        assert!(facts(&ev).is_empty());
        assert_eq!(ops(&ev), vec![(OperationKind::Read, "/x".into(), OperationResult::Unknown)]);
        assert!(!finished);
    }

    #[test]
    fn large_bodies_finish_the_flow() {
        let (_, finished) = run(
            &[
                (Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n"),
                (Direction::ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\nabc"),
            ],
            "10.0.0.2",
        );
        assert!(finished);
        let mut ping = Vec::new();
        for _ in 0..5 {
            ping.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        }
        let mut pong = Vec::new();
        for _ in 0..4 {
            pong.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }
        let (ev, finished) = run(&[(Direction::ToServer, &ping), (Direction::ToClient, &pong)], "10.0.0.2");
        assert!(finished);
        assert_eq!(ops(&ev).len(), 1, "identical reads fold into one event");
    }

    #[test]
    fn upnp_description_names_the_device() {
        let body = b"<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device><friendlyName>Living Room</friendlyName><manufacturer>Sonos, Inc.</manufacturer><modelName>Sonos One</modelName><modelNumber>S13</modelNumber><serialNumber>00-0E-58</serialNumber></device></root>";
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n", body.len());
        let mut resp = head.into_bytes();
        resp.extend_from_slice(body);
        let mut flow = Flow::<Http>::new(ep_at("10.0.0.1", 5000), ep_at("10.0.0.7", 1400));
        flow.stream(Direction::ToServer, b"GET /xml/device_description.xml HTTP/1.1\r\n\r\n");
        let split = resp.len() - 20;
        let used = flow.stream(Direction::ToClient, &resp[..split]);
        assert!(used < split, "waits for the body");
        let rest = &resp[used..];
        assert_eq!(flow.stream(Direction::ToClient, rest), rest.len());
        let ev = flow.events();
        let f = facts(&ev);
        for want in [
            (IdentityField::Vendor, "Sonos, Inc."),
            (IdentityField::Model, "Sonos One"),
            (IdentityField::Model, "S13"),
            (IdentityField::Serial, "00-0E-58"),
            (IdentityField::DeviceName, "Living Room"),
        ] {
            assert!(f.contains(&(want.0, want.1.into())), "{want:?} in {f:?}");
        }
    }

    #[test]
    fn mid_stream_bytes_end_the_direction() {
        let (ev, finished) = run(&[(Direction::ToClient, b"\x00\x01binary body bytes")], "10.0.0.2");
        assert!(ev.is_empty());
        assert!(finished);
    }

    #[test]
    fn probe_is_strict() {
        assert!(probe(b"GET / HTTP/1.1\r\n", true));
        assert!(!probe(b"GET / HTTP/1.1\r\n", false));
        assert!(!probe(b"SSH-2.0-x", true));
        assert!(!probe(b"\x16\x03\x01", true));
    }
}
