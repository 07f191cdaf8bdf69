//! Storage. [`Store`] is the interface the rest of Palisade uses;
//! [`SqliteStore`] is the embedded default (WAL, versioned migrations).
//! Every analysis is saved in one transaction, so a failure part-way
//! leaves what was stored before untouched.

mod sqlite;

pub use sqlite::SqliteStore;

use palisade_engine::{ActivityLog, Device, EventRecord, ExternalEndpoint, Inventory, Observations};

/// Storage errors; messages name the database and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or used.
    #[error("database {path}: {source}")]
    Database {
        /// Database path or URL.
        path: String,
        /// Underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored row could not be read back.
    #[error("database {path}: stored data is unreadable ({what}); was it written by a newer Palisade?")]
    Corrupt {
        /// Database path or URL.
        path: String,
        /// What was wrong.
        what: String,
    },
    /// The database was written by a newer version.
    #[error("database {path} has schema version {found}, newer than this Palisade understands ({supported}); upgrade Palisade")]
    TooNew {
        /// Database path.
        path: String,
        /// Version found.
        found: i64,
        /// Newest version known.
        supported: i64,
    },
}

/// One analysis run, as recorded.
#[derive(Clone, Debug, Default)]
pub struct AnalysisRecord {
    /// Input names.
    pub inputs: Vec<String>,
    /// Packets read.
    pub packets: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Errors met, one line each.
    pub errors: Vec<String>,
}

/// Which stored events to list.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Only `operation` or `violation` records.
    pub record_type: Option<String>,
    /// Only this protocol.
    pub protocol: Option<String>,
    /// Only records involving this IP (either side).
    pub ip: Option<String>,
    /// At most this many (the newest are dropped).
    pub limit: Option<usize>,
}

/// What Palisade stores.
pub trait Store {
    /// Everything observed by earlier analyses.
    fn load_observations(&self) -> Result<Observations, StoreError>;
    /// Saves the merged observations, the inventory built from them and the
    /// new operations and violations in one transaction, giving each device
    /// its stable id.
    fn save_analysis(
        &mut self,
        observations: &Observations,
        inventory: &mut Inventory,
        activity: &ActivityLog,
        run: &AnalysisRecord,
    ) -> Result<(), StoreError>;
    /// Stored operations and violations, oldest first, filtered.
    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;
    /// The stored devices, by id.
    fn devices(&self) -> Result<Vec<Device>, StoreError>;
    /// The stored external endpoints.
    fn external_endpoints(&self) -> Result<Vec<ExternalEndpoint>, StoreError>;
}
