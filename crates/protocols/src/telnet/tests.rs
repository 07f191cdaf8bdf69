use super::*;
use crate::testing::{ep, field_values, operation_events, Flow};
use palisade_model::Event;

/// Runs the (direction, bytes) segments through a fresh dissector.
fn run(segments: &[(Direction, &[u8])]) -> (Vec<Event>, bool) {
    let mut f = Flow::<Telnet>::new(ep(2, 1550), ep(1, 23));
    let ev = f.whole_streams(segments).end().events();
    (ev, f.dissector().finished())
}

fn logins(ev: &[Event]) -> Vec<(Option<String>, OperationResult)> {
    operation_events(ev).into_iter().filter(|o| o.kind == OperationKind::Login).map(|o| (o.target.clone(), o.result)).collect()
}

const TO_S: Direction = Direction::ToServer;
const TO_C: Direction = Direction::ToClient;

#[test]
fn character_mode_login_that_succeeds() {
    let mut segments: Vec<(Direction, &[u8])> = vec![
        (TO_C, b"\xff\xfd\x18\xff\xfd\x20"),
        (TO_S, b"\xff\xfb\x18\xff\xfa\x18\x00xterm\xff\xf0"),
        (TO_C, b"\r\nUbuntu 22.04.3 LTS\r\nplc-gw login: "),
    ];
    for c in [b"o", b"p", b"s"] {
        segments.push((TO_S, c));
        segments.push((TO_C, c));
    }
    segments.extend([
        (TO_S, &b"\r\0"[..]),
        (TO_C, b"\r\n"),
        (TO_C, b"Password: "),
        (TO_S, b"s3cret\x7f\r\n"),
        (TO_C, b"\r\n"),
        (TO_C, b"Welcome to Ubuntu\r\n"),
        (TO_C, b"ops@plc-gw:~$ "),
    ]);
    let (ev, finished) = run(&segments);
    assert_eq!(logins(&ev), vec![(Some("ops".into()), OperationResult::Success)]);
    assert_eq!(field_values(&ev), vec![(IdentityField::Server, "Ubuntu 22.04.3 LTS".into()), (IdentityField::Os, "Ubuntu".into())]);
    assert!(finished);
    assert!(!format!("{ev:?}").contains("s3cre"));
}

#[test]
fn refused_then_accepted_and_password_only() {
    let (ev, finished) = run(&[
        (TO_C, b"raspberrypi login: "),
        (TO_S, b"admin\r\n"),
        (TO_C, b"Password: "),
        (TO_S, b"admin\r\n"),
        (TO_C, b"\r\nLogin incorrect\r\n"),
        (TO_C, b"raspberrypi login: "),
        (TO_S, b"pi\r\n"),
        (TO_C, b"Password: "),
        (TO_S, b"raspberry\r\n"),
        (TO_C, b"\r\nraspberrypi login: "),
    ]);
    assert_eq!(
        logins(&ev),
        vec![(Some("admin".into()), OperationResult::Error(REFUSED)), (Some("pi".into()), OperationResult::Error(REFUSED))]
    );
    assert_eq!(field_values(&ev), vec![(IdentityField::Server, "raspberrypi login:".into())]);
    assert!(!finished);

    let (ev, _) = run(&[(TO_C, b"\r\nUser Access Verification\r\n\r\nPassword: "), (TO_S, b"cisco\r\n")]);
    assert_eq!(logins(&ev), vec![(None, OperationResult::Unknown)]);
}

#[test]
fn account_without_password() {
    let (ev, finished) = run(&[(TO_C, b"\r\nBusyBox v1.19.4 built-in shell\r\n(none) login: "), (TO_S, b"root\r\n"), (TO_C, b"\r\n# ")]);
    assert_eq!(logins(&ev), vec![(Some("root".into()), OperationResult::Success)]);
    assert_eq!(field_values(&ev), vec![(IdentityField::Server, "BusyBox v1.19.4 built-in shell".into())]);
    assert!(finished);
}

#[test]
fn gives_up_without_a_prompt() {
    let noise = vec![b'x'; (SERVER_BUDGET + 10) as usize];
    let (ev, finished) = run(&[(TO_C, &noise)]);
    assert!(finished);
    assert!(logins(&ev).is_empty());
}
