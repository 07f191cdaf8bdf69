//! Capture uploads analysed in the background, one at a time, with their
//! progress.

use palisade_sensor::Progress;
use palisade_store::Location;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What an analysis of an uploaded capture found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AnalysisOutcome {
    /// Packets read.
    pub packets: u64,
    /// Devices in the inventory afterwards.
    pub devices: usize,
    /// Operations and violations recorded.
    pub events: usize,
    /// Errors met in the capture (the packets before them were analysed).
    pub errors: Vec<String>,
}

/// Analyses one capture file into the store at `location`; the binary
/// provides it (the same pipeline as `palisade analyze`).
pub trait Analyzer: Send + Sync + 'static {
    /// Analyses `capture` (shown as `name`), reporting into `progress`.
    fn analyze(&self, location: &Location, capture: &Path, name: &str, progress: Arc<Progress>) -> anyhow::Result<AnalysisOutcome>;
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

struct Job {
    view: JobView,
    progress: Arc<Progress>,
}

/// The jobs of this server process (newest kept: 200).
#[derive(Default)]
pub struct Jobs {
    next_id: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Job>>,
    /// Held while an analysis runs, so analyses never interleave.
    running: tokio::sync::Mutex<()>,
}

impl Jobs {
    const KEEP: usize = 200;

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new upload.
    pub fn add(&self, name: String, size: u64, user: String) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let view = JobView {
            id,
            name,
            size,
            user,
            created_at: crate::auth::rfc3339_now(),
            state: JobState::Queued,
            bytes_done: 0,
            packets: 0,
            percent: 0,
            outcome: None,
            error: None,
        };
        let mut jobs = self.lock();
        jobs.insert(id, Job { view, progress: Arc::new(Progress::default()) });
        while jobs.len() > Self::KEEP {
            jobs.pop_first();
        }
        id
    }

    /// One job as it is now.
    pub fn get(&self, id: u64) -> Option<JobView> {
        self.lock().get(&id).map(Self::view)
    }

    /// Every job, newest first.
    pub fn list(&self) -> Vec<JobView> {
        self.lock().values().rev().map(Self::view).collect()
    }

    fn view(job: &Job) -> JobView {
        let mut view = job.view.clone();
        if view.state == JobState::Running {
            view.bytes_done = job.progress.bytes_done.load(Ordering::Relaxed).min(view.size);
            view.packets = job.progress.packets.load(Ordering::Relaxed);
            view.percent = view.bytes_done.saturating_mul(99).checked_div(view.size).unwrap_or(0) as u8;
        }
        view
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut JobView)) {
        if let Some(job) = self.lock().get_mut(&id) {
            change(&mut job.view);
        }
    }

    /// Analyses the saved upload in the background, then deletes the file.
    pub fn start(self: &Arc<Self>, id: u64, file: PathBuf, location: Location, analyzer: Arc<dyn Analyzer>) {
        let jobs = self.clone();
        tokio::spawn(async move {
            let _turn = jobs.running.lock().await;
            let Some((name, progress)) = jobs.lock().get(&id).map(|j| (j.view.name.clone(), j.progress.clone())) else { return };
            jobs.update(id, |v| v.state = JobState::Running);
            let work_file = file.clone();
            let result = tokio::task::spawn_blocking(move || analyzer.analyze(&location, &work_file, &name, progress)).await;
            let _ = tokio::fs::remove_file(&file).await;
            jobs.update(id, |v| match result {
                Ok(Ok(outcome)) => {
                    v.state = JobState::Done;
                    v.percent = 100;
                    v.bytes_done = v.size;
                    v.packets = outcome.packets;
                    v.outcome = Some(outcome);
                }
                Ok(Err(e)) => {
                    v.state = JobState::Failed;
                    v.error = Some(format!("{e:#}"));
                }
                Err(e) => {
                    v.state = JobState::Failed;
                    v.error = Some(format!("the analysis stopped unexpectedly: {e}"));
                }
            });
        });
    }
}
