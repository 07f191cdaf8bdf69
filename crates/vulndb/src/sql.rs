//! What the vulnerability tables need of a database, so that their SQL is
//! written once ([`crate::db`]) and each backend ([`crate::sqlite`],
//! [`crate::pg`]) supplies only connections, transactions, placeholders and
//! bulk inserts. Statements use PostgreSQL's `$1` placeholders; SQLite
//! rewrites them to `?1`.

use crate::VulnError;
use std::borrow::Cow;

/// A parameter or column value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (flags are stored as 0/1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds an array of parameters from values of mixed types.
macro_rules! values {
    ($($v:expr),* $(,)?) => { [$($crate::sql::Value::from($v)),*] };
}
pub(crate) use values;

/// One result row.
#[derive(Clone, Debug, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Integer column `i` (0 when NULL or not a number).
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Value::Int(v)) => *v,
            Some(Value::Text(v)) => v.parse().unwrap_or(0),
            _ => 0,
        }
    }

    /// Flag column `i` (stored as 0/1).
    pub fn flag(&self, i: usize) -> bool {
        self.int(i) != 0
    }

    /// Text column `i`, `None` when NULL.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(v)) => Some(v.clone()),
            Some(Value::Int(v)) => Some(v.to_string()),
            Some(Value::Real(v)) => Some(v.to_string()),
            _ => None,
        }
    }

    /// Text column `i` (empty when NULL).
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }

    /// Number column `i`, `None` when NULL.
    pub fn opt_real(&self, i: usize) -> Option<f64> {
        match self.0.get(i) {
            Some(Value::Real(v)) => Some(*v),
            Some(Value::Int(v)) => Some(*v as f64),
            _ => None,
        }
    }
}

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

/// Rewrites `$1` placeholders to SQLite's `?1`.
pub fn sqlite_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
        assert_eq!(sqlite_placeholders("SELECT $1, $12 WHERE a = '$x'"), "SELECT ?1, ?12 WHERE a = '$x'");
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(
            postgres_types("CREATE TABLE t (id INTEGER PRIMARY KEY, s REAL, INTEGERS TEXT, real_x REAL);"),
            "CREATE TABLE t (id BIGINT PRIMARY KEY, s DOUBLE PRECISION, INTEGERS TEXT, real_x DOUBLE PRECISION);"
        );
    }
}
