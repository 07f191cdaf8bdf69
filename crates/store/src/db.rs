//! A small statement interface both databases implement, so the console's
//! queries are written once. Statements use PostgreSQL's `$1` placeholders;
//! the SQLite side rewrites them to `?1`.

use crate::StoreError;

pub(crate) use crate::sql::{sqlite_placeholders, Row, Value};

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
    fn queries_number_their_placeholders() {
        let mut q = Query::new("SELECT * FROM t WHERE a = ");
        q.bind(3).push(" AND b = ").bind("x");
        assert_eq!(q.sql, "SELECT * FROM t WHERE a = $1 AND b = $2");
        assert_eq!(q.params, vec![Value::Int(3), Value::Text("x".into())]);
    }
}
