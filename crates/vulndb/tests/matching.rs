//! The devices of the shared ICS captures get exactly the vulnerabilities
//! the project's fixtures (NVD CVE 2.0, one CSAF 2.0 advisory per vendor,
//! the KEV catalog) say they have, including version-boundary cases, and
//! nothing for the other devices.

mod common;

use common::{by_ip, capture, cves, get, imported_db};
use palisade_vulndb::db::VulnStore;
use palisade_vulndb::matching::{match_devices, VulnMatch};
use std::collections::BTreeMap;

/// Runs one capture: the devices with IPs in `expected` get exactly those
/// CVEs; every other device gets none.
fn check(file: &str, expected: &[(&str, &[&str])]) -> Option<BTreeMap<i64, Vec<VulnMatch>>> {
    let (devices, _) = capture(file)?;
    let (_dir, mut db) = imported_db();
    let generation = db.generation().expect("generation");
    let matches = match_devices(&mut db, &devices, generation).expect("match");
    let mut expected_ids = Vec::new();
    for (ip, want) in expected {
        let d = by_ip(&devices, ip);
        expected_ids.push(d.id);
        assert_eq!(cves(&matches, d.id), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{file}: device {ip}");
    }
    for d in devices.iter().filter(|d| !expected_ids.contains(&d.id)) {
        assert_eq!(cves(&matches, d.id), Vec::<String>::new(), "{file}: device {} ({:?}) should have none", d.id, d.ips);
    }
    Some(matches)
}

#[test]
fn siemens_s7_300_gets_exactly_its_vulnerabilities() {
    let expected: &[(&str, &[&str])] =
        &[("134.217.61.211", &["CVE-2099-1001", "CVE-2099-1003", "CVE-2099-1005", "CVE-2099-1008", "CVE-2099-1102"])];
    let Some(m) = check("s7comm/icsnpp_s7comm_snap7_s300.pcap", expected) else { return };
    let (devices, _) = capture("s7comm/icsnpp_s7comm_snap7_s300.pcap").expect("capture");
    let plc = by_ip(&devices, "134.217.61.211").id;
    // NVD and the Siemens advisory agree on CVE-2099-1001; it is on the KEV list.
    let v = get(&m, plc, "CVE-2099-1001");
    assert_eq!(v.basis.iter().map(|b| b.source.as_str()).collect::<Vec<_>>(), ["nvd", "csaf"]);
    assert_eq!(v.basis[0].product, "simatic_s7-300_cpu_315-2_pn/dp_firmware");
    assert_eq!(v.basis[0].versions, "< 3.2.8");
    assert_eq!(v.basis[1].reference, "SSA-TEST-0315 product CSAFPID-0001");
    assert_eq!(v.basis[1].matched_by, "order number");
    assert!(v.basis[0].facts.iter().any(|f| f.value == "V3.2.7" && f.source == "s7comm"));
    assert!(v.basis[1].facts.iter().any(|f| f.value == "6ES7 315-2EH14-0AB0"));
    assert_eq!(v.kev.as_ref().map(|k| k.date_added.as_str()), Some("2099-01-20"));
    assert_eq!((v.cvss3, v.cvss4), (Some(7.5), Some(8.7)));
    assert_eq!(v.fixed_version.as_deref().map(|f| f.trim_start_matches('V')), Some("3.2.8"));
    assert_eq!(v.confidence_label, "high");
    assert!(v.remediations.iter().any(|r| r.contains("Update to V3.2.8")), "{:?}", v.remediations);
    // At the end-including bound: affected, nothing names a fix.
    assert_eq!(get(&m, plc, "CVE-2099-1003").fixed_version, None);
    // The product-line CPE matches with medium confidence.
    let line = get(&m, plc, "CVE-2099-1005");
    assert_eq!((line.basis[0].matched_by.as_str(), line.confidence_label.as_str()), ("product line", "medium"));
    // The CPE named after the order number.
    assert_eq!(get(&m, plc, "CVE-2099-1008").basis[0].matched_by, "order number");
    // Only the advisory knows CVE-2099-1102; its score comes from there.
    let csaf_only = get(&m, plc, "CVE-2099-1102");
    assert_eq!((csaf_only.cvss3, csaf_only.basis.len()), (Some(8.1), 1));
}

#[test]
fn rockwell_enbt_gets_exactly_its_vulnerabilities() {
    check("enip/iti_enip_listidentity_1756_enbt.pcap", &[("10.1.1.164", &["CVE-2099-2001", "CVE-2099-2101"])]);
}

#[test]
fn rockwell_controllogix_gets_exactly_its_vulnerabilities() {
    let Some(m) = check("enip/iti_openics_cip_program_upload.pcap", &[("192.168.10.120", &["CVE-2099-2004", "CVE-2099-2102"])]) else {
        return;
    };
    let (devices, _) = capture("enip/iti_openics_cip_program_upload.pcap").expect("capture");
    let plc = by_ip(&devices, "192.168.10.120").id;
    let v = get(&m, plc, "CVE-2099-2102");
    assert_eq!(v.basis[0].versions, ">= 16.0, <= 16.20");
    assert_eq!(v.fixed_version.as_deref(), Some("20.011"));
    assert_eq!(get(&m, plc, "CVE-2099-2004").fixed_version.as_deref(), Some("20.011"));
}

#[test]
fn bacnet_lighting_controller_gets_exactly_its_vulnerabilities() {
    let Some(m) = check("bacnet/icsnpp_bacnet_services.pcap", &[("192.168.0.24", &["CVE-2099-3001", "CVE-2099-3101"])]) else { return };
    let (devices, _) = capture("bacnet/icsnpp_bacnet_services.pcap").expect("capture");
    let id = by_ip(&devices, "192.168.0.24").id;
    // The advisory's product family (Synergy) is a word the device never says.
    assert_eq!(get(&m, id, "CVE-2099-3101").basis[0].matched_by, "model (loose)");
    assert_eq!(get(&m, id, "CVE-2099-3101").fixed_version.as_deref(), Some("2.63"));
}

#[test]
fn areva_mms_ied_gets_exactly_its_vulnerabilities() {
    // Both ends of this capture answer MMS identify as e-terracomm 2.3.1.
    let both: &[&str] = &["CVE-2099-4001", "CVE-2099-4101"];
    let Some(m) = check("iec61850/iti_mms_identify_areva.pcap", &[("10.101.1.3", both), ("10.101.1.2", both)]) else { return };
    let (devices, _) = capture("iec61850/iti_mms_identify_areva.pcap").expect("capture");
    let ied = by_ip(&devices, "10.101.1.3").id;
    assert!(get(&m, ied, "CVE-2099-4001").kev.is_some());
    assert_eq!(get(&m, ied, "CVE-2099-4101").fixed_version.as_deref(), Some("2.3.2"));
}

#[test]
fn devices_map_to_cpe_names_with_their_firmware() {
    let Some((devices, _)) = capture("s7comm/icsnpp_s7comm_snap7_s300.pcap") else { return };
    let (_dir, db) = imported_db();
    let cpes = palisade_vulndb::matching::device_cpes(&db, &devices).expect("cpes");
    let plc = by_ip(&devices, "134.217.61.211").id;
    let names: Vec<(&str, &str, f64)> = cpes[&plc].iter().map(|c| (c.cpe.as_str(), c.matched_by.as_str(), c.confidence)).collect();
    assert_eq!(
        names,
        [
            ("cpe:2.3:h:siemens:6es7315-2eh14-0ab0:-:*:*:*:*:*:*:*", "order number", 0.95),
            ("cpe:2.3:o:siemens:6es7315-2eh14-0ab0_firmware:3.2.7:*:*:*:*:*:*:*", "order number", 0.95),
            ("cpe:2.3:h:siemens:simatic_s7-300_cpu_315-2_pn\\/dp:-:*:*:*:*:*:*:*", "model", 0.9),
            ("cpe:2.3:o:siemens:simatic_s7-300_cpu_315-2_pn\\/dp_firmware:3.2.7:*:*:*:*:*:*:*", "model", 0.9),
            ("cpe:2.3:o:siemens:simatic_s7-300_cpu_firmware:3.2.7:*:*:*:*:*:*:*", "product line", 0.5),
        ]
    );
    let firmware = cpes[&plc].iter().find(|c| c.cpe.contains("pn\\/dp_firmware")).expect("firmware cpe");
    assert_eq!(firmware.title.as_deref(), Some("Siemens SIMATIC S7-300 CPU 315-2 PN/DP Firmware"));
    assert!(firmware.facts.iter().any(|f| f.value == "V3.2.7"));
}

#[test]
fn kev_facts_nvd_copies_into_records_count_without_the_catalog() {
    let Some((devices, _)) = capture("enip/iti_enip_listidentity_1756_enbt.pcap") else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let feed = std::fs::read_to_string(common::fixtures().join("nvd-cve-ics.json")).expect("fixture").replacen(
        "\"id\": \"CVE-2099-2001\",",
        "\"id\": \"CVE-2099-2001\", \"cisaExploitAdd\": \"2099-01-25\", \"cisaActionDue\": \"2099-02-15\", \
         \"cisaRequiredAction\": \"Apply updates per vendor instructions.\", \"cisaVulnerabilityName\": \"1756-ENBT overflow\",",
        1,
    );
    let path = dir.path().join("nvd.json");
    std::fs::write(&path, feed).expect("write");
    let mut db = palisade_vulndb::SqliteVulnDb::open(&dir.path().join("t.db")).expect("open");
    let report = palisade_vulndb::import_paths(&mut db, &[path]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let generation = db.generation().expect("generation");
    let m = match_devices(&mut db, &devices, generation).expect("match");
    let enbt = by_ip(&devices, "10.1.1.164").id;
    let kev = get(&m, enbt, "CVE-2099-2001").kev.clone().expect("kev from the NVD record");
    assert_eq!((kev.date_added.as_str(), kev.due_date.as_str()), ("2099-01-25", "2099-02-15"));
}

#[test]
fn a_csaf_product_is_also_matched_by_the_cpe_it_gives() {
    let Some((devices, _)) = capture("bacnet/icsnpp_bacnet_services.pcap") else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let csaf = std::fs::read_to_string(common::fixtures().join("csaf-acuity-test-2099-01.json"))
        .expect("fixture")
        .replace("\"name\": \"SYSC MLX\"", "\"name\": \"Lighting controller\"")
        .replace(
            "\"name\": \"Synergy SYSC MLX < 2.63\"",
            "\"name\": \"Synergy lighting controller < 2.63\", \"product_identification_helper\": \
             {\"cpe\": \"cpe:2.3:o:acuitybrands:sysc_mlx_firmware:*:*:*:*:*:*:*:*\"}",
        );
    let path = dir.path().join("csaf.json");
    std::fs::write(&path, csaf).expect("write");
    let mut db = palisade_vulndb::SqliteVulnDb::open(&dir.path().join("t.db")).expect("open");
    let report = palisade_vulndb::import_paths(&mut db, &[path]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let generation = db.generation().expect("generation");
    let m = match_devices(&mut db, &devices, generation).expect("match");
    let id = by_ip(&devices, "192.168.0.24").id;
    assert_eq!(cves(&m, id), ["CVE-2099-3101"]);
    assert_eq!(get(&m, id, "CVE-2099-3101").basis[0].matched_by, "model");
}
