//! Storage. [`Store`] is the interface the rest of Palisade uses;
//! [`SqliteStore`] is the embedded default (WAL, versioned migrations) and
//! [`PgStore`] the PostgreSQL one, with the same tables and answers.
//! [`ConsoleStore`] adds what the console needs (paged lists, users,
//! sessions, tokens, sites, settings). Every analysis is saved in one
//! transaction, so a failure part-way leaves what was stored before
//! untouched.

mod alerts;
mod console;
mod db;
mod jobs;
mod postgres;
mod rows;
pub mod sql;
mod sqlite;
mod sync;

pub use alerts::{AlertFilter, AlertStore};
pub use console::{
    AlertQuery, AlertStats, AnalysisInfo, ApiToken, ConsoleStore, DayCounts, DeviceQuery, DeviceSort, DeviceStats, DeviceSummary,
    EventQuery, HostRisk, Page, Sensor, ServiceLink, SessionRecord, Site, SiteSummary, User, UserUpdate,
};
pub use jobs::{JobRecord, JobStore};
pub use postgres::{redact_url, PgStore};
pub use sqlite::SqliteStore;
pub use sync::{ImportCounts, SyncBundle, SyncCursor, SyncStore, SYNC_FORMAT};

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
    /// The PostgreSQL server could not be reached or used.
    #[error("database {url}: {source}")]
    Postgres {
        /// Database URL, without its password.
        url: String,
        /// Underlying error.
        #[source]
        source: ::postgres::Error,
    },
    /// A request the store cannot answer as asked (a bad cursor, say).
    #[error("{what}")]
    Invalid {
        /// What was wrong.
        what: String,
    },
    /// The change would clash with what is stored (a name taken, say).
    #[error("{what}")]
    Conflict {
        /// What clashed.
        what: String,
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
    /// Works in another site from now on: analyses are merged into and
    /// stored in it, and the observations, devices, events, endpoints,
    /// baseline, learning state and alert lists read are its own. A store
    /// starts in the default site (1).
    fn set_site(&mut self, site_id: i64);
    /// The site this store works in.
    fn site_id(&self) -> i64;
}

/// The site every store starts in, and that existing data belongs to.
pub const DEFAULT_SITE: i64 = 1;

/// A store with everything the console uses.
pub trait Database: Store + ConsoleStore + AlertStore + SyncStore + JobStore {}

impl<T: Store + ConsoleStore + AlertStore + SyncStore + JobStore> Database for T {}

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://user@host:port/db`).
    Postgres(String),
}

impl Location {
    /// How the location is shown (a PostgreSQL password is hidden).
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact_url(url),
        }
    }
}

/// Opens (creating and migrating if needed) the store at `location`.
pub fn open(location: &Location) -> Result<Box<dyn Database>, StoreError> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(SqliteStore::open(path)?),
        Location::Postgres(url) => Box::new(PgStore::open(url)?),
    })
}
