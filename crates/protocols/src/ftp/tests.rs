use super::*;
use crate::testing::{ep, field_values, operations, Flow};
use palisade_model::Event;

/// Feeds the (direction, bytes) segments the way the sensor does, then ends the flow.
fn run(segments: &[(Direction, &[u8])]) -> (Vec<Event>, bool) {
    let mut f = Flow::<Ftp>::new(ep(5, 50003), ep(9, 21));
    let ev = f.streams(segments).end().events();
    (ev, f.dissector().finished())
}

/// The operations as (kind, target, result).
fn ops(ev: &[Event]) -> Vec<(OperationKind, String, OperationResult)> {
    operations(ev).into_iter().map(|(kind, _, target, result)| (kind, target.unwrap_or_default(), result)).collect()
}

const TO_S: Direction = Direction::ToServer;
const TO_C: Direction = Direction::ToClient;

#[test]
fn login_transfers_and_renames() {
    let (ev, finished) = run(&[
        (TO_C, b"220-Welcome to the plant FTP\r\n220 (vsFTPd 3.0.3)\r\n"),
        (TO_S, b"USER oper"),
        (TO_S, b"ator\r\n"),
        (TO_C, b"331 Please specify the password.\r\n"),
        (TO_S, b"PASS wrong\r\n"),
        (TO_C, b"530 Login incorrect.\r\n"),
        (TO_S, b"USER operator\r\nPASS hunter2\r\n"),
        (TO_C, b"331 Please specify the password.\r\n230-Hello\r\n  banner text\r\n230 Login successful.\r\n"),
        (TO_S, b"SYST\r\n"),
        (TO_C, b"215 UNIX Type: L8\r\n"),
        (TO_S, b"RETR recipe.csv\r\n"),
        (TO_C, b"150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n"),
        (TO_S, b"STOR firmware.bin\r\n"),
        (TO_C, b"553 Could not create file.\r\n"),
        (TO_S, b"RNFR a.txt\r\n"),
        (TO_C, b"350 Ready for RNTO.\r\n"),
        (TO_S, b"RNTO a.txt.locked\r\n"),
        (TO_C, b"250 Rename successful.\r\n"),
        (TO_S, b"DELE old.log\r\n"),
    ]);
    assert_eq!(
        ops(&ev),
        vec![
            (OperationKind::Login, "operator".into(), OperationResult::Error(530)),
            (OperationKind::Login, "operator".into(), OperationResult::Success),
            (OperationKind::Read, "recipe.csv".into(), OperationResult::Success),
            (OperationKind::Write, "firmware.bin".into(), OperationResult::Error(553)),
            (OperationKind::Write, "rename a.txt to a.txt.locked".into(), OperationResult::Success),
            (OperationKind::Write, "delete old.log".into(), OperationResult::Unknown),
        ]
    );
    assert_eq!(field_values(&ev), vec![(IdentityField::Server, "Welcome to the plant FTP".into()), (IdentityField::Os, "Unix".into())]);
    assert!(!finished);
    assert!(!format!("{ev:?}").contains("hunter2"));
}

#[test]
fn auth_tls_ends_the_flow() {
    let (ev, finished) = run(&[
        (TO_C, b"220 FileZilla Server 1.7\r\n"),
        (TO_S, b"AUTH TLS\r\n"),
        (TO_C, b"234 Using authentication type TLS.\r\n"),
        (TO_S, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    ]);
    assert!(finished);
    assert!(ops(&ev).is_empty());
}

#[test]
fn overlong_lines_and_pipelining_are_bounded() {
    let long = vec![b'A'; 5000];
    let mut pipelined = Vec::new();
    for i in 0..6 {
        pipelined.extend(format!("RETR f{i}\r\n").bytes());
    }
    let (ev, _) = run(&[(TO_S, &long), (TO_S, b"\r\n"), (TO_S, &pipelined), (TO_C, b"226 ok\r\n")]);
    let ops = ops(&ev);
    assert_eq!(ops.first(), Some(&(OperationKind::Read, "f0".into(), OperationResult::Unknown)));
    assert!(ops.contains(&(OperationKind::Read, "f2".into(), OperationResult::Success)), "{ops:?}");
    assert_eq!(ops.len(), 6);
}
