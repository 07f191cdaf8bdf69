//! HTTP dissector over the shared real capture (values from `tshark -Y http`).

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{ip, ip_facts, operations, shared_events, violations};

#[test]
fn zeek_http_get_user_agent_server_and_read() {
    let Some(ev) = shared_events("http/zeek_http_get.pcap") else { return };
    let f = ip_facts(&ev, Protocol::Http);
    assert!(f.contains(&(ip("141.142.228.5"), IdentityField::UserAgent, "Wget/1.14 (darwin12.2.0)")), "{f:?}");
    assert!(f.contains(&(ip("192.150.187.43"), IdentityField::Server, "Apache/2.4.3 (Fedora)")), "{f:?}");
    // bro.org is a public server: its Host name is no fact.
    assert!(!f.iter().any(|(_, field, _)| *field == IdentityField::Service), "{f:?}");
    let reads: Vec<_> = operations(&ev, Protocol::Http).into_iter().map(|o| (o.kind, o.target.as_deref(), o.result)).collect();
    assert_eq!(reads, vec![(OperationKind::Read, Some("/download/CHANGES.bro-aux.txt"), OperationResult::Success)]);
    assert!(violations(&ev, Protocol::Http).is_empty());
}
