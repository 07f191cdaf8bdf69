//! Import and matching speed on an NVD-sized input.
//!
//! Writes synthetic CVE records in the NVD CVE JSON 2.0 feed format (one
//! file per "year", like the NVD data feeds), imports them into a fresh
//! database, imports them again (nothing changed), then matches a set of
//! synthetic devices, cold and from the cache, then builds the site's
//! recommendations, risk scores, attack paths and risk report over ten
//! conversations per device, and prints the times.
//!
//! ```sh
//! cargo run --release -p palisade-vulndb --example vulndb_bench -- [CVES] [DEVICES] [DIR] [POSTGRES_URL]
//! ```
//! Defaults: 250000 CVEs, 10000 devices, a temporary folder, SQLite (a
//! file in the folder). With a PostgreSQL URL the database is a fresh
//! `vulndb_bench` schema there instead, dropped and made anew.

use palisade_engine::{Device, EventRecord, SourcedFact};
use palisade_model::{DeviceType, IdentityField, Protocol, Timestamp};
use palisade_vulndb::advice::recommend;
use palisade_vulndb::db::VulnStore;
use palisade_vulndb::matching::match_devices;
use palisade_vulndb::report::risk_report;
use palisade_vulndb::risk::site_risk;
use palisade_vulndb::site::{Connection, SiteData};
use palisade_vulndb::{import_paths, PgVulnDb, SqliteVulnDb};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A small deterministic generator (xorshift64*), so every run writes the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const VENDORS: usize = 3000;
const PRODUCTS_PER_VENDOR: usize = 12;
const WORDS: &[&str] = &[
    "controller",
    "gateway",
    "server",
    "router",
    "switch",
    "camera",
    "panel",
    "station",
    "relay",
    "drive",
    "module",
    "bridge",
    "manager",
    "monitor",
    "agent",
    "portal",
    "suite",
    "link",
    "edge",
    "core",
];

fn vendor(i: usize) -> String {
    format!("vendor{i:04}")
}

fn product(rng_seed: usize, i: usize) -> String {
    let w = WORDS.get((rng_seed * 7 + i) % WORDS.len()).copied().unwrap_or("unit");
    format!("{w}_{}{}", ["x", "sc", "mk", "pro"].get(i % 4).copied().unwrap_or("x"), 100 + i * 10 + rng_seed % 7)
}

fn version(rng: &mut Rng) -> String {
    format!("{}.{}.{}", rng.below(12), rng.below(30), rng.below(20))
}

/// Writes one feed file of `count` records starting at `first`.
fn write_feed(path: &Path, year: usize, first: usize, count: usize, rng: &mut Rng) -> std::io::Result<u64> {
    let file = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    write!(
        w,
        "{{\"resultsPerPage\":{count},\"startIndex\":0,\"totalResults\":{count},\"format\":\"NVD_CVE\",\"version\":\"2.0\",\
         \"timestamp\":\"2099-01-01T00:00:00.000\",\"vulnerabilities\":["
    )?;
    for n in 0..count {
        if n > 0 {
            w.write_all(b",")?;
        }
        let id = first + n;
        let v = rng.below(VENDORS as u64) as usize;
        let p = rng.below(PRODUCTS_PER_VENDOR as u64) as usize;
        let score = 2.0 + rng.below(80) as f64 / 10.0;
        write!(
            w,
            "{{\"cve\":{{\"id\":\"CVE-{year}-{id:06}\",\"sourceIdentifier\":\"bench@palisade.invalid\",\"published\":\"{year}-03-01T10:00:00.000\",\
             \"lastModified\":\"{year}-04-01T10:00:00.000\",\"vulnStatus\":\"Analyzed\",\"cveTags\":[],\"descriptions\":[\
             {{\"lang\":\"en\",\"value\":\"Synthetic benchmark record: a buffer overflow in the {} of {} allows a remote attacker to execute \
             code or cause a denial of service by sending crafted packets to the management interface; versions before the fixed release \
             are affected. This text is sized like a real NVD description.\"}},{{\"lang\":\"es\",\"value\":\"Registro sintético de prueba \
             de rendimiento con una descripción de tamaño realista para el formato de NVD.\"}}],\"metrics\":{{\"cvssMetricV31\":[{{\"source\":\
             \"nvd@nist.gov\",\"type\":\"Primary\",\"cvssData\":{{\"version\":\"3.1\",\"vectorString\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\",\
             \"baseScore\":{score:.1},\"baseSeverity\":\"HIGH\",\"attackVector\":\"NETWORK\",\"attackComplexity\":\"LOW\",\"privilegesRequired\":\"NONE\",\
             \"userInteraction\":\"NONE\",\"scope\":\"UNCHANGED\",\"confidentialityImpact\":\"HIGH\",\"integrityImpact\":\"HIGH\",\"availabilityImpact\":\"HIGH\"}},\
             \"exploitabilityScore\":3.9,\"impactScore\":5.9}}]}},\"weaknesses\":[{{\"source\":\"nvd@nist.gov\",\"type\":\"Primary\",\"description\":\
             [{{\"lang\":\"en\",\"value\":\"CWE-{}\"}}]}}],\"configurations\":[{{\"nodes\":[{{\"operator\":\"OR\",\"negate\":false,\"cpeMatch\":[",
            product(v, p).replace('_', " "),
            vendor(v),
            100 + rng.below(700)
        )?;
        let matches = 1 + rng.below(4) as usize;
        for m in 0..matches {
            if m > 0 {
                w.write_all(b",")?;
            }
            let (lo, hi) = (version(rng), version(rng));
            write!(
                w,
                "{{\"vulnerable\":true,\"criteria\":\"cpe:2.3:o:{}:{}_firmware:*:*:*:*:*:*:*:*\",\"versionStartIncluding\":\"{lo}\",\
                 \"versionEndExcluding\":\"{hi}\",\"matchCriteriaId\":\"00000000-0000-4000-8000-{id:012}\"}}",
                vendor(v),
                product(v, (p + m) % PRODUCTS_PER_VENDOR)
            )?;
        }
        write!(w, "]}}]}}],\"references\":[")?;
        for r in 0..6 {
            if r > 0 {
                w.write_all(b",")?;
            }
            write!(w, "{{\"url\":\"https://example.invalid/{year}/{id}/ref{r}\",\"source\":\"bench@palisade.invalid\",\"tags\":[\"Vendor Advisory\"]}}")?;
        }
        w.write_all(b"]}}")?;
    }
    w.write_all(b"]}")?;
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn fact(field: IdentityField, value: String) -> SourcedFact {
    SourcedFact { field, value, source: "enip".into(), first_seen: Timestamp(0), last_seen: Timestamp(0) }
}

/// Devices of `models` distinct vendor/model/firmware identities.
fn devices(count: usize, models: usize, rng: &mut Rng) -> Vec<Device> {
    let identities: Vec<(String, String, String)> = (0..models)
        .map(|_| {
            let v = rng.below(VENDORS as u64) as usize;
            let p = rng.below(PRODUCTS_PER_VENDOR as u64) as usize;
            (vendor(v), product(v, p).replace('_', " ").to_uppercase(), version(rng))
        })
        .collect();
    (0..count)
        .map(|i| {
            let (v, m, f) = identities.get(i % models.max(1)).cloned().unwrap_or_default();
            let office = i % 5 == 1;
            Device {
                id: i as i64 + 1,
                macs: Vec::new(),
                ips: vec![address(i)],
                hostnames: Vec::new(),
                vendor: Some(v.clone()),
                model: Some(m.clone()),
                firmware: Some(f.clone()),
                serial: None,
                os: None,
                device_type: if office { DeviceType::Workstation } else { DeviceType::Plc },
                confidence: 0,
                purdue_level: Some(if office { 4 } else { 1 }),
                protocols: Vec::new(),
                first_seen: Timestamp(0),
                last_seen: Timestamp(0),
                billable: true,
                active: true,
                behind_router: false,
                classification_reasons: Vec::new(),
                facts: vec![fact(IdentityField::Vendor, v), fact(IdentityField::Model, m), fact(IdentityField::Firmware, f)],
                keys: Vec::new(),
            }
        })
        .collect()
}

/// The address of the `i`th synthetic device.
fn address(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32.wrapping_add(i as u32)))
}

/// Times recommendations, risk and the risk report on the devices with
/// ten conversations each (a third of them stored operations).
fn assess(devices: Vec<Device>, matches: std::collections::BTreeMap<i64, Vec<palisade_vulndb::matching::VulnMatch>>, rng: &mut Rng) {
    let n = devices.len();
    let mut site = SiteData { name: "bench".into(), devices, vulns: matches, ..Default::default() };
    for k in 0..n * 10 {
        let (a, b) = (address(rng.below(n as u64) as usize), address(rng.below(n as u64) as usize));
        if k % 3 == 0 {
            let kind = if k % 1000 == 0 { "program-download" } else { "read" };
            site.events.push(EventRecord {
                id: k as i64,
                time: Timestamp(0),
                record_type: "operation".into(),
                protocol: Protocol::S7comm,
                src_ip: Some(a),
                src_mac: None,
                dst_ip: Some(b),
                dst_mac: None,
                kind: kind.into(),
                code: Some(0),
                target: None,
                result: None,
                detail: None,
                count: 1,
                last_time: None,
            });
        } else {
            site.connections.push(Connection { client: a, server: b, protocol: Some(Protocol::S7comm), seen_in: "service".into() });
        }
    }
    site.connections_from_events();
    let t = Instant::now();
    let recs = recommend(&site);
    let rec_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let risk = site_risk(&site, &recs);
    let risk_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let html = risk_report(&site, &recs, &risk, "bench", &[]);
    println!(
        "assess {n} devices, {} connections, {} operations: recommendations {rec_secs:.2} s ({} kinds), risk and attack paths \
         {risk_secs:.2} s (site {}), risk report {:.2} s ({} KB)",
        site.connections.len(),
        site.events.len(),
        recs.site.len(),
        risk.score,
        t.elapsed().as_secs_f64(),
        html.len() / 1024
    );
}

/// The PostgreSQL schema the benchmark works in.
const SCHEMA: &str = "vulndb_bench";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let cves: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(250_000);
    let device_count: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let tmp = tempfile::tempdir()?;
    let dir: PathBuf = args.get(3).map(PathBuf::from).unwrap_or_else(|| tmp.path().to_path_buf());
    let feeds = dir.join("feeds");
    std::fs::create_dir_all(&feeds)?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let per_file = 25_000;
    let started = Instant::now();
    let mut bytes = 0;
    let mut written = 0;
    let mut year = 2000;
    while written < cves {
        let n = per_file.min(cves - written);
        bytes += write_feed(&feeds.join(format!("nvdcve-2.0-{year}.json")), year, written, n, &mut rng)?;
        written += n;
        year += 1;
    }
    println!(
        "generated {cves} CVE records in {} files, {:.0} MB, in {:.1} s",
        year - 2000,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let db_path = dir.join("bench.db");
    let postgres = args.get(4).cloned();
    let mut db: Box<dyn VulnStore + Send> = match &postgres {
        Some(url) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls)?;
            client.batch_execute(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))?;
            Box::new(PgVulnDb::open_in_schema(url, Some(SCHEMA))?)
        }
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(PathBuf::from(format!("{}{suffix}", db_path.display())));
            }
            Box::new(SqliteVulnDb::open(&db_path)?)
        }
    };
    let t = Instant::now();
    let report = import_paths(db.as_mut(), std::slice::from_ref(&feeds));
    let import_secs = t.elapsed().as_secs_f64();
    if !report.errors.is_empty() {
        return Err(report.errors.join("\n").into());
    }
    let status = db.status()?;
    let size = match &postgres {
        Some(url) => postgres::Client::connect(url, postgres::NoTls)?
            .query_one(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
                &[&SCHEMA],
            )?
            .get::<_, i64>(0) as u64,
        None => std::fs::metadata(&db_path)?.len() + std::fs::metadata(format!("{}-wal", db_path.display())).map(|m| m.len()).unwrap_or(0),
    };
    println!(
        "import: {} CVEs, {} CPE criteria, {} products in {import_secs:.1} s ({:.0} CVEs/s, {:.0} MB/s of JSON); database {:.0} MB",
        status.cves,
        status.cpe_matches,
        status.products,
        status.cves as f64 / import_secs,
        bytes as f64 / 1e6 / import_secs,
        size as f64 / 1e6
    );
    let t = Instant::now();
    let again = import_paths(db.as_mut(), std::slice::from_ref(&feeds));
    let changed: u64 = again.files.iter().map(|f| f.changed).sum();
    println!("re-import of the same files: {changed} changed, {:.1} s", t.elapsed().as_secs_f64());

    let models = (device_count / 10).max(1);
    let list = devices(device_count, models, &mut rng);
    let generation = db.generation()?;
    let t = Instant::now();
    let matches = match_devices(db.as_mut(), &list, generation)?;
    let cold = t.elapsed().as_secs_f64();
    let found: usize = matches.values().map(Vec::len).sum();
    let affected = matches.values().filter(|m| !m.is_empty()).count();
    println!("match (cold): {device_count} devices ({models} distinct identities) in {cold:.2} s; {found} matches on {affected} devices");
    let t = Instant::now();
    let again = match_devices(db.as_mut(), &list, generation)?;
    println!(
        "match (cached, nothing changed): {:.2} s; {} matches",
        t.elapsed().as_secs_f64(),
        again.values().map(Vec::len).sum::<usize>()
    );
    assess(list, matches, &mut rng);
    Ok(())
}
