//! The contacts of `contact-intake` in SQLite (`migrations/0004_contacts.sql`),
//! the one place their rows are written, read and decoded: `contacts-http`
//! and `contacts-leaf` both link this crate, and the benchmark's generator
//! writes through it too. What is written is decided by `contacts-rules`;
//! this crate only moves it between the rules' types and the tables.
//!
//! - [`create`], [`update`], [`retire`]: a contact with its version row,
//!   match keys, search row, labels and outbox event (the caller holds the
//!   transaction, with [`crm_sql::transaction`]).
//! - [`load`], [`resolve`], [`merge_family`]: a contact as stored, the
//!   survivor of its merges, and every contact merged into a survivor.
//! - [`versions`]: a contact's history.
//! - [`candidates`]: the current contacts filed under match keys.
//! - [`search`]: a page of a [`SearchPlan`](contacts_rules::search::SearchPlan).
//! - [`kept`], [`keep`]: the answer kept under an `Idempotency-Key`.
//!
//! Time and ids come from the caller.

mod contact;
mod history;
mod idempotency;
mod search;
mod write;

#[cfg(test)]
mod tests;

use crm_http::Problem;
use crm_sql::{Row, Sql, SqlError, Value, integer, text};
use thiserror::Error;

pub use contact::{CANDIDATES_PER_KEY, Stored, candidates, load, merge_family, resolve};
pub use history::{Version, versions};
pub use idempotency::{Answer, Kept, keep, kept};
pub use search::search;
pub use write::{Change, VersionMeta, Written, create, retire, update};

/// Merges chain (a survivor merged again); a longer chain is a fault.
pub const MAX_MERGE_HOPS: usize = 16;

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {error}; statement: {statement}")]
    Sql { error: SqlError, statement: String },
    #[error("contact {contact}: unreadable {what}: {why}")]
    Unreadable {
        contact: String,
        what: String,
        why: String,
    },
    #[error("an idempotency key's answer is unreadable: {0}")]
    UnreadableAnswer(String),
    #[error("contact {0}: merges chain too far")]
    MergeChainTooLong(String),
}

/// A failure of `BEGIN`, `COMMIT` (through [`crm_sql::transaction`]).
impl From<SqlError> for StoreError {
    fn from(error: SqlError) -> Self {
        Self::Sql {
            error,
            statement: String::new(),
        }
    }
}

/// How both contacts components answer a store failure: always ours, and a
/// database failure is logged with its statement and answered without it.
impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sql { error, statement } => {
                eprintln!("database statement failed: {error}; statement: {statement}");
                Problem::internal("a database statement failed (the details are in the log)")
            }
            other => Problem::internal(other.to_string()),
        }
    }
}

/// Runs one statement, naming it (on one line) when it fails.
fn run(db: &impl Sql, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
    db.run(sql, params).map_err(|error| StoreError::Sql {
        error,
        statement: crm_sql::one_line(sql),
    })
}
