//! What the vulnerability tables need of a database, so that their SQL is
//! written once ([`crate::db`]) and each backend ([`crate::sqlite`],
//! [`crate::pg`]) supplies only connections, transactions, placeholders and
//! bulk inserts. Statements use PostgreSQL's `$1` placeholders; SQLite
//! rewrites them to `?1`.

use crate::VulnError;
use std::borrow::Cow;

pub use palisade_store::sql::{sqlite_placeholders, Row, Value};

/// Builds an array of parameters from values of mixed types.
macro_rules! values {
    ($($v:expr),* $(,)?) => { [$($crate::sql::Value::from($v)),*] };
}
pub(crate) use values;

/// A database that holds the `vdb_*` tables.
pub trait Backend {
    /// A write transaction.
    type Tx<'a>: Tx
    where
        Self: 'a;
    /// Rows of a query, outside any transaction.
    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, VulnError>;
    /// Rows of a query whose `IN ({})` stands for `keys` (all integers or
    /// all texts), its only parameters: in chunks of placeholders, unless
    /// the database takes the whole list as one array.
    fn query_in(&self, query: &str, keys: &[Value]) -> Result<Vec<Row>, VulnError> {
        in_chunks(|sql, params| self.query(sql, params), query, keys)
    }
    /// Starts a write transaction that no other writer runs beside.
    fn begin(&mut self) -> Result<Self::Tx<'_>, VulnError>;
    /// Names the database in messages (a PostgreSQL password is hidden).
    fn name(&self) -> &str;
    /// A migration in this database's words.
    fn dialect(sql: &str) -> Cow<'_, str> {
        Cow::Borrowed(sql)
    }
    /// Gives back space an import used temporarily.
    fn after_import(&mut self) -> Result<(), VulnError> {
        Ok(())
    }
}

/// A write transaction; dropping it without [`Tx::commit`] rolls it back.
pub trait Tx {
    /// Rows of a query.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, VulnError>;
    /// Runs a statement.
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<(), VulnError>;
    /// Rows of a query over a list of keys, as [`Backend::query_in`].
    fn query_in(&mut self, query: &str, keys: &[Value]) -> Result<Vec<Row>, VulnError> {
        in_chunks(|sql, params| self.query(sql, params), query, keys)
    }
    /// Runs a statement over a list of keys (`IN ({})`), as [`Backend::query_in`].
    fn exec_in(&mut self, statement: &str, keys: &[Value]) -> Result<(), VulnError> {
        in_chunks(|sql, params| self.exec(sql, params).map(|()| Vec::new()), statement, keys).map(drop)
    }
    /// Runs several statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), VulnError>;
    /// Adds many rows to `table`, values in `columns` order.
    fn insert_rows(&mut self, table: &str, columns: &[&str], rows: &[Vec<Value>]) -> Result<(), VulnError>;
    /// Makes the transaction's writes visible.
    fn commit(self) -> Result<(), VulnError>;
}

/// `$first, $first+1, …` for `count` parameters.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The migrations' column types in PostgreSQL's words: SQLite's `INTEGER`
/// holds 64 bits and its `REAL` is a double.
pub fn postgres_types(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "INTEGER" => "BIGINT",
            "REAL" => "DOUBLE PRECISION",
            w => w,
        });
        word.clear();
    };
    for c in sql.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Rows of `query` for every chunk of `keys`, with `{}` in the query replaced
/// by the chunk's placeholders (databases limit how many a statement takes).
pub fn in_chunks(
    mut run: impl FnMut(&str, &[Value]) -> Result<Vec<Row>, VulnError>,
    query: &str,
    keys: &[Value],
) -> Result<Vec<Row>, VulnError> {
    let mut out = Vec::new();
    for chunk in keys.chunks(500) {
        let sql = query.replace("{}", &placeholders(1, chunk.len()));
        out.extend(run(&sql, chunk)?);
    }
    Ok(out)
}

/// Rows of a query over a list of keys ([`Backend::query_in`] or
/// [`Tx::query_in`]), decoded.
pub fn rows_in<T>(
    run: impl FnOnce(&str, &[Value]) -> Result<Vec<Row>, VulnError>,
    query: &str,
    keys: &[Value],
    decode: impl FnMut(&Row) -> T,
) -> Result<Vec<T>, VulnError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(run(query, keys)?.iter().map(decode).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_types_are_translated() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(
            postgres_types("CREATE TABLE t (id INTEGER PRIMARY KEY, s REAL, INTEGERS TEXT, real_x REAL);"),
            "CREATE TABLE t (id BIGINT PRIMARY KEY, s DOUBLE PRECISION, INTEGERS TEXT, real_x DOUBLE PRECISION);"
        );
    }
}
