//! The vulnerability database suite: the same tests run against SQLite and
//! PostgreSQL, so both backends import, refuse and match alike.

use crate::common::{cves, fixtures, get};
use palisade_vulndb::matching::{device_cpes, match_devices};
use palisade_vulndb::{import_paths, VulnStore};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// The backend under test: opening twice gives the same data.
pub trait Backend {
    /// Opens (or reopens) the vulnerability tables.
    fn open(&self) -> Box<dyn VulnStore + Send>;
    /// A folder for the test's files.
    fn dir(&self) -> &Path;
}

/// Opens the backend with every fixture imported.
fn imported(backend: &impl Backend) -> Box<dyn VulnStore + Send> {
    let mut db = backend.open();
    let report = import_paths(db.as_mut(), &[fixtures()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    db
}

pub fn every_fixture_imports_with_its_kind(backend: &impl Backend) {
    drop(imported(backend));
    let s = backend.open().status().expect("status");
    assert_eq!((s.cves, s.advisories, s.kev), (34, 4, 3));
    assert_eq!(s.cpe_matches, 34);
    // 20 CPE products from the configurations, and one the dictionary alone names (GE F650).
    assert_eq!(s.products, 21);
    assert!(s.generation > 0);
}

pub fn gzip_and_directories_are_read(backend: &impl Backend) {
    let nested = backend.dir().join("feeds/2099");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let raw = std::fs::read(fixtures().join("nvd-cve-ics.json")).expect("fixture");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).expect("gzip");
    std::fs::write(nested.join("nvdcve-2.0-2099.json.gz"), gz.finish().expect("gzip")).expect("write");
    std::fs::write(nested.join("README.txt"), "not imported").expect("write");
    let mut db = backend.open();
    let report = import_paths(db.as_mut(), &[backend.dir().join("feeds")]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files.len(), 1);
    assert_eq!((report.files[0].kind.as_str(), report.files[0].records), ("nvd-cve", 25));
}

pub fn a_bad_file_is_refused_whole_and_the_others_still_import(backend: &impl Backend) {
    let dir = backend.dir();
    let raw = std::fs::read_to_string(fixtures().join("nvd-cve-ics.json")).expect("fixture");
    // Truncated after about two thirds: the first records parse, then the file ends.
    let cut = raw.get(..raw.len() * 2 / 3).expect("cut");
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, cut).expect("write");
    let csaf = std::fs::read_to_string(fixtures().join("csaf-siemens-ssa-test-0315.json")).expect("fixture");
    let undefined = dir.join("undefined-product.json");
    std::fs::write(&undefined, csaf.replacen("\"CSAFPID-0002\"\n    ]", "\"CSAFPID-9999\"\n    ]", 1)).expect("write");
    let text = dir.join("notes.json");
    std::fs::write(&text, "{\"hello\": 1}").expect("write");
    let good = fixtures().join("kev-catalog.json");
    let mut db = backend.open();
    let report = import_paths(db.as_mut(), &[truncated, undefined, text, good, dir.join("missing.json")]);
    assert_eq!(report.files.len(), 1, "{:?}", report.files);
    assert_eq!(report.errors.len(), 4, "{:?}", report.errors);
    let find = |needle: &str| report.errors.iter().find(|e| e.contains(needle)).cloned().unwrap_or_default();
    assert!(find("truncated.json").contains("EOF"), "{}", find("truncated.json"));
    assert!(find("undefined-product.json").contains("\"CSAFPID-9999\""), "{}", find("undefined-product.json"));
    assert!(find("notes.json").contains("not an NVD CVE"), "{}", find("notes.json"));
    assert!(find("missing.json").contains("no such file"), "{}", find("missing.json"));
    let s = db.status().expect("status");
    assert_eq!((s.cves, s.cpe_matches, s.products, s.advisories, s.kev), (0, 0, 0, 0, 3), "nothing of the bad files is kept");
}

pub fn a_new_kev_catalog_replaces_the_old_one(backend: &impl Backend) {
    let mut db = imported(backend);
    let raw = std::fs::read_to_string(fixtures().join("kev-catalog.json")).expect("fixture");
    let smaller = raw.replace("\"cveID\": \"CVE-2099-9001\"", "\"cveID\": \"CVE-2099-9003\"");
    let path = backend.dir().join("kev-new.json");
    std::fs::write(&path, smaller).expect("write");
    let before = db.generation().expect("generation");
    let report = import_paths(db.as_mut(), &[path]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.files[0].records, report.files[0].changed), (3, 1));
    assert_eq!(db.generation().expect("generation"), before + 1);
    let ids: BTreeSet<String> = ["CVE-2099-9001", "CVE-2099-9003"].iter().map(|s| s.to_string()).collect();
    let kev: Vec<String> = db.kev(&ids).expect("kev").into_iter().map(|k| k.cve_id).collect();
    assert_eq!(kev, ["CVE-2099-9003"]);
}

pub fn mirror_item_lists_and_single_records_import_too(backend: &impl Backend) {
    let dir = backend.dir();
    let feed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("nvd-cve-ics.json")).expect("fixture")).expect("json");
    let records: Vec<serde_json::Value> = feed["vulnerabilities"].as_array().expect("list").iter().map(|v| v["cve"].clone()).collect();
    let items = serde_json::json!({"timestamp": "2099-02-01T00:00:00", "cve_count": records.len(), "cve_items": records});
    std::fs::write(dir.join("CVE-all.json"), items.to_string()).expect("write");
    std::fs::write(dir.join("CVE-2099-1001.json"), serde_json::to_string_pretty(&records[0]).expect("json")).expect("write");
    let mut db = backend.open();
    let report = import_paths(db.as_mut(), &[dir.join("CVE-all.json"), dir.join("CVE-2099-1001.json")]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let counts: Vec<(u64, u64)> = report.files.iter().map(|f| (f.records, f.changed)).collect();
    assert_eq!(counts, [(25, 25), (1, 0)]);
    assert_eq!(db.status().expect("status").cpe_matches, 34);
}

pub fn siemens_s7_300_matches_rest_on_facts_products_and_advisories(backend: &impl Backend) {
    let Some((devices, _)) = crate::common::capture("s7comm/icsnpp_s7comm_snap7_s300.pcap") else { return };
    let mut db = imported(backend);
    let generation = db.generation().expect("generation");
    let m = match_devices(db.as_mut(), &devices, generation).expect("match");
    let plc = crate::common::by_ip(&devices, "134.217.61.211").id;
    assert_eq!(cves(&m, plc), ["CVE-2099-1001", "CVE-2099-1003", "CVE-2099-1005", "CVE-2099-1008", "CVE-2099-1102"]);
    let v = get(&m, plc, "CVE-2099-1001");
    assert_eq!(v.basis.iter().map(|b| b.source.as_str()).collect::<Vec<_>>(), ["nvd", "csaf"]);
    assert_eq!(v.basis[0].product, "simatic_s7-300_cpu_315-2_pn/dp_firmware");
    assert_eq!(v.basis[0].versions, "< 3.2.8");
    assert_eq!(v.basis[1].reference, "SSA-TEST-0315 product CSAFPID-0001");
    assert_eq!(v.kev.as_ref().map(|k| k.date_added.as_str()), Some("2099-01-20"));
    assert_eq!((v.cvss3, v.cvss4), (Some(7.5), Some(8.7)));
    assert_eq!(v.confidence_label, "high");
    assert_eq!(get(&m, plc, "CVE-2099-1102").cvss3, Some(8.1));
    // The names this device has, with the dictionary's titles.
    let cpes = device_cpes(db.as_ref(), &devices).expect("cpes");
    let firmware = cpes[&plc].iter().find(|c| c.cpe.contains("pn\\/dp_firmware")).expect("firmware cpe");
    assert_eq!(firmware.title.as_deref(), Some("Siemens SIMATIC S7-300 CPU 315-2 PN/DP Firmware"));
    // The same answers from the cache, and after reopening.
    let cached = match_devices(backend.open().as_mut(), &devices, generation).expect("match");
    assert_eq!(serde_json::to_string(&cached).expect("json"), serde_json::to_string(&m).expect("json"));
}

pub fn matches_are_cached_and_redone_when_facts_or_data_change(backend: &impl Backend) {
    let Some((mut devices, _)) = crate::common::capture("enip/iti_enip_listidentity_1756_enbt.pcap") else { return };
    let mut db = imported(backend);
    let id = crate::common::by_ip(&devices, "10.1.1.164").id;
    let generation = db.generation().expect("generation");
    let first = match_devices(db.as_mut(), &devices, generation).expect("match");
    assert_eq!(cves(&first, id), ["CVE-2099-2001", "CVE-2099-2101"]);
    // Re-importing the same files changes nothing and keeps the generation.
    let again = import_paths(db.as_mut(), &[fixtures()]);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    let nvd = again.files.iter().find(|f| f.kind == "nvd-cve").expect("nvd file");
    assert_eq!((nvd.records, nvd.changed), (25, 0));
    assert_eq!(db.generation().expect("generation"), generation);
    // New firmware fact: matched again, 4.04 is past both bounds of CVE-2099-2001.
    let device = devices.iter_mut().find(|d| d.id == id).expect("device");
    for f in device.facts.iter_mut().filter(|f| f.field == palisade_model::IdentityField::Firmware) {
        f.value = "4.04".into();
    }
    let after = match_devices(db.as_mut(), &devices, generation).expect("match");
    assert_eq!(cves(&after, id), ["CVE-2099-2101"]);
    // A changed record in the database: matched again at the next generation.
    let changed = std::fs::read_to_string(fixtures().join("nvd-cve-ics.json"))
        .expect("fixture")
        .replace("\"versionEndIncluding\": \"4.03\"", "\"versionEndIncluding\": \"4.04\"")
        .replace("\"lastModified\": \"2099-02-01T10:00:00.000\"", "\"lastModified\": \"2099-03-01T10:00:00.000\"");
    let path = backend.dir().join("modified.json");
    std::fs::write(&path, changed).expect("write");
    let report = import_paths(db.as_mut(), &[path]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files[0].changed, 25);
    let next = db.generation().expect("generation");
    assert_eq!(next, generation + 1);
    let redone = match_devices(db.as_mut(), &devices, next).expect("match");
    assert_eq!(cves(&redone, id), ["CVE-2099-2001", "CVE-2099-2101"]);
    assert_eq!(db.status().expect("status").cves, 25 + 3 + 3 + 1 + 2);
}

/// Writes a zip archive of `(name, bytes)` members.
fn write_zip(path: &Path, members: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        zip.start_file(*name, options).expect("member");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

pub fn nvd_zip_feeds_import_member_by_member(backend: &impl Backend) {
    let dir = backend.dir().join("nvd");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let cves = std::fs::read(fixtures().join("nvd-cve-ics.json")).expect("fixture");
    write_zip(&dir.join("nvdcve-2.0-2099.json.zip"), &[("nvdcve-2.0-2099.json", &cves), ("README.txt", b"not imported")]);
    // The CPE dictionary as NVD ships it: one archive of many chunks.
    let dictionary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("nvd-cpe-dictionary.json")).expect("fixture")).expect("json");
    let products = dictionary["products"].as_array().expect("products");
    let chunk = |part: &[serde_json::Value]| {
        let mut doc = dictionary.clone();
        doc["products"] = serde_json::Value::Array(part.to_vec());
        serde_json::to_vec(&doc).expect("json")
    };
    let (first, second) = products.split_at(2);
    write_zip(
        &dir.join("nvdcpe-2.0.zip"),
        &[
            ("nvdcpe-2.0-chunks/nvdcpe-2.0-chunk-00001.json", &chunk(first)),
            ("nvdcpe-2.0-chunks/nvdcpe-2.0-chunk-00002.json", &chunk(second)),
        ],
    );
    let mut db = backend.open();
    let report = import_paths(db.as_mut(), std::slice::from_ref(&dir));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let files: Vec<(&str, &str, u64)> = report.files.iter().map(|f| (f.path.as_str(), f.kind.as_str(), f.records)).collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files[0].0.ends_with("nvdcpe-2.0.zip/nvdcpe-2.0-chunks/nvdcpe-2.0-chunk-00001.json"), "{files:?}");
    assert_eq!((files[0].1, files[0].2, files[1].2), ("nvd-cpe", 2, 3));
    assert!(files[2].0.ends_with("nvdcve-2.0-2099.json.zip/nvdcve-2.0-2099.json"), "{files:?}");
    assert_eq!((files[2].1, files[2].2), ("nvd-cve", 25));
    let s = db.status().expect("status");
    assert_eq!((s.cves, s.cpe_matches), (25, 34));
    // The import log: newest first, one batch, with what each member changed.
    let again = import_paths(db.as_mut(), &[dir.join("nvdcve-2.0-2099.json.zip")]);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    let log = backend.open().imports(10).expect("imports");
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log[0].path.ends_with("nvdcve-2.0-2099.json.zip/nvdcve-2.0-2099.json"), "{log:?}");
    assert_eq!((log[0].records, log[0].changed), (25, Some(0)), "the same feed again changes nothing");
    assert_eq!((log[1].kind.as_str(), log[1].records, log[1].changed), ("nvd-cve", 25, Some(25)));
    assert_eq!(log[3].kind, "nvd-cpe");
    assert!(log.iter().all(|e| e.user.as_deref() == Some("command line") && e.imported_at.starts_with("20")), "{log:?}");
    assert!(log[1..].iter().all(|e| e.batch == log[1].batch) && log[0].batch != log[1].batch, "{log:?}");
    assert_eq!(backend.open().imports(1).expect("imports").len(), 1);
}

pub fn a_bad_zip_member_is_refused_whole_naming_archive_and_member(backend: &impl Backend) {
    let dir = backend.dir();
    let cves = std::fs::read(fixtures().join("nvd-cve-ics.json")).expect("fixture");
    let kev = std::fs::read(fixtures().join("kev-catalog.json")).expect("fixture");
    let archive = dir.join("feeds.zip");
    write_zip(&archive, &[("kev.json", &kev), ("nvdcve-2.0-2099.json", cves.get(..cves.len() / 2).expect("half"))]);
    let broken = dir.join("broken.zip");
    std::fs::write(&broken, b"PK\x03\x04 this is not the rest of an archive").expect("write");
    let empty = dir.join("empty.zip");
    write_zip(&empty, &[("notes.txt", b"nothing to import")]);
    let mut db = backend.open();
    let report = import_paths(db.as_mut(), &[archive, broken, empty]);
    assert_eq!(report.files.len(), 1, "{:?}", report.files);
    assert_eq!(report.errors.len(), 3, "{:?}", report.errors);
    assert!(report.errors[0].contains("feeds.zip/nvdcve-2.0-2099.json: ") && report.errors[0].contains("EOF"), "{:?}", report.errors);
    assert!(report.errors[1].contains("broken.zip: not a readable zip archive"), "{:?}", report.errors);
    assert!(report.errors[2].contains("empty.zip: the archive holds no"), "{:?}", report.errors);
    let s = db.status().expect("status");
    assert_eq!((s.cves, s.cpe_matches, s.products, s.kev), (0, 0, 0, 3), "nothing of the bad member is kept");
}

/// A device that reports only operating system facts, `(value, protocol)`.
fn os_device(id: i64, os: &[(&str, &str)]) -> palisade_engine::Device {
    let facts = os.iter().map(|(value, source)| crate::common::fact(palisade_model::IdentityField::Os, value, source)).collect();
    crate::common::device(id, facts)
}

pub fn operating_systems_match_their_cpe_products_as_far_as_known(backend: &impl Backend) {
    let mut db = backend.open();
    let report = import_paths(db.as_mut(), &[Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures-os")]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut devices = vec![
        os_device(1, &[("Windows Server 2008 R2 Enterprise 7601 Service Pack 1", "smb")]),
        os_device(2, &[("Windows 10.0 Build 17763", "smb")]),
        os_device(3, &[("Windows Server 2019 Standard 17763", "smb"), ("Windows 10 / Server 2016-2022 build 17763", "smb")]),
        os_device(4, &[("Linux 3.x", "http")]),
        os_device(5, &[("Linux", "tcp")]),
        os_device(6, &[("VxWorks 6.9", "snmp")]),
        os_device(7, &[("Windows", "tcp"), ("embedded RTOS (VxWorks-like)", "tcp")]),
        os_device(8, &[("Windows 7 / Server 2008 R2 build 7601", "nbns")]),
    ];
    let generation = db.generation().expect("generation");
    let m = match_devices(db.as_mut(), &devices, generation).expect("match");
    let expected: &[(i64, &[&str])] = &[
        (1, &["CVE-2099-7001"]),
        (2, &["CVE-2099-7003"]),
        (3, &["CVE-2099-7003"]),
        (4, &["CVE-2099-7005", "CVE-2099-7009"]),
        (5, &["CVE-2099-7009"]),
        (6, &["CVE-2099-7007", "CVE-2099-7008"]),
        (7, &[]),
        (8, &["CVE-2099-7001"]),
    ];
    for (id, want) in expected {
        assert_eq!(cves(&m, *id), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "device {id}");
    }
    let basis = |id: i64, cve: &str| get(&m, id, cve).basis.first().cloned().expect("basis");
    let confidence = |id: i64, cve: &str| (get(&m, id, cve).confidence, get(&m, id, cve).confidence_label.clone());
    // The release named without doubt: high, resting on the SMB fact and the R2 CPE.
    let r2 = basis(1, "CVE-2099-7001");
    assert_eq!(
        (r2.product.as_str(), r2.reference.as_str()),
        ("windows_server_2008", "cpe:2.3:o:microsoft:windows_server_2008:r2:*:*:*:*:*:*:*")
    );
    assert_eq!(r2.matched_by, "operating system");
    assert_eq!(
        r2.facts.iter().map(|f| (f.value.as_str(), f.source.as_str())).collect::<Vec<_>>(),
        [("Windows Server 2008 R2 Enterprise 7601 Service Pack 1", "smb")]
    );
    assert_eq!(confidence(1, "CVE-2099-7001"), (0.9, "high".into()));
    // A build whose patch level is unknown, client or server: low; the server named by SMB: medium.
    assert_eq!(confidence(2, "CVE-2099-7003"), (0.42, "low".into()));
    assert_eq!(basis(2, "CVE-2099-7003").matched_by, "operating system (version partly known)");
    assert_eq!(confidence(3, "CVE-2099-7003"), (0.63, "medium".into()));
    assert_eq!(basis(3, "CVE-2099-7003").product, "windows_server_2019");
    assert_eq!(get(&m, 3, "CVE-2099-7003").fixed_version.as_deref(), Some("10.0.17763.5329"));
    // Linux 3.x against a 3.x range: low; a family alone matches only what holds for every version.
    assert_eq!(confidence(4, "CVE-2099-7005").1, "low");
    assert_eq!(basis(5, "CVE-2099-7009").matched_by, "operating system (version unknown)");
    assert_eq!(confidence(5, "CVE-2099-7009").1, "low");
    // VxWorks 6.9: the very version, and a range it falls in.
    assert_eq!(confidence(6, "CVE-2099-7007"), (0.9, "high".into()));
    assert_eq!(confidence(6, "CVE-2099-7008"), (0.63, "medium".into()));
    assert_eq!(confidence(8, "CVE-2099-7001").1, "medium");
    // The CPE names of the operating system, for `palisade vulndb cpes`.
    let names = device_cpes(db.as_ref(), &devices).expect("cpes");
    assert!(names[&1].iter().any(|c| c.cpe == "cpe:2.3:o:microsoft:windows_server_2008:r2:*:*:*:*:*:*:*"), "{:?}", names[&1]);
    // New facts: matched again.
    devices[0] = os_device(1, &[("Windows Server 2008 6002 Service Pack 2", "smb")]);
    let again = match_devices(db.as_mut(), &devices, generation).expect("match");
    assert_eq!(cves(&again, 1), ["CVE-2099-7001", "CVE-2099-7002"]);
}

pub fn the_match_cache_is_read_and_written_in_bulk(backend: &impl Backend) {
    let mut db = backend.open();
    // More identities than one statement takes placeholders on SQLite.
    let entries: Vec<(String, String)> = (0..1200).map(|i| (format!("identity {i}"), format!("[{i}]"))).collect();
    db.cache_matches(7, &entries).expect("cache");
    let mut wanted: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
    wanted.push("never cached".into());
    let cached = db.cached_matches(&wanted, 7).expect("cached");
    assert_eq!(cached.len(), 1200);
    assert_eq!(cached.get("identity 1199").map(String::as_str), Some("[1199]"));
    assert!(db.cached_matches(&wanted, 8).expect("cached").is_empty(), "another generation's entries are not served");
    // Entries of another generation are dropped when the cache is written again.
    db.cache_matches(8, &entries[..2]).expect("cache");
    assert_eq!(db.cached_matches(&wanted, 8).expect("cached").len(), 2);
    assert!(db.cached_matches(&wanted, 7).expect("cached").is_empty());
}

/// The suite's tests for one backend.
#[macro_export]
macro_rules! vulndb_suite {
    ($backend:expr) => {
        #[test]
        fn every_fixture_imports_with_its_kind() {
            suite::every_fixture_imports_with_its_kind(&$backend);
        }
        #[test]
        fn gzip_and_directories_are_read() {
            suite::gzip_and_directories_are_read(&$backend);
        }
        #[test]
        fn a_bad_file_is_refused_whole_and_the_others_still_import() {
            suite::a_bad_file_is_refused_whole_and_the_others_still_import(&$backend);
        }
        #[test]
        fn a_new_kev_catalog_replaces_the_old_one() {
            suite::a_new_kev_catalog_replaces_the_old_one(&$backend);
        }
        #[test]
        fn mirror_item_lists_and_single_records_import_too() {
            suite::mirror_item_lists_and_single_records_import_too(&$backend);
        }
        #[test]
        fn nvd_zip_feeds_import_member_by_member() {
            suite::nvd_zip_feeds_import_member_by_member(&$backend);
        }
        #[test]
        fn a_bad_zip_member_is_refused_whole_naming_archive_and_member() {
            suite::a_bad_zip_member_is_refused_whole_naming_archive_and_member(&$backend);
        }
        #[test]
        fn operating_systems_match_their_cpe_products_as_far_as_known() {
            suite::operating_systems_match_their_cpe_products_as_far_as_known(&$backend);
        }
        #[test]
        fn siemens_s7_300_matches_rest_on_facts_products_and_advisories() {
            suite::siemens_s7_300_matches_rest_on_facts_products_and_advisories(&$backend);
        }
        #[test]
        fn the_match_cache_is_read_and_written_in_bulk() {
            suite::the_match_cache_is_read_and_written_in_bulk(&$backend);
        }
        #[test]
        fn matches_are_cached_and_redone_when_facts_or_data_change() {
            suite::matches_are_cached_and_redone_when_facts_or_data_change(&$backend);
        }
    };
}
