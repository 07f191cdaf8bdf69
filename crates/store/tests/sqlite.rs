//! The store suite on SQLite, plus what only SQLite has: refusing a file
//! from a newer version or one that is not a database.

mod suite;

use palisade_store::{Database, SqliteStore};
use std::path::PathBuf;

/// A fresh SQLite file per test.
struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Sqlite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Sqlite { _dir: dir, path }
    }
}

impl suite::Backend for Sqlite {
    fn open(&self) -> Box<dyn Database> {
        Box::new(SqliteStore::open(&self.path).unwrap())
    }
}

store_suite!(Sqlite::new());

#[test]
fn a_database_from_the_future_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'later')", []).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    std::fs::write(&path, b"this is not sqlite, just text that is long enough to be read as a header....................................")
        .unwrap();
    let err = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(err.contains("t.db"), "{err}");
}
