//! Capture uploads analysed in the background, one at a time. Jobs are
//! kept in the store, so the list and the results survive a restart; the
//! progress of the running one is followed live.

use crate::pool::Pool;
use palisade_sensor::Progress;
use palisade_store::{JobRecord, Location};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// Why a job that was queued or running when the console stopped failed.
pub const INTERRUPTED: &str = "interrupted by a restart; upload again";

/// What an analysis of an uploaded capture found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AnalysisOutcome {
    /// Packets read.
    pub packets: u64,
    /// Devices in the site's inventory afterwards.
    pub devices: usize,
    /// Devices the capture added to the site's inventory.
    #[serde(default)]
    pub new_devices: usize,
    /// Operations and violations recorded.
    pub events: usize,
    /// Alerts raised or updated by detection.
    #[serde(default)]
    pub alerts: usize,
    /// Errors met in the capture (the packets before them were analysed).
    pub errors: Vec<String>,
}

/// Analyses one capture file into a site of the store at `location`; the
/// binary provides it (the same pipeline as `palisade analyze`, detection
/// included).
pub trait Analyzer: Send + Sync + 'static {
    /// Analyses `capture` (shown as `name`) into site `site_id`, reporting into `progress`.
    fn analyze(
        &self,
        location: &Location,
        site_id: i64,
        capture: &Path,
        name: &str,
        progress: Arc<Progress>,
    ) -> anyhow::Result<AnalysisOutcome>;
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for the analysis before it.
    Queued,
    /// Being analysed.
    Running,
    /// Analysed and stored.
    Done,
    /// Could not be analysed.
    Failed,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            _ => JobState::Failed,
        }
    }
}

/// One uploaded capture and its analysis.
#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    /// Id.
    pub id: u64,
    /// File name given by the uploader.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Who uploaded it.
    pub user: String,
    /// The site it is analysed into.
    pub site_id: i64,
    /// When it was uploaded (RFC 3339).
    pub created_at: String,
    /// Where it is.
    pub state: JobState,
    /// Bytes of the capture analysed so far.
    pub bytes_done: u64,
    /// Packets read so far.
    pub packets: u64,
    /// 0 to 100.
    pub percent: u8,
    /// The result, once done.
    pub outcome: Option<AnalysisOutcome>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The uploads: stored jobs, and the live progress of the running one.
#[derive(Default)]
pub struct Jobs {
    live: Mutex<HashMap<i64, Arc<Progress>>>,
    /// Held while an analysis runs, so analyses never interleave.
    running: tokio::sync::Mutex<()>,
}

impl Jobs {
    /// Jobs listed at most.
    pub const LIST: usize = 200;

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Progress>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A stored job as the API shows it, with its live progress.
    pub fn view(&self, job: &JobRecord) -> JobView {
        let state = JobState::from_name(&job.state);
        let outcome: Option<AnalysisOutcome> = job.outcome.as_deref().and_then(|o| serde_json::from_str(o).ok());
        let mut view = JobView {
            id: job.id.max(0) as u64,
            name: job.name.clone(),
            size: job.size,
            user: job.user.clone(),
            site_id: job.site_id,
            created_at: job.created_at.clone(),
            state,
            bytes_done: if state == JobState::Done { job.size } else { 0 },
            packets: job.packets,
            percent: if state == JobState::Done { 100 } else { 0 },
            outcome,
            error: job.error.clone(),
        };
        if state == JobState::Running {
            if let Some(progress) = self.live().get(&job.id) {
                view.bytes_done = progress.bytes_done.load(Ordering::Relaxed).min(view.size);
                view.packets = progress.packets.load(Ordering::Relaxed);
                view.percent = view.bytes_done.saturating_mul(99).checked_div(view.size).unwrap_or(0) as u8;
            }
        }
        view
    }

    /// Analyses the saved upload in the background, then deletes the file.
    pub fn start(self: &Arc<Self>, job: JobRecord, file: PathBuf, pool: Arc<Pool>, analyzer: Arc<dyn Analyzer>) {
        let jobs = self.clone();
        tokio::spawn(async move {
            let _turn = jobs.running.lock().await;
            let progress = Arc::new(Progress::default());
            jobs.live().insert(job.id, progress.clone());
            let id = job.id;
            let _ = pool.run(move |db| Ok(db.update_job(id, JobState::Running.as_str(), 0, None, None)?)).await;
            let (location, work_file, name, site) = (pool.location().clone(), file.clone(), job.name.clone(), job.site_id);
            let work_progress = progress.clone();
            let result = tokio::task::spawn_blocking(move || analyzer.analyze(&location, site, &work_file, &name, work_progress)).await;
            let _ = tokio::fs::remove_file(&file).await;
            let packets = progress.packets.load(Ordering::Relaxed);
            let (state, packets, outcome, error) = match result {
                Ok(Ok(outcome)) => (JobState::Done, outcome.packets, serde_json::to_string(&outcome).ok(), None),
                Ok(Err(e)) => (JobState::Failed, packets, None, Some(format!("{e:#}"))),
                Err(e) => (JobState::Failed, packets, None, Some(format!("the analysis stopped unexpectedly: {e}"))),
            };
            let stored = pool.run(move |db| Ok(db.update_job(id, state.as_str(), packets, outcome.as_deref(), error.as_deref())?)).await;
            if let Err(e) = stored {
                tracing::warn!("upload {id}: recording the result: {}", e.message);
            }
            jobs.live().remove(&id);
        });
    }
}

/// After a restart: jobs that were queued or running failed with
/// [`INTERRUPTED`], and their half-kept uploads are removed.
pub fn recover(store: &dyn palisade_store::Database, upload_dir: &Path) -> anyhow::Result<()> {
    store.fail_unfinished_jobs(INTERRUPTED)?;
    if let Ok(entries) = std::fs::read_dir(upload_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("upload-") && name.ends_with(".part") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}
