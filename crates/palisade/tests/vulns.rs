//! `palisade vulndb import`, `vulns`, `recommendations`, `risk` and
//! `report` end to end: a shared ICS capture analysed, the project's
//! advisory fixtures imported, then every command's output checked.

use palisade_store::ConsoleStore;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vulndb/tests/fixtures")
}

fn run(args: &[&str], db: &Path) -> Output {
    let out = bin().args(args).arg("--db").arg(db).output().expect("run palisade");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json(args: &[&str], db: &Path) -> Value {
    serde_json::from_slice(&run(args, db).stdout).expect("JSON")
}

#[test]
fn import_match_recommend_score_and_report() {
    let Some(capture) = palisade_sensor::testdata::shared_capture("s7comm/icsnpp_s7comm_snap7_s300.pcap") else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("site.db");
    let out = bin().arg("analyze").arg("--db").arg(&db).arg(&capture).output().expect("analyze");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let import = bin().args(["vulndb", "import", "--json", "--db"]).arg(&db).arg(fixtures()).output().expect("import");
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let report: Value = serde_json::from_slice(&import.stdout).expect("JSON");
    assert_eq!(report["files"].as_array().map(Vec::len), Some(7));
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));

    let vulns = json(&["vulns", "--json"], &db);
    let mut cves: Vec<&str> = vulns.as_array().expect("array").iter().filter_map(|v| v["cve"].as_str()).collect();
    cves.sort_unstable();
    assert_eq!(cves, ["CVE-2099-1001", "CVE-2099-1003", "CVE-2099-1005", "CVE-2099-1008", "CVE-2099-1102"]);
    let first = vulns.as_array().and_then(|a| a.iter().find(|v| v["cve"] == "CVE-2099-1001")).expect("CVE-2099-1001");
    assert_eq!(first["kev"]["date_added"], "2099-01-20");
    assert_eq!(first["basis"][0]["facts"].as_array().map(|f| f.iter().any(|f| f["value"] == "V3.2.7")), Some(true));

    let cpes = json(&["vulndb", "cpes", "--json"], &db);
    assert!(
        cpes.as_array().is_some_and(|c| c.iter().any(|c| c["cpe"] == "cpe:2.3:o:siemens:6es7315-2eh14-0ab0_firmware:3.2.7:*:*:*:*:*:*:*")),
        "{cpes}"
    );

    let recs = json(&["recommendations", "--json"], &db);
    assert_eq!(recs["site"][0]["kind"], "known-exploited");
    assert!(recs["devices"].as_object().is_some_and(|d| !d.is_empty()));

    let risk = json(&["risk", "--json"], &db);
    assert!(risk["score"].as_u64().is_some_and(|s| s > 0 && s <= 100));
    assert_eq!(risk["devices"][0]["type"], "plc");
    // The capture stops the CPU: detection's open alert counts in the PLC's score.
    let alerts = risk["devices"][0]["parts"].as_array().and_then(|p| p.iter().find(|p| p["name"] == "alerts")).expect("alerts part");
    assert_eq!(alerts["points"], 15.0);
    assert!(alerts["reasons"][0].as_str().is_some_and(|r| r.contains("plc-stop")), "{alerts}");
    assert_eq!(risk["attack_paths"][0]["hops"].as_array().map(Vec::len), Some(2));

    for kind in ["risk", "vulns"] {
        let out = dir.path().join(format!("{kind}.html"));
        let done = bin().args(["report", kind, "--out"]).arg(&out).arg("--db").arg(&db).output().expect("report");
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        let html = std::fs::read_to_string(&out).expect("html");
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("CVE-2099-1001") && html.contains("<svg"));
    }

    // Sites: the default site unless --site NAME|ID names a stored one, whose name the reports carry.
    assert_eq!(risk["site"], "default");
    let north = palisade_store::SqliteStore::open(&db).expect("open").create_site("north plant", "").expect("site");
    assert_eq!(json(&["vulns", "--json", "--site", "north plant"], &db).as_array().map(Vec::len), Some(0), "a new site is empty");
    let out = bin().args(["analyze", "--site", "north plant", "--db"]).arg(&db).arg(&capture).output().expect("analyze");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let north_risk = json(&["risk", "--json", "--site", &north.id.to_string()], &db);
    assert_eq!(north_risk["site"], "north plant");
    assert_eq!(json(&["vulns", "--json", "--site", "north plant"], &db).as_array().map(Vec::len), Some(5));
    let html = dir.path().join("north.html");
    let done = bin().args(["report", "risk", "--site", "north plant", "--out"]).arg(&html).arg("--db").arg(&db).output().expect("report");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(std::fs::read_to_string(&html).expect("html").contains("north plant"));
    for command in [&["vulns", "--site", "south plant"][..], &["recommendations", "--site", "9"], &["risk", "--site", "nowhere"]] {
        let out = bin().args(command).arg("--db").arg(&db).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no site") && stderr.contains("2 (north plant)"), "{stderr}");
    }
    let out =
        bin().args(["report", "vulns", "--site", "south plant", "--out"]).arg(dir.path().join("x.html")).arg("--db").arg(&db).output();
    assert_eq!(out.expect("report").status.code(), Some(2));

    // A bad file: exit code 3, the error names it, the good data stays.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\":\"NVD_CVE\",\"vulnerabilities\":[{\"cve\":{}}]}").expect("write");
    let out = bin().args(["vulndb", "import", "--db"]).arg(&db).arg(&bad).output().expect("import");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error:") && stderr.contains("bad.json") && stderr.contains("missing field `id`"), "{stderr}");
    assert_eq!(json(&["vulns", "--json"], &db).as_array().map(Vec::len), Some(5));
}

#[test]
fn listing_without_an_inventory_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = bin().args(["vulns", "--db"]).arg(dir.path().join("none.db")).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

/// The PostgreSQL server of the tests.
fn postgres_url() -> String {
    std::env::var("PALISADE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[test]
fn the_same_commands_work_on_postgresql() {
    let Some(events) = palisade_sensor::testdata::shared_events("s7comm/icsnpp_s7comm_snap7_s300.pcap") else { return };
    let schema = format!("cli_vulns_{}", std::process::id());
    let mut client = postgres::Client::connect(&postgres_url(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL is needed for this test ({e}); scripts/test.sh starts it"));
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).expect("schema");
    let sep = if postgres_url().contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-csearch_path%3D{schema}", postgres_url());
    // The console's inventory, as an analysis stores it.
    let mut obs = palisade_engine::Observations::default();
    obs.ingest(&events);
    let mut inventory = palisade_engine::build_inventory(&obs);
    let mut log = palisade_engine::ActivityLog::default();
    log.ingest(&events);
    let mut store = palisade_store::open(&palisade_store::Location::Postgres(url.clone())).expect("store");
    let run = palisade_store::AnalysisRecord { inputs: vec!["s7".into()], packets: 1, bytes: 1, errors: Vec::new() };
    store.save_analysis(&obs, &mut inventory, &log, &run).expect("save");

    let pg = |args: &[&str]| -> Value {
        let out = bin().args(args).args(["--json", "--database-url", &url]).output().expect("run palisade");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let import = bin().args(["vulndb", "import", "--json", "--database-url", &url]).arg(fixtures()).output().expect("import");
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let report: Value = serde_json::from_slice(&import.stdout).expect("JSON");
    assert_eq!(report["files"].as_array().map(Vec::len), Some(7));
    let mut cves: Vec<String> =
        pg(&["vulns"]).as_array().expect("array").iter().filter_map(|v| v["cve"].as_str().map(str::to_string)).collect();
    cves.sort_unstable();
    assert_eq!(cves, ["CVE-2099-1001", "CVE-2099-1003", "CVE-2099-1005", "CVE-2099-1008", "CVE-2099-1102"]);
    assert_eq!(pg(&["recommendations"])["site"][0]["kind"], "known-exploited");
    let risk = pg(&["risk"]);
    assert_eq!(risk["devices"][0]["type"], "plc");
    assert_eq!(risk["site"], "default");
    // --site on PostgreSQL: a stored site by name, an unknown one refused.
    palisade_store::open(&palisade_store::Location::Postgres(url.clone())).expect("store").create_site("north plant", "").expect("site");
    assert_eq!(pg(&["vulns", "--site", "north plant"]).as_array().map(Vec::len), Some(0));
    let unknown = bin().args(["risk", "--site", "south plant", "--database-url", &url]).output().expect("run");
    assert_eq!(unknown.status.code(), Some(2), "{}", String::from_utf8_lossy(&unknown.stderr));
    let out = tempfile::tempdir().expect("tmp");
    let html = out.path().join("vulns.html");
    let done = bin().args(["report", "vulns", "--database-url", &url, "--out"]).arg(&html).output().expect("report");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(std::fs::read_to_string(&html).expect("html").contains("CVE-2099-1001"));
    // --db and --database-url name two databases: refused.
    let both = bin().args(["vulns", "--db", "x.db", "--database-url", &url]).output().expect("run");
    assert_eq!(both.status.code(), Some(2));
    client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).expect("drop");
}
