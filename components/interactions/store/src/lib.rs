//! The interaction log in SQLite (`migrations/0006_interactions.sql`), the
//! one place its rows are read and written: the `interaction-log` HTTP
//! component and the `interactions-leaf` (which other components append
//! through) both link this crate, so every append to a contact's chain takes
//! the same path. The rules are `interactions-rules`'; this crate only moves
//! entries between them and the tables.
//!
//! - [`append_interaction`], [`amend`], [`dispose`]: each in one
//!   `BEGIN IMMEDIATE` transaction that reads the chain's tip, seals the new
//!   entry onto it and writes it with the timeline projection, so appends to
//!   one chain serialise and a failure leaves nothing behind.
//! - [`append_interaction_once`]: an append, under an `Idempotency-Key`
//!   (`crm_http::IdempotencyKey`) when given, kept in the append's transaction so a
//!   retry answers with the first entry instead of appending again.
//! - [`record`], [`timeline`]: an interaction as corrected (or its
//!   tombstone), and keyset-paginated timeline pages.
//! - [`counts`]: trend counts for [`interactions_rules::suppress`].
//! - [`verify`]: walks a contact's chain with
//!   [`interactions_rules::ChainVerifier`].
//! - [`holds`]: placing, lifting and listing legal holds.
//!
//! Time and ids come from the caller, as in `interactions-rules`.

mod chain;
pub mod cursor;
pub mod holds;
mod idempotency;
mod read;
mod rows;
mod trends;
mod verify;
mod write;

#[cfg(test)]
mod tests;

use crm_sql::SqlError;
use thiserror::Error;

pub use chain::{Contact, create_chain, set_tip};
pub use holds::{HoldError, StoredHold};
pub use read::{Record, RecordState, contact_of, record, timeline};
pub use rows::{StoredEntry, insert_entry, insert_timeline_row};
pub use trends::counts;
pub use verify::{Broken, Verdict, verify};
pub use write::{
    AmendError, AppendError, Appended, DisposeError, amend, append_interaction,
    append_interaction_once, dispose,
};

/// Why the store could not do what was asked (the caller's fault is a
/// separate error of each operation).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] SqlError),
    #[error("entry {sequence} of contact key {contact_key} is unreadable: `{column}` {why}")]
    Corrupt {
        contact_key: i64,
        sequence: i64,
        column: &'static str,
        why: String,
    },
    #[error("the stored log is inconsistent: {0}")]
    Inconsistent(String),
}
