//! The audit trail in SQLite (`audit_entries`, `audit_checkpoints`), the one
//! place its rows are read and written: the `audit-leaf` appends through
//! [`append`], the `audit` HTTP component reads through the rest. The hash
//! chain itself is `audit-chain`'s; this crate only moves entries between it
//! and the tables.
//!
//! Rows are read back leniently (a NULL or mistyped required column reads
//! as empty): the chain's hashes, not the decoder, are what find a tampered
//! entry, so a walk of the chain reports it as a broken link.

mod append;
mod checkpoints;
mod entries;

#[cfg(test)]
mod tests;

use crm_http::Problem;
use crm_sql::{Row, Sql, SqlError, Value, integer, text};
use thiserror::Error;

pub use append::{AppendError, MAX_TEXT_CHARS, NewEntry, Receipt, append, append_in_transaction};
pub use checkpoints::{checkpoints, head, insert_checkpoint};
pub use entries::{Filter, StoredEntry, entries};

/// The database failed; what it said is in the log.
#[derive(Debug, Error)]
#[error("database: {0}")]
pub struct StoreError(#[from] SqlError);

impl From<StoreError> for Problem {
    /// SQLite's words name tables and columns, so they went to the log
    /// ([`run`]), not to the caller.
    fn from(_: StoreError) -> Self {
        Problem::internal("a database statement failed (the details are in the log)")
    }
}

/// Runs one statement, logging a failure with the statement that failed.
fn run(db: &impl Sql, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
    crm_sql::run_logged(db, sql, params).map_err(StoreError)
}
