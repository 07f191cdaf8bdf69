//! The vulnerability database suite on the real PostgreSQL server
//! (127.0.0.1:5432, database `test`, or `PALISADE_TEST_DATABASE_URL`).
//! Every test works in a fresh schema that is dropped afterwards.

mod common;
mod suite;

use palisade_vulndb::{PgVulnDb, VulnStore};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// The server the tests use.
fn url() -> String {
    std::env::var("PALISADE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh schema and folder per test, dropped when the test ends.
struct Postgres {
    schema: String,
    dir: tempfile::TempDir,
}

impl Postgres {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let schema = format!("v_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos);
        Postgres { schema, dir: tempfile::tempdir().expect("temp dir") }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&url(), postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

impl suite::Backend for Postgres {
    fn open(&self) -> Box<dyn VulnStore + Send> {
        match PgVulnDb::open_in_schema(&url(), Some(&self.schema)) {
            Ok(db) => Box::new(db),
            Err(e) => panic!("PostgreSQL is needed for these tests ({e}); scripts/test.sh starts it, or set PALISADE_TEST_DATABASE_URL"),
        }
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

vulndb_suite!(Postgres::new());

#[test]
fn a_database_from_the_future_is_refused() {
    let pg = Postgres::new();
    drop(suite::Backend::open(&pg));
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).expect("connect");
    client.batch_execute(&format!("UPDATE {}.vdb_meta SET value = '999' WHERE key = 'schema_version'", pg.schema)).expect("update");
    let err = PgVulnDb::open_in_schema(&url(), Some(&pg.schema)).err().expect("refused").to_string();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn an_unreachable_server_is_a_clear_error_without_the_password() {
    let location = palisade_store::Location::Postgres("postgres://u:hunter2@127.0.0.1:1/none".into());
    let err = palisade_vulndb::open(&location).err().expect("refused").to_string();
    assert!(err.contains("postgres://u:***@127.0.0.1:1/none"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn several_connections_migrate_and_import_at_once() {
    let pg = Postgres::new();
    // The schema exists (as a real database does); its tables do not yet.
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).expect("connect");
    client.batch_execute(&format!("CREATE SCHEMA {}", pg.schema)).expect("schema");
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let schema = pg.schema.clone();
            std::thread::spawn(move || {
                let mut db = PgVulnDb::open_in_schema(&url(), Some(&schema)).expect("open");
                let report = palisade_vulndb::import_paths(&mut db, &[common::fixtures()]);
                assert!(report.errors.is_empty(), "{:?}", report.errors);
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let s = suite::Backend::open(&pg).status().expect("status");
    assert_eq!((s.cves, s.cpe_matches, s.products, s.advisories, s.kev), (34, 34, 21, 4, 3));
}
