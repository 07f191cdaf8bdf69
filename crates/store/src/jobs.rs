//! Capture uploads and their analyses, kept so that the list and the
//! results survive a restart of the console.

use crate::db::{Db, Row};
use crate::StoreError;
use serde::Serialize;

/// One uploaded capture and its analysis, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobRecord {
    /// Id.
    pub id: i64,
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
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Packets read (once finished).
    pub packets: u64,
    /// The result as JSON text, once done.
    pub outcome: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// What the console keeps of uploads. Every [`crate::Database`] has it.
pub trait JobStore {
    /// Records a new upload, queued.
    fn create_job(&self, name: &str, size: u64, user: &str, site_id: i64, now: &str) -> Result<JobRecord, StoreError>;
    /// Moves a job to `state`, recording its packets, result (JSON) and error.
    fn update_job(&self, id: i64, state: &str, packets: u64, outcome: Option<&str>, error: Option<&str>) -> Result<(), StoreError>;
    /// The newest jobs first, at most `limit`.
    fn jobs(&self, limit: usize) -> Result<Vec<JobRecord>, StoreError>;
    /// One job.
    fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError>;
    /// Marks every queued or running job failed with `message` (their
    /// analysis died with the process that ran it); returns how many.
    fn fail_unfinished_jobs(&self, message: &str) -> Result<u64, StoreError>;
}

const JOB_COLUMNS: &str = "id, name, size, user_name, site_id, created_at, state, packets, outcome, error";

fn job_from(r: &Row) -> JobRecord {
    JobRecord {
        id: r.int(0),
        name: r.text(1),
        size: r.int(2).max(0) as u64,
        user: r.text(3),
        site_id: r.int(4),
        created_at: r.text(5),
        state: r.text(6),
        packets: r.int(7).max(0) as u64,
        outcome: r.opt_text(8),
        error: r.opt_text(9),
    }
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl<T: Db> JobStore for T {
    fn create_job(&self, name: &str, size: u64, user: &str, site_id: i64, now: &str) -> Result<JobRecord, StoreError> {
        let id = self.insert_id(
            "INSERT INTO jobs (name, size, user_name, site_id, created_at, state, packets) VALUES ($1, $2, $3, $4, $5, 'queued', 0)",
            &[name.into(), as_i64(size).into(), user.into(), site_id.into(), now.into()],
        )?;
        self.job(id)?.ok_or_else(|| StoreError::Corrupt { path: "jobs".into(), what: format!("job {id} vanished") })
    }

    fn update_job(&self, id: i64, state: &str, packets: u64, outcome: Option<&str>, error: Option<&str>) -> Result<(), StoreError> {
        self.exec(
            "UPDATE jobs SET state = $1, packets = $2, outcome = $3, error = $4 WHERE id = $5",
            &[state.into(), as_i64(packets).into(), outcome.into(), error.into(), id.into()],
        )?;
        Ok(())
    }

    fn jobs(&self, limit: usize) -> Result<Vec<JobRecord>, StoreError> {
        let rows = self.rows(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1"), &[as_i64(limit as u64).into()])?;
        Ok(rows.iter().map(job_from).collect())
    }

    fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        Ok(self.row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"), &[id.into()])?.as_ref().map(job_from))
    }

    fn fail_unfinished_jobs(&self, message: &str) -> Result<u64, StoreError> {
        self.exec("UPDATE jobs SET state = 'failed', error = $1 WHERE state IN ('queued', 'running')", &[message.into()])
    }
}
