//! Detection through the command line: `analyze` with a learning period and
//! threat intelligence, `alerts`, the alert workflow, `baseline diff` and
//! `learn`, `intel import`, evidence pcaps, analyses that continue the same
//! database, and the real captures' operational alerts.

use palisade_capture::{open_file, PacketSource};
use palisade_demo::{write_scenario, ScenarioKind, ScenarioOptions, SCENARIO_INTEL};
use palisade_model::AlertCategory;
use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `palisade` and returns its standard output; fails the test on a non-zero exit.
fn palisade<I: AsRef<OsStr>>(args: &[I]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().expect("run palisade");
    let cmd: Vec<String> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
    assert!(out.status.success(), "palisade {cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `palisade alerts --json --db DB [extra]`.
fn alerts(db: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["alerts", "--json", "--db", db.to_str().unwrap()];
    args.extend_from_slice(extra);
    serde_json::from_str(&palisade(&args)).expect("a JSON array")
}

fn find<'a>(alerts: &'a [Value], category: &str, src: &str) -> Vec<&'a Value> {
    alerts.iter().filter(|a| a["category"] == category && (a["src_ip"] == src || a["src_mac"] == src)).collect()
}

fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("attacks.pcap");
    let file = std::fs::File::create(&path).unwrap();
    write_scenario(&ScenarioOptions { kind: ScenarioKind::Attacks, ..Default::default() }, std::io::BufWriter::new(file)).unwrap();
    path
}

/// The frames of a capture file.
fn frames(path: &Path) -> Vec<Vec<u8>> {
    let mut reader = open_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        out.push(p.unwrap().data.to_vec());
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Checks that tshark (when installed) reads an evidence file.
fn tshark_reads(path: &Path) {
    if let Ok(out) = Command::new("tshark").arg("-r").arg(path).output() {
        assert!(out.status.success(), "tshark cannot read {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.is_empty(), "tshark shows packets of {}", path.display());
    }
}

const FIELDS: [&str; 17] = [
    "id",
    "title",
    "category",
    "engine",
    "severity",
    "status",
    "src_ip",
    "src_mac",
    "dst_ip",
    "dst_mac",
    "protocol",
    "first_seen",
    "last_seen",
    "count",
    "description",
    "remediation",
    "evidence",
];

#[test]
fn scenario_alerts_workflow_diff_and_a_second_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let capture = scenario(dir.path());
    let intel = dir.path().join("intel.txt");
    std::fs::write(&intel, SCENARIO_INTEL).unwrap();
    let db = dir.path().join("site.db");
    let db_arg = db.to_str().unwrap();
    palisade(&["analyze", "--db", db_arg, "--learning-period", "5m", "--intel", intel.to_str().unwrap(), capture.to_str().unwrap()]);

    let first = alerts(&db, &[]);
    let categories: BTreeSet<&str> = first.iter().filter_map(|a| a["category"].as_str()).collect();
    assert_eq!(categories.len(), AlertCategory::ALL.len(), "every category: {categories:?}");
    for a in &first {
        for field in FIELDS {
            assert!(a.get(field).is_some(), "alert has {field}: {a}");
        }
        assert_eq!(a["status"], "new");
        let evidence = PathBuf::from(a["evidence"].as_str().unwrap_or_else(|| panic!("evidence of {}", a["title"])));
        assert!(evidence.starts_with(dir.path().join("site.evidence")), "{}", evidence.display());
        assert_eq!(frames(&evidence).len() as u64, a["evidence_packets"].as_u64().unwrap());
    }
    let stop = &find(&first, "plc-stop", "10.20.20.50")[0];
    let stop_evidence = PathBuf::from(stop["evidence"].as_str().unwrap());
    assert!(frames(&stop_evidence).iter().any(|f| contains(f, b"P_PROGRAM") && contains(f, &[0x29, 0, 0, 0, 0, 0, 9])));
    tshark_reads(&stop_evidence);

    // The workflow.
    let id = |a: &Value| a["id"].as_i64().unwrap().to_string();
    let new_connection = find(&first, "new-connection", "10.20.20.11")[0];
    let port_scan = find(&first, "port-scan", "10.20.20.180")[0];
    let new_device = find(&first, "new-device", "10.20.20.180")[0];
    let learned: Value = serde_json::from_str(&palisade(&["alert", "learn", &id(new_connection), "--db", db_arg, "--json"])).unwrap();
    assert_eq!(learned["status"], "learned");
    palisade(&["alert", "ack", &id(stop), "--db", db_arg]);
    palisade(&["alert", "close", &id(port_scan), "--db", db_arg]);
    palisade(&["alert", "mute", &id(new_device), "--db", db_arg]);
    let muted = alerts(&db, &["--status", "muted"]);
    assert_eq!(muted.iter().map(id).collect::<Vec<_>>(), [id(new_device)]);
    let shown = palisade(&["alert", "show", &id(stop), "--db", db_arg]);
    assert!(shown.contains("acknowledged") && shown.contains("what to do:"), "{shown}");

    // What changed after learning: the historian's new connection (learned
    // since) and the laptop, a change.
    let diff: Value = serde_json::from_str(&palisade(&[
        "baseline",
        "diff",
        "--db",
        db_arg,
        "--from",
        "2025-01-14T10:05:00Z",
        "--to",
        "2025-01-14T10:10:00Z",
        "--json",
    ]))
    .unwrap();
    let added = diff["added"].as_array().unwrap();
    let row = |kind: &str, item: &str| added.iter().find(|r| r["kind"] == kind && r["item"] == item).cloned();
    assert_eq!(row("connection", "10.20.20.11 10.20.20.101").expect("the new connection")["learned"], true);
    assert_eq!(row("device", "3c:a9:f4:6b:20:d7").expect("the laptop")["learned"], false);
    assert!(added.iter().all(|r| r["first_seen"].as_str().unwrap() > "2025-01-14T10:05"));
    let text = palisade(&["baseline", "diff", "--db", db_arg, "--from", "2025-01-14T10:05:00Z", "--to", "2025-01-14T10:10:00Z"]);
    assert!(text.contains("10.20.20.11 10.20.20.101"), "{text}");

    // Analysing again continues the same baseline and alerts; a rule on
    // Purdue levels uses the inventory's classification (HMI 2 is level 2).
    let rules = dir.path().join("plant.rules");
    std::fs::write(&rules, "deny internet from level 0-2\n").unwrap();
    palisade(&["analyze", "--db", db_arg, "--rules", rules.to_str().unwrap(), capture.to_str().unwrap()]);
    let second = alerts(&db, &[]);
    assert_eq!(find(&second, "new-connection", "10.20.20.11").len(), 1, "a learned change does not alert again");
    let scans = find(&second, "port-scan", "10.20.20.180");
    let statuses: BTreeSet<&str> = scans.iter().filter_map(|a| a["status"].as_str()).collect();
    assert_eq!(statuses, BTreeSet::from(["closed", "new"]), "a closed alert that happens again is a new alert");
    let devices = find(&second, "new-device", "10.20.20.180");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["status"], "muted");
    assert!(devices[0]["count"].as_u64() > new_device["count"].as_u64(), "muted repeats are counted");
    let stops = find(&second, "plc-stop", "10.20.20.50");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0]["count"], 2);
    assert_eq!(stops[0]["status"], "acknowledged");
    let broken: Vec<&Value> = second.iter().filter(|a| a["title"].as_str().unwrap().starts_with("Policy rule broken")).collect();
    assert_eq!(broken.len(), 1);
    assert_eq!((&broken[0]["category"], &broken[0]["src_ip"]), (&Value::from("unauthorized-internet"), &Value::from("10.20.20.21")));
    assert_eq!(second.len(), first.len() + 2, "new: the closed scan again, and the rule");

    // Learning switched on again for one device.
    let out = palisade(&["baseline", "learn", "--db", db_arg, "--device", "10.20.20.180", "--period", "1h"]);
    assert!(out.contains("10.20.20.180") && out.contains("from 2025-01-14T10:09:59"), "{out}");
}

#[test]
fn intel_import_reads_plain_lists_and_stix_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("intel.db");
    let plain = dir.path().join("feed.txt");
    std::fs::write(&plain, "# feed\n198.51.100.7\nbad.example.org\nhttp://203.0.113.5/drop.bin\n").unwrap();
    let stix = dir.path().join("bundle.json");
    std::fs::write(
        &stix,
        r#"{"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "indicator", "id": "indicator--1", "name": "C2", "pattern": "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'c2.example.net']"}]}"#,
    )
    .unwrap();
    let out = palisade(&["intel", "import", plain.to_str().unwrap(), stix.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(out.contains("imported 5 indicators (4 new)"), "{out}");
    let list: Value = serde_json::from_str(&palisade(&["intel", "list", "--json", "--db", db.to_str().unwrap()])).unwrap();
    let values: Vec<(&str, &str)> =
        list.as_array().unwrap().iter().map(|i| (i["kind"].as_str().unwrap(), i["value"].as_str().unwrap())).collect();
    assert_eq!(
        values,
        [("domain", "bad.example.org"), ("domain", "c2.example.net"), ("ip", "198.51.100.7"), ("url", "http://203.0.113.5/drop.bin")]
    );
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "10.0.0.1\nnot an indicator\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["intel", "import", bad.to_str().unwrap(), "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Splits a capture into the packets before `at` (capture time, ns) and the rest.
fn split(capture: &Path, at: i64, first: &Path, second: &Path) {
    use palisade_capture::write::PcapWriter;
    let mut reader = open_file(capture).unwrap();
    let open = |p: &Path| {
        PcapWriter::new(std::io::BufWriter::new(std::fs::File::create(p).unwrap()), palisade_capture::LinkType::Ethernet, 65535).unwrap()
    };
    let (mut a, mut b) = (open(first), open(second));
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        let w = if p.ts.0 < at { &mut a } else { &mut b };
        w.write_packet(p.ts, p.data).unwrap();
    }
    a.finish().unwrap();
    b.finish().unwrap();
}

#[test]
fn a_later_capture_is_judged_against_the_baseline_of_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let capture = scenario(dir.path());
    let (learning, rest) = (dir.path().join("learning.pcap"), dir.path().join("rest.pcap"));
    split(&capture, (1_736_848_800 + 300) * 1_000_000_000, &learning, &rest);
    let db = dir.path().join("site.db");
    let db_arg = db.to_str().unwrap();
    let intel = dir.path().join("intel.txt");
    std::fs::write(&intel, SCENARIO_INTEL).unwrap();
    palisade(&["analyze", "--db", db_arg, "--learning-period", "5m", "--intel", intel.to_str().unwrap(), learning.to_str().unwrap()]);
    assert_eq!(alerts(&db, &[]).len(), 0, "learning traffic only");
    palisade(&["analyze", "--db", db_arg, rest.to_str().unwrap()]);
    let raised = alerts(&db, &[]);
    let categories: BTreeSet<&str> = raised.iter().filter_map(|a| a["category"].as_str()).collect();
    assert_eq!(categories.len(), AlertCategory::ALL.len(), "every category: {categories:?}");
    assert!(find(&raised, "new-connection", "10.20.20.11").len() == 1);
    assert!(find(&raised, "new-device", "10.20.20.180").len() == 1);
}

/// A real capture and the one alert it must raise.
struct Expected {
    file: &'static str,
    category: &'static str,
    src: &'static str,
    dst: &'static str,
    /// Bytes the evidence must hold (the triggering packets).
    needles: &'static [&'static [u8]],
}

const REAL: &[Expected] = &[
    Expected {
        file: "enip/iti_openics_cip_program_upload.pcap",
        category: "program-upload",
        src: "192.168.10.105",
        dst: "192.168.10.120",
        needles: &[&[0x4b, 0x02, 0x20, 0x6a]],
    },
    Expected {
        file: "profinet/iti_pn_dcp_change_ip.pcap",
        category: "configuration-change",
        src: "00:0c:29:ba:09:ea",
        dst: "08:00:06:93:cf:32",
        needles: &[&[0xfe, 0xfd, 0x04, 0x00]],
    },
    Expected {
        file: "telnet/ndpi_telnet.pcap",
        category: "cleartext-credentials",
        src: "192.168.0.2",
        dst: "192.168.0.1",
        needles: &[b"user\r\n", b"Last login"],
    },
    Expected {
        file: "ftp/zeek_ftp_ipv4.pcap",
        category: "cleartext-credentials",
        src: "141.142.220.235",
        dst: "199.233.217.249",
        needles: &[b"USER anonymous", b"PASS "],
    },
    Expected {
        file: "smb/arkime_smb_windows10.pcap",
        category: "cleartext-credentials",
        src: "192.168.199.133",
        dst: "192.168.199.1",
        needles: &[&[0xff, b'S', b'M', b'B', 0x72]],
    },
];

#[test]
fn real_captures_raise_the_operational_alerts_they_contain() {
    let Some(shared) = palisade_sensor::testdata::shared_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    for Expected { file, category, src, dst, needles } in REAL {
        let db = dir.path().join(format!("{}.db", file.replace('/', "_")));
        palisade(&["analyze", "--db", db.to_str().unwrap(), "--learning-period", "0", shared.join(file).to_str().unwrap()]);
        let raised = alerts(&db, &[]);
        let summary: Vec<(String, String, String, String)> = raised
            .iter()
            .map(|a| {
                let side = |ip: &Value, mac: &Value| ip.as_str().or(mac.as_str()).unwrap_or("-").to_string();
                (
                    a["category"].as_str().unwrap().into(),
                    a["engine"].as_str().unwrap().into(),
                    side(&a["src_ip"], &a["src_mac"]),
                    side(&a["dst_ip"], &a["dst_mac"]),
                )
            })
            .collect();
        assert_eq!(summary, [(category.to_string(), "operational".to_string(), src.to_string(), dst.to_string())], "{file}");
        let evidence = PathBuf::from(raised[0]["evidence"].as_str().unwrap());
        let packets = frames(&evidence);
        for needle in *needles {
            assert!(packets.iter().any(|f| contains(f, needle)), "{file}: evidence holds {:?}", String::from_utf8_lossy(needle));
        }
        tshark_reads(&evidence);
    }
}
