//! Vulnerability API tests: advisories (the vulnerability crate's fixtures
//! in the official formats) imported through the API over the demo plant,
//! then matches, recommendations, risk and reports; bad files refused with
//! nothing imported. Each test runs over SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{Answer, Auth, Backend, Console};
use std::io::Write;
use std::path::PathBuf;

const BOUNDARY: &str = "palisade-test-boundary-7f3a";

/// A file of the vulnerability crate's fixtures.
fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vulndb/tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A multipart/form-data body with one file part per `(name, bytes)`.
fn multipart(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, bytes) in files {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .unwrap();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{BOUNDARY}--\r\n").unwrap();
    body
}

async fn import(console: &Console, auth: &Auth, files: &[(&str, Vec<u8>)]) -> Answer {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    console.call(Method::POST, "/api/v1/vulndb/import", auth, Some(Body::from(multipart(files))), &content_type).await
}

/// Imports through the API and follows the background job to its end:
/// the finished job (files, error, status), after checking the progress
/// fields on the way.
async fn import_and_wait(console: &Console, auth: &Auth, files: &[(&str, Vec<u8>)]) -> serde_json::Value {
    let answer = import(console, auth, files).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
    let job = answer.json();
    let id = job["id"].as_u64().unwrap_or_else(|| panic!("a job id: {job}"));
    assert!(job["files_total"].as_u64().is_some_and(|n| n > 0) && job["bytes_total"].as_u64().is_some(), "{job}");
    for _ in 0..1200 {
        let job = console.get(&format!("/api/v1/vulndb/import/{id}"), auth).await.json();
        assert!(job["percent"].as_u64().is_some_and(|p| p <= 100), "{job}");
        if job["state"] == "done" || job["state"] == "failed" {
            assert_eq!(job["percent"], 100, "{job}");
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish in a minute");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// The id of the device with this IP.
async fn device_with_ip(console: &Console, auth: &Auth, ip: &str) -> i64 {
    let page = console.get(&format!("/api/v1/devices?search={ip}"), auth).await.json();
    page["items"].as_array().unwrap().iter().find(|d| d["ips"].as_array().unwrap().iter().any(|i| i == ip)).unwrap()["id"].as_i64().unwrap()
}

async fn advisories_imported_through_the_api_match_the_inventory(backend: Backend) {
    let mut console = Console::new(backend);
    let admin = console.admin().await;
    let viewer = console.user(&admin, "vic", "read-only").await;
    let job = console.upload(&admin, &console.demo_capture()).await;
    assert_eq!(job["state"], "done", "{job}");
    console.store_alerts();
    let empty = console.get("/api/v1/vulndb/status", &viewer).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text());
    assert_eq!(empty.json()["cves"], 0);
    assert_eq!(console.get("/api/v1/vulnerabilities", &viewer).await.json()["total"], 0);

    let csaf = [
        "csaf-acuity-test-2099-01.json",
        "csaf-areva-ptc-test-2099-0042.json",
        "csaf-rockwell-ra-test-1756.json",
        "csaf-siemens-ssa-test-0315.json",
    ];
    let archive = zip_of(&csaf.iter().map(|n| (*n, fixture(n))).chain([("README.txt", b"not data".to_vec())]).collect::<Vec<_>>());
    let files = [
        ("nvd-cve-ics.json", fixture("nvd-cve-ics.json")),
        ("nvd-cpe-dictionary.json.gz", gzip(&fixture("nvd-cpe-dictionary.json"))),
        ("kev-catalog.json", fixture("kev-catalog.json")),
        ("csaf.zip", archive),
    ];
    let report = import_and_wait(&console, &admin, &files).await;
    assert_eq!(report["state"], "done", "{report}");
    assert!(report["error"].is_null(), "{report}");
    assert_eq!((report["files_total"].as_u64(), report["files_done"].as_u64(), report["user"].as_str()), (Some(7), Some(7), Some("admin")));
    let imported = report["files"].as_array().unwrap();
    assert_eq!(imported.len(), 7, "three files and the archive's four advisories: {report}");
    assert!(imported.iter().all(|f| f["imported"] == true && f["error"].is_null()), "{report}");
    let kinds: Vec<&str> = imported.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["nvd-cve", "nvd-cpe", "kev", "csaf", "csaf", "csaf", "csaf"]);
    assert_eq!(imported[3]["file"], "csaf.zip/csaf-acuity-test-2099-01.json");
    assert_eq!(report["status"]["advisories"], 4);
    assert_eq!(report["status"]["kev"], 3);
    let status = console.get("/api/v1/vulndb/status", &viewer).await.json();
    assert_eq!(status["cves"], report["status"]["cves"]);
    assert_eq!(status["imports"][0]["user"], "admin");
    assert_eq!(status["imports"][0]["files"].as_array().unwrap().len(), 7);
    assert_eq!(status["imports"][0]["files"][3]["file"], "csaf.zip/csaf-acuity-test-2099-01.json", "{status}");
    assert_eq!(status["imports"][0]["files"][0]["changed"], 25, "{status}");
    // Only an admin follows imports; an unknown job is 404.
    assert_eq!(console.get(&format!("/api/v1/vulndb/import/{}", report["id"]), &viewer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(console.get("/api/v1/vulndb/import/999999", &admin).await.status, StatusCode::NOT_FOUND);

    // The S7-300 of the plant: its matches with their evidence, its risk and recommendations.
    let plc = device_with_ip(&console, &viewer, "10.20.20.110").await;
    let one = console.get(&format!("/api/v1/devices/{plc}"), &viewer).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text());
    let one = one.json();
    assert_eq!(one["device"]["id"], plc, "the existing fields stay");
    assert!(one["connections"].is_array() && one["events"].is_array() && one["alerts"].is_array());
    let vulns = one["vulnerabilities"].as_array().unwrap();
    let kev = vulns.iter().find(|v| v["cve"] == "CVE-2099-1001").unwrap_or_else(|| panic!("CVE-2099-1001 listed: {vulns:?}"));
    assert!(kev["kev"]["date_added"].is_string(), "{kev}");
    assert_eq!(kev["device_id"], plc);
    assert!(kev["device"].as_str().unwrap().contains("10.20.20.110"));
    let basis = &kev["basis"][0];
    assert!(basis["product"].is_string() && basis["source"].is_string(), "{kev}");
    assert!(!basis["facts"].as_array().unwrap().is_empty(), "the facts the match rests on: {kev}");
    assert!(kev["confidence"].as_f64().unwrap() > 0.5);
    let risk = &one["risk"];
    let parts: Vec<&str> = risk["parts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(parts, ["vulnerabilities", "exposure", "criticality", "alerts"]);
    let sum: f64 = risk["parts"].as_array().unwrap().iter().map(|p| p["points"].as_f64().unwrap()).sum();
    assert_eq!(risk["score"].as_f64().unwrap(), sum.round().min(100.0));
    assert!(risk["score"].as_u64().unwrap() >= 30, "{risk}");
    let recs = one["recommendations"].as_array().unwrap();
    let known = recs.iter().find(|r| r["kind"] == "known-exploited").unwrap_or_else(|| panic!("{recs:?}"));
    assert!(known["evidence"].as_array().unwrap().iter().any(|e| e["detail"].as_str().unwrap().contains("CVE-2099-1001")));

    // Closing the device's alerts through the API shows in its score at once.
    let alert_part = |device: &serde_json::Value| device["risk"]["parts"][3]["points"].as_f64().unwrap();
    assert!(alert_part(&one) > 0.0, "the PLC has open alerts: {}", one["risk"]);
    for alert in one["alerts"].as_array().unwrap() {
        let id = alert["id"].as_i64().unwrap();
        let closed =
            console.send(Method::POST, &format!("/api/v1/alerts/{id}/status"), &admin, serde_json::json!({"status": "closed"})).await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    }
    let after = console.get(&format!("/api/v1/devices/{plc}"), &viewer).await.json();
    assert_eq!(alert_part(&after), 0.0, "{}", after["risk"]);
    assert!(after["risk"]["score"].as_u64() < one["risk"]["score"].as_u64());

    // Filters of the list.
    let all = console.get("/api/v1/vulnerabilities", &viewer).await.json();
    let total = all["total"].as_u64().unwrap();
    assert!(total >= vulns.len() as u64 && all["devices"].as_u64().unwrap() >= 2, "{all}");
    let scores: Vec<f64> =
        all["items"].as_array().unwrap().iter().map(|v| v["cvss3"].as_f64().or(v["cvss4"].as_f64()).unwrap_or(0.0)).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "worst first: {scores:?}");
    let kev_only = console.get("/api/v1/vulnerabilities?kev=true", &viewer).await.json();
    assert!(kev_only["items"].as_array().unwrap().iter().all(|v| v["kev"].is_object()));
    assert!(kev_only["items"].as_array().unwrap().iter().any(|v| v["cve"] == "CVE-2099-1001"));
    let high = console.get("/api/v1/vulnerabilities?min_cvss=8", &viewer).await.json();
    assert!(high["items"].as_array().unwrap().iter().all(|v| v["cvss3"].as_f64().or(v["cvss4"].as_f64()).unwrap() >= 8.0));
    assert!((high["total"].as_u64().unwrap()) < total);
    let mine = console.get(&format!("/api/v1/vulnerabilities?device_id={plc}&cve=cve-2099-10"), &viewer).await.json();
    assert!(mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["device_id"] == plc && v["cve"].as_str().unwrap().starts_with("CVE-2099-10")));
    assert!(mine["total"].as_u64().unwrap() > 0);
    assert_eq!(console.get("/api/v1/vulnerabilities?min_cvss=11", &viewer).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(console.get("/api/v1/vulnerabilities?limit=0", &viewer).await.status, StatusCode::BAD_REQUEST);

    // Recommendations per site and per device, risk with its parts and attack paths.
    let recs = console.get("/api/v1/recommendations", &viewer).await.json();
    assert_eq!(recs["site"][0]["kind"], "known-exploited", "{recs}");
    assert!(recs["site"][0]["evidence"].as_array().unwrap().iter().all(|e| e["detail"].is_string()));
    assert!(recs["devices"].as_array().unwrap().iter().any(|d| d["device_id"] == plc));
    let only = console.get(&format!("/api/v1/recommendations?device_id={plc}"), &viewer).await.json();
    assert_eq!(only["devices"].as_array().unwrap().len(), 1);
    let risk = console.get("/api/v1/risk?limit=5", &viewer).await.json();
    assert!(risk["score"].as_u64().unwrap() <= 100 && risk["level"].is_string());
    assert!(!risk["parts"].as_array().unwrap().is_empty());
    assert_eq!(risk["devices"].as_array().unwrap().len(), 5);
    let spread: u64 = risk["distribution"].as_array().unwrap().iter().map(|b| b["devices"].as_u64().unwrap()).sum();
    assert_eq!(spread, risk["total_devices"].as_u64().unwrap());
    assert!(risk["attack_paths"].is_array());
    assert!(risk["devices"].as_array().unwrap().iter().any(|d| d["device_id"] == plc), "the PLC is among the riskiest: {risk}");

    // Each site is assessed on its own.
    let created = console.send(Method::POST, "/api/v1/sites", &admin, serde_json::json!({"name": "Water plant"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let other = created.json()["id"].as_i64().unwrap();
    let empty_site = console.get(&format!("/api/v1/risk?site={other}"), &viewer).await.json();
    assert_eq!((empty_site["site"].as_str(), empty_site["total_devices"].as_u64()), (Some("Water plant"), Some(0)), "{empty_site}");
    assert_eq!(console.get(&format!("/api/v1/vulnerabilities?site={other}"), &viewer).await.json()["total"], 0);
    assert_eq!(console.get("/api/v1/risk?site=999", &viewer).await.status, StatusCode::NOT_FOUND);
    assert_eq!(console.get("/api/v1/risk", &viewer).await.json()["total_devices"], risk["total_devices"], "the default site");
    let plc_again = console.get(&format!("/api/v1/devices/{plc}"), &viewer).await.json();
    assert!(
        plc_again["vulnerabilities"].as_array().unwrap().iter().any(|v| v["cve"] == "CVE-2099-1001"),
        "a device is assessed in its site"
    );

    // Reports: self-contained HTML, as a page or a download.
    let page = console.get("/api/v1/reports/risk", &viewer).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("style-src 'unsafe-inline'"));
    assert!(!page.headers.contains_key("content-disposition"));
    let html = page.text();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("CVE-2099-1001"));
    assert!(!html.contains("<script"), "no scripts in a report");
    let download = console.get("/api/v1/reports/vulns?download=1", &viewer).await;
    assert_eq!(download.status, StatusCode::OK);
    let disposition = download.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"palisade-vulnerability-report-"), "{disposition}");
    assert!(download.text().contains("CVE-2099-1001"));
    assert_eq!(console.get("/api/v1/reports/risk?download=maybe", &viewer).await.status, StatusCode::BAD_REQUEST);

    // The same files again change nothing.
    let again = import_and_wait(&console, &admin, &files).await;
    assert!(again["files"].as_array().unwrap().iter().all(|f| f["changed"] == 0), "{again}");
    // The import log is stored: a console started anew over the same database lists both imports.
    console.restart();
    let status = console.get("/api/v1/vulndb/status", &viewer).await.json();
    assert_eq!(status["imports"].as_array().map(Vec::len), Some(2), "{status}");
    assert!(status["imports"][0]["files"].as_array().unwrap().iter().all(|f| f["changed"] == 0), "{status}");
}

async fn bad_import_files_are_refused_with_nothing_imported(backend: Backend) {
    let console = Console::new(backend);
    let admin = console.admin().await;
    let nothing = |answer: &Answer| {
        let body = answer.json();
        assert!(answer.status.is_client_error(), "{}: {body}", answer.status);
        assert!(body["error"].is_string() && body["status"] == answer.status.as_u16(), "{body}");
        body
    };

    // A good file beside one of no known format: nothing is imported.
    let answer =
        import(&console, &admin, &[("kev-catalog.json", fixture("kev-catalog.json")), ("notes.json", b"{\"hello\": 1}".to_vec())]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let body = nothing(&answer);
    let files = body["files"].as_array().unwrap();
    let bad = files.iter().find(|f| f["file"] == "notes.json").unwrap();
    assert!(bad["error"].as_str().unwrap().contains("not an NVD CVE"), "{bad}");
    let good = files.iter().find(|f| f["file"] == "kev-catalog.json").unwrap();
    assert_eq!((good["imported"].as_bool(), good["kind"].as_str()), (Some(false), Some("kev")));
    let status = console.get("/api/v1/vulndb/status", &admin).await.json();
    assert_eq!((status["kev"].as_u64(), status["cves"].as_u64(), status["generation"].as_i64()), (Some(0), Some(0), Some(0)), "{status}");

    // A file that looks right but breaks in the middle leaves nothing of itself.
    let mut broken = fixture("nvd-cve-ics.json");
    broken.truncate(broken.len() / 2);
    let body = import_and_wait(&console, &admin, &[("nvd-cve-broken.json", broken)]).await;
    assert_eq!(body["state"], "failed", "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("1 of 1 files were refused")), "{body}");
    assert_eq!(body["files"][0]["imported"], false);
    assert!(body["files"][0]["error"].is_string());
    assert_eq!(console.get("/api/v1/vulndb/status", &admin).await.json()["cves"], 0, "nothing of the broken file");

    // An archive with a member of no known format: nothing of it is imported.
    let archive = zip_of(&[("kev-catalog.json", fixture("kev-catalog.json")), ("docs/notes.json", b"[1, 2]".to_vec())]);
    let answer = import(&console, &admin, &[("feeds.zip", archive)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let body = nothing(&answer);
    let names: Vec<&str> = body["files"].as_array().unwrap().iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(names, ["feeds.zip/docs/notes.json", "feeds.zip/kev-catalog.json"], "{body}");
    assert_eq!(console.get("/api/v1/vulndb/status", &admin).await.json()["kev"], 0);
    // A member that breaks in the middle is named after the archive; the others are imported.
    let mut broken = fixture("nvd-cve-ics.json");
    broken.truncate(broken.len() / 3);
    let archive = zip_of(&[("nvd.json", broken), ("kev.json", fixture("kev-catalog.json"))]);
    let body = import_and_wait(&console, &admin, &[("mixed.zip", archive)]).await;
    assert_eq!(body["state"], "failed", "{body}");
    let files = body["files"].as_array().unwrap();
    let kev = files.iter().find(|f| f["file"] == "mixed.zip/kev.json").unwrap_or_else(|| panic!("{body}"));
    assert_eq!(kev["imported"], true);
    let nvd = files.iter().find(|f| f["file"] == "mixed.zip/nvd.json").unwrap_or_else(|| panic!("{body}"));
    assert_eq!((nvd["imported"].as_bool(), nvd["kind"].as_str()), (Some(false), Some("nvd-cve")));
    assert!(nvd["error"].as_str().is_some_and(|e| !e.contains("member")), "{nvd}");
    let status = console.get("/api/v1/vulndb/status", &admin).await.json();
    assert_eq!((status["cves"].as_u64(), status["kev"].as_u64()), (Some(0), Some(3)), "{status}");

    // Empty, not gzip, a zip without data, not multipart, no file at all.
    for (name, bytes) in
        [("empty.json", Vec::new()), ("feed.json.gz", vec![0x1f, 0x8b, 1, 2, 3]), ("other.zip", zip_of(&[("a.txt", b"x".to_vec())]))]
    {
        let answer = import(&console, &admin, &[(name, bytes)]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{name}: {}", answer.text());
        assert!(nothing(&answer)["files"][0]["error"].is_string());
    }
    let plain = console.call(Method::POST, "/api/v1/vulndb/import", &admin, Some(Body::from("{}")), "application/json").await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert!(nothing(&plain)["error"].as_str().unwrap().contains("multipart/form-data"));
    let none = import(&console, &admin, &[]).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert!(nothing(&none)["error"].as_str().unwrap().contains("no file"));
    // The import log lists what was imported (the archive's KEV catalog), not what was refused.
    let status = console.get("/api/v1/vulndb/status", &admin).await.json();
    assert_eq!(status["imports"].as_array().unwrap().len(), 1, "{status}");
    assert_eq!(status["imports"][0]["files"][0]["file"], "mixed.zip/kev.json", "{status}");
}

macro_rules! vuln_suite {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn advisories_imported_through_the_api_match_the_inventory() {
                super::advisories_imported_through_the_api_match_the_inventory($backend).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bad_import_files_are_refused_with_nothing_imported() {
                super::bad_import_files_are_refused_with_nothing_imported($backend).await;
            }
        }
    };
}

vuln_suite!(sqlite, Backend::Sqlite);
vuln_suite!(postgres, Backend::Postgres);
