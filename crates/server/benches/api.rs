//! API benchmark: stores N devices and M alerts (100,000 and 1,000,000 by
//! default), serves the console in-process and measures the latency of the
//! device list (filtered, one page), of the alert list (open alerts, one
//! page) and of the site's risk and recommendations (once assessed) under C
//! concurrent clients (50) over keep-alive HTTP/1.1 on
//! loopback. Prints p50/p90/p99 per request kind and whether p99 < 50 ms.
//!
//! ```sh
//! cargo bench -p palisade-server --bench api -- --backend sqlite
//! cargo bench -p palisade-server --bench api -- --backend postgres [--database-url postgres://postgres@127.0.0.1/test]
//! ```
//! Options: `--devices N --alerts M --clients C --requests R` (requests per
//! client and kind; default 200).

use palisade_detect::{Draft, Learning};
use palisade_engine::{build_inventory, ActivityLog, Inventory, Observations};
use palisade_model::{AlertCategory, MacAddr, Severity, Timestamp};
use palisade_server::{AnalysisOutcome, Analyzer, ServerConfig};
use palisade_store::{AnalysisRecord, Location};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The target of issue 6: p99 under this many milliseconds.
const TARGET_P99_MS: f64 = 50.0;

struct Options {
    backend: String,
    url: String,
    devices: usize,
    alerts: usize,
    clients: usize,
    requests: usize,
}

fn options() -> Options {
    let mut o = Options {
        backend: "sqlite".into(),
        url: std::env::var("PALISADE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        devices: 100_000,
        alerts: 1_000_000,
        clients: 50,
        requests: 200,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || value.parse::<usize>().unwrap_or_else(|_| panic!("{} needs a number", args[i]));
        match args[i].as_str() {
            "--backend" => o.backend = value.clone(),
            "--database-url" => o.url = value.clone(),
            "--devices" => o.devices = number(),
            "--alerts" => o.alerts = number(),
            "--clients" => o.clients = number(),
            "--requests" => o.requests = number(),
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

/// Uploads are not part of this benchmark.
struct NoAnalyzer;

impl Analyzer for NoAnalyzer {
    fn analyze(
        &self,
        _: &Location,
        _: i64,
        _: &std::path::Path,
        _: &str,
        _: Arc<palisade_sensor::Progress>,
    ) -> anyhow::Result<AnalysisOutcome> {
        anyhow::bail!("not in the benchmark")
    }
}

/// `n` devices cloned from the demo plant's (so types, vendors and facts
/// are realistic), each with its own MAC and IP.
fn devices(n: usize) -> Inventory {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plant.pcap");
    let file = std::fs::File::create(&path).unwrap();
    palisade_demo::write_demo_capture(
        &palisade_demo::DemoOptions { duration_secs: 120, ..Default::default() },
        std::io::BufWriter::new(file),
    )
    .unwrap();
    let events = palisade_sensor::analyze_path_events(&path).unwrap();
    let mut obs = Observations::default();
    obs.ingest(&events);
    let templates = build_inventory(&obs).devices;
    let devices = (0..n)
        .map(|i| {
            let mut d = templates[i % templates.len()].clone();
            let b = (i as u32).to_be_bytes();
            let mac = MacAddr([0x02, 0x50, b[0], b[1], b[2], b[3]]);
            d.macs = vec![mac];
            d.ips = vec![IpAddr::V4(Ipv4Addr::new(10, b[1], b[2], b[3]))];
            d.keys = vec![format!("mac:{mac}")];
            d.first_seen = Timestamp(d.first_seen.0 + i as i64 * 1_000_000);
            d.last_seen = Timestamp(d.last_seen.0 + i as i64 * 1_000_000);
            d
        })
        .collect();
    Inventory { devices, external: Vec::new() }
}

/// Stores the devices through the store, then multiplies one real alert
/// into `alerts` rows inside the database (fast, and the rows are the
/// store's own format).
fn seed(location: &Location, o: &Options) {
    let started = Instant::now();
    let mut store = palisade_store::open(location).unwrap();
    let mut inventory = devices(o.devices);
    store.save_analysis(&Observations::default(), &mut inventory, &ActivityLog::default(), &AnalysisRecord::default()).unwrap();
    let mut draft =
        Draft::new(AlertCategory::UnauthorizedWrite, Timestamp(1_736_848_800_000_000_000), "Write from 10.0.0.1".into(), "bench".into());
    draft.severity = Severity::High;
    draft.src_ip = Some("10.0.0.1".parse().unwrap());
    draft.dst_ip = Some("10.0.0.2".parse().unwrap());
    let mut seed_alert = vec![draft.into_alert()];
    store.save_detection(&mut seed_alert, &[], &Learning::default()).unwrap();
    let copies = o.alerts.saturating_sub(1);
    // Statuses and severities spread like a real console's: most alerts
    // are closed or learned, a quarter open; one in ten critical.
    let columns =
        "group_key, title, category, engine, severity, status, src_ip, src_mac, dst_ip, dst_mac, protocol, first_ns, last_ns, count, \
                   description, remediation, evidence, evidence_packets, baseline_items";
    let select = "group_key || g, title, category, engine, \
                  CASE WHEN g % 10 = 0 THEN 'critical' WHEN g % 3 = 0 THEN 'medium' ELSE severity END, \
                  CASE WHEN g % 4 = 0 THEN 'new' WHEN g % 4 = 1 THEN 'closed' WHEN g % 4 = 2 THEN 'learned' ELSE 'acknowledged' END, \
                  '10.' || ((g / 65536) % 256) || '.' || ((g / 256) % 256) || '.' || (g % 256), src_mac, dst_ip, dst_mac, protocol, \
                  first_ns + CAST(g AS BIGINT) * 1000000000, last_ns + CAST(g AS BIGINT) * 1000000000, count, description, remediation, evidence, evidence_packets, baseline_items";
    match location {
        Location::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch(&format!(
                "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {copies}) \
                 INSERT INTO alerts ({columns}) SELECT {select} FROM s, (SELECT * FROM alerts WHERE id = 1); ANALYZE;"
            ))
            .unwrap();
        }
        Location::Postgres(url) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!(
                    "INSERT INTO alerts ({columns}) SELECT {select} FROM generate_series(1, {copies}) AS g, \
                     (SELECT * FROM alerts WHERE id = 1) AS a; ANALYZE;"
                ))
                .unwrap();
        }
    }
    eprintln!("stored {} devices and {} alerts in {:.1} s", o.devices, o.alerts, started.elapsed().as_secs_f64());
}

/// A read-only user's API token, straight into the store.
fn token(location: &Location) -> String {
    let store = palisade_store::open(location).unwrap();
    let user = store.create_user("bench", "read-only", "x", false, "2026-01-01T00:00:00Z").unwrap();
    let secret = "plt_benchmark_token";
    store.create_api_token(user.id, "bench", &palisade_server::auth::token_hash(secret), "2026-01-01T00:00:00Z").unwrap();
    secret.to_string()
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream }
    }

    /// GETs `path`; the status and the body.
    fn get(&mut self, path: &str, token: &str) -> (u16, Vec<u8>) {
        write!(self.writer, "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        (status, body)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn main() {
    let o = options();
    let dir = tempfile::tempdir().unwrap();
    let (location, schema) = match o.backend.as_str() {
        "sqlite" => (Location::Sqlite(dir.path().join("bench.db")), None),
        "postgres" => {
            let schema = format!("bench_{}", std::process::id());
            let mut client = postgres::Client::connect(&o.url, postgres::NoTls).unwrap();
            client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();
            let sep = if o.url.contains('?') { '&' } else { '?' };
            (Location::Postgres(format!("{}{sep}options=-csearch_path%3D{schema}", o.url)), Some(schema))
        }
        other => panic!("--backend must be sqlite or postgres, not {other}"),
    };
    seed(&location, &o);
    let token = token(&location);
    let config = ServerConfig {
        location: location.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        upload_dir: dir.path().join("uploads"),
        max_upload_bytes: 1,
        analyzer: Arc::new(NoAnalyzer),
        initial_admin_password: Some("bench-admin-password".into()),
    };
    let (router, _) = palisade_server::build(&config).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, router).await });

    let kinds: [(&str, &str); 6] = [
        ("devices: type=plc, first page", "/api/v1/devices?type=plc&limit=50"),
        ("devices: sorted by last seen, first page", "/api/v1/devices?sort=last_seen&order=desc&limit=50"),
        ("alerts: open, first page", "/api/v1/alerts?status=open&limit=50"),
        ("alerts: critical, first page", "/api/v1/alerts?severity=critical&limit=50"),
        ("risk: site and 20 riskiest devices", "/api/v1/risk?limit=20"),
        ("recommendations: site and 20 devices", "/api/v1/recommendations?limit=20"),
    ];
    // Warm up: every kind once, checking the answers (the first risk request assesses the site).
    let mut warm = Client::connect(addr);
    for (name, path) in kinds {
        let t = Instant::now();
        let (status, body) = warm.get(path, &token);
        assert_eq!(status, 200, "{name}: {}", String::from_utf8_lossy(&body));
        let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if path.starts_with("/api/v1/risk") {
            assert_eq!(page["devices"].as_array().map(Vec::len), Some(20), "{name}");
            println!("site assessment of {} devices (matching, recommendations, risk): {:.2} s", o.devices, t.elapsed().as_secs_f64());
        } else if page.get("items").is_some() {
            assert_eq!(page["items"].as_array().map(Vec::len), Some(50), "{name}: a full page");
        }
    }
    let started = Instant::now();
    let handles: Vec<_> = (0..o.clients)
        .map(|c| {
            let token = token.clone();
            let requests = o.requests;
            std::thread::spawn(move || {
                let mut client = Client::connect(addr);
                let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(requests); kinds.len()];
                for r in 0..requests * kinds.len() {
                    let k = (r + c) % kinds.len();
                    let t = Instant::now();
                    let (status, _) = client.get(kinds[k].1, &token);
                    times[k].push(t.elapsed());
                    assert_eq!(status, 200);
                }
                times
            })
        })
        .collect();
    let mut all: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    for h in handles {
        for (k, t) in h.join().unwrap().into_iter().enumerate() {
            all[k].extend(t);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: usize = all.iter().map(Vec::len).sum();
    println!(
        "backend {} · {} devices · {} alerts · {} clients · {} requests in {:.1} s ({:.0} req/s)",
        o.backend,
        o.devices,
        o.alerts,
        o.clients,
        total,
        elapsed,
        total as f64 / elapsed
    );
    println!("{:<44} {:>8} {:>8} {:>8} {:>8}  p99 < {TARGET_P99_MS} ms", "request", "p50 ms", "p90 ms", "p99 ms", "max ms");
    for (k, (name, _)) in kinds.iter().enumerate() {
        let times = &mut all[k];
        times.sort();
        let p99 = percentile(times, 0.99);
        println!(
            "{name:<44} {:>8.2} {:>8.2} {:>8.2} {:>8.2}  {}",
            percentile(times, 0.5),
            percentile(times, 0.9),
            p99,
            percentile(times, 1.0),
            if p99 < TARGET_P99_MS { "yes" } else { "NO" }
        );
    }
    if let Some(schema) = schema {
        drop(runtime);
        let mut client = postgres::Client::connect(&o.url, postgres::NoTls).unwrap();
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    }
}
