//! HTTP dissector over the shared real capture (values from `tshark -Y http`).

use palisade_model::{Event, IdentityField, Protocol};
use std::path::PathBuf;

/// Analyses a shared capture, or `None` when the shared data is absent.
fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

/// (subject ip, field, value) of the facts from `protocol`.
fn facts(ev: &[Event], protocol: Protocol) -> Vec<(String, IdentityField, String)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Identity(f) if f.protocol == protocol => {
                Some((f.subject.ip.map(|i| i.to_string()).unwrap_or_default(), f.field, f.value.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn zeek_http_get_user_agent_server_and_read() {
    let Some(ev) = events("http/zeek_http_get.pcap") else { return };
    let f = facts(&ev, Protocol::Http);
    assert!(f.contains(&("141.142.228.5".into(), IdentityField::UserAgent, "Wget/1.14 (darwin12.2.0)".into())), "{f:?}");
    assert!(f.contains(&("192.150.187.43".into(), IdentityField::Server, "Apache/2.4.3 (Fedora)".into())), "{f:?}");
    // bro.org is a public server: its Host name is no fact.
    assert!(!f.iter().any(|(_, field, _)| *field == IdentityField::Service), "{f:?}");
    let reads: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Operation(o) if o.protocol == Protocol::Http => Some((o.kind, o.target.clone(), o.result)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reads,
        vec![(palisade_model::OperationKind::Read, Some("/download/CHANGES.bro-aux.txt".into()), palisade_model::OperationResult::Success)]
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Http)));
}
