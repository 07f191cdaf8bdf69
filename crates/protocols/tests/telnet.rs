//! Telnet dissector over the shared real capture (an OpenBSD 2.6 login,
//! as `tshark -z follow,tcp` shows it).

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{has_op, ip, ip_facts, operations, shared_events, violations};

#[test]
fn ndpi_telnet_banner_and_cleartext_login() {
    let Some(ev) = shared_events("telnet/ndpi_telnet.pcap") else { return };
    assert_eq!(
        ip_facts(&ev, Protocol::Telnet),
        vec![(ip("192.168.0.1"), IdentityField::Os, "OpenBSD"), (ip("192.168.0.1"), IdentityField::Server, "OpenBSD/i386 (oof) (ttyp2)")]
    );
    let ops = operations(&ev, Protocol::Telnet);
    assert!(has_op(&ops, "192.168.0.2", "192.168.0.1", OperationKind::Login, 0, Some("fake"), OperationResult::Success), "{ops:#?}");
    assert_eq!(ops.len(), 1);
    // The password ("user") is never reported.
    assert!(!format!("{ev:?}").contains("\"user\""));
    assert!(violations(&ev, Protocol::Telnet).is_empty());
}
