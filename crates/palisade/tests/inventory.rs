//! The inventory end to end: device types on the demo plant (whose
//! generator knows every host's role) and types that stay put when a later
//! capture adds nothing about them; `palisade count` (monitored devices per
//! site and the licence that covers them) on the demo plant and on captures
//! 61 days apart.

use palisade_capture::write::PcapWriter;
use palisade_capture::LinkType;
use palisade_model::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_palisade");
const DAY: i64 = 24 * 3600;

fn palisade(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<u8> {
    let mut cmd = Command::new(BIN);
    for a in args {
        cmd.arg(a);
    }
    let out = cmd.env_remove("PALISADE_LOG").output().expect("run palisade");
    assert!(out.status.success(), "palisade failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn json(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)))
}

/// The demo plant's capture analysed into a fresh database in `dir`.
fn demo_db(dir: &Path) -> PathBuf {
    let capture = dir.join("demo.pcap");
    let db = dir.join("demo.db");
    let file = std::fs::File::create(&capture).expect("create capture");
    palisade_demo::write_demo_capture(&Default::default(), std::io::BufWriter::new(file)).expect("write demo capture");
    palisade(&[&"analyze", &"--db", &db, &capture]);
    db
}

/// A pcap in which `hosts` (last IPv4 octet = last MAC byte, in 10.1.0.0/24)
/// each announce themselves in ARP at `t0`.
fn arp_capture(path: &Path, hosts: &[u8], t0: i64) {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).expect("pcap header");
    for (i, h) in hosts.iter().enumerate() {
        let mac = [0x00, 0x1b, 0x1b, 0x10, 0x00, *h];
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&mac);
        f.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&mac);
        f.extend_from_slice(&[10, 1, 0, *h]);
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(&[10, 1, 0, 254]);
        f.resize(60, 0);
        w.write_packet(Timestamp((t0 + i as i64) * 1_000_000_000), &f).expect("write");
    }
    std::fs::write(path, w.finish().expect("finish")).expect("write capture");
}

/// Type and confidence of every device, by IP.
fn types(db: &Path) -> BTreeMap<String, (String, u64)> {
    let devices = json(&palisade(&[&"devices", &"--db", &db, &"--json"]));
    let mut out = BTreeMap::new();
    for d in devices.as_array().expect("devices") {
        let t = (d["type"].as_str().expect("type").to_string(), d["confidence"].as_u64().expect("confidence"));
        assert!(t.0 == "unknown" || !d["classification_reasons"].as_array().expect("reasons").is_empty(), "a type needs reasons: {d}");
        for ip in d["ips"].as_array().expect("ips") {
            out.insert(ip.as_str().expect("ip").to_string(), t.clone());
        }
    }
    out
}

/// Demo hosts whose type differs from the generator's role, and why.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    // It only reads BACnet values: on the wire that is an HMI's habit too.
    ("10.20.20.11", "historian", "hmi"),
    // A DNP3 outstation from SEL, which makes relays (IEDs) and RTUs alike.
    ("10.20.20.140", "ied", "rtu"),
    // The incident laptop writes a PLC's registers: what an HMI does.
    ("10.20.20.180", "workstation", "hmi"),
];

#[test]
fn demo_hosts_get_their_roles_and_keep_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = demo_db(dir.path());
    let found = types(&db);
    let hosts = palisade_demo::demo_hosts();
    let mut right = 0;
    for h in &hosts {
        let ip = h.ip.to_string();
        let got = found.get(&ip).map(|t| t.0.as_str()).unwrap_or("missing");
        match KNOWN_DIFFERENCES.iter().find(|(i, _, _)| *i == ip) {
            Some((_, role, instead)) => assert_eq!((h.role, got), (*role, *instead), "{ip}"),
            None => {
                assert_eq!(got, h.role, "{ip} ({} {:?})", h.vendor, h.hostname);
                right += 1;
            }
        }
    }
    assert_eq!((right, hosts.len()), (53, 56));

    // A second, unrelated capture into the same database changes nobody's type.
    let other = dir.path().join("other.pcap");
    arp_capture(&other, &[77], 1_736_900_000);
    palisade(&[&"analyze", &"--db", &db, &other]);
    let again = types(&db);
    for (ip, t) in &found {
        assert_eq!(again.get(ip), Some(t), "{ip} changed after another analysis");
    }
}

/// The one site that `palisade count --json` lists.
fn count(db: &Path) -> Value {
    let sites = json(&palisade(&[&"count", &"--db", &db, &"--json"]));
    let sites = sites.as_array().expect("an array of sites");
    assert_eq!(sites.len(), 1, "one site until sites are configured: {sites:?}");
    sites[0].clone()
}

#[test]
fn the_demo_plant_needs_one_xs_licence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = demo_db(dir.path());

    let devices = json(&palisade(&[&"devices", &"--db", &db, &"--json"]));
    let devices = devices.as_array().expect("devices");
    assert!(devices.iter().all(|d| d["active"] == Value::Bool(true)), "a fresh capture is all active");
    let billable = devices.iter().filter(|d| d["billable"] == Value::Bool(true)).count();

    let site = count(&db);
    assert_eq!(site["site"], "default");
    assert_eq!(site["monitored_devices"].as_u64(), Some(billable as u64));
    assert_eq!(site["monitored_devices"], 56, "every demo host once");
    assert_eq!(site["devices"].as_u64(), Some(devices.len() as u64));
    assert_eq!(site["inactive_devices"], 0);
    assert_eq!(site["licence"], serde_json::json!({"size": "XS", "count": 1, "covers": 100}));
    assert_eq!(site["stacked_alternative"], Value::Null);
    assert_eq!(site["enterprise_iot_estimate"], 100);

    let text = String::from_utf8_lossy(&palisade(&[&"count", &"--db", &db])).into_owned();
    assert!(text.starts_with("site default: 56 monitored devices"), "{text}");
    assert!(text.contains("one XS licence (up to 100 devices)"), "{text}");
}

#[test]
fn devices_not_seen_for_60_days_stop_counting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("site.db");
    let (old, new) = (dir.path().join("old.pcap"), dir.path().join("new.pcap"));
    let t0 = 1_736_848_800;
    arp_capture(&old, &[1, 2, 3], t0);
    arp_capture(&new, &[3, 4], t0 + 61 * DAY);
    palisade(&[&"analyze", &"--db", &db, &old]);
    assert_eq!(count(&db)["monitored_devices"], 3);
    palisade(&[&"analyze", &"--db", &db, &new]);

    let devices = json(&palisade(&[&"devices", &"--db", &db, &"--json"]));
    let state = |ip: &str| {
        let d = devices.as_array().expect("devices").iter().find(|d| d["ips"][0] == ip).unwrap_or_else(|| panic!("{ip} missing"));
        (d["active"].as_bool().expect("active"), d["billable"].as_bool().expect("billable"))
    };
    assert_eq!(state("10.1.0.1"), (false, false), "last seen 61 days before the newest capture");
    assert_eq!(state("10.1.0.3"), (true, true), "seen again in the new capture");
    let site = count(&db);
    assert_eq!((site["monitored_devices"].as_u64(), site["inactive_devices"].as_u64()), (Some(2), Some(2)));
    assert_eq!(site["enterprise_iot_estimate"], 100);
}
