//! `palisade analyze` and `palisade demo`.

use crate::{detection, output, EXIT_OK, EXIT_PARTIAL};
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_capture::{expand_inputs, open_input, PacketSource};
use palisade_detect::{detection_only, Batch, Detector, EvidenceWriter, Rules};
use palisade_engine::{build_inventory, ActivityLog, Observations};
use palisade_model::{Protocol, ProtocolSet};
use palisade_sensor::{run_batches, Opener, PipelineConfig, Progress, RunStats};
use palisade_store::{AnalysisRecord, Database, SqliteStore, Store};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `palisade analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// Database file (created if missing; more analyses refine the same inventory).
    #[arg(long, default_value = "palisade.db")]
    db: PathBuf,
    #[command(flatten)]
    site: output::SiteChoice,
    /// Capture files (pcap, pcapng, gzip-compressed), directories, or `-` for standard input.
    inputs: Vec<String>,
    /// Capture live from this network interface (AF_PACKET ring); Ctrl-C stops.
    #[arg(long)]
    interface: Option<String>,
    /// With --interface: stop after this many seconds.
    #[arg(long)]
    duration: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Most live flows per worker before the oldest are evicted.
    #[arg(long, default_value_t = 500_000)]
    max_flows: usize,
    /// Dissectors to run: `all`, `none`, or protocol names separated by
    /// commas (e.g. `modbus,s7comm,dns`). Flows of the others are still
    /// tracked and their hosts inventoried.
    #[arg(long, default_value = "all", value_parser = parse_dissectors)]
    dissectors: ProtocolSet,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Learning period of the site, in capture time from its first packet (2h, 14d; 0 disables
    /// learning). Default: the stored period, 14d for a new database.
    #[arg(long, value_parser = detection::parse_period)]
    learning_period: Option<i64>,
    /// Threat intelligence to import before analysing (plain list or STIX 2.1 bundle; repeatable).
    #[arg(long)]
    intel: Vec<PathBuf>,
    /// Policy rules and exclusions for this analysis (syntax in the README).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Where alert evidence pcaps are written (default: DB.evidence/ beside the database).
    #[arg(long)]
    evidence_dir: Option<PathBuf>,
}

/// Detection settings of an analysis.
#[derive(Default)]
pub struct DetectionOptions {
    /// Replaces the stored learning period (ns).
    pub learning_period: Option<i64>,
    /// Policy rules and exclusions.
    pub rules: Rules,
    /// Directory of the evidence pcaps.
    pub evidence_dir: PathBuf,
}

/// The default evidence directory of a database: `site.db` → `site.evidence/`.
pub fn evidence_dir_of(db: &Path) -> PathBuf {
    db.with_extension("evidence")
}

/// Builds the openers for the named inputs and the live interface.
fn openers(args: &AnalyzeArgs, stop: &Arc<AtomicBool>) -> Vec<(String, Opener)> {
    let mut out: Vec<(String, Opener)> = Vec::new();
    for input in expand_inputs(&args.inputs) {
        let name = input.name();
        out.push((name, Box::new(move || open_input(&input))));
    }
    if let Some(iface) = args.interface.clone() {
        let stop = stop.clone();
        out.push((iface.clone(), Box::new(move || live_source(&iface, stop))));
    }
    out
}

#[cfg(target_os = "linux")]
fn live_source(iface: &str, stop: Arc<AtomicBool>) -> Result<Box<dyn PacketSource>, palisade_capture::CaptureError> {
    let source = palisade_capture::live::LiveSource::open(iface, &Default::default(), stop)?;
    Ok(Box::new(source))
}

#[cfg(not(target_os = "linux"))]
fn live_source(iface: &str, _stop: Arc<AtomicBool>) -> Result<Box<dyn PacketSource>, palisade_capture::CaptureError> {
    Err(palisade_capture::CaptureError::Live { name: iface.into(), what: "live capture needs Linux".into() })
}

/// `palisade analyze`.
pub fn analyze(args: &AnalyzeArgs) -> anyhow::Result<u8> {
    if args.inputs.is_empty() && args.interface.is_none() {
        anyhow::bail!("nothing to analyse: name capture files, directories, `-` for standard input, or --interface IFACE");
    }
    let stop = Arc::new(AtomicBool::new(false));
    if args.interface.is_some() {
        let flag = stop.clone();
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("installing the Ctrl-C handler")?;
        if let Some(secs) = args.duration {
            let flag = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(secs));
                flag.store(true, Ordering::SeqCst);
            });
        }
    }
    let rules = match &args.rules {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading rules {}", path.display()))?;
            Rules::parse(&text).with_context(|| format!("rules {}", path.display()))?
        }
        None => Rules::default(),
    };
    let mut store = SqliteStore::open(&args.db)?;
    args.site.select(&mut store, &args.db)?;
    let mut rules = rules;
    if !rules.policies.is_empty() || !rules.exclusions.is_empty() {
        // `level N` in rules: the Purdue levels the inventory gave the devices so far.
        for d in store.devices()? {
            if let Some(level) = d.purdue_level {
                rules.levels.insert(&d.ips, &d.macs, level);
            }
        }
    }
    if !args.intel.is_empty() {
        let (read, added) = detection::import_intel(&mut store, &args.intel)?;
        tracing::info!("imported {read} indicators ({added} new)");
    }
    let detection = DetectionOptions {
        learning_period: args.learning_period,
        rules,
        evidence_dir: args.evidence_dir.clone().unwrap_or_else(|| evidence_dir_of(&args.db)),
    };
    let config = PipelineConfig {
        workers: args.workers,
        limits: palisade_flow_limits(args.max_flows),
        disabled_dissectors: ProtocolSet::all().difference(args.dissectors),
    };
    let summary = analyze_into(&mut store, openers(args, &stop), &config, args.interface.is_some(), &detection)?;
    summary.print(args.json)?;
    Ok(if summary.failed_inputs > 0 { EXIT_PARTIAL } else { EXIT_OK })
}

fn palisade_flow_limits(max_flows: usize) -> palisade_sensor::TableLimits {
    palisade_sensor::TableLimits { max_flows: max_flows.max(1), ..Default::default() }
}

/// What an analysis did, for the summary line.
pub struct Summary {
    stats: RunStats,
    /// Devices in the site's inventory afterwards.
    pub devices: usize,
    /// Operations and violations recorded.
    pub events: usize,
    /// Alerts raised or updated.
    pub alerts: usize,
    elapsed: Duration,
    failed_inputs: usize,
}

impl Summary {
    /// The errors met in the inputs, one line each.
    pub fn errors(&self) -> Vec<String> {
        self.stats.inputs.iter().flat_map(|i| i.errors.iter().cloned()).collect()
    }

    fn print(&self, json: bool) -> anyhow::Result<()> {
        let a = &self.stats.analyzer;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mbps = a.bytes as f64 / 1e6 / secs;
        if json {
            let value = serde_json::json!({
                "packets": a.packets,
                "bytes": a.bytes,
                "flows": a.flows,
                "evicted_flows": a.evicted_flows,
                "decode_errors": a.decode_errors,
                "devices": self.devices,
                "events": self.events,
                "alerts": self.alerts,
                "seconds": secs,
                "mb_per_s": mbps,
                "inputs": self.stats.inputs.iter().map(|i| serde_json::json!({"name": i.name, "packets": i.packets, "errors": i.errors})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            eprintln!(
                "analysed {} packets, {:.1} MB, {} flows, {} devices, {} events, {} alerts raised or updated in {:.2} s ({:.0} MB/s){}",
                a.packets,
                a.bytes as f64 / 1e6,
                a.flows,
                self.devices,
                self.events,
                self.alerts,
                secs,
                mbps,
                if a.evicted_flows > 0 { format!("; {} flows evicted (raise --max-flows)", a.evicted_flows) } else { String::new() }
            );
            for input in self.stats.inputs.iter().filter(|i| !i.errors.is_empty()) {
                for e in &input.errors {
                    eprintln!("error: {e}");
                }
            }
        }
        Ok(())
    }
}

/// Parses `--dissectors`: `all`, `none` or a comma-separated list of protocol names.
fn parse_dissectors(text: &str) -> Result<ProtocolSet, String> {
    match text.trim() {
        "all" => return Ok(ProtocolSet::all()),
        "none" | "" => return Ok(ProtocolSet::default()),
        _ => {}
    }
    let mut set = ProtocolSet::default();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let protocol = Protocol::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Protocol::ALL.iter().map(|p| p.as_str()).collect();
            format!("unknown protocol {name:?}; use all, none or some of: {}", known.join(", "))
        })?;
        set.insert(protocol);
    }
    Ok(set)
}

/// Runs the pipeline over `inputs`, stores the merged inventory, and runs
/// detection: alerts, baseline and their evidence pcaps.
pub fn analyze_into(
    store: &mut dyn Database,
    inputs: Vec<(String, Opener)>,
    config: &PipelineConfig,
    live: bool,
    detection: &DetectionOptions,
) -> anyhow::Result<Summary> {
    analyze_into_with_progress(store, inputs, config, live, detection, Arc::new(Progress::default()))
}

/// [`analyze_into`], reporting into `progress` (the console follows uploads with it).
pub fn analyze_into_with_progress(
    store: &mut dyn Database,
    inputs: Vec<(String, Opener)>,
    config: &PipelineConfig,
    live: bool,
    detection: &DetectionOptions,
    progress: Arc<Progress>,
) -> anyhow::Result<Summary> {
    let names: Vec<String> = inputs.iter().map(|(n, _)| n.clone()).collect();
    let phase = Instant::now();
    let mut detector = Detector::new(store.load_detection()?, detection.learning_period, detection.rules.clone());
    tracing::debug!("detection state loaded in {:.2?}", phase.elapsed());
    let bar = progress_bar(live);
    let started = Instant::now();
    let mut observations = Observations::default();
    let mut activity = ActivityLog::default();
    let ticker = {
        let (progress, bar) = (progress.clone(), bar.clone());
        let done = Arc::new(AtomicBool::new(false));
        let finished = done.clone();
        let handle = std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                let total = progress.bytes_total.load(Ordering::Relaxed);
                if total > 0 {
                    bar.set_length(total);
                }
                bar.set_position(progress.bytes_done.load(Ordering::Relaxed));
                bar.set_message(format!("{} packets", progress.packets.load(Ordering::Relaxed)));
                // Woken at once when the analysis ends (unpark below), so it never holds the end up.
                std::thread::park_timeout(Duration::from_millis(100));
            }
        });
        (done, handle)
    };
    let stats = run_batches(inputs, config, progress, |batch| {
        observations.ingest(&batch.events);
        for event in batch.events.iter().filter(|e| !detection_only(e)) {
            activity.ingest(std::slice::from_ref(event));
        }
        detector.ingest(Batch { events: &batch.events, marks: &batch.marks, bytes: &batch.bytes });
    });
    activity.sort();
    ticker.0.store(true, Ordering::Relaxed);
    ticker.1.thread().unpark();
    let _ = ticker.1.join();
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    tracing::debug!("packets analysed in {elapsed:.2?}");
    let phase = Instant::now();
    let mut merged = store.load_observations()?;
    merged.merge(observations);
    let mut inventory = build_inventory(&merged);
    tracing::debug!("inventory merged and built in {:.2?}", phase.elapsed());
    let errors = stats.inputs.iter().flat_map(|i| i.errors.iter().cloned()).collect();
    let record = AnalysisRecord { inputs: names.clone(), packets: stats.analyzer.packets, bytes: stats.analyzer.bytes, errors };
    let phase = Instant::now();
    store.save_analysis(&merged, &mut inventory, &activity, &record)?;
    tracing::debug!("inventory and {} events stored in {:.2?}", activity.records.len(), phase.elapsed());
    let phase = Instant::now();
    let alerts = save_detection(store, detector, &names, &detection.evidence_dir)?;
    tracing::debug!("detection finished and stored in {:.2?}", phase.elapsed());
    let failed_inputs = stats.inputs.iter().filter(|i| !i.errors.is_empty()).count();
    Ok(Summary { devices: inventory.devices.len(), events: activity.records.len(), alerts, stats, elapsed, failed_inputs })
}

/// Stores what detection found and writes the evidence pcaps; returns the
/// number of alerts raised or updated.
fn save_detection(store: &mut dyn Database, detector: Detector, names: &[String], evidence_dir: &Path) -> anyhow::Result<usize> {
    let outcome = detector.finish();
    let mut alerts: Vec<_> = outcome.alerts.iter().map(|c| c.alert.clone()).collect();
    store.save_detection(&mut alerts, &outcome.baseline, &outcome.learning)?;
    // Packets of capture files are read back from them by input index.
    let files = names.iter().map(|n| Some(PathBuf::from(n)).filter(|p| p.is_file())).collect();
    let mut writer = EvidenceWriter::new(files);
    if outcome.alerts.iter().any(|c| !c.evidence.is_empty()) {
        std::fs::create_dir_all(evidence_dir).with_context(|| format!("creating the evidence directory {}", evidence_dir.display()))?;
    }
    // Stored paths are absolute, so they work from anywhere (the console, another directory).
    let evidence_dir = std::fs::canonicalize(evidence_dir).unwrap_or_else(|_| evidence_dir.to_path_buf());
    for (alert, change) in alerts.iter().zip(&outcome.alerts) {
        if change.evidence.is_empty() {
            continue;
        }
        let path = evidence_dir.join(format!("alert-{}.pcap", alert.id));
        match writer.write(&change.evidence, &path) {
            Ok(0) => {}
            Ok(packets) => store.set_alert_evidence(alert.id, &path.display().to_string(), packets)?,
            Err(e) => tracing::warn!("evidence of alert {}: writing {}: {e}", alert.id, path.display()),
        }
    }
    Ok(alerts.len())
}

fn progress_bar(live: bool) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    let template = if live {
        "{spinner} {elapsed_precise} {msg} {bytes} ({bytes_per_sec})"
    } else {
        "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// `palisade demo`.
pub fn demo(db: &Path, capture: &Path, duration: u32, json: bool) -> anyhow::Result<u8> {
    let options = palisade_demo::DemoOptions { duration_secs: duration, ..Default::default() };
    let file = std::fs::File::create(capture).with_context(|| format!("creating {}", capture.display()))?;
    let written = palisade_demo::write_demo_capture(&options, std::io::BufWriter::new(file))
        .with_context(|| format!("writing {}", capture.display()))?;
    eprintln!("generated {} ({} packets, {:.1} MB of plant traffic)", capture.display(), written.packets, written.bytes as f64 / 1e6);
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing the old demo database {}", path.display()))?;
        }
    }
    let mut store = SqliteStore::open(db)?;
    let name = capture.display().to_string();
    let path = capture.to_path_buf();
    let opener: Opener = Box::new(move || open_input(&palisade_capture::Input::Path(path)));
    // The plant learns during the first half of the capture; its incidents come after.
    let learning_secs = i64::from(duration.max(palisade_demo::MIN_DURATION_SECS)) / 2;
    let evidence_dir = evidence_dir_of(db);
    if evidence_dir.exists() {
        std::fs::remove_dir_all(&evidence_dir).with_context(|| format!("removing the old demo evidence {}", evidence_dir.display()))?;
    }
    let detection = DetectionOptions { learning_period: Some(learning_secs * 1_000_000_000), evidence_dir, ..Default::default() };
    let summary = analyze_into(&mut store, vec![(name, opener)], &PipelineConfig::default(), false, &detection)?;
    summary.print(false)?;
    output::print_devices(&store.devices()?, json)?;
    eprintln!("inventory stored in {}; list it again with: palisade devices --db {}", db.display(), db.display());
    eprintln!("{} alerts after {learning_secs} s of learning; list them with: palisade alerts --db {}", summary.alerts, db.display());
    Ok(EXIT_OK)
}
