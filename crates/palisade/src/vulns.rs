//! `palisade vulndb import`, `vulns`, `recommendations`, `risk` and `report`.

use crate::output::{self, SiteChoice};
use crate::{EXIT_OK, EXIT_PARTIAL};
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use palisade_server::assessment::{site_data, site_label};
use palisade_store::{Database, Location};
use palisade_vulndb::advice::recommend;
use palisade_vulndb::matching::match_devices;
use palisade_vulndb::risk::site_risk;
use palisade_vulndb::site::{device_label, SiteData};
use palisade_vulndb::{import_paths, report, VulnStore};
use std::path::PathBuf;

/// Where the inventory and the vulnerability tables are.
#[derive(Args)]
pub struct DbArgs {
    /// SQLite database file (the vulnerability tables live beside the inventory).
    #[arg(long, default_value = "palisade.db", conflicts_with = "database_url")]
    db: PathBuf,
    /// PostgreSQL instead of SQLite: postgres://user[:password]@host[:port]/database.
    #[arg(long)]
    database_url: Option<String>,
}

impl DbArgs {
    fn location(&self) -> Location {
        match &self.database_url {
            Some(url) => Location::Postgres(url.clone()),
            None => Location::Sqlite(self.db.clone()),
        }
    }

    /// The vulnerability tables (created when missing).
    fn vulndb(&self) -> anyhow::Result<Box<dyn VulnStore + Send>> {
        let location = self.location();
        palisade_vulndb::open(&location).with_context(|| format!("opening the vulnerability tables of {}", location.display()))
    }

    /// The inventory, which an analysis must have stored.
    fn inventory(&self) -> anyhow::Result<Box<dyn Database>> {
        match self.location() {
            Location::Sqlite(db) => Ok(Box::new(output::open_existing(&db)?)),
            location => palisade_store::open(&location).with_context(|| format!("opening {}", location.display())),
        }
    }

    /// The inventory working in the chosen site (an unknown site is a
    /// usage error), with the name reports give the site.
    fn site_inventory(&self, site: &SiteChoice) -> anyhow::Result<(Box<dyn Database>, String)> {
        let mut store = self.inventory()?;
        let chosen = site.select_in(store.as_mut(), &self.location().display())?;
        let name = site_label(store.as_ref(), &chosen).context("reading the site's name")?;
        Ok((store, name))
    }
}

/// `palisade vulndb` subcommands.
#[derive(Subcommand)]
pub enum VulndbCommand {
    /// Import NVD CVE or CPE JSON 2.0 feeds (plain, .gz, or .zip archives as NVD publishes them), CSAF 2.0 advisories and the CISA KEV catalog, from files or directories.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// List the CPE names that describe each device (from the imported CPE products), with what they rest on.
    Cpes {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show what the vulnerability database holds.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Options of the site-level listing commands.
#[derive(Args)]
pub struct SiteArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    site: SiteChoice,
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
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    site: SiteChoice,
}

/// `palisade vulndb …`.
pub fn vulndb(command: VulndbCommand) -> anyhow::Result<u8> {
    match command {
        VulndbCommand::Import { db, json, paths } => {
            let mut vdb = db.vulndb()?;
            let report = import_paths(vdb.as_mut(), &paths);
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
            let devices = db.inventory()?.devices()?;
            let vdb = db.vulndb()?;
            let cpes = palisade_vulndb::matching::device_cpes(vdb.as_ref(), &devices)?;
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
            let vdb = db.vulndb()?;
            println!("{}", serde_json::to_string_pretty(&vdb.status()?)?);
            Ok(EXIT_OK)
        }
    }
}

/// Loads the chosen site (the default one when none is given), named as
/// stored: inventory, events, connections from the stored operations, and
/// each device's vulnerabilities (matched again where the facts or the
/// vulnerability data changed).
fn load_site(db: &DbArgs, choice: &SiteChoice) -> anyhow::Result<SiteData> {
    let (store, name) = db.site_inventory(choice)?;
    let mut site = site_data(store.as_ref(), name)?;
    let mut vdb = db.vulndb()?;
    let generation = vdb.generation()?;
    site.vulns = match_devices(vdb.as_mut(), &site.devices, generation)?;
    Ok(site)
}

fn print_limits(site: &SiteData) {
    for line in palisade_vulndb::limits(site) {
        eprintln!("note: {line}");
    }
}

/// `palisade vulns`.
pub fn vulns(args: &SiteArgs) -> anyhow::Result<u8> {
    let site = load_site(&args.db, &args.site)?;
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
    let site = load_site(&args.db, &args.site)?;
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
    let site = load_site(&args.db, &args.site)?;
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
    let site = load_site(&args.db, &args.site)?;
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
