//! The vulnerability tables in an SQLite file (the embedded default),
//! beside the inventory.

use crate::sql::{sqlite_placeholders, Backend, Row, Tx, Value};
use crate::VulnError;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// The SQLite vulnerability database.
pub struct SqliteVulnDb {
    conn: Connection,
    path: String,
}

impl SqliteVulnDb {
    /// Opens (creating if needed) the `vdb_*` tables in the database at `path`.
    pub fn open(path: &Path) -> Result<Self, VulnError> {
        let name = path.display().to_string();
        let err = |source| VulnError::Database { path: name.clone(), source };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut db = SqliteVulnDb { conn, path: name };
        crate::db::migrate(&mut db)?;
        Ok(db)
    }
}

/// Rows of a statement (a transaction derefs to its connection).
fn rows(conn: &Connection, sql: &str, params: &[Value]) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&sqlite_placeholders(sql))?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(columns);
        for i in 0..columns {
            row.push(match r.get_ref(i)? {
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Null | ValueRef::Blob(_) => Value::Null,
            });
        }
        out.push(Row(row));
    }
    Ok(out)
}

/// A write transaction (`BEGIN IMMEDIATE`: one writer at a time).
pub struct SqliteTx<'c> {
    tx: rusqlite::Transaction<'c>,
    path: &'c str,
}

impl SqliteTx<'_> {
    fn err(&self) -> impl Fn(rusqlite::Error) -> VulnError + '_ {
        move |source| VulnError::Database { path: self.path.to_string(), source }
    }
}

impl Tx for SqliteTx<'_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, VulnError> {
        rows(&self.tx, sql, params).map_err(self.err())
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<(), VulnError> {
        let mut stmt = self.tx.prepare_cached(&sqlite_placeholders(sql)).map_err(self.err())?;
        stmt.execute(rusqlite::params_from_iter(params)).map(drop).map_err(self.err())
    }

    fn batch(&mut self, sql: &str) -> Result<(), VulnError> {
        self.tx.execute_batch(sql).map_err(self.err())
    }

    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: &[Vec<Value>]) -> Result<(), VulnError> {
        let sql = format!("INSERT INTO {table} ({}) VALUES ({})", columns.join(", "), vec!["?"; columns.len()].join(", "));
        let mut stmt = self.tx.prepare_cached(&sql).map_err(self.err())?;
        for row in rows {
            stmt.execute(rusqlite::params_from_iter(row)).map_err(self.err())?;
        }
        Ok(())
    }

    fn commit(self) -> Result<(), VulnError> {
        let path = self.path.to_string();
        self.tx.commit().map_err(|source| VulnError::Database { path, source })
    }
}

impl Backend for SqliteVulnDb {
    type Tx<'a> = SqliteTx<'a>;

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, VulnError> {
        rows(&self.conn, sql, params).map_err(|source| VulnError::Database { path: self.path.clone(), source })
    }

    fn begin(&mut self) -> Result<SqliteTx<'_>, VulnError> {
        let SqliteVulnDb { conn, path } = self;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| VulnError::Database { path: path.clone(), source })?;
        Ok(SqliteTx { tx, path })
    }

    fn name(&self) -> &str {
        &self.path
    }

    fn after_import(&mut self) -> Result<(), VulnError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|source| VulnError::Database { path: self.path.clone(), source })
    }
}
