//! A small statement interface both databases implement, so the console's
//! queries are written once. Statements use PostgreSQL's `$1` placeholders;
//! the SQLite side rewrites them to `?1`.

use crate::StoreError;
use std::borrow::Cow;

/// A parameter or column value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// SQL NULL.
    Null,
    /// An integer (booleans are stored as 0/1).
    Int(i64),
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

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
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

/// One result row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row(pub Vec<Value>);

impl Row {
    /// Integer column `i` (0 when NULL or text).
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Value::Int(v)) => *v,
            _ => 0,
        }
    }

    /// Text column `i` (empty when NULL).
    pub fn text(&self, i: usize) -> String {
        match self.0.get(i) {
            Some(Value::Text(v)) => v.clone(),
            Some(Value::Int(v)) => v.to_string(),
            _ => String::new(),
        }
    }

    /// Text column `i`, `None` when NULL.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(v)) => Some(v.clone()),
            Some(Value::Int(v)) => Some(v.to_string()),
            _ => None,
        }
    }

    /// Boolean column `i` (stored as 0/1).
    pub fn flag(&self, i: usize) -> bool {
        self.int(i) != 0
    }
}

/// Runs statements on either database.
pub(crate) trait Db {
    /// The site that analyses are stored into and read from (see
    /// [`crate::Store::set_site`]).
    fn scope(&self) -> i64;
    /// Rows of a query.
    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs a statement; the number of rows changed.
    fn exec(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs a statement that inserts one row and returns its new `id`.
    fn insert_id(&self, sql: &str, params: &[Value]) -> Result<i64, StoreError> {
        let returning = format!("{sql} RETURNING id");
        let rows = self.rows(&returning, params)?;
        Ok(rows.first().map_or(0, |r| r.int(0)))
    }
    /// Runs `work` in one transaction: all of it is stored, or none.
    fn atomically<T>(&self, work: impl FnOnce(&Self) -> Result<T, StoreError>) -> Result<T, StoreError>
    where
        Self: Sized,
    {
        self.exec("BEGIN", &[])?;
        match work(self) {
            Ok(value) => {
                self.exec("COMMIT", &[])?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.exec("ROLLBACK", &[]);
                Err(e)
            }
        }
    }
    /// The first row of a query, if any.
    fn row(&self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }
}

/// Rewrites `$1` placeholders to SQLite's `?1`.
pub(crate) fn sqlite_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Builds a statement with parameters, numbering placeholders as it goes.
#[derive(Default)]
pub(crate) struct Query {
    /// Statement text.
    pub sql: String,
    /// Parameters, in placeholder order.
    pub params: Vec<Value>,
}

impl Query {
    /// Starts a statement.
    pub fn new(sql: &str) -> Self {
        Query { sql: sql.to_string(), params: Vec::new() }
    }

    /// Appends text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.params.push(value.into());
        self.sql.push_str(&format!("${}", self.params.len()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_sqlite() {
        assert_eq!(sqlite_placeholders("SELECT $1, $12 WHERE a = '$x'"), "SELECT ?1, ?12 WHERE a = '$x'");
        let mut q = Query::new("SELECT * FROM t WHERE a = ");
        q.bind(3).push(" AND b = ").bind("x");
        assert_eq!(q.sql, "SELECT * FROM t WHERE a = $1 AND b = $2");
        assert_eq!(q.params, vec![Value::Int(3), Value::Text("x".into())]);
    }
}
