//! Vulnerabilities, recommendations and risk, from offline data.
//!
//! Sites are often air-gapped, so everything works from files the user
//! brings in: NVD CVE and CPE JSON 2.0 feeds, CSAF 2.0 advisories and the
//! CISA KEV catalog are imported ([`import`]) into tables of their own
//! ([`db`]); the inventory's identity facts are matched against them
//! ([`matching`]) with normalised names ([`names`]) and firmware version
//! ranges ([`version`]).

pub mod advice;
pub mod csaf;
pub mod db;
pub mod import;
pub mod kev;
pub mod matching;
pub mod names;
pub mod nvd;
pub mod risk;
pub mod site;
pub mod version;

pub use db::{SqliteVulnDb, VulnStore};
pub use import::{import_paths, ImportReport};

/// Errors of the vulnerability database; messages name the database or file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum VulnError {
    /// The database could not be opened or used.
    #[error("database {path}: {source}")]
    Database {
        /// Database path.
        path: String,
        /// Underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer version.
    #[error(
        "database {path} has vulnerability schema version {found}, newer than this Palisade understands ({supported}); upgrade Palisade"
    )]
    TooNew {
        /// Database path.
        path: String,
        /// Version found.
        found: i64,
        /// Newest version known.
        supported: i64,
    },
    /// A record in an imported file is not what its format says.
    #[error("{0}")]
    Format(String),
}
