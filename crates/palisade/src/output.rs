//! Tables and JSON for listing commands.

use crate::UsageError;
use anyhow::Context;
use clap::Args;
use palisade_engine::{Device, EventRecord, ExternalEndpoint};
use palisade_store::{ConsoleStore, Site, SqliteStore, Store, DEFAULT_SITE};
use std::path::Path;

/// Opens a database that must already exist (listing commands never create one).
pub fn open_existing(db: &Path) -> anyhow::Result<SqliteStore> {
    if !db.exists() {
        anyhow::bail!("database {} does not exist; run `palisade analyze --db {} CAPTURE` first", db.display(), db.display());
    }
    SqliteStore::open(db).with_context(|| format!("opening {}", db.display()))
}

/// Which site of the database a command works in.
#[derive(Args, Clone, Debug, Default)]
pub struct SiteChoice {
    /// The site to work in, by name or id (default: the default site, 1). A console's database
    /// holds one site per plant (Settings → Sites); a sensor's has the default site.
    #[arg(long, value_name = "NAME|ID")]
    site: Option<String>,
}

impl SiteChoice {
    /// Switches `store` to the chosen site and returns it; an unknown site
    /// is a [`UsageError`] that lists the sites there are.
    pub fn select(&self, store: &mut SqliteStore, db: &Path) -> anyhow::Result<Site> {
        self.select_in(store, &db.display().to_string())
    }

    /// Switches any store (SQLite or PostgreSQL, named `place` in messages)
    /// to the chosen site and returns it; an unknown site is a [`UsageError`].
    pub fn select_in<S: Store + ConsoleStore + ?Sized>(&self, store: &mut S, place: &str) -> anyhow::Result<Site> {
        let sites = store.sites().with_context(|| format!("reading the sites of {place}"))?;
        let wanted = self.site.as_deref().map(str::trim);
        let found = match wanted {
            None => sites.iter().find(|s| s.id == DEFAULT_SITE),
            Some(w) => sites.iter().find(|s| s.name == w).or_else(|| sites.iter().find(|s| w.parse() == Ok(s.id))),
        };
        let Some(site) = found.cloned() else {
            let known: Vec<String> = sites.iter().map(|s| format!("{} ({})", s.id, s.name)).collect();
            return Err(UsageError(format!(
                "no site {:?} in {place}; sites: {}",
                wanted.unwrap_or("default"),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
            .into());
        };
        store.set_site(site.id);
        Ok(site)
    }

    /// Opens an existing database in the chosen site.
    pub fn open(&self, db: &Path) -> anyhow::Result<SqliteStore> {
        let mut store = open_existing(db)?;
        self.select(&mut store, db)?;
        Ok(store)
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// Prints devices as a table or a JSON array.
pub fn print_devices(devices: &[Device], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(devices)?);
        return Ok(());
    }
    let rows: Vec<[String; 8]> = devices
        .iter()
        .map(|d| {
            [
                d.id.to_string(),
                join(&d.ips),
                join(&d.macs),
                d.hostnames.join(","),
                d.vendor.clone().unwrap_or_default(),
                d.device_type.to_string(),
                join(&d.protocols),
                d.last_seen.to_rfc3339(),
            ]
        })
        .collect();
    print_table(&["ID", "IP", "MAC", "HOSTNAME", "VENDOR", "TYPE", "PROTOCOLS", "LAST SEEN"], &rows);
    println!("{} devices", devices.len());
    Ok(())
}

/// Prints operations and violations as a table or a JSON array.
pub fn print_events(events: &[EventRecord], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(events)?);
        return Ok(());
    }
    let side = |ip: &Option<std::net::IpAddr>, mac: &Option<palisade_model::MacAddr>| {
        ip.map(|i| i.to_string()).or_else(|| mac.map(|m| m.to_string())).unwrap_or_else(|| "-".into())
    };
    let rows: Vec<[String; 8]> = events
        .iter()
        .map(|e| {
            let details = match (&e.target, &e.result, &e.detail) {
                (_, _, Some(d)) => d.clone(),
                (t, r, None) => format!("{} {}", t.clone().unwrap_or_default(), r.clone().unwrap_or_default()).trim().to_string(),
            };
            [
                e.time.to_rfc3339(),
                side(&e.src_ip, &e.src_mac),
                side(&e.dst_ip, &e.dst_mac),
                e.protocol.to_string(),
                format!("{} {}", e.record_type, e.kind),
                details,
                e.count.to_string(),
                e.last_time.filter(|t| *t != e.time).map(|t| t.to_rfc3339()).unwrap_or_default(),
            ]
        })
        .collect();
    print_table(&["TIME", "SOURCE", "DESTINATION", "PROTOCOL", "EVENT", "DETAILS", "COUNT", "LAST"], &rows);
    println!("{} events", events.len());
    Ok(())
}

/// Prints external endpoints as a table or a JSON array.
pub fn print_endpoints(endpoints: &[ExternalEndpoint], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(endpoints)?);
        return Ok(());
    }
    let rows: Vec<[String; 4]> =
        endpoints.iter().map(|e| [e.ip.to_string(), e.hostnames.join(","), join(&e.protocols), e.last_seen.to_rfc3339()]).collect();
    print_table(&["IP", "NAMES", "PROTOCOLS", "LAST SEEN"], &rows);
    println!("{} external endpoints", endpoints.len());
    Ok(())
}

/// Prints aligned columns, cutting long cells.
pub fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    const MAX: usize = 40;
    let cut = |s: &str| if s.chars().count() > MAX { format!("{}…", s.chars().take(MAX - 1).collect::<String>()) } else { s.to_string() };
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cut(cell).chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.iter().map(|c| cut(c)).collect());
    }
}
