//! The store suite on the real PostgreSQL server (127.0.0.1:5432, database
//! `test`, or `PALISADE_TEST_DATABASE_URL`). Every test works in a fresh
//! schema that is dropped afterwards, so tests run side by side.

mod suite;

use palisade_store::{Database, PgStore};
use std::sync::atomic::{AtomicU32, Ordering};

/// The server the tests use.
fn url() -> String {
    std::env::var("PALISADE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh schema per test, dropped when the test ends.
struct Postgres {
    schema: String,
}

impl Postgres {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let schema = format!("t_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos);
        Postgres { schema }
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
    fn open(&self) -> Box<dyn Database> {
        match PgStore::open_in_schema(&url(), Some(&self.schema)) {
            Ok(store) => Box::new(store),
            Err(e) => panic!("PostgreSQL is needed for these tests ({e}); scripts/test.sh starts it, or set PALISADE_TEST_DATABASE_URL"),
        }
    }
}

store_suite!(Postgres::new());

#[test]
fn a_database_from_the_future_is_refused() {
    let pg = Postgres::new();
    drop(suite::Backend::open(&pg));
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    client.batch_execute(&format!("INSERT INTO {}.schema_migrations (version, applied_at) VALUES (999, 'later')", pg.schema)).unwrap();
    let err = PgStore::open_in_schema(&url(), Some(&pg.schema)).err().expect("refused").to_string();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn an_unreachable_server_is_a_clear_error_without_the_password() {
    let err = PgStore::open("postgres://u:hunter2@127.0.0.1:1/none").err().expect("refused").to_string();
    assert!(err.contains("postgres://u:***@127.0.0.1:1/none"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
