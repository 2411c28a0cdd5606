//! The little a store needs from a SQLite connection, so that the same
//! statements run in a Spin component (`spin` feature) and natively
//! (`rusqlite` feature: store unit tests against real SQLite files, the CLI,
//! benchmark generators).

use thiserror::Error;

/// A parameter or a column value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        // Sequences and counts stay far below i64::MAX.
        Self::Integer(v as i64)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// A column's integer, if it holds one (a NULL or another type reads as
/// missing: stores decide what a missing value means).
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(*i),
        _ => None,
    }
}

/// A column's text, if it holds text.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

/// `sql` on one line, as logs name a statement.
pub fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs one statement; a failure is written to stderr with the statement,
/// because SQLite's words name tables and columns: they belong in the log,
/// not in an answer to the caller.
pub fn run_logged(db: &impl Sql, sql: &str, params: &[Value]) -> Result<Vec<Row>, SqlError> {
    db.run(sql, params).map_err(|e| {
        eprintln!(
            "database statement failed: {e}; statement: {}",
            one_line(sql)
        );
        e
    })
}

/// What the database said went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct SqlError(pub String);

/// One result row.
pub type Row = Vec<Value>;

/// A connection that runs one statement with positional parameters.
pub trait Sql {
    fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, SqlError>;
}

/// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`: the write lock is taken
/// before anything is read, so two appends to one chain cannot both read
/// the same tip; on any error nothing is kept.
pub fn transaction<T, E: From<SqlError>>(
    db: &impl Sql,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    db.run("BEGIN IMMEDIATE", &[])?;
    match f() {
        Ok(value) => {
            if let Err(e) = db.run("COMMIT", &[]) {
                let _ = db.run("ROLLBACK", &[]);
                return Err(e.into());
            }
            Ok(value)
        }
        Err(e) => {
            let _ = db.run("ROLLBACK", &[]);
            Err(e)
        }
    }
}

/// `?, ?, …` for `n` parameters.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[cfg(feature = "spin")]
mod spin {
    use super::{Row, Sql, SqlError, Value};
    use spin_sdk::sqlite::{Connection, Value as SpinValue};

    impl Sql for Connection {
        fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, SqlError> {
            let params: Vec<SpinValue> = params
                .iter()
                .map(|p| match p {
                    Value::Null => SpinValue::Null,
                    Value::Integer(i) => SpinValue::Integer(*i),
                    Value::Real(r) => SpinValue::Real(*r),
                    Value::Text(t) => SpinValue::Text(t.clone()),
                    Value::Blob(b) => SpinValue::Blob(b.clone()),
                })
                .collect();
            let result = self
                .execute(sql, &params)
                .map_err(|e| SqlError(e.to_string()))?;
            Ok(result
                .rows
                .into_iter()
                .map(|row| {
                    row.values
                        .into_iter()
                        .map(|v| match v {
                            SpinValue::Null => Value::Null,
                            SpinValue::Integer(i) => Value::Integer(i),
                            SpinValue::Real(r) => Value::Real(r),
                            SpinValue::Text(t) => Value::Text(t),
                            SpinValue::Blob(b) => Value::Blob(b),
                        })
                        .collect()
                })
                .collect())
        }
    }
}

#[cfg(any(test, feature = "rusqlite"))]
mod native {
    use super::{Row, Sql, SqlError, Value};
    use rusqlite::types::{Value as NativeValue, ValueRef};

    impl Sql for rusqlite::Connection {
        fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, SqlError> {
            let error = |e: rusqlite::Error| SqlError(e.to_string());
            let mut statement = self.prepare_cached(sql).map_err(error)?;
            let params = params.iter().map(|p| match p {
                Value::Null => NativeValue::Null,
                Value::Integer(i) => NativeValue::Integer(*i),
                Value::Real(r) => NativeValue::Real(*r),
                Value::Text(t) => NativeValue::Text(t.clone()),
                Value::Blob(b) => NativeValue::Blob(b.clone()),
            });
            let width = statement.column_count();
            let mut rows = statement
                .query(rusqlite::params_from_iter(params))
                .map_err(error)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(error)? {
                let values = (0..width)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(i) => Value::Integer(i),
                            ValueRef::Real(r) => Value::Real(r),
                            ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        })
                    })
                    .collect::<rusqlite::Result<Row>>()
                    .map_err(error)?;
                out.push(values);
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sql;

    /// The native connection keeps Spin's rule (and libSQL's limit): one
    /// statement per `run`, so store tests run every query under it.
    #[test]
    fn a_string_of_several_statements_is_refused_whole() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.run("CREATE TABLE t (x)", &[]).unwrap();
        let refused = db
            .run("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", &[])
            .unwrap_err();
        assert!(
            refused.0.contains("Multiple statements provided"),
            "{refused:?}"
        );
        let rows = db.run("SELECT count(*) FROM t", &[]).unwrap();
        assert_eq!(rows, vec![vec![super::Value::Integer(0)]]);
    }
}
