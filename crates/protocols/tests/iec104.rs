//! IEC 60870-5-104 dissector over the shared real captures.

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

/// Analyses a shared capture, or `None` (with a note) when the shared data is absent.
fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("ip"))
}

fn operations(events: &[Event]) -> Vec<&Operation> {
    events
        .iter()
        .filter_map(|e| if let Event::Operation(o) = e { Some(o) } else { None })
        .filter(|o| o.protocol == Protocol::Iec104)
        .collect()
}

fn roles(events: &[Event], host: &str) -> Vec<String> {
    let mut r: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Identity(f) if f.protocol == Protocol::Iec104 && f.field == IdentityField::Role && f.subject.ip == ip(host) => {
                Some(f.value.clone())
            }
            _ => None,
        })
        .collect();
    r.sort();
    r
}

#[test]
fn iti_commands_interrogation_and_roles() {
    let Some(events) = events("iec104/iti_iec104_090813_diverse.pcap") else { return };
    // Controlling and controlled station share one address.
    assert_eq!(roles(&events, "10.0.0.10"), vec!["controlled-station", "scada-client"]);
    let ops = operations(&events);
    // Every command goes from the controlling station (port 1075) to the
    // controlled station (port 2404) and was confirmed positively.
    assert!(ops.iter().all(|o| o.client.port == 1075 && o.server.port == 2404 && o.result == OperationResult::Success), "{ops:?}");
    let mut writes: Vec<(u32, &str)> =
        ops.iter().filter(|o| o.kind == OperationKind::Write).map(|o| (o.code, o.target.as_deref().unwrap_or(""))).collect();
    writes.sort();
    assert_eq!(
        writes,
        vec![
            (45, "ioa 4500 type C_SC_NA_1"),
            (45, "ioa 4500 type C_SC_NA_1 select"),
            (46, "ioa 4600 type C_DC_NA_1"),
            (50, "ioa 5020 type C_SE_NC_1"),
            (50, "ioa 5020 type C_SE_NC_1 select"),
            (58, "ioa 4501 type C_SC_TA_1"),
            (58, "ioa 4501 type C_SC_TA_1 select"),
            (59, "ioa 4601 type C_DC_TA_1"),
            (59, "ioa 4601 type C_DC_TA_1 select"),
            (61, "ioa 4821 type C_SE_TA_1"),
            (61, "ioa 4821 type C_SE_TA_1 select"),
            (63, "ioa 5021 type C_SE_TC_1"),
            (63, "ioa 5021 type C_SE_TC_1 select"),
        ]
    );
    let reads: Vec<_> = ops.iter().filter(|o| o.kind == OperationKind::Read).map(|o| (o.code, o.target.as_deref())).collect();
    assert_eq!(reads, vec![(100, Some("ioa 0 type C_IC_NA_1"))]);
    assert_eq!(ops.len(), 14);
    assert!(!events.iter().any(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Iec104)));
}

#[test]
fn ndpi_spontaneous_data_only() {
    let Some(events) = events("iec104/ndpi_iec104.pcap") else { return };
    assert_eq!(roles(&events, "10.175.211.1"), vec!["controlled-station"]);
    // Spontaneous measurements are data, not operations.
    assert!(operations(&events).is_empty());
    assert!(!events.iter().any(|e| matches!(e, Event::Violation(v) if v.protocol == Protocol::Iec104)));
}
