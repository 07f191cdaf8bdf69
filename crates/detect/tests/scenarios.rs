//! Detection on the project's own scenario captures, through the real
//! multi-worker pipeline: the attack scenario raises exactly the alerts its
//! attacks and changes call for (every category), with evidence pcaps that
//! hold the triggering packets; the quiet scenario raises none.

use palisade_capture::{open_file, open_input, Input, LinkType, PacketSource};
use palisade_decode::{decode, Net};
use palisade_demo::{write_scenario, ScenarioKind, ScenarioOptions, SCENARIO_INTEL};
use palisade_detect::{parse_intel, AlertChange, Batch, DetectionState, Detector, EvidenceWriter, Rules};
use palisade_model::{AlertCategory, MacAddr};
use palisade_sensor::{run_batches, Opener, PipelineConfig, Progress};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SEC: i64 = 1_000_000_000;

/// Writes a scenario capture into `dir`.
fn scenario(dir: &Path, kind: ScenarioKind) -> PathBuf {
    scenario_with(dir, ScenarioOptions { kind, ..Default::default() })
}

/// Writes a scenario capture with these options into `dir`.
fn scenario_with(dir: &Path, opts: ScenarioOptions) -> PathBuf {
    let path = dir.join(format!("{:?}-{}-{}.pcap", opts.kind, opts.seed, opts.learning_secs));
    let file = std::fs::File::create(&path).unwrap();
    let summary = write_scenario(&opts, std::io::BufWriter::new(file)).unwrap();
    assert_eq!(summary.learning_secs, opts.learning_secs);
    path
}

/// Runs the pipeline (two workers) and the detector over a capture.
fn detect(path: &Path, learning_secs: i64) -> Vec<AlertChange> {
    detect_with(path, learning_secs, Rules::default())
}

/// Like [`detect`], with policy rules and exclusions.
fn detect_with(path: &Path, learning_secs: i64, rules: Rules) -> Vec<AlertChange> {
    let intel = parse_intel(SCENARIO_INTEL, "scenario").unwrap();
    let state = DetectionState { intel, ..Default::default() };
    let mut detector = Detector::new(state, Some(learning_secs * SEC), rules);
    let input = Input::Path(path.to_path_buf());
    let opener: Opener = Box::new(move || open_input(&input));
    let config = PipelineConfig { workers: 2, ..Default::default() };
    run_batches(vec![(path.display().to_string(), opener)], &config, Arc::new(Progress::default()), |b| {
        detector.ingest(Batch { events: &b.events, marks: &b.marks, bytes: &b.bytes })
    });
    detector.finish().alerts
}

fn side(ip: Option<IpAddr>, mac: Option<MacAddr>) -> String {
    ip.map(|i| i.to_string()).or(mac.map(|m| m.to_string())).unwrap_or_else(|| "-".into())
}

/// (category, engine, source, destination) of each alert, sorted.
fn summary(alerts: &[AlertChange]) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = alerts
        .iter()
        .map(|c| {
            let a = &c.alert;
            (a.category.to_string(), a.engine.to_string(), side(a.src_ip, a.src_mac), side(a.dst_ip, a.dst_mac))
        })
        .collect();
    out.sort();
    out
}

const EWS: &str = "10.20.20.50";
const SCADA: &str = "10.20.20.10";
const LAPTOP: &str = "10.20.20.180";

/// What the attack scenario must raise, and nothing else.
fn expected() -> Vec<(String, String, String, String)> {
    let rows = [
        ("address-scan", "anomaly", LAPTOP, "-"),
        ("arp-spoofing", "anomaly", "10.20.20.1", "00:09:0f:09:00:14"),
        ("cleartext-credentials", "operational", EWS, "10.20.20.102"),
        ("cleartext-credentials", "operational", EWS, "10.20.20.3"),
        ("cleartext-credentials", "operational", LAPTOP, "10.20.20.102"),
        ("configuration-change", "operational", EWS, "00:1b:1b:2b:06:7e"),
        ("device-restart", "operational", SCADA, "10.20.20.140"),
        ("dos-flood", "anomaly", "10.20.20.20", "10.20.20.100"),
        ("dos-flood", "anomaly", LAPTOP, "10.20.20.102"),
        ("excessive-traffic", "anomaly", "10.20.20.21", "10.20.20.111"),
        ("firmware-update", "operational", EWS, "10.20.20.102"),
        ("illegal-function-code", "protocol", LAPTOP, "10.20.20.101"),
        ("ioc-domain", "malware", "10.10.10.104", "10.10.10.10"),
        ("ioc-fingerprint", "malware", "10.20.20.21", "-"),
        ("ioc-ip", "malware", "10.10.10.101", "185.220.101.45"),
        ("malware-behaviour", "malware", "10.10.10.102", "10.10.10.11"),
        ("malware-behaviour", "malware", SCADA, "10.20.20.141"),
        ("malware-behaviour", "malware", LAPTOP, "10.20.20.150"),
        ("new-connection", "policy", "10.20.20.11", "10.20.20.101"),
        ("new-connection", "policy", EWS, "00:1b:1b:2b:06:7e"),
        ("new-connection", "policy", EWS, "10.20.20.102"),
        ("new-device", "policy", LAPTOP, "-"),
        ("new-protocol", "policy", EWS, "10.20.20.111"),
        ("plc-start", "operational", EWS, "10.20.20.110"),
        ("plc-stop", "operational", EWS, "10.20.20.110"),
        ("port-scan", "anomaly", LAPTOP, "-"),
        ("program-download", "operational", EWS, "10.20.20.100"),
        ("program-upload", "operational", EWS, "10.20.20.100"),
        ("protocol-violation", "protocol", LAPTOP, "10.20.20.101"),
        ("protocol-violation", "protocol", LAPTOP, "10.20.20.103"),
        ("remote-access", "policy", "10.10.10.124", "10.20.20.20"),
        ("remote-access", "policy", EWS, "10.20.20.3"),
        ("unauthorized-internet", "policy", "10.20.20.21", "91.198.174.192"),
        ("unauthorized-write", "policy", SCADA, "10.20.20.141"),
        ("unauthorized-write", "policy", LAPTOP, "10.20.20.100"),
    ];
    let mut out: Vec<_> = rows.iter().map(|(c, e, s, d)| (c.to_string(), e.to_string(), s.to_string(), d.to_string())).collect();
    out.sort();
    out
}

/// The packets of an evidence file: (source and destination addresses as text, raw bytes).
fn evidence_packets(path: &Path) -> Vec<(Vec<String>, Vec<u8>)> {
    let mut reader = open_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        assert_eq!(p.link_type, LinkType::Ethernet);
        let frame = decode(p.link_type, p.data);
        let mut addrs: Vec<String> = [frame.src_mac, frame.dst_mac].iter().flatten().map(|m| m.to_string()).collect();
        match frame.net {
            Net::Ip(ip) => addrs.extend([ip.src.to_string(), ip.dst.to_string()]),
            Net::Arp(a) => addrs.extend([a.sender_ip.to_string(), a.target_ip.to_string()]),
            _ => {}
        }
        out.push((addrs, p.data.to_vec()));
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn attack_scenario_raises_every_category_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let capture = scenario(dir.path(), ScenarioKind::Attacks);
    let alerts = detect(&capture, 300);
    assert_eq!(summary(&alerts), expected());
    let categories: BTreeSet<AlertCategory> = alerts.iter().map(|c| c.alert.category).collect();
    assert_eq!(categories.len(), AlertCategory::ALL.len(), "every category is raised");
    for c in &alerts {
        let a = &c.alert;
        assert!(a.first_seen.0 >= 1_736_848_800 * SEC + 300 * SEC, "{}: raised after learning", a.title);
        assert!(!a.description.is_empty() && !a.remediation.is_empty(), "{}", a.title);
    }

    // Evidence: every alert's pcap holds packets of its source, and the triggering packets.
    let mut writer = EvidenceWriter::new(vec![Some(capture.clone())]);
    let packets_of = |category: AlertCategory, src: &str, dst: &str, writer: &mut EvidenceWriter| {
        let c = alerts
            .iter()
            .find(|c| {
                let a = &c.alert;
                a.category == category && side(a.src_ip, a.src_mac) == src && side(a.dst_ip, a.dst_mac) == dst
            })
            .unwrap_or_else(|| panic!("{category} from {src} to {dst}"));
        let path = dir.path().join(format!("{category}-{src}-{dst}.pcap"));
        let n = writer.write(&c.evidence, &path).unwrap();
        assert!(n > 0, "{category}: evidence written");
        evidence_packets(&path)
    };
    for c in &alerts {
        let a = &c.alert;
        let dst = side(a.dst_ip, a.dst_mac);
        let packets = packets_of(a.category, &side(a.src_ip, a.src_mac), &dst, &mut writer);
        let src = a.src_mac.map(|m| m.to_string()).or(a.src_ip.map(|i| i.to_string())).unwrap();
        let src_ip = a.src_ip.map(|i| i.to_string());
        assert!(
            packets.iter().any(|(addrs, _)| addrs.contains(&src) || src_ip.as_ref().is_some_and(|ip| addrs.contains(ip))),
            "{}: evidence has packets of {src}",
            a.title
        );
    }
    let s7_stop = packets_of(AlertCategory::PlcStop, EWS, "10.20.20.110", &mut writer);
    assert!(s7_stop.iter().any(|(_, d)| contains(d, &[0x29, 0, 0, 0, 0, 0, 9]) && contains(d, b"P_PROGRAM")), "S7 PLC STOP job");
    let download = packets_of(AlertCategory::ProgramDownload, EWS, "10.20.20.100", &mut writer);
    assert!(download.iter().any(|(_, d)| contains(d, &[0x5a, 0x2a, 0x30])), "UMAS initialize download");
    let dcp = packets_of(AlertCategory::ConfigurationChange, EWS, "00:1b:1b:2b:06:7e", &mut writer);
    assert!(dcp.iter().any(|(_, d)| contains(d, &[0xfe, 0xfd, 0x04, 0x00]) && contains(d, &[10, 20, 20, 199])), "DCP Set IP request");
    let telnet = packets_of(AlertCategory::CleartextCredentials, EWS, "10.20.20.3", &mut writer);
    assert!(telnet.iter().any(|(_, d)| contains(d, b"private\r\n")), "the Telnet password");
    let spoof = packets_of(AlertCategory::ArpSpoofing, "10.20.20.1", "00:09:0f:09:00:14", &mut writer);
    assert!(spoof.iter().any(|(addrs, _)| addrs.contains(&"3c:a9:f4:6b:20:d7".to_string()) && addrs.contains(&"10.20.20.1".to_string())));
    let scan = packets_of(AlertCategory::PortScan, LAPTOP, "-", &mut writer);
    assert!(scan.len() >= 20, "the probes of the scan ({} packets)", scan.len());
}

#[test]
fn quiet_scenario_raises_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let capture = scenario(dir.path(), ScenarioKind::Quiet);
    let alerts = detect(&capture, 300);
    assert_eq!(summary(&alerts), Vec::<(String, String, String, String)>::new());
}

#[test]
fn during_learning_only_malware_and_critical_operations_alert() {
    let dir = tempfile::tempdir().unwrap();
    let capture = scenario(dir.path(), ScenarioKind::Attacks);
    // The whole capture is learning (the default 14 days).
    let alerts = detect(&capture, 14 * 86_400);
    let mut raised: Vec<(String, String)> = alerts.iter().map(|c| (c.alert.category.to_string(), c.alert.engine.to_string())).collect();
    raised.sort();
    raised.dedup();
    let expected: Vec<(String, String)> = [
        ("firmware-update", "operational"),
        ("ioc-domain", "malware"),
        ("ioc-fingerprint", "malware"),
        ("ioc-ip", "malware"),
        ("malware-behaviour", "malware"),
        ("plc-stop", "operational"),
        ("program-download", "operational"),
    ]
    .iter()
    .map(|(c, e)| (c.to_string(), e.to_string()))
    .collect();
    assert_eq!(raised, expected);
}

#[test]
fn other_seeds_and_learning_periods_give_the_same_alerts() {
    for (seed, learning_secs) in [(3, 120), (11, 900)] {
        for kind in [ScenarioKind::Quiet, ScenarioKind::Attacks] {
            let dir = tempfile::tempdir().unwrap();
            let capture = scenario_with(dir.path(), ScenarioOptions { kind, seed, learning_secs, ..Default::default() });
            let want = if kind == ScenarioKind::Quiet { Vec::new() } else { expected() };
            assert_eq!(summary(&detect(&capture, i64::from(learning_secs))), want, "seed {seed}, learning {learning_secs} s, {kind:?}");
        }
    }
}

#[test]
fn evidence_of_compressed_captures_travels_with_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let plain = scenario(dir.path(), ScenarioKind::Attacks);
    let gz = dir.path().join("attacks.pcap.gz");
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::copy(&mut std::fs::File::open(&plain).unwrap(), &mut encoder).unwrap();
    encoder.finish().unwrap();
    let alerts = detect(&gz, 300);
    assert_eq!(summary(&alerts), expected());
    // No file to read packets back from: they were copied into the workers' rings.
    let mut writer = EvidenceWriter::new(vec![None]);
    let stop = alerts.iter().find(|c| c.alert.category == AlertCategory::PlcStop).unwrap();
    let path = dir.path().join("stop.pcap");
    assert!(writer.write(&stop.evidence, &path).unwrap() > 0);
    assert!(evidence_packets(&path).iter().any(|(_, d)| contains(d, b"P_PROGRAM") && contains(d, &[0x29, 0, 0, 0, 0, 0, 9])));
}

#[test]
fn policy_rules_alert_and_exclusions_silence() {
    let dir = tempfile::tempdir().unwrap();
    let capture = scenario(dir.path(), ScenarioKind::Attacks);
    let rules = Rules::parse(
        "group scada = 10.20.20.10
         group plcs = 10.20.20.100-10.20.20.121
         only scada may program plcs
         deny internet from 10.20.20.0/24
         deny telnet to 10.20.20.3
         exclude category port-scan,address-scan from 10.20.20.180
         exclude device 10.10.10.124
         exclude category firmware-update between 2025-01-14T10:06:00Z and 2025-01-14T10:07:00Z",
    )
    .unwrap();
    let alerts = detect_with(&capture, 300, rules);
    let got = summary(&alerts);
    let row = |c: &str, e: &str, s: &str, d: &str| (c.to_string(), e.to_string(), s.to_string(), d.to_string());
    let mut want = expected();
    // Excluded: the laptop's scans, everything of the IT PC, the firmware update (06:42) in its window.
    want.retain(|r| {
        !(r.0 == "port-scan" || r.0 == "address-scan" || r.2 == "10.10.10.124" || r.3 == "10.10.10.124" || r.0 == "firmware-update")
    });
    // Rule alerts: the engineering workstation programs the M340, HMI 2 reaches the internet, Telnet to the switch.
    want.push(row("program-download", "policy", EWS, "10.20.20.100"));
    want.push(row("program-upload", "policy", EWS, "10.20.20.100"));
    want.push(row("unauthorized-internet", "policy", "10.20.20.21", "91.198.174.192"));
    want.push(row("remote-access", "policy", EWS, "10.20.20.3"));
    want.sort();
    assert_eq!(got, want);
    let rule_alerts: Vec<&str> =
        alerts.iter().filter(|c| c.alert.title.starts_with("Policy rule broken")).map(|c| c.alert.title.as_str()).collect();
    assert_eq!(rule_alerts.len(), 4, "{rule_alerts:?}");
}
