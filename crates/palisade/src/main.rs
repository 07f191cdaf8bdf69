//! The `palisade` command line.

mod analyze;
mod count;
mod detection;
mod output;
mod serve;
mod sync;
mod vulns;

use clap::{Parser, Subcommand};
use palisade_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when every input was analysed.
const EXIT_OK: u8 = 0;
/// Exit code for a fatal error (nothing was stored).
const EXIT_FAILED: u8 = 1;
/// Exit code for a bad command line (clap's own, and a site that is not there).
const EXIT_USAGE: u8 = 2;
/// Exit code when the analysis was stored but some inputs had errors.
const EXIT_PARTIAL: u8 = 3;

/// A command line that names something the database does not hold (exit
/// code 2, like clap's own usage errors).
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Palisade: agentless security monitoring for OT/ICS and enterprise IoT networks.
#[derive(Parser)]
#[command(name = "palisade", version, about)]
struct Cli {
    /// Log level (error, warn, info, debug, trace); PALISADE_LOG overrides.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse captures (files, directories, `-` for standard input) or a live interface into the inventory.
    Analyze(analyze::AnalyzeArgs),
    /// List the device inventory.
    Devices {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        #[command(flatten)]
        site: output::SiteChoice,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the operations and protocol violations seen on the wire.
    Events {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        #[command(flatten)]
        site: output::SiteChoice,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Only `operation` or `violation` records.
        #[arg(long = "type", value_parser = ["operation", "violation"])]
        record_type: Option<String>,
        /// Only this protocol (e.g. modbus).
        #[arg(long)]
        protocol: Option<String>,
        /// Only events involving this IP address.
        #[arg(long)]
        ip: Option<String>,
        /// At most this many events.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Count the monitored (billable) devices per site and the site licence that covers them.
    Count {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        #[command(flatten)]
        site: output::SiteChoice,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the internet endpoints the site talked to.
    Endpoints {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        #[command(flatten)]
        site: output::SiteChoice,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the alerts.
    Alerts(detection::AlertsArgs),
    /// Change an alert's status: learn, ack, close, mute (or show it).
    Alert {
        #[command(subcommand)]
        command: detection::AlertCommand,
    },
    /// The learned baseline: what changed between two times; switch learning on again.
    Baseline {
        #[command(subcommand)]
        command: detection::BaselineCommand,
    },
    /// Threat intelligence: import indicators (IPs, domains, URLs, JA3/JA4; plain lists or STIX 2.1).
    Intel {
        #[command(subcommand)]
        command: detection::IntelCommand,
    },
    /// The offline vulnerability database (NVD, CSAF, CISA KEV).
    Vulndb {
        #[command(subcommand)]
        command: vulns::VulndbCommand,
    },
    /// List the vulnerabilities of the inventory's devices, with what each match rests on.
    Vulns(vulns::SiteArgs),
    /// Recommendations per site and device, with their evidence.
    Recommendations(vulns::SiteArgs),
    /// Risk scores per device and for the site, with their parts and the attack paths to controllers.
    Risk(vulns::SiteArgs),
    /// Write a self-contained HTML report (risk assessment or vulnerabilities) that prints cleanly to PDF.
    Report(vulns::ReportArgs),
    /// Generate a sample plant capture, analyse it into a fresh database and show the inventory.
    Demo {
        /// Database file (replaced).
        #[arg(long, default_value = "palisade-demo.db")]
        db: PathBuf,
        /// Where to write the generated capture.
        #[arg(long, default_value = "palisade-demo.pcap")]
        capture: PathBuf,
        /// Seconds of plant traffic to generate.
        #[arg(long, default_value_t = 600)]
        duration: u32,
        /// Print the inventory as JSON.
        #[arg(long)]
        json: bool,
        /// Stop after the analysis instead of serving the console on localhost.
        #[arg(long)]
        no_serve: bool,
        /// Where the console listens (another free port if this one is taken).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Serve the console: REST API under /api/v1 and the web UI (SQLite by default, or PostgreSQL).
    Serve(serve::ServeArgs),
    /// Send what this sensor analysed since its last sync to the console (or to a file for sites without a link).
    Sync(sync::SyncArgs),
    /// The embedded IEEE MAC vendor registry.
    Oui {
        #[command(subcommand)]
        command: OuiCommand,
    },
}

#[derive(Subcommand)]
enum OuiCommand {
    /// Rebuild the compact vendor table from IEEE registry CSV files (oui.csv, mam.csv, oui36.csv, iab.csv).
    Refresh {
        /// Output file (the embedded copy is crates/oui/data/oui.tsv.gz; rebuild afterwards).
        #[arg(long)]
        out: PathBuf,
        /// IEEE CSV files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Print the vendor registered for a MAC address.
    Lookup {
        /// MAC address, e.g. 00:1b:1b:12:34:56.
        mac: String,
    },
}

/// Lets a command whose output goes to a closed pipe (`palisade events |
/// head`) end quietly, as other command-line tools do, instead of failing
/// on its next write. Not for commands that talk over sockets, where a
/// peer's closed connection must stay an error to handle.
fn quit_on_closed_pipe() {
    // SAFETY: restoring the default action of SIGPIPE at start-up, before
    // any other thread exists, has no memory-safety effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_) | Command::Demo { .. } | Command::Sync(_)) {
        quit_on_closed_pipe();
    }
    let filter = std::env::var("PALISADE_LOG").unwrap_or_else(|_| cli.log_level.clone());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("palisade: {e:#}");
            ExitCode::from(if e.downcast_ref::<UsageError>().is_some() { EXIT_USAGE } else { EXIT_FAILED })
        }
    }
}

fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Analyze(args) => analyze::analyze(&args),
        Command::Devices { db, site, json } => {
            let devices = site.open(&db)?.devices()?;
            output::print_devices(&devices, json)?;
            Ok(EXIT_OK)
        }
        Command::Events { db, site, json, record_type, protocol, ip, limit } => {
            if let Some(p) = &protocol {
                if palisade_model::Protocol::from_name(p).is_none() {
                    anyhow::bail!(
                        "unknown protocol {p:?}; known: {}",
                        palisade_model::Protocol::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                    );
                }
            }
            let filter = palisade_store::EventFilter { record_type, protocol, ip, limit };
            let events = site.open(&db)?.events(&filter)?;
            output::print_events(&events, json)?;
            Ok(EXIT_OK)
        }
        Command::Count { db, site, json } => {
            let mut store = output::open_existing(&db)?;
            let site = site.select(&mut store, &db)?;
            count::print_counts(&site.name, &store.devices()?, json)?;
            Ok(EXIT_OK)
        }
        Command::Endpoints { db, site, json } => {
            let endpoints = site.open(&db)?.external_endpoints()?;
            output::print_endpoints(&endpoints, json)?;
            Ok(EXIT_OK)
        }
        Command::Alerts(args) => detection::alerts(&args),
        Command::Alert { command } => detection::alert(&command),
        Command::Baseline { command } => detection::baseline(&command),
        Command::Intel { command } => detection::intel(&command),
        Command::Vulndb { command } => vulns::vulndb(command),
        Command::Vulns(args) => vulns::vulns(&args),
        Command::Recommendations(args) => vulns::recommendations(&args),
        Command::Risk(args) => vulns::risk(&args),
        Command::Report(args) => vulns::write_report(&args),
        Command::Demo { db, capture, duration, json, no_serve, listen } => {
            let code = analyze::demo(&db, &capture, duration, json)?;
            if no_serve || code != EXIT_OK {
                return Ok(code);
            }
            serve::serve_demo(&db, listen)
        }
        Command::Serve(args) => serve::serve(args),
        Command::Sync(args) => sync::sync(&args),
        Command::Oui { command: OuiCommand::Refresh { out, inputs } } => {
            let summary = palisade_oui::refresh(&inputs, &out)?;
            println!("wrote {} entries to {}", summary.entries, out.display());
            Ok(EXIT_OK)
        }
        Command::Oui { command: OuiCommand::Lookup { mac } } => {
            let parsed = palisade_model::MacAddr::parse(&mac)
                .ok_or_else(|| anyhow::anyhow!("{mac:?} is not a MAC address (expected aa:bb:cc:dd:ee:ff)"))?;
            println!("{}", palisade_oui::vendor(parsed).unwrap_or("(unknown)"));
            Ok(EXIT_OK)
        }
    }
}
