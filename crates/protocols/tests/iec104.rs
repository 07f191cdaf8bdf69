//! IEC 60870-5-104 dissector over the shared real captures.

use palisade_model::{Event, IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{fact_values, operations, shared_events, violations};

/// The IEC 104 roles of `host`, sorted.
fn roles<'a>(events: &'a [Event], host: &str) -> Vec<&'a str> {
    let mut r = fact_values(events, Protocol::Iec104, host, IdentityField::Role);
    r.sort();
    r
}

#[test]
fn iti_commands_interrogation_and_roles() {
    let Some(events) = shared_events("iec104/iti_iec104_090813_diverse.pcap") else { return };
    // Controlling and controlled station share one address.
    assert_eq!(roles(&events, "10.0.0.10"), vec!["controlled-station", "scada-client"]);
    let ops = operations(&events, Protocol::Iec104);
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
    assert!(violations(&events, Protocol::Iec104).is_empty());
}

#[test]
fn ndpi_spontaneous_data_only() {
    let Some(events) = shared_events("iec104/ndpi_iec104.pcap") else { return };
    assert_eq!(roles(&events, "10.175.211.1"), vec!["controlled-station"]);
    // Spontaneous measurements are data, not operations.
    assert!(operations(&events, Protocol::Iec104).is_empty());
    assert!(violations(&events, Protocol::Iec104).is_empty());
}
