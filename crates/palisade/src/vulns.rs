//! `palisade vulndb import`, `vulns`, `recommendations`, `risk` and `report`.

use crate::{output, EXIT_OK, EXIT_PARTIAL};
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use palisade_detect::{BaselineKey, HostKey, Service};
use palisade_store::{AlertFilter, AlertStore, EventFilter, Store};
use palisade_vulndb::advice::recommend;
use palisade_vulndb::matching::match_devices;
use palisade_vulndb::risk::site_risk;
use palisade_vulndb::site::{device_label, Connection, OpenAlert, SiteData};
use palisade_vulndb::{import_paths, report, SqliteVulnDb, VulnStore};
use std::path::{Path, PathBuf};

/// `palisade vulndb` subcommands.
#[derive(Subcommand)]
pub enum VulndbCommand {
    /// Import NVD CVE or CPE JSON 2.0 feeds (plain or .gz), CSAF 2.0 advisories and the CISA KEV catalog, from files or directories.
    Import {
        /// Database file (the vulnerability tables live beside the inventory).
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// List the CPE names that describe each device (from the imported CPE products), with what they rest on.
    Cpes {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show what the vulnerability database holds.
    Status {
        /// Database file.
        #[arg(long, default_value = "palisade.db")]
        db: PathBuf,
    },
}

/// Options of the site-level listing commands.
#[derive(Args)]
pub struct SiteArgs {
    /// Database file.
    #[arg(long, default_value = "palisade.db")]
    db: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Site name shown in reports (default: the database file name).
    #[arg(long)]
    site: Option<String>,
}

/// Which report to write.
#[derive(Clone, Copy, ValueEnum)]
pub enum ReportKind {
    /// Risk assessment: scores, recommendations, attack vectors.
    Risk,
    /// Vulnerabilities per device.
    Vulns,
}

/// Options of `palisade report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Which report.
    kind: ReportKind,
    /// Output HTML file (self-contained; print it to PDF from a browser or headless Chromium).
    #[arg(long)]
    out: PathBuf,
    /// Database file.
    #[arg(long, default_value = "palisade.db")]
    db: PathBuf,
    /// Site name shown in the report (default: the database file name).
    #[arg(long)]
    site: Option<String>,
}

/// `palisade vulndb …`.
pub fn vulndb(command: VulndbCommand) -> anyhow::Result<u8> {
    match command {
        VulndbCommand::Import { db, json, paths } => {
            let mut vdb = SqliteVulnDb::open(&db)?;
            let report = import_paths(&mut vdb, &paths);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for f in &report.files {
                    eprintln!("imported {} ({}): {} records, {} new or changed", f.path, f.kind, f.records, f.changed);
                }
                for e in &report.errors {
                    eprintln!("error: {e}");
                }
                let s = vdb.status()?;
                eprintln!(
                    "{} files imported, {} refused; database holds {} CVEs, {} CPE criteria, {} advisories, {} KEV entries",
                    report.files.len(),
                    report.errors.len(),
                    s.cves,
                    s.cpe_matches,
                    s.advisories,
                    s.kev
                );
            }
            Ok(if report.errors.is_empty() { EXIT_OK } else { EXIT_PARTIAL })
        }
        VulndbCommand::Cpes { db, json } => {
            let devices = output::open_existing(&db)?.devices()?;
            let vdb = SqliteVulnDb::open(&db)?;
            let cpes = palisade_vulndb::matching::device_cpes(&vdb, &devices)?;
            let all: Vec<&palisade_vulndb::matching::DeviceCpe> = cpes.values().flatten().collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(EXIT_OK);
            }
            let rows: Vec<[String; 4]> = all
                .iter()
                .map(|c| {
                    let device = devices.iter().find(|d| d.id == c.device_id).map_or_else(|| c.device_id.to_string(), device_label);
                    [device, c.cpe.clone(), format!("{} {:.2}", c.matched_by, c.confidence), c.title.clone().unwrap_or_default()]
                })
                .collect();
            output::print_table(&["DEVICE", "CPE", "MATCHED", "TITLE"], &rows);
            println!("{} CPE names for {} devices", all.len(), cpes.values().filter(|l| !l.is_empty()).count());
            Ok(EXIT_OK)
        }
        VulndbCommand::Status { db } => {
            let vdb = SqliteVulnDb::open(&db)?;
            println!("{}", serde_json::to_string_pretty(&vdb.status()?)?);
            Ok(EXIT_OK)
        }
    }
}

/// Loads the site: inventory, events, connections from the stored
/// operations, and each device's vulnerabilities (matched again where the
/// facts or the vulnerability data changed).
fn load_site(db: &Path, name: Option<String>) -> anyhow::Result<SiteData> {
    let store = output::open_existing(db)?;
    let mut site = SiteData {
        name: name.unwrap_or_else(|| db.file_stem().and_then(|s| s.to_str()).unwrap_or("site").to_string()),
        devices: store.devices()?,
        events: store.events(&EventFilter::default())?,
        external: store.external_endpoints()?,
        ..Default::default()
    };
    add_detection(&mut site, &store)?;
    site.connections_from_events();
    let mut vdb = SqliteVulnDb::open(db).with_context(|| format!("opening the vulnerability tables of {}", db.display()))?;
    let generation = vdb.generation()?;
    site.vulns = match_devices(&mut vdb, &site.devices, generation)?;
    Ok(site)
}

/// Adds what detection stored: who used which service of whom, remote
/// access, hosts that reached the internet, services hosts served, and
/// the alerts still open.
fn add_detection(site: &mut SiteData, store: &dyn AlertStore) -> anyhow::Result<()> {
    let protocol = |svc: &Service| match svc {
        Service::Protocol(p) => Some(*p),
        Service::Port(..) => None,
    };
    for row in store.baseline()? {
        let Some(key) = BaselineKey::parse(&row.kind, &row.item) else { continue };
        match key {
            BaselineKey::Service(HostKey::Ip(client), HostKey::Ip(server), svc)
            | BaselineKey::RemoteAccess(HostKey::Ip(client), HostKey::Ip(server), svc) => {
                site.connections.push(Connection { client, server, protocol: protocol(&svc), seen_in: row.kind.clone() });
            }
            BaselineKey::Internet(HostKey::Ip(host)) => {
                site.internet_hosts.insert(host);
            }
            BaselineKey::Role(HostKey::Ip(host), Service::Protocol(p), true) => {
                site.served.insert((host, p));
            }
            _ => {}
        }
    }
    for a in store.alerts(&AlertFilter::default())? {
        if matches!(a.status.as_str(), "new" | "acknowledged") {
            site.alerts.push(OpenAlert {
                id: a.id,
                title: a.title,
                category: a.category.as_str().into(),
                severity: a.severity.as_str().into(),
                src_ip: a.src_ip,
                dst_ip: a.dst_ip,
            });
        }
    }
    site.connections.sort();
    site.connections.dedup();
    Ok(())
}

fn print_limits(site: &SiteData) {
    for line in palisade_vulndb::limits(site) {
        eprintln!("note: {line}");
    }
}

/// `palisade vulns`.
pub fn vulns(args: &SiteArgs) -> anyhow::Result<u8> {
    let site = load_site(&args.db, args.site.clone())?;
    let all: Vec<&palisade_vulndb::matching::VulnMatch> = site.vulns.values().flatten().collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(EXIT_OK);
    }
    let rows: Vec<[String; 7]> = all
        .iter()
        .map(|v| {
            [
                site.device(v.device_id).map_or_else(|| v.device_id.to_string(), device_label),
                v.cve.clone(),
                v.cvss3.or(v.cvss4).map_or("-".into(), |s| format!("{s:.1}")),
                if v.kev.is_some() { "yes".into() } else { String::new() },
                format!("{} {:.2}", v.confidence_label, v.confidence),
                v.fixed_version.clone().unwrap_or_default(),
                v.basis.iter().map(|b| format!("{}:{}", b.source, b.product)).collect::<Vec<_>>().join(" "),
            ]
        })
        .collect();
    output::print_table(&["DEVICE", "CVE", "CVSS", "KEV", "CONFIDENCE", "FIXED IN", "MATCHED"], &rows);
    println!("{} vulnerabilities on {} devices", all.len(), site.vulns.values().filter(|v| !v.is_empty()).count());
    print_limits(&site);
    Ok(EXIT_OK)
}

/// `palisade recommendations`.
pub fn recommendations(args: &SiteArgs) -> anyhow::Result<u8> {
    let site = load_site(&args.db, args.site.clone())?;
    let recs = recommend(&site);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&recs)?);
        return Ok(EXIT_OK);
    }
    for r in &recs.site {
        println!("[{}] {}", r.priority, r.title);
        println!("    {}", r.action);
        for e in r.evidence.iter().take(5) {
            let on = e.device_id.map(|id| format!("#{id} ")).unwrap_or_default();
            println!("    - {on}{}: {}", e.kind, e.detail);
        }
        if r.evidence.len() > 5 {
            println!("    - … {} more", r.evidence.len() - 5);
        }
    }
    println!("{} site recommendations, {} devices concerned", recs.site.len(), recs.devices.len());
    print_limits(&site);
    Ok(EXIT_OK)
}

/// `palisade risk`.
pub fn risk(args: &SiteArgs) -> anyhow::Result<u8> {
    let site = load_site(&args.db, args.site.clone())?;
    let recs = recommend(&site);
    let risk = site_risk(&site, &recs);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&risk)?);
        return Ok(EXIT_OK);
    }
    println!("site {}: risk {} ({})", risk.site, risk.score, risk.level);
    for p in &risk.parts {
        println!("    {} {:.1}/{:.0}: {}", p.name, p.points, p.max, p.reasons.join("; "));
    }
    let rows: Vec<[String; 4]> = risk
        .devices
        .iter()
        .map(|d| {
            let parts: Vec<String> = d.parts.iter().filter(|p| p.points > 0.0).map(|p| format!("{} {:.1}", p.name, p.points)).collect();
            [d.device.clone(), d.device_type.to_string(), format!("{} {}", d.score, d.level), parts.join(", ")]
        })
        .collect();
    output::print_table(&["DEVICE", "TYPE", "RISK", "PARTS"], &rows);
    for p in &risk.attack_paths {
        let hops: Vec<String> = p.hops.iter().map(|h| h.via.map_or_else(|| h.device.clone(), |v| format!("-{v}-> {}", h.device))).collect();
        println!("path #{} (score {}, {}): {}", p.rank, p.score, p.entry, hops.join(" "));
    }
    print_limits(&site);
    Ok(EXIT_OK)
}

/// `palisade report risk|vulns --out FILE`.
pub fn write_report(args: &ReportArgs) -> anyhow::Result<u8> {
    let site = load_site(&args.db, args.site.clone())?;
    let notes = palisade_vulndb::limits(&site);
    let generated = report::generated_now();
    let html = match args.kind {
        ReportKind::Risk => {
            let recs = recommend(&site);
            let risk = site_risk(&site, &recs);
            report::risk_report(&site, &recs, &risk, &generated, &notes)
        }
        ReportKind::Vulns => report::vulnerability_report(&site, &generated, &notes),
    };
    std::fs::write(&args.out, html).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(EXIT_OK)
}
