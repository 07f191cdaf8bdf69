//! RDP and VNC through the whole sensor over captures written by the test
//! (no shared capture has either protocol): one TCP conversation each, on
//! the standard port and on another one (found by the payload probes).

use palisade_model::{Event, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::testdata::{capture_violations, frames_events, ip, ip_facts, operations, tcp_frame};

const CLIENT: [u8; 4] = [10, 20, 0, 5];
const SERVER: [u8; 4] = [10, 20, 0, 9];
const CLIENT_PORT: u16 = 49500;

/// The frames of one TCP conversation to `port`, sequence numbers kept.
struct Conversation {
    port: u16,
    /// Next sequence number of the client and of the server.
    seq: [u32; 2],
    frames: Vec<Vec<u8>>,
}

impl Conversation {
    /// A conversation that starts with the three-way handshake.
    fn open(port: u16) -> Conversation {
        let mut c = Conversation { port, seq: [1000, 9000], frames: Vec::new() };
        c.segment(true, 0x02, b"");
        c.segment(false, 0x12, b"");
        c.segment(true, 0x10, b"");
        c
    }

    /// Sends `payload` from the client (`to_server`) or the server.
    fn send(&mut self, to_server: bool, payload: &[u8]) {
        self.segment(to_server, 0x18, payload);
    }

    fn segment(&mut self, to_server: bool, flags: u8, payload: &[u8]) {
        let side = usize::from(!to_server);
        let seq = self.seq[side];
        let frame = if to_server {
            tcp_frame(CLIENT, SERVER, CLIENT_PORT, self.port, seq, flags, payload)
        } else {
            tcp_frame(SERVER, CLIENT, self.port, CLIENT_PORT, seq, flags, payload)
        };
        self.frames.push(frame);
        let syn = u32::from(flags & 0x02 != 0);
        self.seq[side] = seq.wrapping_add(syn + u32::try_from(payload.len()).expect("small segment"));
    }

    /// Every event of the conversation, analysed by the sensor.
    fn events(&self) -> Vec<Event> {
        frames_events(&self.frames)
    }
}

/// (kind, code, target, result) of the operations of `protocol`.
fn operation_tuples(ev: &[Event], protocol: Protocol) -> Vec<(OperationKind, u32, Option<String>, OperationResult)> {
    operations(ev, protocol).into_iter().map(|o| (o.kind, o.code, o.target.clone(), o.result)).collect()
}

/// Violations other than the protocol running on a non-standard port.
fn violations(ev: &[Event]) -> Vec<String> {
    capture_violations(ev).into_iter().filter(|v| !v.starts_with(ViolationKind::NonStandardPort.as_str())).collect()
}

/// An RDP X.224 TPDU (CR or CC) with its variable part, in a TPKT.
fn x224(code: u8, variable: &[u8]) -> Vec<u8> {
    let li = u8::try_from(6 + variable.len()).expect("short");
    let mut out = vec![3, 0, 0, 0, li, code, 0, 0, 0x12, 0x34, 0];
    out.extend_from_slice(variable);
    let len = u16::try_from(out.len()).expect("short");
    out[2..4].copy_from_slice(&len.to_be_bytes());
    out
}

#[test]
fn rdp_negotiation_names_user_and_security() {
    for port in [3389, 13389] {
        let mut c = Conversation::open(port);
        let mut request = b"Cookie: mstshash=engineer\r\n".to_vec();
        request.extend([1, 0, 8, 0, 3, 0, 0, 0]);
        c.send(true, &x224(0xe0, &request));
        c.send(false, &x224(0xd0, &[2, 0x1f, 8, 0, 2, 0, 0, 0]));
        c.send(true, b"\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03");
        let ev = c.events();
        assert_eq!(
            operation_tuples(&ev, Protocol::Rdp),
            vec![
                (OperationKind::Login, 3, Some("engineer".into()), OperationResult::Unknown),
                (OperationKind::Session, 2, Some("rdp".into()), OperationResult::Success),
            ],
            "port {port}"
        );
        assert_eq!(ip_facts(&ev, Protocol::Rdp), vec![(ip("10.20.0.9"), IdentityField::Service, "rdp security nla")]);
        assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
    }
}

#[test]
fn vnc_without_authentication() {
    for port in [5900, 15900] {
        let mut c = Conversation::open(port);
        c.send(false, b"RFB 003.008\n");
        c.send(true, b"RFB 003.008\n");
        c.send(false, &[2, 1, 2]);
        c.send(true, &[1]);
        c.send(false, &[0, 0, 0, 0]);
        c.send(true, &[1]);
        let mut init = vec![0x05, 0x00, 0x03, 0x20, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0, 0, 0, 0, 13];
        init.extend(b"scada-hmi:0.0");
        c.send(false, &init);
        c.send(true, &[0, 0, 0, 0, 0, 0, 0, 0]);
        let ev = c.events();
        assert_eq!(
            operation_tuples(&ev, Protocol::Vnc),
            vec![(OperationKind::Session, 1, Some("vnc 3.8".into()), OperationResult::Success)],
            "port {port}"
        );
        let server = ip("10.20.0.9");
        assert_eq!(
            ip_facts(&ev, Protocol::Vnc),
            vec![
                (server, IdentityField::Description, "scada-hmi:0.0"),
                (server, IdentityField::Server, "RFB 003.008"),
                (server, IdentityField::Service, "vnc no-auth"),
            ]
        );
        assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
    }
}
