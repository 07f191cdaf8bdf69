//! The vulnerability database suite on SQLite, plus what only SQLite has:
//! refusing a file from a newer version.

mod common;
mod suite;

use palisade_vulndb::{SqliteVulnDb, VulnStore};
use std::path::Path;

/// A fresh SQLite file per test.
struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    fn new() -> Self {
        Sqlite { dir: tempfile::tempdir().expect("temp dir") }
    }
}

impl suite::Backend for Sqlite {
    fn open(&self) -> Box<dyn VulnStore + Send> {
        let location = palisade_store::Location::Sqlite(self.dir.path().join("site.db"));
        palisade_vulndb::open(&location).expect("open")
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

vulndb_suite!(Sqlite::new());

#[test]
fn a_database_from_the_future_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("t.db");
    drop(SqliteVulnDb::open(&path).expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute("UPDATE vdb_meta SET value = '999' WHERE key = 'schema_version'", []).expect("update");
    drop(conn);
    let err = SqliteVulnDb::open(&path).err().expect("refused").to_string();
    assert!(err.contains("newer"), "{err}");
}
