//! Device discovery against tshark-derived truth, for every capture in
//! `../shared/testdata/pcaps/MANIFEST.tsv`: the private and link-local
//! unicast IPs of `palisade devices --json` must be exactly those of
//! `truth/<name>.hosts.tsv`, each with the same MACs, and every unicast MAC
//! of the capture must belong to some device.

use palisade_sensor::testdata::shared_dir;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

mod common;

/// The addresses the truth test compares: private, loopback, link-local and
/// the other special-purpose ranges that are never internet hosts.
fn compared(ip: IpAddr) -> bool {
    palisade_model::is_local_ip(ip)
}

fn devices_json(capture: &Path, db: &Path) -> Vec<Value> {
    common::analyze_and_list(capture, db, &["devices"])
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[test]
fn every_capture_matches_its_truth() {
    let Some(dir) = shared_dir() else { return };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let Some(file) = line.split('\t').next() else { continue };
        let capture = dir.join(file);
        let name = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let hosts = std::fs::read_to_string(dir.join("truth").join(format!("{name}.hosts.tsv"))).expect("read hosts.tsv");
        let mut expected: BTreeMap<IpAddr, BTreeSet<String>> = BTreeMap::new();
        for row in hosts.lines().skip(1) {
            let mut cols = row.split('\t');
            let (Some(ip), Some(macs)) = (cols.next(), cols.next()) else { continue };
            let Ok(ip) = ip.parse::<IpAddr>() else { continue };
            if compared(ip) {
                expected.insert(ip, macs.split(',').filter(|m| *m != "-").map(str::to_string).collect());
            }
        }
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("truth").join(format!("{name}.truth.json"))).expect("truth.json"))
                .expect("json");
        let db = tmp.path().join(format!("{name}.db"));
        let devices = devices_json(&capture, &db);
        let mut found: BTreeMap<IpAddr, BTreeSet<String>> = BTreeMap::new();
        let mut all_macs = BTreeSet::new();
        for d in &devices {
            let macs = strings(&d["macs"]);
            all_macs.extend(macs.iter().cloned());
            for ip in strings(&d["ips"]) {
                let ip: IpAddr = ip.parse().expect("device IP parses");
                if compared(ip) {
                    found.entry(ip).or_default().extend(macs.iter().cloned());
                }
            }
        }
        if found != expected {
            failures.push(format!("{file}: IPs/MACs differ\n  expected {expected:?}\n  found    {found:?}"));
        }
        let truth_macs: BTreeSet<String> = strings(&truth["macs"]).into_iter().collect();
        let missing: Vec<_> = truth_macs.difference(&all_macs).collect();
        if !missing.is_empty() {
            failures.push(format!("{file}: unicast MACs not in any device: {missing:?}"));
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} captures checked");
    assert!(failures.is_empty(), "{} of {checked} captures differ:\n{}", failures.len(), failures.join("\n"));
}

/// Our protocol name for a tshark protocol name (framing layers such as
/// tpkt, cotp or nbdgm have none).
fn our_protocol(tshark: &str) -> Option<&'static str> {
    Some(match tshark {
        "arp" => "arp",
        "icmp" | "icmpv6" => "icmp",
        "mbtcp" | "modbus" => "modbus",
        "dnp3" => "dnp3",
        "s7comm" => "s7comm",
        "enip" => "enip",
        "cip" | "cipio" | "cipcm" | "cipcls" => "cip",
        "bvlc" | "bacnet" | "bacapp" => "bacnet",
        "iec60870_104" | "iec60870_asdu" => "iec104",
        "opcua" => "opcua",
        "pn_dcp" | "pn_io" | "pn_rt" | "pn_io_device" => "profinet",
        "mms" => "mms",
        "goose" => "goose",
        "omron" => "fins",
        "hart_ip" => "hart-ip",
        "ecat" | "ecatf" => "ethercat",
        "mqtt" => "mqtt",
        "coap" => "coap",
        "dhcp" => "dhcp",
        "dhcpv6" => "dhcpv6",
        "dns" => "dns",
        "mdns" => "mdns",
        "llmnr" => "llmnr",
        "nbns" => "nbns",
        "ssdp" => "ssdp",
        "lldp" => "lldp",
        "cdp" => "cdp",
        "snmp" => "snmp",
        "http" => "http",
        "tls" => "tls",
        "ssh" => "ssh",
        "smb" | "smb2" => "smb",
        "telnet" => "telnet",
        "ftp" => "ftp",
        "ntp" => "ntp",
        _ => return None,
    })
}

/// Protocols this build dissects: the registry's, plus the ones the sensor
/// core names itself.
fn dissected() -> BTreeSet<&'static str> {
    let mut out: BTreeSet<&'static str> = common::registered().into_iter().collect();
    out.extend(["arp", "icmp"]);
    out
}

#[test]
fn every_host_lists_the_protocols_tshark_saw() {
    let Some(dir) = shared_dir() else { return };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let tmp = tempfile::tempdir().expect("temp dir");
    let implemented = dissected();
    let mut failures = Vec::new();
    for line in manifest.lines().skip(1) {
        let Some(file) = line.split('\t').next() else { continue };
        let name = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let hosts = std::fs::read_to_string(dir.join("truth").join(format!("{name}.hosts.tsv"))).expect("read hosts.tsv");
        let devices = devices_json(&dir.join(file), &tmp.path().join(format!("{name}.db")));
        for row in hosts.lines().skip(1) {
            let cols: Vec<&str> = row.split('\t').collect();
            let (Some(ip), Some(protocols)) = (cols.first(), cols.get(2)) else { continue };
            let Ok(ip) = ip.parse::<IpAddr>() else { continue };
            if !compared(ip) {
                continue;
            }
            let wanted: BTreeSet<&str> = protocols.split(',').filter_map(our_protocol).filter(|p| implemented.contains(p)).collect();
            let listed: BTreeSet<String> = devices
                .iter()
                .filter(|d| strings(&d["ips"]).iter().any(|i| i.parse::<IpAddr>().ok() == Some(ip)))
                .flat_map(|d| strings(&d["protocols"]))
                .collect();
            let missing: Vec<_> = wanted.iter().filter(|p| !listed.contains(**p)).collect();
            if !missing.is_empty() {
                failures.push(format!("{file}: {ip} lacks {missing:?} (has {listed:?})"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
