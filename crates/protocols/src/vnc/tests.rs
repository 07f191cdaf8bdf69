use super::*;
use crate::testing::{ep, facts, operations, Flow};
use palisade_model::Event;
use OperationKind::{Login, Session};

const TO_S: Direction = Direction::ToServer;
const TO_C: Direction = Direction::ToClient;
const SERVER: u8 = 6;

/// Feeds the (direction, bytes) segments the way the sensor does, then ends the flow.
fn run(segments: &[(Direction, &[u8])]) -> (Vec<Event>, bool) {
    let mut f = Flow::<Vnc>::new(ep(5, 50000), ep(SERVER, 5900));
    let ev = f.streams(segments).end().events();
    (ev, f.dissector().finished())
}

/// The session target of `version`.
fn vnc(version: &str) -> Option<String> {
    Some(format!("vnc {version}"))
}

/// A server fact.
fn fact(field: IdentityField, value: &str) -> (IdentityField, String, u8) {
    (field, value.into(), SERVER)
}

/// A server initialisation naming the desktop.
fn server_init(name: &str) -> Vec<u8> {
    let mut init = vec![0x04, 0x00, 0x03, 0x00];
    init.extend([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    init.extend((name.len() as u32).to_be_bytes());
    init.extend(name.as_bytes());
    init
}

#[test]
fn password_authentication() {
    let init = server_init("hmi-1:0 (operator)");
    let (ev, finished) = run(&[
        (TO_C, b"RFB 003.008\n"),
        (TO_S, b"RFB 003.008\n"),
        (TO_C, &[2, 2, 16]),
        (TO_S, &[2]),
        (TO_C, &[0x5a; 16]),
        (TO_S, &[0xa5; 16]),
        (TO_C, &[0, 0, 0, 0]),
        (TO_S, &[1]),
        (TO_C, &init[..10]),
        (TO_C, &init[10..]),
    ]);
    assert_eq!(operations(&ev), vec![(Login, 2, None, OperationResult::Success), (Session, 2, vnc("3.8"), OperationResult::Success)]);
    assert_eq!(facts(&ev), vec![fact(IdentityField::Server, "RFB 003.008"), fact(IdentityField::Description, "hmi-1:0 (operator)")]);
    assert!(finished);
}

#[test]
fn no_authentication_in_each_version() {
    let init = server_init("plant");
    let no_auth = vec![
        fact(IdentityField::Server, "RFB 003.008"),
        fact(IdentityField::Service, "vnc no-auth"),
        fact(IdentityField::Description, "plant"),
    ];
    let (ev, finished) =
        run(&[(TO_C, b"RFB 003.008\n"), (TO_S, b"RFB 003.008\n"), (TO_C, &[2, 1, 2]), (TO_S, &[1]), (TO_C, &[0, 0, 0, 0]), (TO_C, &init)]);
    assert_eq!(operations(&ev), vec![(Session, 1, vnc("3.8"), OperationResult::Success)]);
    assert_eq!(facts(&ev), no_auth);
    assert!(finished);
    let (ev, _) = run(&[(TO_C, b"RFB 003.003\n"), (TO_S, b"RFB 003.003\n"), (TO_C, &[0, 0, 0, 1]), (TO_S, &[1]), (TO_C, &init)]);
    assert_eq!(operations(&ev), vec![(Session, 1, vnc("3.3"), OperationResult::Success)]);
    assert_eq!(facts(&ev).get(1), Some(&fact(IdentityField::Service, "vnc no-auth")));
    let (ev, _) = run(&[(TO_C, b"RFB 003.008\n"), (TO_S, b"RFB 003.007\n"), (TO_C, &[1, 1]), (TO_S, &[1]), (TO_C, &init)]);
    assert_eq!(operations(&ev), vec![(Session, 1, vnc("3.7"), OperationResult::Success)]);
    assert_eq!(facts(&ev), no_auth);
}

#[test]
fn refused_failed_and_unfollowed() {
    let (ev, finished) = run(&[
        (TO_C, b"RFB 003.008\n"),
        (TO_S, b"RFB 003.008\n"),
        (TO_C, &[1, 2]),
        (TO_S, &[2]),
        (TO_C, &[0x5a; 16]),
        (TO_S, &[0xa5; 16]),
        (TO_C, b"\x00\x00\x00\x01\x00\x00\x00\x0eWrong password"),
    ]);
    assert_eq!(operations(&ev), vec![(Login, 2, None, OperationResult::Error(1)), (Session, 2, vnc("3.8"), OperationResult::Error(1))]);
    assert!(finished);
    let (ev, _) = run(&[(TO_C, b"RFB 003.008\n"), (TO_S, b"RFB 003.008\n"), (TO_C, b"\x00\x00\x00\x05busy!")]);
    assert_eq!(operations(&ev), vec![(Session, 0, vnc("3.8"), OperationResult::Error(0))]);
    let (ev, finished) = run(&[(TO_C, b"RFB 003.008\n"), (TO_S, b"RFB 003.008\n"), (TO_C, &[1, 19]), (TO_S, &[19]), (TO_C, &[0, 2])]);
    assert_eq!(operations(&ev), vec![(Session, 19, vnc("3.8"), OperationResult::Unknown)]);
    assert!(finished);
    let (ev, finished) = run(&[(TO_C, b"HTTP/1.1 400 Bad\r\n")]);
    assert!(ev.is_empty());
    assert!(!finished);
}
