//! Recommendations, risk scores, attack paths and the reports, on the
//! devices and events of the shared ICS captures with the fixtures
//! imported; the reports are rendered to PDF and PNG in headless Chromium
//! and kept under `test-output/vulndb/`.

mod common;

use common::{by_ip, capture, imported_db};
use palisade_vulndb::advice::recommend;
use palisade_vulndb::matching::match_devices;
use palisade_vulndb::report::{risk_report, vulnerability_report};
use palisade_vulndb::risk::site_risk;
use palisade_vulndb::site::SiteData;
use palisade_vulndb::VulnStore;
use std::path::{Path, PathBuf};
use std::process::Command;

const CAPTURES: &[&str] = &[
    "s7comm/icsnpp_s7comm_snap7_s300.pcap",
    "enip/iti_openics_cip_program_upload.pcap",
    "enip/iti_enip_listidentity_1756_enbt.pcap",
    "bacnet/icsnpp_bacnet_services.pcap",
    "iec61850/iti_mms_identify_areva.pcap",
];

/// One site made of the five ICS captures (device and event ids renumbered).
fn site() -> Option<SiteData> {
    let mut site = SiteData { name: "ICS test plant".into(), ..Default::default() };
    for file in CAPTURES {
        let (devices, events) = capture(file)?;
        let base = site.devices.len() as i64;
        let event_base = site.events.len() as i64;
        site.devices.extend(devices.into_iter().map(|mut d| {
            d.id += base;
            d
        }));
        site.events.extend(events.into_iter().map(|mut e| {
            e.id += event_base;
            e
        }));
    }
    site.connections_from_events();
    let (_dir, mut db) = imported_db();
    let generation = db.generation().expect("generation");
    site.vulns = match_devices(&mut db, &site.devices, generation).expect("match");
    Some(site)
}

fn kinds(recs: &palisade_vulndb::advice::Recommendations, id: i64) -> Vec<String> {
    let mut out: Vec<String> = recs.devices.get(&id).map(|l| l.iter().map(|r| r.kind.clone()).collect()).unwrap_or_default();
    out.sort();
    out
}

#[test]
fn recommendations_rest_on_evidence() {
    let Some(site) = site() else { return };
    let recs = recommend(&site);
    let plc = by_ip(&site.devices, "134.217.61.211").id;
    assert_eq!(kinds(&recs, plc), ["known-exploited", "mitigate-vulnerabilities", "outdated-firmware"]);
    let kev = recs.devices[&plc].iter().find(|r| r.kind == "known-exploited").expect("kev");
    assert_eq!(kev.priority, "critical");
    assert!(kev.evidence.iter().any(|e| e.detail.starts_with("CVE-2099-1001 ")), "{:?}", kev.evidence);
    let firmware = recs.devices[&plc].iter().find(|r| r.kind == "outdated-firmware").expect("firmware");
    assert!(firmware.title.contains("runs firmware V3.2.7"), "{}", firmware.title);
    assert!(firmware.action.contains("3.3.0"), "{}", firmware.action);
    // The lighting controller is written to and read from by another BACnet device.
    let mlx = by_ip(&site.devices, "192.168.0.24").id;
    assert_eq!(kinds(&recs, mlx), ["mitigate-vulnerabilities", "outdated-firmware", "programming-from-non-engineering-host"]);
    let programming = recs.devices[&mlx].iter().find(|r| r.kind == "programming-from-non-engineering-host").expect("programming");
    assert!(programming.evidence.iter().all(|e| e.detail.contains("192.168.0.50 → 192.168.0.24")), "{:?}", programming.evidence);
    // The ControlLogix program upload comes from its engineering workstation: no finding for that.
    let logix = by_ip(&site.devices, "192.168.10.120").id;
    assert_eq!(kinds(&recs, logix), ["outdated-firmware"]);
    // Site level: one recommendation per kind, most urgent first.
    let site_kinds: Vec<&str> = recs.site.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(site_kinds.first(), Some(&"known-exploited"));
    assert_eq!(recs.site[0].device_ids.len(), 3);
}

#[test]
fn risk_scores_explain_their_parts() {
    let Some(site) = site() else { return };
    let recs = recommend(&site);
    let risk = site_risk(&site, &recs);
    for d in &risk.devices {
        let sum: f64 = d.parts.iter().map(|p| p.points).sum();
        assert_eq!(d.score, sum.round() as u32, "{}: parts add up", d.device);
        assert!(d.score <= 100);
        for p in &d.parts {
            assert!(p.points <= p.max && (p.points == 0.0 || !p.reasons.is_empty()), "{} {:?}", d.device, p);
        }
    }
    // The S7-300 (known exploited, publicly addressed controller) is the riskiest device.
    let plc = by_ip(&site.devices, "134.217.61.211").id;
    assert_eq!(risk.devices[0].device_id, plc);
    assert_eq!(risk.devices[0].level, "high");
    let controllers_first: Vec<i64> = risk.devices.iter().take(2).map(|d| d.device_id).collect();
    assert!(controllers_first.contains(&by_ip(&site.devices, "10.101.1.3").id), "{controllers_first:?}");
    assert!(risk.score > 0 && risk.score <= 100);
    assert_eq!(risk.parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["devices", "spread", "findings"]);
    // The engineering station (public address) reaches the S7-300 over S7comm.
    let path = risk.attack_paths.first().expect("an attack path");
    let ews = by_ip(&site.devices, "134.217.61.131").id;
    assert_eq!(path.hops.iter().map(|h| h.device_id).collect::<Vec<_>>(), [ews, plc]);
    assert_eq!(path.hops[1].via, Some(palisade_model::Protocol::S7comm));
    assert!(path.hops[1].weakness.as_deref().is_some_and(|w| w.contains("known exploited")), "{:?}", path.hops[1]);
}

fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-output/vulndb");
    std::fs::create_dir_all(&dir).expect("test-output");
    dir
}

/// Renders an HTML file to PDF and PNG with headless Chromium; false when it is not installed.
fn render(html: &Path) -> bool {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        println!("skipped: /usr/bin/chromium not present (scripts/test.sh installs it); reports written as HTML only");
        return false;
    }
    let url = format!("file://{}", html.canonicalize().expect("path").display());
    let pdf = html.with_extension("pdf");
    let png = html.with_extension("png");
    let profile = tempfile::tempdir().expect("profile");
    for (flag, out) in [("--print-to-pdf", &pdf), ("--screenshot", &png)] {
        let status = Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--window-size=1200,1800"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("{flag}={}", out.display()))
            .arg(&url)
            .output()
            .expect("run chromium");
        assert!(status.status.success(), "chromium {flag}: {}", String::from_utf8_lossy(&status.stderr));
    }
    let pdf_bytes = std::fs::read(&pdf).expect("pdf");
    assert!(pdf_bytes.starts_with(b"%PDF-") && pdf_bytes.len() > 10_000, "{} is a PDF", pdf.display());
    let png_bytes = std::fs::read(&png).expect("png");
    assert!(png_bytes.starts_with(b"\x89PNG") && png_bytes.len() > 10_000, "{} is a PNG", png.display());
    true
}

#[test]
fn reports_are_self_contained_and_render_in_chromium() {
    let Some(site) = site() else { return };
    let recs = recommend(&site);
    let risk = site_risk(&site, &recs);
    let notes = palisade_vulndb::limits(&site);
    let dir = output_dir();
    let risk_html = risk_report(&site, &recs, &risk, "2099-02-01 12:00 UTC", &notes);
    let vulns_html = vulnerability_report(&site, "2099-02-01 12:00 UTC", &notes);
    for (html, must) in [
        (&risk_html, &["Risk assessment", "Attack vectors", "Recommendations", "CVE-2099-1001", "<svg"][..]),
        (&vulns_html, &["Vulnerability report", "CVE-2099-1001", "CVE-2099-2102", "CVE-2099-3101", "CVE-2099-4101", "<svg", "KEV"][..]),
    ] {
        for m in must {
            assert!(html.contains(m), "report lacks {m:?}");
        }
        assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("<link"), "self-contained");
    }
    let risk_path = dir.join("risk-report.html");
    let vulns_path = dir.join("vulnerability-report.html");
    std::fs::write(&risk_path, &risk_html).expect("write");
    std::fs::write(&vulns_path, &vulns_html).expect("write");
    if render(&risk_path) {
        render(&vulns_path);
    }
}
