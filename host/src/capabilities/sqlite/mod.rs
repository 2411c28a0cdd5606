//! SQLite databases (`fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0`):
//! the manifest's `sqlite_databases` grants, runtime-config
//! `[sqlite_database.<label>]`, and the [`SqliteDatabase`] backend trait with a
//! local-file implementation (WAL with group commit: an acknowledged write
//! is as durable as with `synchronous=FULL`, or as the guest's own `PRAGMA
//! synchronous` asks). A libSQL backend is one more implementation of the
//! trait.
//!
//! `bindings` serves the guest, `pool` is the local-file backend,
//! `statement` classifies statements for it, and `group_commit` makes its
//! commits durable.

mod bindings;
mod group_commit;
mod pool;
mod statement;

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use futures::future::BoxFuture;

pub use bindings::{SqliteGrants, SqliteState, SqliteView, add_to_linker};
pub use group_commit::{Acknowledgement, GroupCommit, Synchronous};
pub use pool::{SqliteFile, open_file};

/// A value in or out of a statement, independent of the WIT version.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
}

/// A database a label resolves to.
pub trait SqliteDatabase: Send + Sync {
    /// A connection for one request, whose writes it owes to `ack`; past
    /// `deadline` its statements stop (and fail) instead of running on.
    fn connect(
        self: Arc<Self>,
        ack: Acknowledgement,
        deadline: Instant,
    ) -> Result<Arc<dyn SqliteConnection>>;
}

/// One guest connection: statements on it share its transaction state.
pub trait SqliteConnection: Send + Sync {
    /// Runs one statement; what it wrote or saw must be durable before the
    /// request's [`Acknowledgement`] settles.
    fn execute(
        self: Arc<Self>,
        statement: String,
        parameters: Vec<SqlValue>,
    ) -> BoxFuture<'static, Result<QueryResult>>;
    fn last_insert_rowid(&self) -> i64;
    fn changes(&self) -> u64;
}
