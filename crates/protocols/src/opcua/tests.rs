//! Dissector tests over hand-built UA TCP chunks.

use super::*;
use crate::testing::{self, ep, subject_facts, violations, Flow};
use palisade_model::Event;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

/// An encoder for chunk bodies.
#[derive(Default)]
struct B(Vec<u8>);

impl B {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn zeros(mut self, n: usize) -> Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
    fn s(mut self, text: &str) -> Self {
        self.0.extend_from_slice(&(text.len() as i32).to_le_bytes());
        self.0.extend_from_slice(text.as_bytes());
        self
    }
    fn null(self) -> Self {
        self.u32(u32::MAX)
    }
    /// A four-byte NodeId in namespace 0.
    fn id(self, id: u16) -> Self {
        self.u8(1).u8(0).u8(id as u8).u8((id >> 8) as u8)
    }
    fn request_header(self) -> Self {
        self.u8(0).u8(0).zeros(8).u32(7).u32(0).null().u32(1000).u8(0).u8(0).u8(0)
    }
    fn response_header(self, status: u32) -> Self {
        self.zeros(8).u32(7).u32(status).u8(0).null().u8(0).u8(0).u8(0)
    }
    fn app(self, uri: &str, product: &str, name: &str, app_type: u32, url: &str) -> Self {
        self.s(uri).s(product).u8(2).s(name).u32(app_type).null().null().u32(1).s(url)
    }
}

fn chunk(kind: &[u8; 3], chunk_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = kind.to_vec();
    v.push(chunk_type);
    v.extend_from_slice(&(payload.len() as u32 + 8).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

fn hello(url: &str) -> Vec<u8> {
    chunk(b"HEL", b'F', &B::default().u32(0).u32(65536).u32(65536).u32(0).u32(0).s(url).0)
}

fn ack() -> Vec<u8> {
    chunk(b"ACK", b'F', &B::default().u32(0).u32(65536).u32(65536).u32(0).u32(0).0)
}

fn open(policy: &str, request_id: u32, body: B) -> Vec<u8> {
    let p = B::default().u32(0).s(policy).null().null().u32(1).u32(request_id);
    chunk(b"OPN", b'F', &[p.0, body.0].concat())
}

fn msg(kind: &[u8; 3], request_id: u32, body: B) -> Vec<u8> {
    let p = B::default().u32(5).u32(1).u32(request_id).u32(request_id);
    chunk(kind, b'F', &[p.0, body.0].concat())
}

const NONE: &str = "http://opcfoundation.org/UA/SecurityPolicy#None";

fn open_request(mode: u32) -> B {
    B::default().id(446).request_header().u32(0).u32(0).u32(mode).null().u32(600000)
}

fn open_response() -> B {
    B::default().id(449).response_header(0).u32(0).u32(5).u32(1).zeros(8).u32(600000).null()
}

/// A flow from 10.0.0.1 to the OPC UA port of 10.0.0.2.
fn flow() -> Flow<Opcua> {
    Flow::new(ep(1, 50000), ep(2, 4840))
}

/// Feeds (direction, bytes) pieces as a stream and returns the events.
fn run(pieces: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    flow().streams(pieces).events()
}

/// The operations as (kind, service, target or "", result).
fn operations(events: &[Event]) -> Vec<(OperationKind, u32, String, OperationResult)> {
    testing::operations(events).into_iter().map(|(kind, code, target, result)| (kind, code, target.unwrap_or_default(), result)).collect()
}

/// True if a fact `field = value` is about 10.0.0.`host`.
fn has_fact(events: &[Event], host: u8, field: IdentityField, value: &str) -> bool {
    subject_facts(events).contains(&(ep(host, 0), field, value.to_string()))
}

#[test]
fn probe_is_strict() {
    assert!(probe(&hello("opc.tcp://plc:4840"), true));
    assert!(!probe(&hello("opc.tcp://plc:4840"), false));
    let mut long = hello("opc.tcp://plc:4840");
    long.push(0);
    assert!(!probe(&long, true));
    let small = chunk(b"HEL", b'F', &B::default().u32(0).u32(100).u32(100).u32(0).u32(0).s("opc.tcp://x").0);
    assert!(!probe(&small, true));
    assert!(probe(&open(NONE, 1, open_request(1)), true));
    assert!(!probe(&open("http://example.com/#None", 1, open_request(1)), true));
    assert!(probe(&ack(), true));
    assert!(probe(&[ack(), hello("opc.tcp://x")].concat(), true));
    assert!(!probe(&[ack(), b"GET / HTTP/1.1\r\n".to_vec()].concat(), true));
    assert!(!probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true));
    assert!(!probe(&[0x16, 0x03, 0x01, 0x00, 0x20, 0, 0, 0, 0, 0], true));
    assert!(!probe(b"MSGF", true));
}

#[test]
fn session_with_policy_none() {
    let create_request = B::default()
        .id(461)
        .request_header()
        .app("urn:client", "urn:vendor:client", "Client", 1, "opc.tcp://c")
        .null()
        .s("opc.tcp://10.0.0.2:4840/ua")
        .s("session")
        .null()
        .null()
        .zeros(8)
        .u32(0);
    let endpoint = |url: &str, uri: &str| {
        B::default()
            .s(url)
            .app(uri, "urn:vendor:server", "Server", 0, url)
            .null()
            .u32(1)
            .s(NONE)
            .u32(1)
            .s("anonymous")
            .u32(0)
            .null()
            .null()
            .null()
            .s("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary")
            .u8(0)
            .0
    };
    let mut create_response = B::default().id(464).response_header(0).id(1).id(2).zeros(8).null().s("cert").u32(2);
    create_response.0.extend(endpoint("opc.tcp://10.0.0.2:4840/ua", "urn:server"));
    // An endpoint on another host is not about this server.
    create_response.0.extend(endpoint("opc.tcp://10.0.0.9:4840/ua", "urn:other"));
    let create_response = create_response.u32(0).null().null().u32(65536);
    let user_token = B::default().s("user").s("operator").null().null();
    let activate = B::default().id(467).request_header().null().null().u32(0).u32(0).id(324).u8(1).u32(user_token.0.len() as u32);
    let activate = B([activate.0, user_token.0].concat()).null().null();
    // Read of BuildInfo ProductName, ManufacturerName, SoftwareVersion and a tag.
    let read_value = |b: B, node: u16| b.id(node).u32(13).null().u8(0).u8(0).null();
    let mut read = B::default().id(631).request_header().zeros(8).u32(0).u32(4);
    for node in [2261, 2263, 2264] {
        read = read_value(read, node);
    }
    let read = read.u8(3).u8(2).u8(0).s("Tag1").u32(13).null().u8(0).u8(0).null();
    let read_response = B::default()
        .id(634)
        .response_header(0)
        .u32(4)
        .u8(1)
        .u8(12)
        .s("Widget Server")
        .u8(1)
        .u8(12)
        .s("ACME")
        .u8(1)
        .u8(12)
        .s("1.2.3")
        .u8(0x02)
        .u32(0x8034_0000)
        .null();
    let write = B::default().id(673).request_header().u32(1).u8(3).u8(2).u8(0).s("Tag1").u32(13).null().u8(1).u8(6).u32(5);
    let fault = B::default().id(397).response_header(0x801F_0000);
    let events = run(&[
        (C, hello("opc.tcp://10.0.0.2:4840/ua")),
        (S, ack()),
        (C, open(NONE, 1, open_request(1))),
        (S, open(NONE, 1, open_response())),
        (C, msg(b"MSG", 2, create_request)),
        (S, msg(b"MSG", 2, create_response)),
        (C, msg(b"MSG", 3, activate)),
        (S, msg(b"MSG", 3, B::default().id(470).response_header(0).null().u32(0).u32(0))),
        (C, msg(b"MSG", 4, read)),
        (S, msg(b"MSG", 4, read_response)),
        (C, msg(b"MSG", 5, write)),
        (S, msg(b"MSG", 5, fault)),
        (C, msg(b"CLO", 6, B::default().id(452).request_header())),
    ]);
    assert!(violations(&events).is_empty(), "{:#?}", violations(&events));
    let ops = operations(&events);
    let expected = vec![
        (OperationKind::Session, 0, "connect".to_string(), OperationResult::Success),
        (OperationKind::Session, 446, "secure channel policy None mode None".to_string(), OperationResult::Success),
        (OperationKind::Session, 461, "create session".to_string(), OperationResult::Success),
        (OperationKind::Login, 467, "activate session user operator".to_string(), OperationResult::Success),
        (OperationKind::Read, 631, "read i=2261 (+3 more)".to_string(), OperationResult::Success),
        (OperationKind::Write, 673, "write ns=2;s=Tag1".to_string(), OperationResult::Error(0x801F_0000)),
        (OperationKind::Session, 452, "close secure channel".to_string(), OperationResult::Unknown),
    ];
    assert_eq!(ops, expected);
    // The server (host 2) and the client (host 1).
    for (host, field, value) in [
        (2, IdentityField::Service, "opc.tcp://10.0.0.2:4840/ua"),
        (2, IdentityField::Description, "opcua security policy None"),
        (2, IdentityField::Description, "opcua security mode None"),
        (2, IdentityField::Description, "opcua server certificate present"),
        (2, IdentityField::Description, "opcua endpoint policy None mode None"),
        (2, IdentityField::Description, "application uri urn:server"),
        (2, IdentityField::ProductName, "Server"),
        (2, IdentityField::ProductName, "urn:vendor:server"),
        (2, IdentityField::ProductName, "Widget Server"),
        (2, IdentityField::Vendor, "ACME"),
        (2, IdentityField::Firmware, "1.2.3"),
        (2, IdentityField::Role, "opcua-server"),
        (1, IdentityField::Role, "opcua-client"),
        (1, IdentityField::Description, "application uri urn:client"),
        (1, IdentityField::ProductName, "urn:vendor:client"),
        (1, IdentityField::ProductName, "Client"),
    ] {
        assert!(has_fact(&events, host, field, value), "missing {host} {field} {value}");
    }
    assert!(!has_fact(&events, 2, IdentityField::Description, "application uri urn:other"));
}

#[test]
fn anonymous_activation_and_unknown_service() {
    let activate = B::default().id(467).request_header().null().null().u32(0).u32(0).id(321).u8(1).u32(8).s("anon").null().null();
    let events = run(&[
        (C, open(NONE, 1, open_request(1))),
        (C, msg(b"MSG", 2, activate)),
        (S, msg(b"MSG", 2, B::default().id(470).response_header(0))),
        (C, msg(b"MSG", 3, B::default().id(9999).request_header())),
        (S, msg(b"MSG", 3, B::default().id(397).response_header(0x800B_0000))),
    ]);
    let ops = operations(&events);
    assert!(ops.contains(&(OperationKind::Login, 467, "activate session anonymous".to_string(), OperationResult::Success)), "{ops:?}");
    assert!(ops.contains(&(OperationKind::Other, 9999, "service i=9999".to_string(), OperationResult::Error(0x800B_0000))), "{ops:?}");
    assert!(violations(&events).is_empty(), "{:?}", violations(&events));
}

#[test]
fn secured_channel_reads_headers_only() {
    let policy = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
    let mut flow = flow();
    flow.whole_streams(&[(C, open(policy, 1, B::default().zeros(64))), (S, open(policy, 1, B::default().zeros(64)))]);
    assert!(flow.dissector().finished());
    let events = flow.events();
    assert!(has_fact(&events, 2, IdentityField::Description, "opcua security policy Basic256Sha256"));
    assert_eq!(
        operations(&events),
        vec![(OperationKind::Session, 446, "secure channel policy Basic256Sha256".to_string(), OperationResult::Success)]
    );
}

#[test]
fn error_fails_the_hello() {
    let err = chunk(b"ERR", b'F', &B::default().u32(0x8083_0000).s("bad endpoint").0);
    let events = run(&[(C, hello("opc.tcp://x:4840")), (S, err)]);
    assert_eq!(operations(&events), vec![(OperationKind::Session, 0, "connect".to_string(), OperationResult::Error(0x8083_0000))]);
}

#[test]
fn violations_and_resynchronisation() {
    let mut bad_hello = hello("opc.tcp://x:4840");
    bad_hello.extend_from_slice(&[0, 0]);
    let len = bad_hello.len() as u32;
    bad_hello[4..8].copy_from_slice(&len.to_le_bytes());
    let close = msg(b"CLO", 9, B::default().id(452).request_header());
    let events = run(&[
        (C, bad_hello),
        (C, b"XYZF\x10\x00\x00\x00garbage!".to_vec()),
        (C, close.clone()),
        (S, msg(b"MSG", 77, B::default().id(449).response_header(0))),
    ]);
    let v = violations(&events);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert_eq!(v[0].0, ViolationKind::LengthMismatch);
    assert_eq!((v[1].0, v[1].1.as_str()), (ViolationKind::Malformed, "unknown message type XYZ; resynchronising"));
    // The close after the garbage is still found.
    assert!(operations(&events).iter().any(|o| o.1 == 452));

    // A capture that starts mid-chunk finds the next one without complaint.
    let mut mid = vec![0x55; 13];
    mid.extend_from_slice(&close);
    let events = run(&[(C, mid)]);
    assert!(violations(&events).is_empty());
    assert_eq!(operations(&events).len(), 1);

    // Without the OpenSecureChannel, a body whose request header does not
    // decode (encrypted, say) is not taken for a Read.
    let events = run(&[(C, msg(b"MSG", 3, B::default().id(631).u8(7).u8(0x99)))]);
    assert!(operations(&events).is_empty());
    assert!(violations(&events).is_empty());
}

#[test]
fn chunks_over_the_receive_buffer_and_oversized_chunks() {
    let small_buffers = chunk(b"ACK", b'F', &B::default().u32(0).u32(8192).u32(8192).u32(0).u32(0).0);
    let read = B::default().id(631).request_header().zeros(8).u32(0).u32(0).zeros(100_000);
    let big = msg(b"MSG", 2, read);
    let mut flow = flow();
    assert_eq!(flow.stream(S, &small_buffers), small_buffers.len());
    // The oversized request is read from its start, the rest skipped.
    assert_eq!(flow.stream(C, &big[..1500]), 1500);
    assert_eq!(flow.stream(C, &big[1500..]), big.len() - 1500);
    let close = msg(b"CLO", 3, B::default().id(452).request_header());
    assert_eq!(flow.stream(C, &close), close.len());
    let events = flow.events();
    let v = violations(&events);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].0, ViolationKind::LengthMismatch);
    assert!(operations(&events).iter().any(|o| o.1 == 452));
}

#[test]
fn multi_chunk_messages_decode_the_first_chunk_only() {
    let read = B::default().id(631).request_header().zeros(8).u32(0).u32(1).id(2258).u32(13).null().u8(0).u8(0).null();
    let p = |seq: u32| B::default().u32(5).u32(1).u32(seq).u32(4).0;
    let first = chunk(b"MSG", b'C', &[p(1), read.0].concat());
    // The continuation would look like a request of another service.
    let second = chunk(b"MSG", b'F', &[p(2), B::default().id(673).request_header().0].concat());
    let events = run(&[(C, first), (C, second), (S, msg(b"MSG", 4, B::default().id(634).response_header(0).u32(0)))]);
    assert_eq!(operations(&events), vec![(OperationKind::Read, 631, "read i=2258".to_string(), OperationResult::Success)]);
}

#[test]
fn find_servers_keeps_only_the_answering_server() {
    let response = B::default()
        .id(425)
        .response_header(0)
        .u32(2)
        .app("urn:lds", "http://vendor", "LDS", 3, "opc.tcp://lds-host:4840/")
        .app("urn:elsewhere", "http://vendor", "Other", 0, "opc.tcp://lds-host:51944/");
    let events = run(&[
        (C, open(NONE, 1, open_request(1))),
        (C, msg(b"MSG", 2, B::default().id(422).request_header().null().null().null())),
        (S, msg(b"MSG", 2, response)),
    ]);
    assert!(has_fact(&events, 2, IdentityField::Description, "application uri urn:lds"));
    assert!(!has_fact(&events, 2, IdentityField::Description, "application uri urn:elsewhere"));
    assert!(operations(&events).contains(&(OperationKind::Identify, 422, "find servers".to_string(), OperationResult::Success)));
}

#[test]
fn text_buffer_truncates_on_char_boundaries() {
    let t = Text::<4>::format(format_args!("abé€"));
    assert_eq!(t.as_str(), "abé");
    assert_eq!(Text::<8>::format(format_args!("x{}", 12)).as_str(), "x12");
}
