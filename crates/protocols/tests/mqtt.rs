//! MQTT dissector over the shared real captures.
//!
//! Expected values come from truth/<capture>.truth.json (`mqtt.clientid`)
//! and from `tshark -V -Y mqtt` on each capture (the CoAP capture with
//! `-d tcp.port==17501,mqtt`).

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::testdata::{has_op, ip, ip_facts, operations, shared_events, violation_details};

#[test]
fn zeek_paho_client_and_public_broker() {
    let Some(ev) = shared_events("mqtt/zeek_mqtt.pcap") else { return };
    // Two MQTT 3.1 ("MQIsdp") connections of paho clients to 198.41.30.241.
    let mut want = vec![
        (ip("10.0.1.4"), IdentityField::DeviceName, "paho/34AAE54A75D839566E"),
        (ip("10.0.1.4"), IdentityField::DeviceName, "paho/DDE4DDAF4108D3E363"),
        (ip("198.41.30.241"), IdentityField::Service, "mqtt broker"),
    ];
    want.sort();
    assert_eq!(ip_facts(&ev, Protocol::Mqtt), want);
    let ops = operations(&ev, Protocol::Mqtt);
    let (c, s) = ("10.0.1.4", "198.41.30.241");
    let session = Some("mqtt 3.1, clean session");
    // Frames 1/2 and 8/10: CONNECT answered by CONNACK 0 (the second after
    // the client's PUBLISH and DISCONNECT, frame 9), folded into one event.
    assert!(has_op(&ops, c, s, OperationKind::Session, 1, session, OperationResult::Success));
    // Frame 3/4: SUBSCRIBE SampleTopic, granted QoS 0.
    assert!(has_op(&ops, c, s, OperationKind::Read, 8, Some("SampleTopic"), OperationResult::Success));
    // Frame 9: PUBLISH SampleTopic at QoS 0 (no answer by design).
    assert!(has_op(&ops, c, s, OperationKind::Write, 3, Some("SampleTopic"), OperationResult::Unknown));
    // The broker's PUBLISH frames 5 and 11 deliver messages: not operations.
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert!(violation_details(&ev, Protocol::Mqtt).is_empty());
}

#[test]
fn suricata_mqtt5_properties_are_skipped() {
    let Some(ev) = shared_events("mqtt/suricata_mqtt5_pub_mosquittoprops.pcap") else { return };
    // CONNECT with connect, will and user properties, user "user" with a
    // password, will topic "willtopic"; PUBLISH topicX at QoS 1 with seven
    // properties, answered by PUBACK reason 16 (no matching subscribers).
    assert_eq!(
        ip_facts(&ev, Protocol::Mqtt),
        vec![(ip("::1"), IdentityField::DeviceName, "myvoiceismypassport"), (ip("::1"), IdentityField::Service, "mqtt broker")]
    );
    let ops = operations(&ev, Protocol::Mqtt);
    let session = Some("mqtt 5.0, clean session, will willtopic");
    assert!(has_op(&ops, "::1", "::1", OperationKind::Session, 1, session, OperationResult::Success));
    assert!(has_op(&ops, "::1", "::1", OperationKind::Login, 1, Some("user (cleartext password)"), OperationResult::Success));
    assert!(has_op(&ops, "::1", "::1", OperationKind::Write, 3, Some("topicX"), OperationResult::Success));
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert!(violation_details(&ev, Protocol::Mqtt).is_empty());
}

#[test]
fn ndpi_mqtt_on_a_non_standard_port() {
    let Some(ev) = shared_events("coap/ndpi_coap.pcap") else { return };
    // TCP/17501: the connection that opens with CONNECT (client id Bus41) is
    // found by the probe; the others start mid-stream with PINGREQ and are
    // not claimed.
    let (c, s) = ("192.168.56.1", "192.168.56.101");
    let mut want = vec![(ip(c), IdentityField::DeviceName, "Bus41"), (ip(s), IdentityField::Service, "mqtt broker")];
    want.sort();
    assert_eq!(ip_facts(&ev, Protocol::Mqtt), want);
    let ops = operations(&ev, Protocol::Mqtt);
    assert!(has_op(&ops, c, s, OperationKind::Session, 1, Some("mqtt 3.1.1, clean session"), OperationResult::Success));
    assert!(has_op(&ops, c, s, OperationKind::Write, 3, Some("Bus17Info"), OperationResult::Success));
    assert!(has_op(&ops, c, s, OperationKind::Read, 8, Some("Bus17Cmd"), OperationResult::Success));
    assert_eq!(violation_details(&ev, Protocol::Mqtt), [(ViolationKind::NonStandardPort, "mqtt on non-standard port 17501")]);
}
