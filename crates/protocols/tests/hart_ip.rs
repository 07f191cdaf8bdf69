//! HART-IP dissector over the shared real capture: a client (192.168.0.101)
//! talks to a Rosemount WirelessHART gateway (192.168.0.10) over UDP (the
//! gateway answers from port 5095) and then TCP 5094, among unrelated traffic.

use palisade_model::{Event, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::testdata::{fact_values, ip, operations, shared_events, violation_details};

/// The values of the HART-IP facts `field` about `host`.
fn facts<'a>(events: &'a [Event], host: &str, field: IdentityField) -> Vec<&'a str> {
    fact_values(events, Protocol::HartIp, host, field)
}

#[test]
fn icsnpp_gateway_identity_and_commands() {
    let Some(events) = shared_events("hart-ip/icsnpp_hart_ip.pcap") else { return };
    let (client, gateway) = ("192.168.0.101", "192.168.0.10");
    // Command 0 at polling address 0: manufacturer 38, device type 0x264e, device id 0000d2, software 1.
    assert_eq!(facts(&events, gateway, IdentityField::Vendor), ["Rosemount"]);
    assert_eq!(facts(&events, gateway, IdentityField::Firmware), ["sw 1 hw 1"]);
    assert_eq!(facts(&events, gateway, IdentityField::DeviceName), ["wihartgw"]);
    assert!(facts(&events, gateway, IdentityField::Description).contains(&"hart device Rosemount type 0x264e id 0x0000d2"));
    assert_eq!(facts(&events, gateway, IdentityField::Role), ["gateway"]);
    assert_eq!(facts(&events, client, IdentityField::Role), ["scada-client"]);

    let ops = operations(&events, Protocol::HartIp);
    assert!(ops.iter().all(|o| o.client.ip == ip(client) && o.server.ip == ip(gateway)));
    let device = Some("type 0x264e id 0x0000d2");
    for (kind, code) in [
        (OperationKind::Identify, 0),
        (OperationKind::Read, 1),
        (OperationKind::Read, 3),
        (OperationKind::Read, 9),
        (OperationKind::Read, 20),
        (OperationKind::Read, 48),
    ] {
        assert!(
            ops.iter().any(|o| o.kind == kind && o.code == code && o.target.as_deref() == device && o.result == OperationResult::Success),
            "{kind} {code}"
        );
    }
    assert!(ops.iter().any(|o| o.kind == OperationKind::Identify && o.target.as_deref() == Some("polling address 0")));
    for code in [0, 1, 2] {
        assert!(ops.iter().any(|o| o.kind == OperationKind::Session && o.code == code && o.result == OperationResult::Success), "{code}");
    }

    // The UDP session moves to the gateway's port 5095: only that is noted.
    assert_eq!(violation_details(&events, Protocol::HartIp), [(ViolationKind::NonStandardPort, "hart-ip on non-standard port 5095")]);
}
