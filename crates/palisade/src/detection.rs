//! `palisade alerts`, `alert`, `baseline` and `intel`.

use crate::output::{open_existing, print_table, SiteChoice};
use crate::EXIT_OK;
use anyhow::Context;
use clap::{Args, Subcommand};
use palisade_detect::{diff, parse_duration, parse_intel, Alert, HostKey, Learning, LearningWindow};
use palisade_model::{AlertStatus, Timestamp};
use palisade_store::{AlertFilter, AlertStore, SqliteStore};
use std::path::{Path, PathBuf};

/// Arguments of `palisade alerts`.
#[derive(Args)]
pub struct AlertsArgs {
    /// Database file.
    #[arg(long, default_value = "palisade.db")]
    db: PathBuf,
    #[command(flatten)]
    site: SiteChoice,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// Only alerts with this status (new, acknowledged, closed, learned, muted).
    #[arg(long, value_parser = parse_status)]
    status: Option<AlertStatus>,
    /// At most this many alerts (the oldest first).
    #[arg(long)]
    limit: Option<usize>,
}

/// `palisade alert ...`: one alert's workflow.
#[derive(Subcommand)]
pub enum AlertCommand {
    /// Accept the alert as normal: what it deviated from joins the baseline.
    Learn(AlertId),
    /// Acknowledge the alert (seen, still open).
    Ack(AlertId),
    /// Close the alert; if it happens again, a new alert is raised.
    Close(AlertId),
    /// Mute the alert: repeats are counted but not raised again.
    Mute(AlertId),
    /// Show one alert with its description and remediation.
    Show(AlertId),
}

/// An alert id and the database.
#[derive(Args)]
pub struct AlertId {
    /// Alert id (see `palisade alerts`).
    id: i64,
    /// Database file.
    #[arg(long, default_value = "palisade.db")]
    db: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `palisade baseline ...`.
#[derive(Subcommand)]
pub enum BaselineCommand {
    /// What changed in the network between two times: devices, connections, operations.
    Diff {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        #[command(flatten)]
        site: SiteChoice,
        /// Start (RFC 3339 capture time, e.g. 2025-01-14T10:00:00Z).
        #[arg(long, value_parser = parse_time)]
        from: Timestamp,
        /// End (RFC 3339 capture time).
        #[arg(long, value_parser = parse_time)]
        to: Timestamp,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Switch learning on again, from the last capture time analysed, for the whole site or one device.
    Learn {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        #[command(flatten)]
        site: SiteChoice,
        /// Only this device (IP or MAC address).
        #[arg(long)]
        device: Option<String>,
        /// For how long (capture time: 30m, 2h, 14d).
        #[arg(long, value_parser = parse_period, default_value = "1d")]
        period: i64,
    },
}

/// `palisade intel ...`.
#[derive(Subcommand)]
pub enum IntelCommand {
    /// Import indicators (a plain list of IPs, domains, URLs, JA3/JA4; or a STIX 2.1 bundle).
    Import {
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Database file (created if missing).
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
    },
    /// List the stored indicators.
    List {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_status(text: &str) -> Result<AlertStatus, String> {
    AlertStatus::from_name(text).ok_or_else(|| {
        format!("unknown status {text:?}; expected one of {}", AlertStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
    })
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time like 2025-01-14T10:00:00Z"))
}

/// Parses a learning period for clap.
pub fn parse_period(text: &str) -> Result<i64, String> {
    parse_duration(text)
}

/// `palisade alerts`.
pub fn alerts(args: &AlertsArgs) -> anyhow::Result<u8> {
    let store = args.site.open(&args.db)?;
    let alerts = store.alerts(&AlertFilter { status: args.status, limit: args.limit })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&alerts)?);
        return Ok(EXIT_OK);
    }
    let side = |ip: &Option<std::net::IpAddr>, mac: &Option<palisade_model::MacAddr>| {
        ip.map(|i| i.to_string()).or_else(|| mac.map(|m| m.to_string())).unwrap_or_else(|| "-".into())
    };
    let rows: Vec<[String; 9]> = alerts
        .iter()
        .map(|a| {
            [
                a.id.to_string(),
                a.severity.to_string(),
                a.status.to_string(),
                a.category.to_string(),
                a.engine.to_string(),
                side(&a.src_ip, &a.src_mac),
                side(&a.dst_ip, &a.dst_mac),
                a.count.to_string(),
                a.title.clone(),
            ]
        })
        .collect();
    print_table(&["ID", "SEVERITY", "STATUS", "CATEGORY", "ENGINE", "SOURCE", "DESTINATION", "COUNT", "TITLE"], &rows);
    println!("{} alerts", alerts.len());
    Ok(EXIT_OK)
}

fn print_alert(a: &Alert, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(a)?);
        return Ok(());
    }
    println!("alert {} [{} {}] {}", a.id, a.severity, a.status, a.title);
    println!("  category {}, engine {}, protocol {}", a.category, a.engine, a.protocol.map_or("-", |p| p.as_str()));
    println!("  {} occurrence(s) from {} to {}", a.count, a.first_seen.to_rfc3339(), a.last_seen.to_rfc3339());
    println!("  what happened: {}", a.description);
    println!("  what to do: {}", a.remediation);
    match &a.evidence {
        Some(path) => println!("  evidence: {path} ({} packets)", a.evidence_packets),
        None => println!("  evidence: none"),
    }
    Ok(())
}

/// `palisade alert learn|ack|close|mute|show ID`.
pub fn alert(command: &AlertCommand) -> anyhow::Result<u8> {
    let (args, status) = match command {
        AlertCommand::Learn(a) => (a, Some(AlertStatus::Learned)),
        AlertCommand::Ack(a) => (a, Some(AlertStatus::Acknowledged)),
        AlertCommand::Close(a) => (a, Some(AlertStatus::Closed)),
        AlertCommand::Mute(a) => (a, Some(AlertStatus::Muted)),
        AlertCommand::Show(a) => (a, None),
    };
    let mut store = open_existing(&args.db)?;
    let alert = match status {
        Some(s) => store.set_alert_status(args.id, s)?,
        None => store.alert(args.id)?,
    };
    let alert = alert.ok_or_else(|| {
        anyhow::anyhow!("no alert {} in {}; list them with `palisade alerts --db {}`", args.id, args.db.display(), args.db.display())
    })?;
    print_alert(&alert, args.json)?;
    Ok(EXIT_OK)
}

/// `palisade baseline diff|learn`.
pub fn baseline(command: &BaselineCommand) -> anyhow::Result<u8> {
    match command {
        BaselineCommand::Diff { db, site, from, to, json } => {
            if to < from {
                anyhow::bail!("--to {} is before --from {}", to.to_rfc3339(), from.to_rfc3339());
            }
            let rows = site.open(db)?.baseline()?;
            let d = diff(&rows, *from, *to);
            if *json {
                println!("{}", serde_json::to_string_pretty(&d)?);
                return Ok(EXIT_OK);
            }
            for (label, rows) in [("added", &d.added), ("not seen since", &d.removed)] {
                let table: Vec<[String; 5]> = rows
                    .iter()
                    .map(|r| {
                        [
                            label.to_string(),
                            r.kind.clone(),
                            r.item.clone(),
                            r.first_seen.to_rfc3339(),
                            if r.learned { "learned".into() } else { "change".into() },
                        ]
                    })
                    .collect();
                if !table.is_empty() {
                    print_table(&["", "KIND", "ITEM", "FIRST SEEN", "BASELINE"], &table);
                }
            }
            println!("{} added, {} not seen since {}", d.added.len(), d.removed.len(), from.to_rfc3339());
            Ok(EXIT_OK)
        }
        BaselineCommand::Learn { db, site, device, period } => {
            if let Some(d) = device {
                HostKey::parse(d).ok_or_else(|| anyhow::anyhow!("--device {d:?} is not an IP or MAC address"))?;
            }
            let mut store = site.open(db)?;
            let mut learning: Learning = store.learning()?.unwrap_or_default();
            let from = learning
                .last_seen
                .ok_or_else(|| anyhow::anyhow!("nothing analysed into {} yet: learning is already on for a new site", db.display()))?;
            let until = Timestamp(from.0.saturating_add(*period));
            learning.windows.push(LearningWindow { host: device.clone(), from, until });
            store.save_learning(&learning)?;
            println!(
                "learning on for {} from {} to {} (capture time)",
                device.as_deref().unwrap_or("the whole site"),
                from.to_rfc3339(),
                until.to_rfc3339()
            );
            Ok(EXIT_OK)
        }
    }
}

/// Reads indicators from files and stores them; returns (read, new).
pub fn import_intel(store: &mut SqliteStore, files: &[PathBuf]) -> anyhow::Result<(usize, usize)> {
    let (mut read, mut added) = (0, 0);
    for file in files {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let indicators = parse_intel(&text, &file_name(file))?;
        read += indicators.len();
        added += store.add_intel(&indicators)?;
    }
    Ok((read, added))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// `palisade intel import|list`.
pub fn intel(command: &IntelCommand) -> anyhow::Result<u8> {
    match command {
        IntelCommand::Import { files, db } => {
            let mut store = SqliteStore::open(db).with_context(|| format!("opening {}", db.display()))?;
            let (read, added) = import_intel(&mut store, files)?;
            println!("imported {read} indicators ({added} new) into {}", db.display());
            Ok(EXIT_OK)
        }
        IntelCommand::List { db, json } => {
            let indicators = open_existing(db)?.intel()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&indicators)?);
                return Ok(EXIT_OK);
            }
            let rows: Vec<[String; 3]> =
                indicators.iter().map(|i| [i.kind.as_str().to_string(), i.value.clone(), i.source.clone()]).collect();
            print_table(&["KIND", "VALUE", "SOURCE"], &rows);
            println!("{} indicators", indicators.len());
            Ok(EXIT_OK)
        }
    }
}
