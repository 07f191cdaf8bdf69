//! The site's vulnerability assessment: the inventory, what detection
//! learned and the open alerts, loaded from a store into the
//! [`SiteData`] that matching, recommendations, risk and reports work on.
//! The console keeps the last assessment of each site and computes it
//! again only when the vulnerability data, the analyses or the site's open
//! alerts changed.

use crate::error::{ApiError, ApiResult};
use palisade_detect::{BaselineKey, HostKey, Service};
use palisade_store::{AlertFilter, AlertStore, Database, DeviceQuery, EventFilter, Location, Store, StoreError, DEFAULT_SITE};
use palisade_vulndb::advice::{recommend, Recommendations};
use palisade_vulndb::matching::match_devices;
use palisade_vulndb::risk::{site_risk, SiteRisk};
use palisade_vulndb::site::{Connection, OpenAlert, SiteData};
use palisade_vulndb::VulnStore;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Loads a site from a store: devices, stored operations, external
/// endpoints, what detection learned (who used which service of whom,
/// remote access, hosts that reached the internet, services hosts served)
/// and the alerts still open. Its vulnerabilities are left empty.
pub fn site_data<S: Store + AlertStore + ?Sized>(store: &S, name: String) -> Result<SiteData, StoreError> {
    let mut site = SiteData {
        name,
        devices: store.devices()?,
        events: store.events(&EventFilter::default())?,
        external: store.external_endpoints()?,
        ..Default::default()
    };
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
        if is_open(a.status.as_str()) {
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
    site.connections_from_events();
    Ok(site)
}

/// Whether an alert status counts as open (new or acknowledged).
fn is_open(status: &str) -> bool {
    matches!(status, "new" | "acknowledged")
}

/// Opens the vulnerability tables of the console's store: beside the
/// inventory in the same SQLite file, or in the same PostgreSQL database.
pub(crate) fn open_vulns(location: &Location) -> ApiResult<Box<dyn VulnStore + Send>> {
    palisade_vulndb::open(location).map_err(|e| ApiError::internal("opening the vulnerability database", e))
}

/// One assessment of the site: its data with the matched vulnerabilities,
/// the recommendations and the risk scores.
pub struct Assessment {
    /// The site, with `vulns` filled in.
    pub site: SiteData,
    /// Recommendations per site and device.
    pub recs: Recommendations,
    /// Site and device scores, attack paths.
    pub risk: SiteRisk,
    /// What the assessment could not see, in plain words.
    pub notes: Vec<String>,
    /// When it was computed (RFC 3339).
    pub computed_at: String,
    /// The vulnerability data's import generation it used.
    pub generation: i64,
    /// The site's id.
    pub site_id: i64,
}

/// What an assessment depends on: when any of it changes, it is computed again.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Inputs {
    name: String,
    generation: i64,
    last_analysis: Option<i64>,
    open_alerts: u64,
}

/// A file of an import: its name as uploaded (`archive.zip/entry.json`
/// inside archives) and what it gave or why it was refused.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct ImportedFile {
    /// Name as uploaded.
    pub file: String,
    /// `nvd-cve`, `nvd-cpe`, `csaf` or `kev`, when known.
    pub kind: Option<String>,
    /// Records read.
    pub records: u64,
    /// Records new or changed.
    pub changed: u64,
    /// Whether it was imported.
    pub imported: bool,
    /// Why it was refused (nothing of it was imported).
    pub error: Option<String>,
}

/// One import through the console.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct ImportRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub user: String,
    /// Its files.
    pub files: Vec<ImportedFile>,
}

/// The vulnerability side of the console: the last assessment and what it
/// was computed from, imports one at a time, and the recent imports.
#[derive(Default)]
pub(crate) struct VulnState {
    /// The last assessment of each site.
    last: Mutex<HashMap<i64, (Inputs, Arc<Assessment>)>>,
    /// Held while an import writes.
    pub importing: Mutex<()>,
    imports: Mutex<std::collections::VecDeque<ImportRecord>>,
}

impl VulnState {
    /// Imports kept in the recent list.
    const KEEP: usize = 50;

    /// Remembers an import.
    pub(crate) fn record(&self, import: ImportRecord) {
        let mut imports = self.imports.lock().unwrap_or_else(|p| p.into_inner());
        imports.push_front(import);
        imports.truncate(Self::KEEP);
    }

    /// The recent imports through this console, newest first.
    pub(crate) fn recent(&self) -> Vec<ImportRecord> {
        self.imports.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    /// The current assessment of a site: the kept one if nothing it rests
    /// on changed, else a new one. Runs on the blocking pool; concurrent
    /// callers wait for one computation rather than each doing it. The
    /// store is left working in the site it was in.
    pub(crate) fn assessment(&self, db: &mut dyn Database, location: &Location, site_id: i64) -> ApiResult<Arc<Assessment>> {
        let name = site_name(db, site_id)?;
        let before = db.site_id();
        db.set_site(site_id);
        let result = self.assess(db, location, name, site_id);
        db.set_site(before);
        result
    }

    fn assess(&self, db: &mut dyn Database, location: &Location, name: String, site_id: i64) -> ApiResult<Arc<Assessment>> {
        let mut vdb = open_vulns(location)?;
        let vuln_error = |e: palisade_vulndb::VulnError| ApiError::internal("reading the vulnerability database", e);
        let generation = vdb.status().map_err(vuln_error)?.generation;
        let inputs =
            Inputs { name, generation, last_analysis: db.analyses(1)?.first().map(|a| a.id), open_alerts: open_alerts_fingerprint(db)? };
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((kept, assessment)) = last.get(&site_id) {
            if *kept == inputs {
                return Ok(assessment.clone());
            }
        }
        let mut site = site_data(db, inputs.name.clone())?;
        site.vulns = match_devices(vdb.as_mut(), &site.devices, generation).map_err(vuln_error)?;
        let recs = recommend(&site);
        let risk = site_risk(&site, &recs);
        let notes = palisade_vulndb::limits(&site);
        let assessment = Arc::new(Assessment { site, recs, risk, notes, computed_at: crate::auth::rfc3339_now(), generation, site_id });
        last.insert(site_id, (inputs, assessment.clone()));
        Ok(assessment)
    }
}

/// The site a device belongs to (the default site when it cannot be told).
pub(crate) fn site_of_device(db: &dyn Database, device: &palisade_engine::Device) -> ApiResult<i64> {
    let sites = db.sites()?;
    if sites.len() <= 1 {
        return Ok(sites.first().map_or(DEFAULT_SITE, |s| s.id));
    }
    // Its addresses find it among few devices of each site.
    let search = device.ips.first().map(|ip| ip.to_string()).or_else(|| device.macs.first().map(|m| m.to_string()));
    for site in sites {
        let query = DeviceQuery { site: Some(site.id), search: search.clone(), limit: 1000, ..Default::default() };
        if db.device_page(&query)?.items.iter().any(|d| d.id == device.id) {
            return Ok(site.id);
        }
    }
    Ok(DEFAULT_SITE)
}

/// A site's name (404 when there is no such site): the name given to the
/// default site in the settings (`site_name`) if it still has its first name.
fn site_name(db: &dyn Database, site_id: i64) -> ApiResult<String> {
    let site =
        db.sites()?.into_iter().find(|s| s.id == site_id).ok_or_else(|| ApiError::not_found(format!("no site with id {site_id}")))?;
    if site.id == DEFAULT_SITE && site.name == "default" {
        if let Some(name) = db.settings()?.get("site_name").filter(|n| !n.trim().is_empty()) {
            return Ok(name.clone());
        }
    }
    Ok(site.name)
}

/// A hash of the open alerts (id, status, severity): changes when an alert
/// opens, closes or changes severity.
fn open_alerts_fingerprint(db: &dyn Database) -> ApiResult<u64> {
    let mut hasher = DefaultHasher::new();
    for a in db.alerts(&AlertFilter::default())? {
        if is_open(a.status.as_str()) {
            (a.id, a.status.as_str(), a.severity.as_str()).hash(&mut hasher);
        }
    }
    Ok(hasher.finish())
}
