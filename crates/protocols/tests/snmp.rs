//! SNMP dissector over the shared real captures.

use palisade_model::{Event, IdentityField, Operation, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{self, assert_facts, capture_violations, ip, shared_events};

fn operations(events: &[Event]) -> Vec<&Operation> {
    testdata::operations(events, Protocol::Snmp)
}

/// True if an SNMP operation from `client` to `server` has this kind, target and result (any PDU type).
fn has_op(events: &[Event], client: &str, server: &str, kind: OperationKind, target: &str, result: OperationResult) -> bool {
    operations(events)
        .iter()
        .any(|o| (o.client.ip, o.server.ip, o.kind, o.target.as_deref(), o.result) == (ip(client), ip(server), kind, Some(target), result))
}

#[test]
fn zeek_snmpwalk_system_group() {
    let Some(ev) = shared_events("snmp/zeek_snmpwalk_short.pcap") else { return };
    let (manager, agent) = ("138.68.14.240", "138.68.10.203");
    assert_facts(
        &ev,
        Protocol::Snmp,
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
    let reads: Vec<_> = operations(&ev).into_iter().filter(|o| o.kind == OperationKind::Read).collect();
    assert_eq!(reads.iter().map(|o| o.count).sum::<u32>(), 200);
    assert!(reads.iter().all(|o| o.code == 1 && o.result == OperationResult::Success));
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}

#[test]
fn ndpi_versions_users_and_traps() {
    let Some(ev) = shared_events("snmp/ndpi_snmp.pcap") else { return };
    assert_facts(
        &ev,
        Protocol::Snmp,
        "97.0.115.163",
        &[
            (IdentityField::Hostname, "R1.lab.local"),
            (IdentityField::Location, "GlobomanticsHQ"),
            (IdentityField::Contact, "nick@globomantics.com"),
        ],
    );
    // v3 without and with authentication, and with privacy (PDU not decoded).
    assert_facts(&ev, Protocol::Snmp, "250.58.112.87", &[(IdentityField::Hostname, "R1.lab.local")]);
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
    assert_eq!(capture_violations(&ev), Vec::<String>::new());
}
