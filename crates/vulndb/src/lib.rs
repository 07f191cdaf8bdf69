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
pub mod fuzzing;
pub mod import;
pub mod kev;
pub mod matching;
pub mod names;
pub mod nvd;
pub mod os;
mod pg;
pub mod report;
pub mod risk;
pub mod site;
mod sql;
mod sqlite;
pub mod version;

pub use db::VulnStore;
pub use import::{import_paths, ImportBatch, ImportReport};
pub use pg::PgVulnDb;
pub use sqlite::SqliteVulnDb;

/// Opens (creating and migrating if needed) the vulnerability tables at
/// `location`: beside the inventory in the same SQLite file, or in the
/// console's PostgreSQL database.
pub fn open(location: &palisade_store::Location) -> Result<Box<dyn VulnStore + Send>, VulnError> {
    Ok(match location {
        palisade_store::Location::Sqlite(path) => Box::new(SqliteVulnDb::open(path)?),
        palisade_store::Location::Postgres(url) => Box::new(PgVulnDb::open(url)?),
    })
}

use site::SiteData;

/// What a site's assessment could not see, in plain words, for reports and the command line.
pub fn limits(site: &SiteData) -> Vec<String> {
    let mut out = Vec::new();
    if site.connections.iter().all(|c| c.seen_in == "operation") && site.internet_hosts.is_empty() {
        out.push(
            "Connections come from the stored operations only (no conversation table is stored yet): internet access from \
             levels 0–2, flat-network findings and attack paths see only conversations that carried an operation."
                .into(),
        );
    }
    if site.alerts.is_empty() {
        out.push("No open alerts were available: the alert part of every device score is 0.".into());
    }
    let unknown = site.devices.iter().filter(|d| d.vendor.is_some() && d.model.is_some() && d.firmware.is_none()).count();
    if unknown > 0 {
        out.push(format!("{unknown} identified devices report no firmware version: their matches have half the confidence."));
    }
    out
}

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
    /// The PostgreSQL database could not be reached or used.
    #[error("database {url}: {source}")]
    Postgres {
        /// Database URL, without its password.
        url: String,
        /// Underlying error.
        #[source]
        source: postgres::Error,
    },
    /// Writing to the database failed.
    #[error("database {path}: {source}")]
    Io {
        /// Database path or URL.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
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
