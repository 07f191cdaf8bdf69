//! CoAP dissector over the shared real capture.
//!
//! Expected values come from `tshark -V -Y coap -d udp.port==17500,coap`
//! on coap/ndpi_coap.pcap (the decode-as its truth was made with).

use palisade_model::{OperationKind, OperationResult, Protocol, ViolationKind};
use palisade_sensor::testdata::{has_op, host_protocols, ip_facts, operations, shared_events, violation_details};

#[test]
fn ndpi_requests_and_responses() {
    let Some(ev) = shared_events("coap/ndpi_coap.pcap") else { return };
    let ops = operations(&ev, Protocol::Coap);
    let (c, s) = ("bbbb::1", "bbbb::3");
    for (kind, code, target, result) in [
        // Frames 6-9: GET /separate, an empty ACK, then the separate 2.05 response.
        (OperationKind::Read, 1, "/separate", OperationResult::Success),
        // Frames 10-19, piggybacked in ACKs.
        (OperationKind::Write, 2, "/storage", OperationResult::Success),
        (OperationKind::Write, 3, "/", OperationResult::Error(405)),
        (OperationKind::Write, 3, "/storage/myresource", OperationResult::Success),
        (OperationKind::Read, 1, "/storage/myresource", OperationResult::Success),
        (OperationKind::Write, 4, "/storage/myresource", OperationResult::Success),
    ] {
        assert!(has_op(&ops, c, s, kind, code, Some(target), result), "{kind} {target}");
    }
    // Frames 1-5: requests from five ports that nobody answers; their
    // ".well-known" and "core" options have number 2 (not Uri-Path), so the
    // path is "/".
    let (c, s) = ("2001:da8:215:1171:a10b:cb48:8f83:57f6", "2001:620:8:35d9::10");
    for (kind, code) in [(OperationKind::Read, 1), (OperationKind::Write, 2), (OperationKind::Write, 3), (OperationKind::Write, 4)] {
        assert!(has_op(&ops, c, s, kind, code, Some("/"), OperationResult::Unknown), "{kind} {code}");
    }
    // UDP/17500 is found by the probe: PUT /r/Bus17Cmd with JSON, 2.04 Changed.
    let (c, s) = ("192.168.56.1", "192.168.56.101");
    assert!(has_op(&ops, c, s, OperationKind::Write, 3, Some("/r/Bus17Cmd"), OperationResult::Success));
    assert_eq!(ops.iter().filter(|o| o.server.ip == palisade_sensor::testdata::ip(s)).count(), 1, "one event, repeats folded");
    assert!(host_protocols(&ev, c).contains(&Protocol::Coap));
    assert!(ip_facts(&ev, Protocol::Coap).is_empty());
    let violations = violation_details(&ev, Protocol::Coap);
    assert!(!violations.is_empty());
    assert!(violations.iter().all(|v| *v == (ViolationKind::NonStandardPort, "coap on non-standard port 17500")), "{violations:?}");
}
