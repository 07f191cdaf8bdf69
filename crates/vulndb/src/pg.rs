//! The vulnerability tables in the console's PostgreSQL database. Writers
//! take an advisory lock, so imports and match caching from several
//! processes run one after the other; bulk rows go in with `COPY`.

use crate::sql::{postgres_types, Backend, Row, Tx, Value};
use crate::VulnError;
use palisade_store::redact_url;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, MutexGuard};

/// Key of the advisory lock writers of the `vdb_*` tables hold.
const WRITER_LOCK: i64 = 0x5041_4c49_5644_4221;

/// Statements kept prepared per connection at most.
const MAX_STATEMENTS: usize = 256;

/// The PostgreSQL vulnerability database.
pub struct PgVulnDb {
    client: Mutex<Client>,
    statements: Mutex<HashMap<String, Statement>>,
    /// The URL without its password, for messages.
    url: String,
}

impl PgVulnDb {
    /// Connects to the database at `url` (`postgres://user@host:port/db`) and migrates its `vdb_*` tables.
    pub fn open(url: &str) -> Result<Self, VulnError> {
        Self::open_in_schema(url, None)
    }

    /// Connects and works in `schema` (created if missing) instead of the
    /// default search path: tests use a fresh schema each.
    pub fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self, VulnError> {
        let shown = redact_url(url);
        let err = |source| VulnError::Postgres { url: shown.clone(), source };
        let mut client = Client::connect(url, NoTls).map_err(err)?;
        if let Some(schema) = schema {
            if schema.is_empty() || !schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(VulnError::Format(format!("schema name {schema:?} must be lowercase letters, digits and _")));
            }
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}")).map_err(err)?;
        }
        let mut db = PgVulnDb { client: Mutex::new(client), statements: Mutex::default(), url: shown };
        crate::db::migrate(&mut db)?;
        Ok(db)
    }
}

/// The prepared statement for `sql`, preparing it the first time on this connection.
fn prepare<C: postgres::GenericClient>(
    client: &mut C,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql)?;
    if statements.len() >= MAX_STATEMENTS {
        statements.clear();
    }
    statements.insert(sql.to_string(), statement.clone());
    Ok(statement)
}

fn run<C: postgres::GenericClient>(
    client: &mut C,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, postgres::Error> {
    let statement = prepare(client, statements, sql)?;
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    client.query(&statement, &params)?.iter().map(palisade_store::sql::pg_row).collect()
}

/// A query over a list of keys with the whole list as one array parameter:
/// its `IN ({})` becomes `= ANY($1)`, so any number of keys is one round trip.
fn run_any<C: postgres::GenericClient>(
    client: &mut C,
    statements: &mut HashMap<String, Statement>,
    query: &str,
    keys: &[Value],
) -> Result<Vec<Row>, postgres::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let statement = prepare(client, statements, &query.replace("IN ({})", "= ANY($1)"))?;
    let ints: Option<Vec<i64>> = keys.iter().map(|k| if let Value::Int(i) = k { Some(*i) } else { None }).collect();
    let rows = match ints {
        Some(ints) => client.query(&statement, &[&ints])?,
        None => {
            let texts: Vec<Value> =
                keys.iter().map(|k| if let Value::Int(i) = k { Value::Text(i.to_string()) } else { k.clone() }).collect();
            client.query(&statement, &[&texts])?
        }
    };
    rows.iter().map(palisade_store::sql::pg_row).collect()
}

/// Appends one value in `COPY`'s text format.
fn copy_field(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::Real(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Value::Text(v) => {
            for b in v.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    0 => {}
                    _ => out.push(b),
                }
            }
        }
    }
}

/// A write transaction holding the writers' lock.
pub struct PgTx<'c> {
    tx: postgres::Transaction<'c>,
    statements: &'c mut HashMap<String, Statement>,
    url: &'c str,
}

impl PgTx<'_> {
    fn err(&self) -> impl Fn(postgres::Error) -> VulnError + '_ {
        move |source| VulnError::Postgres { url: self.url.to_string(), source }
    }
}

impl Tx for PgTx<'_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, VulnError> {
        let url = self.url;
        run(&mut self.tx, self.statements, sql, params).map_err(|source| VulnError::Postgres { url: url.to_string(), source })
    }

    fn query_in(&mut self, query: &str, keys: &[Value]) -> Result<Vec<Row>, VulnError> {
        let url = self.url;
        run_any(&mut self.tx, self.statements, query, keys).map_err(|source| VulnError::Postgres { url: url.to_string(), source })
    }

    fn exec_in(&mut self, statement: &str, keys: &[Value]) -> Result<(), VulnError> {
        self.query_in(statement, keys).map(drop)
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<(), VulnError> {
        let url = self.url;
        let err = |source| VulnError::Postgres { url: url.to_string(), source };
        let statement = prepare(&mut self.tx, self.statements, sql).map_err(err)?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.tx.execute(&statement, &params).map(drop).map_err(err)
    }

    fn batch(&mut self, sql: &str) -> Result<(), VulnError> {
        self.tx.batch_execute(sql).map_err(self.err())
    }

    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: &[Vec<Value>]) -> Result<(), VulnError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut text = Vec::with_capacity(rows.len() * 64);
        for row in rows {
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    text.push(b'\t');
                }
                copy_field(value, &mut text);
            }
            text.push(b'\n');
        }
        let url = self.url;
        let mut sink = self
            .tx
            .copy_in(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))
            .map_err(|source| VulnError::Postgres { url: url.to_string(), source })?;
        sink.write_all(&text).map_err(|source| VulnError::Io { path: url.to_string(), source })?;
        sink.finish().map(drop).map_err(|source| VulnError::Postgres { url: url.to_string(), source })
    }

    fn commit(self) -> Result<(), VulnError> {
        let url = self.url.to_string();
        self.tx.commit().map_err(|source| VulnError::Postgres { url, source })
    }
}

impl Backend for PgVulnDb {
    type Tx<'a> = PgTx<'a>;

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, VulnError> {
        let mut client = lock(&self.client);
        let mut statements = lock(&self.statements);
        run(&mut *client, &mut statements, sql, params).map_err(|source| VulnError::Postgres { url: self.url.clone(), source })
    }

    fn query_in(&self, query: &str, keys: &[Value]) -> Result<Vec<Row>, VulnError> {
        let mut client = lock(&self.client);
        let mut statements = lock(&self.statements);
        run_any(&mut *client, &mut statements, query, keys).map_err(|source| VulnError::Postgres { url: self.url.clone(), source })
    }

    fn begin(&mut self) -> Result<PgTx<'_>, VulnError> {
        let PgVulnDb { client, statements, url } = self;
        let err = |source| VulnError::Postgres { url: url.clone(), source };
        let client = client.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let statements = statements.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut tx = client.transaction().map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK]).map_err(err)?;
        Ok(PgTx { tx, statements, url })
    }

    fn name(&self) -> &str {
        &self.url
    }

    fn dialect(sql: &str) -> Cow<'_, str> {
        Cow::Owned(postgres_types(sql))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
