//! SNMP dissector over the shared real captures.

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol};
use std::net::IpAddr;
use std::path::PathBuf;

fn events(file: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps/snmp").join(file);
    if !path.exists() {
        println!("skipped: ../shared/testdata not present");
        return None;
    }
    Some(palisade_sensor::analyze_path_events(&path).expect("capture reads"))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("test address"))
}

fn assert_facts(events: &[Event], host: &str, want: &[(IdentityField, &str)]) {
    for (field, value) in want {
        let found = events.iter().any(|e| matches!(e, Event::Identity(f) if f.protocol == Protocol::Snmp && f.subject.ip == ip(host) && f.field == *field && f.value == *value));
        assert!(found, "{host}: missing {field} = {value}");
    }
}

fn operations(events: &[Event]) -> impl Iterator<Item = &Operation> {
    events.iter().filter_map(|e| if let Event::Operation(o) = e { Some(o) } else { None })
}

fn has_op(events: &[Event], client: &str, server: &str, kind: OperationKind, target: &str, result: OperationResult) -> bool {
    operations(events).any(|o| {
        o.client.ip == ip(client)
            && o.server.ip == ip(server)
            && o.kind == kind
            && o.target.as_deref() == Some(target)
            && o.result == result
    })
}

fn no_violations(events: &[Event]) {
    let v: Vec<_> =
        events.iter().filter_map(|e| if let Event::Violation(v) = e { Some(format!("{} {}", v.kind, v.detail)) } else { None }).collect();
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn zeek_snmpwalk_system_group() {
    let Some(ev) = events("zeek_snmpwalk_short.pcap") else { return };
    let (manager, agent) = ("138.68.14.240", "138.68.10.203");
    assert_facts(
        &ev,
        agent,
        &[
            (IdentityField::Hostname, "ubuntu-512mb-sfo2-01"),
            (
                IdentityField::Description,
                "Linux ubuntu-512mb-sfo2-01 4.4.0-31-generic #50~14.04.1-Ubuntu SMP Wed Jul 13 01:07:32 UTC 2016 x86_64",
            ),
            (IdentityField::Os, "Linux"),
            (IdentityField::Description, "sysObjectID 1.3.6.1.4.1.8072.3.2.10"),
            (IdentityField::Contact, "Me <me@example.org>"),
            (IdentityField::Location, "Sitting on the Dock of the Bay"),
        ],
    );
    assert!(has_op(&ev, manager, agent, OperationKind::Login, "community p***** (6 chars)", OperationResult::Success));
    assert!(has_op(&ev, manager, agent, OperationKind::Read, "1.3.6.1.2.1.1.5.0", OperationResult::Success));
    // 200 get-next requests, each answered.
    let reads: Vec<_> = operations(&ev).filter(|o| o.kind == OperationKind::Read).collect();
    assert_eq!(reads.iter().map(|o| o.count).sum::<u32>(), 200);
    assert!(reads.iter().all(|o| o.code == 1 && o.result == OperationResult::Success));
    no_violations(&ev);
}

#[test]
fn ndpi_versions_users_and_traps() {
    let Some(ev) = events("ndpi_snmp.pcap") else { return };
    assert_facts(
        &ev,
        "97.0.115.163",
        &[
            (IdentityField::Hostname, "R1.lab.local"),
            (IdentityField::Location, "GlobomanticsHQ"),
            (IdentityField::Contact, "nick@globomantics.com"),
        ],
    );
    // v3 without and with authentication, and with privacy (PDU not decoded).
    assert_facts(&ev, "250.58.112.87", &[(IdentityField::Hostname, "R1.lab.local")]);
    assert!(has_op(
        &ev,
        "30.54.142.240",
        "250.58.112.87",
        OperationKind::Login,
        "user NOAUTHNOPRIV noAuthNoPriv",
        OperationResult::Success
    ));
    assert!(has_op(&ev, "35.95.158.217", "30.79.214.36", OperationKind::Login, "user SHA1NOPRIV authNoPriv", OperationResult::Success));
    assert!(has_op(&ev, "131.179.49.165", "254.158.1.169", OperationKind::Login, "user SHA1AES128 authPriv", OperationResult::Success));
    // v1 and v2 traps.
    assert!(has_op(
        &ev,
        "200.76.132.137",
        "189.111.255.214",
        OperationKind::Other,
        "trap 1.3.6.1.6.3.1.1.5 generic 2 specific 0",
        OperationResult::Unknown
    ));
    assert!(has_op(&ev, "92.135.15.240", "137.49.110.186", OperationKind::Other, "trap 1.3.6.1.6.3.1.1.5.3", OperationResult::Unknown));
    assert!(has_op(&ev, "92.135.15.240", "137.49.110.186", OperationKind::Login, "community p******* (8 chars)", OperationResult::Unknown));
    no_violations(&ev);
}
