//! SSH dissector over a hand-built capture (no shared capture has SSH):
//! both identification lines of one TCP flow.

use palisade_model::{IdentityField, OperationKind, Protocol};
use palisade_sensor::testdata::{frames_events, ip, ip_facts, operations, tcp_frame};

#[test]
fn banners_name_server_and_client() {
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let server = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n";
    let client = b"SSH-2.0-OpenSSH_9.0\r\n";
    let ev = frames_events(&[
        tcp_frame(c, s, 40000, 22, 100, 0x02, b""),
        tcp_frame(s, c, 22, 40000, 500, 0x12, b""),
        tcp_frame(c, s, 40000, 22, 101, 0x10, b""),
        tcp_frame(s, c, 22, 40000, 501, 0x18, server),
        tcp_frame(c, s, 40000, 22, 101, 0x18, client),
    ]);
    let facts = ip_facts(&ev, Protocol::Ssh);
    assert!(facts.contains(&(ip("10.0.0.2"), IdentityField::Server, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1")), "{facts:?}");
    assert!(facts.contains(&(ip("10.0.0.2"), IdentityField::Os, "Ubuntu")), "{facts:?}");
    assert!(facts.contains(&(ip("10.0.0.1"), IdentityField::UserAgent, "SSH-2.0-OpenSSH_9.0")), "{facts:?}");
    assert!(operations(&ev, Protocol::Ssh).iter().any(|o| o.kind == OperationKind::Session));
}
