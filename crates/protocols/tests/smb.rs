//! SMB dissector over the shared real captures (values from tshark's smb,
//! smb2 and ntlmssp fields).

use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol};
use palisade_sensor::testdata::{has_op, host_protocols, ip, ip_facts, operations, shared_events, violations};
use IdentityField::{Hostname, Os, Server, Service};
use OperationKind::{Login, Read, Session};

const LOGON_FAILURE: OperationResult = OperationResult::Error(0xc000_006d);
const OK: OperationResult = OperationResult::Success;

#[test]
fn arkime_smb_windows10_dialects_ntlm_and_shares() {
    let Some(ev) = shared_events("smb/arkime_smb_windows10.pcap") else { return };
    let (server1, win10, client_then_server) = ("192.168.199.1", "192.168.199.132", "192.168.199.133");
    let windows10 = "Windows 10 / Server 2016-2022 build 10586";
    assert_eq!(
        ip_facts(&ev, Protocol::Smb),
        vec![
            (ip(server1), Hostname, "SCV"),
            (ip(server1), Os, "Windows 8.1 / Server 2012 R2 build 9600"),
            (ip(server1), Os, "Windows 8.1 9600"),
            (ip(server1), Server, "Windows 8.1 6.3"),
            (ip(server1), Service, "smbv1"),
            (ip(win10), Hostname, "DESKTOP-2AEFM7G"),
            (ip(win10), Os, windows10),
            (ip(client_then_server), Hostname, "DESKTOP-V1FA0UQ"),
            (ip(client_then_server), Os, windows10),
        ]
    );
    let ops = operations(&ev, Protocol::Smb);
    let expected = [
        (client_then_server, server1, Session, 0x00, "smb 3.0.2", OK),
        (client_then_server, server1, Session, 0x72, "smb1", OK),
        (client_then_server, server1, Login, 0x73, "anonymous", OK),
        (client_then_server, server1, Read, 0x75, "\\\\SCV\\IPC$", OK),
        (win10, client_then_server, Session, 0x00, "smb 3.1.1", OK),
        (win10, client_then_server, Login, 0x01, "DESKTOP-2AEFM7G\\user", LOGON_FAILURE),
        (win10, client_then_server, Login, 0x01, "DESKTOP-2AEFM7G\\Tim Tester", LOGON_FAILURE),
        (win10, client_then_server, Login, 0x01, "DESKTOP-2AEFM7G\\Willi Wireshark", OK),
        (win10, client_then_server, Read, 0x03, "\\\\192.168.199.133\\IPC$", OK),
        (win10, client_then_server, Read, 0x05, "pipe srvsvc", OK),
    ];
    for (client, server, kind, code, target, result) in expected {
        assert!(has_op(&ops, client, server, kind, code, Some(target), result), "missing {kind} {target}: {ops:#?}");
    }
    // Repeats within a minute are folded, except failed logins, which
    // detection counts one by one (the four failed logins of
    // DESKTOP-2AEFM7G\user are four events); the 3.1.1 negotiation comes
    // back almost three minutes after the first ones, so it is a second event.
    assert_eq!(ops.iter().filter(|o| o.target.as_deref() == Some("smb 3.1.1")).count(), 2);
    assert_eq!(ops.iter().filter(|o| o.target.as_deref() == Some("DESKTOP-2AEFM7G\\user")).count(), 4);
    assert_eq!(ops.len(), expected.len() + 1 + 3, "{ops:#?}");
    assert!(violations(&ev, Protocol::Smb).is_empty());
}

#[test]
fn smbv1_command_mid_stream_and_session_request_names() {
    let Some(ev) = shared_events("hart-ip/icsnpp_hart_ip.pcap") else { return };
    let ops = operations(&ev, Protocol::Smb);
    assert!(has_op(&ops, "192.168.0.100", "192.168.0.101", Session, 0x72, Some("smb1"), OK), "{ops:#?}");
    assert_eq!(ip_facts(&ev, Protocol::Smb), vec![(ip("192.168.0.101"), Service, "smbv1")]);

    let Some(ev) = shared_events("netbios/ndpi_netbios.pcap") else { return };
    assert_eq!(
        ip_facts(&ev, Protocol::Smb),
        vec![(ip("10.17.113.129"), Hostname, "IBIFHQ11WS023"), (ip("10.19.71.184"), Hostname, "ROSFHQ07WS004")]
    );
    // Browser announcements are SMB mailslot writes inside NetBIOS datagrams.
    assert!(host_protocols(&ev, "10.0.5.9").contains(&Protocol::Smb));
    assert!(violations(&ev, Protocol::Smb).is_empty());
}
