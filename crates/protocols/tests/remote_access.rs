//! RDP and VNC through the whole sensor over captures written by the test
//! (no shared capture has either protocol): one TCP conversation each, on
//! the standard port and on another one (found by the payload probes).

use palisade_capture::write::PcapWriter;
use palisade_capture::LinkType;
use palisade_model::{Event, IdentityField, OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use palisade_sensor::testdata::{capture_violations, ip, ip_facts, operations};
use std::path::{Path, PathBuf};

const CLIENT: [u8; 4] = [10, 20, 0, 5];
const SERVER: [u8; 4] = [10, 20, 0, 9];

/// One TCP conversation written to a pcap file, sequence numbers kept.
struct Conversation {
    out: PcapWriter<std::fs::File>,
    ports: (u16, u16),
    /// Next sequence number of the client and of the server.
    seq: [u32; 2],
    ts: i64,
}

impl Conversation {
    /// Opens `path` and writes the three-way handshake to `port`.
    fn open(path: &Path, port: u16) -> Conversation {
        let file = std::fs::File::create(path).expect("create capture");
        let out = PcapWriter::new(file, LinkType::Ethernet, 65535).expect("pcap writer");
        let mut c = Conversation { out, ports: (49500, port), seq: [1000, 9000], ts: 1_700_000_000_000_000_000 };
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
        let (src, dst, sport, dport) =
            if to_server { (CLIENT, SERVER, self.ports.0, self.ports.1) } else { (SERVER, CLIENT, self.ports.1, self.ports.0) };
        let mut f = vec![0x02, 0, 0, 0, 0, dst[3], 0x02, 0, 0, 0, 0, src[3], 0x08, 0x00];
        let total = u16::try_from(40 + payload.len()).expect("small segment");
        f.extend([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0]);
        f[16..18].copy_from_slice(&total.to_be_bytes());
        f.extend(src);
        f.extend(dst);
        f.extend(sport.to_be_bytes());
        f.extend(dport.to_be_bytes());
        f.extend(self.seq[side].to_be_bytes());
        f.extend([0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        let syn = u32::from(flags & 0x02 != 0);
        self.seq[side] = self.seq[side].wrapping_add(syn + u32::try_from(payload.len()).expect("small segment"));
        self.ts += 1_000_000;
        self.out.write_packet(Timestamp(self.ts), &f).expect("write packet");
    }

    fn finish(self) {
        self.out.finish().expect("finish capture");
    }
}

/// A temporary file path for this test run.
fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-remote-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
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
        let path = temp_path(&format!("rdp-{port}.pcap"));
        let mut c = Conversation::open(&path, port);
        let mut request = b"Cookie: mstshash=engineer\r\n".to_vec();
        request.extend([1, 0, 8, 0, 3, 0, 0, 0]);
        c.send(true, &x224(0xe0, &request));
        c.send(false, &x224(0xd0, &[2, 0x1f, 8, 0, 2, 0, 0, 0]));
        c.send(true, b"\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03");
        c.finish();
        let ev = palisade_sensor::analyze_path_events(&path).expect("analyse");
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
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn vnc_without_authentication() {
    for port in [5900, 15900] {
        let path = temp_path(&format!("vnc-{port}.pcap"));
        let mut c = Conversation::open(&path, port);
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
        c.finish();
        let ev = palisade_sensor::analyze_path_events(&path).expect("analyse");
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
        let _ = std::fs::remove_file(&path);
    }
}
