use super::ntlmssp::tests::{authenticate, challenge, utf16};
use super::*;
use crate::testing::{ep, facts, operations, Flow};
use palisade_model::Event;

const LOGON_FAILURE: u32 = 0xc000_006d;
/// The client (10.0.0.1) and server (10.0.0.2) of every flow.
const CLIENT: u8 = 1;
const SERVER: u8 = 2;

fn flow() -> Flow<Smb> {
    Flow::new(ep(CLIENT, 50000), ep(SERVER, 445))
}

/// Runs whole messages through a fresh dissector, in order, then ends the flow.
fn run(messages: &[(Direction, Vec<u8>)]) -> Vec<Event> {
    flow().whole_streams(messages).end().events()
}

/// The operations as (kind, target, result).
fn ops(ev: &[Event]) -> Vec<(OperationKind, String, OperationResult)> {
    operations(ev).into_iter().map(|(kind, _, target, result)| (kind, target.unwrap_or_default(), result)).collect()
}

/// A NetBIOS session message around `msg`.
fn nbss(msg: &[u8]) -> Vec<u8> {
    let len = msg.len() as u32;
    let mut out = vec![0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    out.extend_from_slice(msg);
    out
}

/// An SMB2 message: header then `body`.
fn smb2(command: u16, response: bool, message_id: u64, tree_id: u32, status: u32, body: &[u8]) -> Vec<u8> {
    let mut m = b"\xfeSMB".to_vec();
    m.extend(64u16.to_le_bytes());
    m.extend([1, 0]);
    m.extend(status.to_le_bytes());
    m.extend(command.to_le_bytes());
    m.extend([1, 0]);
    m.extend(u32::from(response).to_le_bytes());
    m.extend(0u32.to_le_bytes());
    m.extend(message_id.to_le_bytes());
    m.extend(0xfeffu32.to_le_bytes());
    m.extend(tree_id.to_le_bytes());
    m.extend(0x1234u64.to_le_bytes());
    m.extend([0; 16]);
    m.extend_from_slice(body);
    nbss(&m)
}

/// An SMB1 message with one command block.
fn smb1(command: u8, reply: bool, tid: u16, mid: u16, words: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut m = b"\xffSMB".to_vec();
    m.push(command);
    m.extend([0, 0, 0, 0]);
    m.push(if reply { 0x98 } else { 0x18 });
    m.extend(0xc807u16.to_le_bytes());
    m.extend([0; 12]);
    m.extend(tid.to_le_bytes());
    m.extend(0xfeffu16.to_le_bytes());
    m.extend(0u16.to_le_bytes());
    m.extend(mid.to_le_bytes());
    m.push((words.len() / 2) as u8);
    m.extend_from_slice(words);
    m.extend((bytes.len() as u16).to_le_bytes());
    m.extend_from_slice(bytes);
    nbss(&m)
}

/// SMB2 session setup request or response carrying `blob`.
fn session_setup(response: bool, message_id: u64, status: u32, blob: &[u8]) -> Vec<u8> {
    let body = if response {
        let mut b = vec![9, 0, 0, 0];
        b.extend(72u16.to_le_bytes());
        b.extend((blob.len() as u16).to_le_bytes());
        b
    } else {
        let mut b = vec![25, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        b.extend(88u16.to_le_bytes());
        b.extend((blob.len() as u16).to_le_bytes());
        b.extend([0; 8]);
        b
    };
    let mut body = body;
    body.extend_from_slice(blob);
    smb2(parser::SMB2_SESSION_SETUP, response, message_id, 0, status, &body)
}

/// SMB2 request with a UTF-16 name at `name_at` in the body (offset and
/// length fields at `fields_at`), the fixed part being `fixed` bytes.
fn named_request(command: u16, message_id: u64, tree_id: u32, fixed: &mut Vec<u8>, fields_at: usize, name: &str) -> Vec<u8> {
    let n = utf16(name);
    let offset = (64 + fixed.len()) as u16;
    fixed[fields_at..fields_at + 2].copy_from_slice(&offset.to_le_bytes());
    fixed[fields_at + 2..fields_at + 4].copy_from_slice(&(n.len() as u16).to_le_bytes());
    fixed.extend(n);
    smb2(command, false, message_id, tree_id, 0, fixed)
}

fn tree_connect(message_id: u64, path: &str) -> Vec<u8> {
    named_request(parser::SMB2_TREE_CONNECT, message_id, 0, &mut vec![9, 0, 0, 0, 0, 0, 0, 0], 4, path)
}

fn create(message_id: u64, tree_id: u32, name: &str, access: u32, disposition: u32) -> Vec<u8> {
    let mut fixed = vec![0u8; 56];
    fixed[0] = 57;
    fixed[24..28].copy_from_slice(&access.to_le_bytes());
    fixed[36..40].copy_from_slice(&disposition.to_le_bytes());
    named_request(parser::SMB2_CREATE, message_id, tree_id, &mut fixed, 44, name)
}

fn answer(command: u16, message_id: u64, tree_id: u32, status: u32) -> Vec<u8> {
    smb2(command, true, message_id, tree_id, status, &[2, 0, 0, 0])
}

fn write(message_id: u64, tree_id: u32, data_len: usize) -> Vec<u8> {
    let mut body = vec![49, 0, 112, 0];
    body.extend((data_len as u32).to_le_bytes());
    body.extend([0; 40]);
    body.resize(48 + data_len, 0x5a);
    smb2(parser::SMB2_WRITE, false, message_id, tree_id, 0, &body)
}

#[test]
fn smb1_dialect_chosen_is_smbv1_use() {
    let mut dialects = Vec::new();
    for d in ["PC NETWORK PROGRAM 1.0", "LANMAN1.0", "NT LM 0.12"] {
        dialects.push(2);
        dialects.extend(d.as_bytes());
        dialects.push(0);
    }
    let mut words = vec![2, 0];
    words.resize(34, 0);
    let ev = run(&[
        (Direction::ToServer, smb1(parser::SMB1_NEGOTIATE, false, 0, 1, &[], &dialects)),
        (Direction::ToClient, smb1(parser::SMB1_NEGOTIATE, true, 0, 1, &words, &[])),
    ]);
    assert_eq!(ops(&ev), vec![(OperationKind::Session, "smb1".into(), OperationResult::Success)]);
    assert_eq!(facts(&ev), vec![(IdentityField::Service, "smbv1".into(), SERVER)]);
}

#[test]
fn smb2_negotiate_then_ntlm_login() {
    let mut negotiated = vec![65, 0, 1, 0, 0x11, 0x03];
    negotiated.resize(64, 0);
    let mut spnego = vec![0xa1, 0x82, 0x01, 0x00, 0x30];
    spnego.extend(challenge("FILESRV", "PLANT", (6, 1, 7601)));
    let ev = run(&[
        (Direction::ToClient, smb2(parser::SMB2_NEGOTIATE, true, 0, 0, 0, &[65, 0, 1, 0, 0xff, 0x02])),
        (Direction::ToClient, smb2(parser::SMB2_NEGOTIATE, true, 1, 0, 0, &negotiated)),
        (Direction::ToClient, session_setup(true, 2, 0xc000_0016, &spnego)),
        (Direction::ToServer, session_setup(false, 3, 0, &authenticate("PLANT", "operator", "HMI-01"))),
        (Direction::ToClient, session_setup(true, 3, LOGON_FAILURE, &[])),
        (Direction::ToServer, session_setup(false, 4, 0, &authenticate("", "", "HMI-01"))),
        (Direction::ToClient, session_setup(true, 4, 0, &[])),
    ]);
    assert_eq!(
        ops(&ev),
        vec![
            (OperationKind::Session, "smb 3.1.1".into(), OperationResult::Success),
            (OperationKind::Login, "PLANT\\operator".into(), OperationResult::Error(LOGON_FAILURE)),
            (OperationKind::Login, "anonymous".into(), OperationResult::Success),
        ]
    );
    assert_eq!(
        facts(&ev),
        vec![
            (IdentityField::Hostname, "FILESRV".into(), SERVER),
            (IdentityField::Domain, "PLANT".into(), SERVER),
            (IdentityField::Os, "Windows 7 / Server 2008 R2 build 7601".into(), SERVER),
            (IdentityField::Hostname, "HMI-01".into(), CLIENT),
            (IdentityField::Os, "Windows 10 / Server 2016-2022 build 10586".into(), CLIENT),
        ]
    );
}

#[test]
fn shares_files_writes_and_renames() {
    let mut rename = vec![0u8; 32];
    rename[0] = 33;
    rename[2] = 1;
    rename[3] = 10;
    let new_name = utf16("docs\\b.txt.locked");
    let mut info = vec![0u8; 20];
    info[16..20].copy_from_slice(&(new_name.len() as u32).to_le_bytes());
    info.extend(new_name);
    rename[4..8].copy_from_slice(&(info.len() as u32).to_le_bytes());
    rename[8..10].copy_from_slice(&96u16.to_le_bytes());
    rename.extend(info);
    let ev = run(&[
        (Direction::ToServer, tree_connect(10, "\\\\FILESRV\\IPC$")),
        (Direction::ToClient, answer(parser::SMB2_TREE_CONNECT, 10, 1, 0)),
        (Direction::ToServer, create(11, 1, "srvsvc", 0x0012_019f, 1)),
        (Direction::ToClient, answer(parser::SMB2_CREATE, 11, 1, 0)),
        (Direction::ToServer, write(12, 1, 100)),
        (Direction::ToServer, tree_connect(13, "\\\\FILESRV\\data")),
        (Direction::ToClient, answer(parser::SMB2_TREE_CONNECT, 13, 5, 0)),
        (Direction::ToServer, create(14, 5, "docs\\a.txt", 0x0012_0089, 1)),
        (Direction::ToClient, answer(parser::SMB2_CREATE, 14, 5, 0)),
        (Direction::ToServer, create(15, 5, "docs\\b.txt", 0x0012_0116, 5)),
        (Direction::ToClient, answer(parser::SMB2_CREATE, 15, 5, 0)),
        (Direction::ToServer, write(16, 5, 100)),
        (Direction::ToServer, write(17, 5, 100)),
        (Direction::ToServer, smb2(parser::SMB2_SET_INFO, false, 18, 5, 0, &rename)),
        (Direction::ToClient, answer(parser::SMB2_SET_INFO, 18, 5, 0)),
        (Direction::ToServer, create(19, 5, "missing.txt", 0x0012_0089, 1)),
        (Direction::ToClient, answer(parser::SMB2_CREATE, 19, 5, 0xc000_0034)),
        (Direction::ToServer, create(20, 5, "never-answered.txt", 0x0012_0089, 1)),
    ]);
    assert_eq!(
        ops(&ev),
        vec![
            (OperationKind::Read, "\\\\FILESRV\\IPC$".into(), OperationResult::Success),
            (OperationKind::Read, "pipe srvsvc".into(), OperationResult::Success),
            (OperationKind::Read, "\\\\FILESRV\\data".into(), OperationResult::Success),
            (OperationKind::Read, "docs\\a.txt".into(), OperationResult::Success),
            (OperationKind::Write, "docs\\b.txt".into(), OperationResult::Success),
            (OperationKind::Write, "file data".into(), OperationResult::Unknown),
            (OperationKind::Write, "rename to docs\\b.txt.locked".into(), OperationResult::Success),
            (OperationKind::Read, "missing.txt".into(), OperationResult::Error(0xc000_0034)),
            (OperationKind::Read, "never-answered.txt".into(), OperationResult::Unknown),
        ]
    );
}

#[test]
fn large_write_is_skipped_in_pieces() {
    let mut f = flow();
    let mut stream = write(1, 7, 200_000);
    stream.extend(tree_connect(2, "\\\\S\\share"));
    let mut pending: Vec<u8> = Vec::new();
    for chunk in stream.chunks(1460) {
        pending.extend_from_slice(chunk);
        let used = f.stream(Direction::ToServer, &pending);
        pending.drain(..used);
        assert!(pending.len() < 2 * 1460, "buffered {}", pending.len());
    }
    f.whole_streams(&[(Direction::ToClient, answer(parser::SMB2_TREE_CONNECT, 2, 8, 0))]);
    assert_eq!(
        ops(&f.events()),
        vec![
            (OperationKind::Write, "file data".into(), OperationResult::Unknown),
            (OperationKind::Read, "\\\\S\\share".into(), OperationResult::Success),
        ]
    );
    assert!(!f.dissector().finished());
}

#[test]
fn resynchronises_after_garbage_and_gives_up_on_noise() {
    let mut stream = vec![0x42; 37];
    stream.extend(tree_connect(2, "\\\\S\\share"));
    let noise = vec![0x5a; 70_000];
    let mut f = flow();
    f.whole_streams(&[(Direction::ToServer, &stream), (Direction::ToClient, &noise)]);
    assert_eq!(f.dissector().session.as_ref().map(|s| s.pending.iter().flatten().count()), Some(1));
    assert!(!f.dissector().finished());
    f.whole_streams(&[(Direction::ToServer, &noise)]);
    assert!(f.dissector().finished());
}

#[test]
fn encrypted_traffic_ends_the_flow() {
    let mut transform = nbss(&[0xfd, b'S', b'M', b'B']);
    transform.extend([0; 48]);
    transform[3] = 52;
    let mut f = flow();
    f.whole_streams(&[(Direction::ToServer, transform)]);
    assert!(f.dissector().finished());
}

#[test]
fn probe_is_strict() {
    assert!(probe(&tree_connect(1, "\\\\S\\x"), true));
    assert!(probe(&smb1(parser::SMB1_NEGOTIATE, false, 0, 1, &[], b"\x02NT LM 0.12\0"), true));
    assert!(!probe(&tree_connect(1, "\\\\S\\x"), false));
    assert!(!probe(b"\x00\x00\x00\x10\xfeSMX0123456789ab", true));
    assert!(!probe(b"GET / HTTP/1.1\r\n", true));
    let mut request = vec![0x81, 0, 0, 68, 32];
    request.extend(b"EOEBEMEFCACACACACACACACACACACACA\0");
    request.push(32);
    request.extend(b"EIENEJCNDADBCACACACACACACACACAAA\0");
    assert!(probe(&request, true));
    request[10] = b'z';
    assert!(!probe(&request, true));
}

#[test]
fn session_request_names_both_sides() {
    let mut request = vec![0x81, 0, 0, 68, 32];
    request.extend(b"FDEDFGCACACACACACACACACACACACACA\0");
    request.push(32);
    request.extend(b"EIENEJCNDADBCACACACACACACACACAAA\0");
    let ev = run(&[(Direction::ToServer, request)]);
    assert_eq!(facts(&ev), vec![(IdentityField::Hostname, "HMI-01".into(), CLIENT), (IdentityField::Hostname, "SCV".into(), SERVER)]);
}
