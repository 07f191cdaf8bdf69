//! OPC UA dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json and from
//! `tshark -r F -Y opcua -T fields -e opcua.transport.type -e opcua.servicenodeid.numeric`.
//! Both captures are on loopback (client and server share the address), so
//! facts are checked by address and the operations by server port.

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{assert_facts, has_fact, ip, operations, shared_events, violations};
use std::collections::BTreeSet;

#[test]
fn python_client_server_session() {
    let Some(ev) = shared_events("opcua/icsnpp_opcua_python_minimal.pcap") else { return };
    let host = "127.0.0.1";
    assert_facts(
        &ev,
        Protocol::Opcua,
        host,
        &[
            // CreateSessionResponse endpoint: the server's ApplicationDescription.
            (IdentityField::ProductName, "urn:freeopcua.github.io:python:server"),
            (IdentityField::ProductName, "FreeOpcUa Python Server"),
            (IdentityField::Description, "application uri urn:freeopcua:python:server"),
            (IdentityField::Service, "opc.tcp://127.0.0.1:4840/freeopcua/server/"),
            (IdentityField::Description, "opcua server certificate absent"),
            (IdentityField::Description, "opcua endpoint policy None mode None"),
            // CreateSessionRequest: the client's.
            (IdentityField::ProductName, "urn:freeopcua.github.io:client"),
            (IdentityField::ProductName, "Pure Python Client"),
            (IdentityField::Description, "application uri urn:freeopcua:client"),
            // Hello and OpenSecureChannel.
            (IdentityField::Service, "opc.tcp://localhost:4840/freeopcua/server/"),
            (IdentityField::Description, "opcua security policy None"),
            (IdentityField::Description, "opcua security mode None"),
            (IdentityField::Role, "opcua-server"),
            (IdentityField::Role, "opcua-client"),
        ],
    );

    let ops = operations(&ev, Protocol::Opcua);
    assert!(ops.iter().all(|o| o.server.port == 4840 && o.client.port == 63146), "{ops:#?}");
    // tshark: OPN 446, then 461 467 527 554 554 473, CLO 452; 0 is the Hello.
    let codes: BTreeSet<u32> = ops.iter().map(|o| o.code).collect();
    assert_eq!(codes, BTreeSet::from([0, 446, 452, 461, 467, 473, 527, 554]));
    let find = |code: u32| ops.iter().find(|o| o.code == code).map(|o| (o.kind, o.target.as_deref(), o.result));
    assert_eq!(find(446), Some((OperationKind::Session, Some("secure channel policy None mode None"), OperationResult::Success)));
    assert_eq!(find(461), Some((OperationKind::Session, Some("create session"), OperationResult::Success)));
    assert_eq!(find(467), Some((OperationKind::Login, Some("activate session anonymous"), OperationResult::Success)));
    assert_eq!(find(527), Some((OperationKind::Read, Some("browse i=84"), OperationResult::Success)));
    assert_eq!(find(554), Some((OperationKind::Read, Some("translate browse paths"), OperationResult::Success)));
    assert_eq!(find(473), Some((OperationKind::Session, Some("close session"), OperationResult::Success)));
    // CloseSecureChannel has no response.
    assert_eq!(find(452), Some((OperationKind::Session, Some("close secure channel"), OperationResult::Unknown)));

    assert!(violations(&ev, Protocol::Opcua).is_empty(), "{:#?}", violations(&ev, Protocol::Opcua));
}

#[test]
fn open62541_discovery_services() {
    let Some(ev) = shared_events("opcua/icsnpp_opcua_open62541_discovery.pcap") else { return };
    let lo = "127.0.0.1";
    let lan = "192.168.224.105";
    // The three ApplicationUris and the ProductUri of the truth file: the
    // registering server (RegisterServer2Request) and the discovery server
    // (FindServersResponse) on loopback, the server of GetEndpoints on the LAN address.
    assert!(has_fact(&ev, Protocol::Opcua, lo, IdentityField::Description, "application uri urn:open62541.example.server_register"));
    assert!(has_fact(&ev, Protocol::Opcua, lo, IdentityField::Description, "application uri urn:open62541.example.local_discovery_server"));
    assert!(has_fact(&ev, Protocol::Opcua, lan, IdentityField::Description, "application uri urn:open62541.server.application"));
    for host in [lo, lan] {
        assert!(has_fact(&ev, Protocol::Opcua, host, IdentityField::ProductName, "http://open62541.org"));
        assert!(has_fact(&ev, Protocol::Opcua, host, IdentityField::ProductName, "open62541-based OPC UA Application"));
        assert!(has_fact(&ev, Protocol::Opcua, host, IdentityField::Description, "opcua security policy None"));
        assert!(has_fact(&ev, Protocol::Opcua, host, IdentityField::Role, "opcua-server"));
    }
    assert!(has_fact(&ev, Protocol::Opcua, lo, IdentityField::Service, "opc.tcp://localhost:4840"));
    assert!(has_fact(&ev, Protocol::Opcua, lan, IdentityField::Service, "opc.tcp://Maui-16714:4840/"));
    assert!(has_fact(&ev, Protocol::Opcua, lan, IdentityField::Description, "opcua endpoint policy None mode None"));

    let ops = operations(&ev, Protocol::Opcua);
    assert!(ops.iter().all(|o| o.server.port == 4840), "{ops:#?}");
    // tshark: 446 and 452 on every connection, 12211 (twice), 12208, 422, 428.
    let codes: BTreeSet<u32> = ops.iter().map(|o| o.code).collect();
    assert_eq!(codes, BTreeSet::from([0, 422, 428, 446, 452, 12208, 12211]));
    let kind = |code: u32| ops.iter().find(|o| o.code == code).map(|o| o.kind);
    assert_eq!(kind(12211), Some(OperationKind::ConfigurationChange));
    for code in [422, 428, 12208] {
        assert_eq!(kind(code), Some(OperationKind::Identify));
    }
    assert!(ops.iter().filter(|o| o.code != 452).all(|o| o.result == OperationResult::Success), "{ops:#?}");
    let lan_ops: BTreeSet<u32> = ops.iter().filter(|o| o.server.ip == ip(lan)).map(|o| o.code).collect();
    assert_eq!(lan_ops, BTreeSet::from([0, 428, 446, 452]));

    assert!(violations(&ev, Protocol::Opcua).is_empty(), "{:#?}", violations(&ev, Protocol::Opcua));
}
