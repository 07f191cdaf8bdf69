//! Importing: every fixture format, gzip, directories, and bad files that
//! are refused whole with an error naming them.

mod common;

use palisade_vulndb::db::VulnStore;
use palisade_vulndb::{import_paths, SqliteVulnDb};
use std::io::Write;

#[test]
fn every_fixture_imports_with_its_kind() {
    let (_dir, db) = common::imported_db();
    let s = db.status().expect("status");
    assert_eq!((s.cves, s.advisories, s.kev), (34, 4, 3));
    assert_eq!(s.cpe_matches, 34);
    // 20 CPE products from the configurations, and one the dictionary alone names (GE F650).
    assert_eq!(s.products, 21);
}

#[test]
fn gzip_and_directories_are_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let nested = dir.path().join("feeds/2099");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let raw = std::fs::read(common::fixtures().join("nvd-cve-ics.json")).expect("fixture");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).expect("gzip");
    std::fs::write(nested.join("nvdcve-2.0-2099.json.gz"), gz.finish().expect("gzip")).expect("write");
    std::fs::write(nested.join("README.txt"), "not imported").expect("write");
    let mut db = SqliteVulnDb::open(&dir.path().join("t.db")).expect("open");
    let report = import_paths(&mut db, &[dir.path().join("feeds")]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files.len(), 1);
    assert_eq!((report.files[0].kind.as_str(), report.files[0].records), ("nvd-cve", 25));
}

#[test]
fn a_bad_file_is_refused_whole_and_the_others_still_import() {
    let dir = tempfile::tempdir().expect("tmp");
    let raw = std::fs::read_to_string(common::fixtures().join("nvd-cve-ics.json")).expect("fixture");
    // Truncated after about two thirds: the first records parse, then the file ends.
    let cut = raw.get(..raw.len() * 2 / 3).expect("cut");
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, cut).expect("write");
    let csaf = std::fs::read_to_string(common::fixtures().join("csaf-siemens-ssa-test-0315.json")).expect("fixture");
    let undefined = dir.path().join("undefined-product.json");
    std::fs::write(&undefined, csaf.replacen("\"CSAFPID-0002\"\n    ]", "\"CSAFPID-9999\"\n    ]", 1)).expect("write");
    let text = dir.path().join("notes.json");
    std::fs::write(&text, "{\"hello\": 1}").expect("write");
    let good = common::fixtures().join("kev-catalog.json");
    let mut db = SqliteVulnDb::open(&dir.path().join("t.db")).expect("open");
    let report = import_paths(&mut db, &[truncated.clone(), undefined.clone(), text.clone(), good, dir.path().join("missing.json")]);
    assert_eq!(report.files.len(), 1, "{:?}", report.files);
    assert_eq!(report.errors.len(), 4, "{:?}", report.errors);
    assert!(report.errors[0].starts_with("truncated.json") || report.errors[0].contains("missing.json"), "{:?}", report.errors);
    let find = |needle: &str| report.errors.iter().find(|e| e.contains(needle)).cloned().unwrap_or_default();
    assert!(find("truncated.json").contains("EOF"), "{}", find("truncated.json"));
    assert!(find("undefined-product.json").contains("\"CSAFPID-9999\""), "{}", find("undefined-product.json"));
    assert!(find("notes.json").contains("not an NVD CVE"), "{}", find("notes.json"));
    assert!(find("missing.json").contains("no such file"), "{}", find("missing.json"));
    let s = db.status().expect("status");
    assert_eq!((s.cves, s.cpe_matches, s.products, s.advisories, s.kev), (0, 0, 0, 0, 3), "nothing of the bad files is kept");
}

#[test]
fn a_new_kev_catalog_replaces_the_old_one() {
    let (dir, mut db) = common::imported_db();
    let raw = std::fs::read_to_string(common::fixtures().join("kev-catalog.json")).expect("fixture");
    let smaller = raw.replace("\"cveID\": \"CVE-2099-9001\"", "\"cveID\": \"CVE-2099-9003\"");
    let path = dir.path().join("kev-new.json");
    std::fs::write(&path, smaller).expect("write");
    let before = db.generation().expect("generation");
    let report = import_paths(&mut db, &[path]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.files[0].records, report.files[0].changed), (3, 1));
    assert_eq!(db.generation().expect("generation"), before + 1);
    let ids: std::collections::BTreeSet<String> = ["CVE-2099-9001", "CVE-2099-9003"].iter().map(|s| s.to_string()).collect();
    let kev: Vec<String> = db.kev(&ids).expect("kev").into_iter().map(|k| k.cve_id).collect();
    assert_eq!(kev, ["CVE-2099-9003"]);
}

#[test]
fn mirror_item_lists_and_single_records_import_too() {
    let dir = tempfile::tempdir().expect("tmp");
    let feed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(common::fixtures().join("nvd-cve-ics.json")).expect("fixture")).expect("json");
    let records: Vec<serde_json::Value> = feed["vulnerabilities"].as_array().expect("list").iter().map(|v| v["cve"].clone()).collect();
    let items = serde_json::json!({"timestamp": "2099-02-01T00:00:00", "cve_count": records.len(), "cve_items": records});
    std::fs::write(dir.path().join("CVE-all.json"), items.to_string()).expect("write");
    std::fs::write(dir.path().join("CVE-2099-1001.json"), serde_json::to_string_pretty(&records[0]).expect("json")).expect("write");
    let mut db = SqliteVulnDb::open(&dir.path().join("t.db")).expect("open");
    let report = import_paths(&mut db, &[dir.path().join("CVE-all.json"), dir.path().join("CVE-2099-1001.json")]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let counts: Vec<(u64, u64)> = report.files.iter().map(|f| (f.records, f.changed)).collect();
    assert_eq!(counts, [(25, 25), (1, 0)]);
    assert_eq!(db.status().expect("status").cpe_matches, 34);
}
