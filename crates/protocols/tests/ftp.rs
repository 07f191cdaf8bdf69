//! FTP dissector over the shared real capture (values from `tshark -Y ftp`).

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{has_op, ip, ip_facts, operations, shared_events, violations};

#[test]
fn zeek_ftp_banner_system_login_and_downloads() {
    let Some(ev) = shared_events("ftp/zeek_ftp_ipv4.pcap") else { return };
    let server = ip("199.233.217.249");
    assert_eq!(
        ip_facts(&ev, Protocol::Ftp),
        vec![
            (server, IdentityField::Os, "NetBSD"),
            (server, IdentityField::Server, "ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready."),
        ]
    );
    let ops = operations(&ev, Protocol::Ftp);
    let (c, s) = ("141.142.220.235", "199.233.217.249");
    assert!(has_op(&ops, c, s, OperationKind::Login, 0, Some("anonymous"), OperationResult::Success), "{ops:#?}");
    assert!(has_op(&ops, c, s, OperationKind::Read, 0, Some("robots.txt"), OperationResult::Success), "{ops:#?}");
    // The two downloads of robots.txt within a minute are folded into one event.
    assert_eq!(ops.len(), 2);
    assert!(violations(&ev, Protocol::Ftp).is_empty());
}
