//! The `palisade` command line end to end, on small captures generated here:
//! exit codes and one `error:` line per bad input, standard input (plain and
//! gzip), JSON outputs, a missing database, and device ids that stay put
//! when a second capture is analysed into the same database.

use palisade_capture::write::PcapWriter;
use palisade_capture::LinkType;
use palisade_model::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_palisade");

/// Two private hosts of one capture: (IP, MAC) each.
struct Pair {
    a: ([u8; 4], [u8; 6]),
    b: ([u8; 4], [u8; 6]),
}

impl Pair {
    fn new(net: u8) -> Self {
        Pair { a: ([10, net, 0, 1], [0x00, 0x1b, 0x1b, net, 0, 1]), b: ([10, net, 0, 2], [0x00, 0x0e, 0x8c, net, 0, 2]) }
    }

    fn ips(&self) -> [String; 2] {
        [ip(self.a.0), ip(self.b.0)]
    }
}

fn ip(a: [u8; 4]) -> String {
    std::net::Ipv4Addr::from(a).to_string()
}

fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f.resize(f.len().max(60), 0);
    f
}

fn arp(op: u16, sender: ([u8; 4], [u8; 6]), target: ([u8; 4], [u8; 6])) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4];
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&sender.1);
    a.extend_from_slice(&sender.0);
    a.extend_from_slice(&if op == 1 { [0; 6] } else { target.1 });
    a.extend_from_slice(&target.0);
    a
}

fn udp_packet(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + udp_len) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&40000u16.to_be_bytes());
    p.extend_from_slice(&9999u16.to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// A pcap of `pair`: ARP request and reply, then a UDP datagram A → B.
fn capture_bytes(pair: &Pair, t0: i64) -> Vec<u8> {
    let frames = [
        ethernet([0xff; 6], pair.a.1, 0x0806, &arp(1, pair.a, pair.b)),
        ethernet(pair.a.1, pair.b.1, 0x0806, &arp(2, pair.b, pair.a)),
        ethernet(pair.b.1, pair.a.1, 0x0800, &udp_packet(pair.a.0, pair.b.0, b"palisade cli test")),
    ];
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).expect("pcap header");
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(Timestamp((t0 + i as i64) * 1_000_000_000 + 250_000), f).expect("write");
    }
    w.finish().expect("finish")
}

fn write_capture(path: &Path, pair: &Pair, t0: i64) -> PathBuf {
    std::fs::write(path, capture_bytes(pair, t0)).expect("write capture");
    path.to_path_buf()
}

fn palisade(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut cmd = Command::new(BIN);
    for a in args {
        cmd.arg(a);
    }
    cmd.env_remove("PALISADE_LOG").output().expect("run palisade")
}

fn palisade_stdin(args: &[&dyn AsRef<std::ffi::OsStr>], input: &[u8]) -> Output {
    let mut cmd = Command::new(BIN);
    for a in args {
        cmd.arg(a);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn palisade");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for palisade");
    feeder.join().expect("stdin writer");
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_array(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "failed: {}", stderr(out));
    match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(Value::Array(items)) => items,
        other => panic!("not a JSON array: {other:?}\n{}", String::from_utf8_lossy(&out.stdout)),
    }
}

/// Device id by IP address, from `palisade devices --json`.
fn devices(db: &Path) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for d in json_array(&palisade(&[&"devices", &"--db", &db, &"--json"])) {
        let id = d["id"].as_i64().expect("device id");
        for ip in d["ips"].as_array().expect("ips") {
            out.insert(ip.as_str().expect("ip").to_string(), id);
        }
    }
    out
}

fn assert_has(devices: &BTreeMap<String, i64>, pair: &Pair) {
    for ip in pair.ips() {
        assert!(devices.contains_key(&ip), "device {ip} missing from {devices:?}");
    }
}

#[test]
fn bad_inputs_are_reported_and_good_ones_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (one, two, cut) = (Pair::new(1), Pair::new(2), Pair::new(3));
    let good1 = write_capture(&d.join("good1.pcap"), &one, 1_700_000_000);
    let good2 = write_capture(&d.join("good2.pcap"), &two, 1_700_000_100);
    let whole = capture_bytes(&cut, 1_700_000_200);
    let truncated = d.join("truncated.pcap");
    std::fs::write(&truncated, &whole[..whole.len() - 10]).expect("write");
    let text = d.join("notes.txt");
    std::fs::write(&text, "these are not packets\n").expect("write");
    let missing = d.join("missing.pcap");
    let mut user0 = capture_bytes(&one, 1_700_000_000);
    user0[20..24].copy_from_slice(&147u32.to_le_bytes());
    let unknown_link = d.join("user0.pcap");
    std::fs::write(&unknown_link, &user0).expect("write");
    let db = d.join("inventory.db");

    let out = palisade(&[&"analyze", &"--db", &db, &good1, &truncated, &text, &missing, &unknown_link, &good2]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "exit code; stderr:\n{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 4, "one error line per bad input:\n{err}");
    for bad in [&truncated, &text, &missing, &unknown_link] {
        let name = bad.display().to_string();
        assert_eq!(errors.iter().filter(|l| l.contains(&name)).count(), 1, "{name} must be named once:\n{err}");
    }
    for good in [&good1, &good2] {
        let name = good.display().to_string();
        assert!(!errors.iter().any(|l| l.contains(&name)), "{name} is fine:\n{err}");
    }
    assert!(errors.iter().any(|l| l.contains("truncated") && l.contains("packet 2")), "{err}");
    assert!(errors.iter().any(|l| l.contains("147")), "{err}");

    let found = devices(&db);
    assert_has(&found, &one);
    assert_has(&found, &two);
    // The truncated capture's packets before the cut (its two ARPs) were analysed.
    assert_has(&found, &cut);
}

#[test]
fn standard_input_plain_and_gzip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (plain_pair, gzip_pair) = (Pair::new(4), Pair::new(5));
    let plain = capture_bytes(&plain_pair, 1_700_000_000);
    let gzip = stored_gzip(&capture_bytes(&gzip_pair, 1_700_000_050));
    for (name, input, pair) in [("plain.db", plain, &plain_pair), ("gzip.db", gzip, &gzip_pair)] {
        let db = dir.path().join(name);
        let out = palisade_stdin(&[&"analyze", &"--db", &db, &"-"], &input);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_has(&devices(&db), pair);
    }
}

/// Gzip without a compression library (this crate does not depend on one): one stored (uncompressed) deflate
/// block per 65535 bytes, CRC-32 computed here.
fn stored_gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(65535).collect() };
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[test]
fn devices_on_a_missing_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("nothing-here.db");
    for command in ["devices", "events", "endpoints"] {
        let out = palisade(&[&command, &"--db", &db]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(err.contains("does not exist") && err.contains("nothing-here.db"), "{command}: {err}");
        assert!(!db.exists(), "{command} must not create the database");
    }
}

#[test]
fn json_outputs_are_arrays() {
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = write_capture(&dir.path().join("a.pcap"), &Pair::new(6), 1_700_000_000);
    let db = dir.path().join("a.db");
    let out = palisade(&[&"analyze", &"--db", &db, &"--json", &capture]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("analyze --json is JSON");
    assert_eq!(summary["packets"].as_u64(), Some(3), "{summary}");
    assert!(!json_array(&palisade(&[&"devices", &"--db", &db, &"--json"])).is_empty());
    json_array(&palisade(&[&"events", &"--db", &db, &"--json"]));
    json_array(&palisade(&[&"endpoints", &"--db", &db, &"--json"]));
}

#[test]
fn second_analysis_keeps_devices_and_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (one, two) = (Pair::new(7), Pair::new(8));
    let first = write_capture(&dir.path().join("first.pcap"), &one, 1_700_000_000);
    let second = write_capture(&dir.path().join("second.pcap"), &two, 1_700_000_500);
    let db = dir.path().join("site.db");
    let out = palisade(&[&"analyze", &"--db", &db, &first]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = devices(&db);
    assert_has(&before, &one);
    let out = palisade(&[&"analyze", &"--db", &db, &second]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = devices(&db);
    assert_has(&after, &two);
    for (ip, id) in &before {
        assert_eq!(after.get(ip), Some(id), "device {ip} kept its id");
    }
    // Analysing the first capture again changes nothing.
    let out = palisade(&[&"analyze", &"--db", &db, &first]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(devices(&db), after);
}
