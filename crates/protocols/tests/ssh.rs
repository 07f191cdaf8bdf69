//! SSH dissector over a hand-built capture (no shared capture has SSH):
//! both identification lines of one TCP flow.

use palisade_capture::write::PcapWriter;
use palisade_model::{IdentityField, OperationKind, Protocol, Timestamp};
use palisade_sensor::testdata::{ip, ip_facts, operations};

/// An Ethernet/IPv4/TCP frame (checksums left zero).
fn frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00];
    let total = (20 + 20 + payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

#[test]
fn banners_name_server_and_client() {
    let dir = tempfile_dir();
    let path = dir.join("ssh.pcap");
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let server = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n";
    let client = b"SSH-2.0-OpenSSH_9.0\r\n";
    let frames = [
        frame(c, s, 40000, 22, 100, 0x02, b""),
        frame(s, c, 22, 40000, 500, 0x12, b""),
        frame(c, s, 40000, 22, 101, 0x10, b""),
        frame(s, c, 22, 40000, 501, 0x18, server),
        frame(c, s, 40000, 22, 101, 0x18, client),
    ];
    let file = std::fs::File::create(&path).expect("create");
    let mut w = PcapWriter::new(file, palisade_capture::LinkType::Ethernet, 65535).expect("writer");
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(Timestamp(1_700_000_000_000_000_000 + i as i64 * 1_000_000), f).expect("write");
    }
    w.finish().expect("finish");
    let ev = palisade_sensor::analyze_path_events(&path).expect("analyse");
    let facts = ip_facts(&ev, Protocol::Ssh);
    assert!(facts.contains(&(ip("10.0.0.2"), IdentityField::Server, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1")), "{facts:?}");
    assert!(facts.contains(&(ip("10.0.0.2"), IdentityField::Os, "Ubuntu")), "{facts:?}");
    assert!(facts.contains(&(ip("10.0.0.1"), IdentityField::UserAgent, "SSH-2.0-OpenSSH_9.0")), "{facts:?}");
    assert!(operations(&ev, Protocol::Ssh).iter().any(|o| o.kind == OperationKind::Session));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh temporary directory for this test.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-ssh-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
