//! Helpers shared by the vulnerability tests: the fixture folder, a fresh
//! database with the fixtures imported, and the devices of a shared capture.

#![allow(dead_code)]

use palisade_engine::{build_inventory, Device, EventRecord, Observations};
use palisade_vulndb::matching::VulnMatch;
use palisade_vulndb::{import_paths, SqliteVulnDb};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The fixture folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A database in a temporary folder with every fixture imported.
pub fn imported_db() -> (tempfile::TempDir, SqliteVulnDb) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut db = SqliteVulnDb::open(&dir.path().join("site.db")).expect("open");
    let report = import_paths(&mut db, &[fixtures()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    (dir, db)
}

/// The devices (ids from 1) and stored-style events of a shared capture, or
/// `None` when the shared captures are absent.
pub fn capture(file: &str) -> Option<(Vec<Device>, Vec<EventRecord>)> {
    let events = palisade_sensor::testdata::shared_events(file)?;
    let mut obs = Observations::default();
    obs.ingest(&events);
    let mut inventory = build_inventory(&obs);
    for (i, d) in inventory.devices.iter_mut().enumerate() {
        d.id = i as i64 + 1;
    }
    let mut log = palisade_engine::ActivityLog::default();
    log.ingest(&events);
    log.sort();
    for (i, r) in log.records.iter_mut().enumerate() {
        r.id = i as i64 + 1;
    }
    Some((inventory.devices, log.records))
}

/// The device that has this IP address.
pub fn by_ip<'a>(devices: &'a [Device], ip: &str) -> &'a Device {
    let ip: std::net::IpAddr = ip.parse().expect("ip");
    devices.iter().find(|d| d.ips.contains(&ip)).unwrap_or_else(|| panic!("no device with {ip}"))
}

/// The CVE ids matched on a device, sorted.
pub fn cves(matches: &BTreeMap<i64, Vec<VulnMatch>>, id: i64) -> Vec<String> {
    let mut out: Vec<String> = matches.get(&id).map(|m| m.iter().map(|v| v.cve.clone()).collect()).unwrap_or_default();
    out.sort();
    out
}

/// One match of a device, which must be there.
pub fn get<'a>(matches: &'a BTreeMap<i64, Vec<VulnMatch>>, id: i64, cve: &str) -> &'a VulnMatch {
    matches.get(&id).and_then(|m| m.iter().find(|v| v.cve == cve)).unwrap_or_else(|| panic!("{cve} not matched on device {id}"))
}

/// A fact as the inventory keeps it.
pub fn fact(field: palisade_model::IdentityField, value: &str, source: &str) -> palisade_engine::SourcedFact {
    use palisade_model::Timestamp;
    palisade_engine::SourcedFact { field, value: value.into(), source: source.into(), first_seen: Timestamp(0), last_seen: Timestamp(0) }
}

/// A server known only by these facts (address 10.0.0.`id`).
pub fn device(id: i64, facts: Vec<palisade_engine::SourcedFact>) -> Device {
    use palisade_model::{DeviceType, Timestamp};
    Device {
        id,
        macs: Vec::new(),
        ips: vec![std::net::IpAddr::from([10, 0, 0, id as u8])],
        hostnames: Vec::new(),
        vendor: None,
        model: None,
        firmware: None,
        serial: None,
        os: None,
        device_type: DeviceType::Server,
        confidence: 0,
        purdue_level: None,
        protocols: Vec::new(),
        first_seen: Timestamp(0),
        last_seen: Timestamp(0),
        billable: true,
        active: true,
        behind_router: false,
        classification_reasons: Vec::new(),
        facts,
        keys: Vec::new(),
    }
}
