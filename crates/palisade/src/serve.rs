//! `palisade serve`: the console (REST API and web UI) over SQLite or
//! PostgreSQL; and the console at the end of `palisade demo`.

use crate::analyze::{analyze_into_with_progress, evidence_dir_of, DetectionOptions};
use crate::EXIT_OK;
use anyhow::Context;
use clap::Args;
use palisade_capture::{open_input, Input};
use palisade_sensor::{Opener, PipelineConfig, Progress};
use palisade_server::{AnalysisOutcome, Analyzer, FirstAdmin, ServerConfig};
use palisade_store::{DeviceQuery, Location};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Arguments of `palisade serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// SQLite database file (the default store).
    #[arg(long, default_value = "palisade.db", conflicts_with = "database_url")]
    db: PathBuf,
    /// PostgreSQL instead of SQLite: postgres://user[:password]@host[:port]/database.
    #[arg(long)]
    database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM); with --tls-key the console is served over HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest capture accepted by upload, in MB.
    #[arg(long, default_value_t = 4096)]
    max_upload_mb: u64,
    /// Where uploads wait for analysis (default: beside the database, or the system's temporary folder).
    #[arg(long)]
    upload_dir: Option<PathBuf>,
    /// Where alert evidence of uploaded captures is written (default: DB.evidence/ beside an SQLite database).
    #[arg(long)]
    evidence_dir: Option<PathBuf>,
}

/// Analyses uploads with the same pipeline as `palisade analyze`.
struct CliAnalyzer {
    evidence_dir: PathBuf,
}

impl Analyzer for CliAnalyzer {
    fn analyze(
        &self,
        location: &Location,
        site_id: i64,
        capture: &Path,
        name: &str,
        progress: Arc<Progress>,
    ) -> anyhow::Result<AnalysisOutcome> {
        let mut store = palisade_store::open(location)?;
        store.set_site(site_id);
        let in_site = DeviceQuery { site: Some(site_id), ..Default::default() };
        let before = store.device_count(&in_site)?;
        let path = capture.to_path_buf();
        let opener: Opener = Box::new(move || open_input(&Input::Path(path)));
        // Detection as `palisade analyze` runs it: the site's stored learning period (14 days for a new one).
        let detection = DetectionOptions { evidence_dir: self.evidence_dir.clone(), ..Default::default() };
        let summary = analyze_into_with_progress(
            store.as_mut(),
            vec![(name.to_string(), opener)],
            &PipelineConfig::default(),
            false,
            &detection,
            progress.clone(),
        )?;
        let after = store.device_count(&in_site)?;
        Ok(AnalysisOutcome {
            packets: progress.packets.load(Ordering::Relaxed),
            devices: summary.devices,
            new_devices: after.saturating_sub(before) as usize,
            events: summary.events,
            alerts: summary.alerts,
            errors: summary.errors(),
        })
    }
}

/// Where uploads and evidence go for a location.
fn folders(location: &Location, upload_dir: Option<PathBuf>, evidence_dir: Option<PathBuf>) -> (PathBuf, PathBuf) {
    let beside = |suffix: &str| match location {
        Location::Sqlite(db) => db.with_extension(suffix),
        Location::Postgres(_) => std::env::temp_dir().join(format!("palisade-{suffix}")),
    };
    let evidence = evidence_dir.unwrap_or_else(|| match location {
        Location::Sqlite(db) => evidence_dir_of(db),
        Location::Postgres(_) => beside("evidence"),
    });
    (upload_dir.unwrap_or_else(|| beside("uploads")), evidence)
}

fn print_ready(url: &str, admin: Option<&FirstAdmin>) {
    println!("Palisade console: {url}");
    match admin {
        Some(a) => println!("first admin: user {}  password {}  (you must change it at first login)", a.username, a.password),
        None => println!("log in with an existing user"),
    }
    println!("Ctrl-C stops the console.");
}

fn run(config: ServerConfig) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(palisade_server::serve(config, print_ready))?;
    Ok(EXIT_OK)
}

/// `palisade serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let location = match args.database_url {
        Some(url) => Location::Postgres(url),
        None => Location::Sqlite(args.db),
    };
    let (upload_dir, evidence_dir) = folders(&location, args.upload_dir, args.evidence_dir);
    let tls = args.tls_cert.zip(args.tls_key);
    run(ServerConfig {
        location,
        listen: args.listen,
        tls,
        upload_dir,
        max_upload_bytes: args.max_upload_mb.saturating_mul(1_000_000),
        analyzer: Arc::new(CliAnalyzer { evidence_dir }),
        initial_admin_password: std::env::var("PALISADE_INITIAL_ADMIN_PASSWORD").ok(),
    })
}

/// The console over the demo database, on `listen` (or any free port if
/// that one is taken).
pub fn serve_demo(db: &Path, listen: SocketAddr) -> anyhow::Result<u8> {
    let location = Location::Sqlite(db.to_path_buf());
    let (upload_dir, evidence_dir) = folders(&location, None, None);
    let listen = if std::net::TcpListener::bind(listen).is_ok() { listen } else { SocketAddr::new(listen.ip(), 0) };
    run(ServerConfig {
        location,
        listen,
        tls: None,
        upload_dir,
        max_upload_bytes: 4_096_000_000,
        analyzer: Arc::new(CliAnalyzer { evidence_dir }),
        initial_admin_password: std::env::var("PALISADE_INITIAL_ADMIN_PASSWORD").ok(),
    })
}
