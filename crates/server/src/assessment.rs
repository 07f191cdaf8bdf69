//! The site's vulnerability assessment: the inventory, what detection
//! learned and the open alerts, loaded from a store into the
//! [`SiteData`] that matching, recommendations, risk and reports work on.
//! The console keeps the last assessment of each site and computes it
//! again only when the vulnerability data or the analyses changed, or
//! something was changed through the API (an alert closed...).

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use palisade_detect::{BaselineKey, HostKey, Service};
use palisade_model::AlertStatus;
use palisade_store::{
    AlertFilter, AlertStore, ConsoleStore, Database, DeviceQuery, EventFilter, Location, Site, Store, StoreError, DEFAULT_SITE,
};
use palisade_vulndb::advice::{recommend, Recommendations};
use palisade_vulndb::matching::match_devices;
use palisade_vulndb::risk::{site_risk, SiteRisk};
use palisade_vulndb::site::{Connection, OpenAlert, SiteData};
use palisade_vulndb::VulnStore;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    for status in [AlertStatus::New, AlertStatus::Acknowledged] {
        for a in store.alerts(&AlertFilter { status: Some(status), limit: None })? {
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
    site.alerts.sort_by_key(|a| a.id);
    site.connections.sort();
    site.connections.dedup();
    site.connections_from_events();
    Ok(site)
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
    /// Counts over the devices, made once.
    pub summary: Summary,
}

/// Counts over an assessment's devices, for the risk page.
pub struct Summary {
    /// Devices per band of 10 points of score (0-9 ... 90-100).
    pub distribution: [usize; 10],
    /// Devices per risk level.
    pub by_level: BTreeMap<String, usize>,
    /// Vulnerability matches.
    pub vulnerabilities: usize,
    /// Matches known to be exploited.
    pub kev: usize,
    /// Indexes in `risk.devices` (riskiest first) of the devices that have recommendations.
    pub advised: Vec<usize>,
}

impl Summary {
    fn of(site: &SiteData, recs: &Recommendations, risk: &SiteRisk) -> Summary {
        let mut summary = Summary {
            distribution: [0; 10],
            by_level: BTreeMap::new(),
            vulnerabilities: site.vulns.values().map(Vec::len).sum(),
            kev: site.vulns.values().flatten().filter(|m| m.kev.is_some()).count(),
            advised: Vec::new(),
        };
        for (i, d) in risk.devices.iter().enumerate() {
            if let Some(band) = summary.distribution.get_mut((d.score.min(99) / 10) as usize) {
                *band += 1;
            }
            *summary.by_level.entry(d.level.clone()).or_default() += 1;
            if recs.devices.get(&d.device_id).is_some_and(|r| !r.is_empty()) {
                summary.advised.push(i);
            }
        }
        summary
    }
}

/// What an assessment depends on: when any of it changes, it is computed
/// again. Alert statuses change through the console's API (counted in
/// `writes`); what other programs change in the database without an
/// analysis is seen within [`MAX_AGE`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Inputs {
    name: String,
    generation: i64,
    last_analysis: Option<i64>,
    writes: u64,
}

/// A site's last assessment, when it was computed and from what.
struct Kept {
    inputs: Inputs,
    at: Instant,
    assessment: Arc<Assessment>,
}

/// An assessment is computed again after this long whatever else changed.
const MAX_AGE: Duration = Duration::from_secs(600);
/// Vulnerability stores kept open for later requests.
const MAX_IDLE: usize = 8;

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

/// An import through the console, run in the background: its uploaded
/// files, how far it got and, once finished, each file's outcome.
pub(crate) struct ImportJob {
    /// Id (counted from 1 in this console process).
    pub id: u64,
    /// Who uploaded.
    pub user: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Bytes uploaded.
    pub bytes_total: u64,
    /// Documents to import (archive members counted one each).
    pub files_total: usize,
    /// The batch the import log files its entries under, with the bytes read so far.
    pub batch: palisade_vulndb::ImportBatch,
    /// Where it is.
    pub progress: Mutex<ImportProgress>,
}

/// The changing part of an [`ImportJob`].
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct ImportProgress {
    /// Queued, running, done (every file imported) or failed (some refused, or the import broke).
    pub state: crate::jobs::JobState,
    /// The outcome of each document so far.
    pub files: Vec<ImportedFile>,
    /// Why it failed.
    pub error: Option<String>,
    /// What the database holds afterwards.
    pub status: Option<palisade_vulndb::db::DbStatus>,
}

impl ImportJob {
    /// The job as the API shows it.
    pub(crate) fn view(&self) -> serde_json::Value {
        let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let finished = matches!(progress.state, crate::jobs::JobState::Done | crate::jobs::JobState::Failed);
        let bytes_done = if finished { self.bytes_total } else { self.batch.read.load(Ordering::Relaxed).min(self.bytes_total) };
        let percent = if finished { 100 } else { bytes_done.saturating_mul(99).checked_div(self.bytes_total).unwrap_or(0) };
        serde_json::json!({
            "id": self.id,
            "user": self.user,
            "created_at": self.created_at,
            "state": progress.state,
            "bytes_total": self.bytes_total,
            "bytes_done": bytes_done,
            "percent": percent,
            "files_total": self.files_total,
            "files_done": progress.files.len(),
            "files": progress.files,
            "error": progress.error,
            "status": progress.status,
        })
    }

    /// Changes the job's progress.
    pub(crate) fn update(&self, change: impl FnOnce(&mut ImportProgress)) {
        change(&mut self.progress.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// The vulnerability side of the console: the last assessment of each
/// site and what it was computed from, open vulnerability stores, imports
/// one at a time, and the recent import jobs.
#[derive(Default)]
pub(crate) struct VulnState {
    /// The last assessment of each site, when it was computed and from what.
    last: Mutex<HashMap<i64, Kept>>,
    /// Successful state-changing API requests so far.
    writes: AtomicU64,
    idle: Mutex<Vec<Box<dyn VulnStore + Send>>>,
    /// Held while an import writes.
    pub importing: Mutex<()>,
    jobs: Mutex<std::collections::VecDeque<Arc<ImportJob>>>,
    last_job: AtomicU64,
}

impl VulnState {
    /// Import jobs kept for their results.
    const KEEP: usize = 50;

    /// Registers a new import job, queued.
    pub(crate) fn new_job(&self, user: &str, bytes_total: u64, files_total: usize) -> Arc<ImportJob> {
        let job = Arc::new(ImportJob {
            id: self.last_job.fetch_add(1, Ordering::Relaxed) + 1,
            user: user.to_string(),
            created_at: crate::auth::rfc3339_now(),
            bytes_total,
            files_total,
            batch: palisade_vulndb::ImportBatch::new(user),
            progress: Mutex::new(ImportProgress { state: crate::jobs::JobState::Queued, files: Vec::new(), error: None, status: None }),
        });
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.push_front(job.clone());
        jobs.truncate(Self::KEEP);
        job
    }

    /// An import job of this console process.
    pub(crate) fn job(&self, id: u64) -> Option<Arc<ImportJob>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|j| j.id == id).cloned()
    }

    /// Notes that the console changed something an assessment may rest on.
    pub(crate) fn changed(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `work` with an open vulnerability store (kept for later use
    /// unless the work failed on the server's side).
    pub(crate) fn with_vulns<T>(&self, location: &Location, work: impl FnOnce(&mut dyn VulnStore) -> ApiResult<T>) -> ApiResult<T> {
        let spare = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut vdb = match spare {
            Some(vdb) => vdb,
            None => palisade_vulndb::open(location).map_err(|e| ApiError::internal("opening the vulnerability database", e))?,
        };
        let result = work(vdb.as_mut());
        if !matches!(&result, Err(e) if e.status.is_server_error()) {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(vdb);
            }
        }
        result
    }

    /// The current assessment of a site: the kept one if nothing it rests
    /// on changed, else a new one. Runs on the blocking pool; concurrent
    /// callers wait for one computation rather than each doing it. The
    /// store is left working in the site it was in.
    pub(crate) fn assessment(&self, db: &mut dyn Database, location: &Location, site_id: i64) -> ApiResult<Arc<Assessment>> {
        let name = site_name(db, site_id)?;
        let before = db.site_id();
        db.set_site(site_id);
        let result = self.with_vulns(location, |vdb| self.assess(db, vdb, name, site_id));
        db.set_site(before);
        result
    }

    fn assess(&self, db: &mut dyn Database, vdb: &mut dyn VulnStore, name: String, site_id: i64) -> ApiResult<Arc<Assessment>> {
        let vuln_error = |e: palisade_vulndb::VulnError| ApiError::internal("reading the vulnerability database", e);
        let generation = vdb.generation().map_err(vuln_error)?;
        let writes = self.writes.load(Ordering::Relaxed);
        let inputs = Inputs { name, generation, last_analysis: db.analyses(1)?.first().map(|a| a.id), writes };
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(kept) = last.get(&site_id) {
            if kept.inputs == inputs && kept.at.elapsed() < MAX_AGE {
                return Ok(kept.assessment.clone());
            }
        }
        let mut site = site_data(db, inputs.name.clone())?;
        site.vulns = match_devices(vdb, &site.devices, generation).map_err(vuln_error)?;
        let recs = recommend(&site);
        let risk = site_risk(&site, &recs);
        let notes = palisade_vulndb::limits(&site);
        let summary = Summary::of(&site, &recs, &risk);
        let computed_at = crate::auth::rfc3339_now();
        let assessment = Arc::new(Assessment { site, recs, risk, notes, computed_at, generation, site_id, summary });
        last.insert(site_id, Kept { inputs, at: Instant::now(), assessment: assessment.clone() });
        Ok(assessment)
    }
}

impl Drop for VulnState {
    fn drop(&mut self) {
        // PostgreSQL's blocking client must not be closed on an async
        // worker (where the last reference often goes): close on a thread.
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        let _ = std::thread::spawn(move || drop(idle)).join();
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

/// A site's name (404 when there is no such site), as [`site_label`] gives it.
fn site_name(db: &dyn Database, site_id: i64) -> ApiResult<String> {
    let site =
        db.sites()?.into_iter().find(|s| s.id == site_id).ok_or_else(|| ApiError::not_found(format!("no site with id {site_id}")))?;
    Ok(site_label(db, &site)?)
}

/// The name assessments and reports give a site: its stored name, or for
/// the default site while it still has its first name (`default`), the
/// name given to the site in the settings (`site_name`) when there is one.
pub fn site_label<D: ConsoleStore + ?Sized>(db: &D, site: &Site) -> Result<String, StoreError> {
    if site.id == DEFAULT_SITE && site.name == "default" {
        if let Some(name) = db.settings()?.get("site_name").filter(|n| !n.trim().is_empty()) {
            return Ok(name.clone());
        }
    }
    Ok(site.name.clone())
}

/// Notes every successful state-changing API request (an alert closed,
/// a sensor's results stored...): assessments are computed again after one.
pub(crate) async fn note_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(request).await;
    if writes && response.status().is_success() {
        state.vulns.changed();
    }
    response
}
