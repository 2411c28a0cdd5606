//! SQLite databases (`fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0`):
//! the manifest's `sqlite_databases` grants, runtime-config
//! `[sqlite_database.<label>]`, and the [`SqliteDatabase`] backend trait with a
//! local-file implementation (WAL with group commit: an acknowledged write
//! is as durable as with `synchronous=FULL`, or as the guest's own `PRAGMA
//! synchronous` asks). A libSQL backend is one more implementation of the
//! trait.

mod group_commit;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result};
use futures::future::BoxFuture;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

pub use group_commit::{Acknowledgement, GroupCommit, Synchronous};

mod v2 {
    wasmtime::component::bindgen!({
        path: "../wit/deps/spin@2.0.0",
        inline: "package crm-host:sqlite-v2; world host { import fermyon:spin/sqlite@2.0.0; }",
        imports: { default: async | trappable },
        with: { "fermyon:spin/sqlite.connection": super::ConnectionHandle },
    });
}

mod v3 {
    wasmtime::component::bindgen!({
        path: "../wit/deps/spin-sqlite@3.0.0",
        inline: "package crm-host:sqlite-v3; world host { import spin:sqlite/sqlite@3.0.0; }",
        imports: { default: async | trappable },
        with: { "spin:sqlite/sqlite.connection": super::ConnectionHandle },
    });
}

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
    /// A connection for one request, whose writes it owes to `ack`.
    fn connect(self: Arc<Self>, ack: Acknowledgement) -> Result<Arc<dyn SqliteConnection>>;
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

/// Opens a database file the way both stores need it.
pub fn open_file(path: &Path) -> Result<rusqlite::Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let connection = rusqlite::Connection::open(path)
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    connection.busy_timeout(Duration::from_secs(5))?;
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
        .with_context(|| format!("setting WAL mode on {}", path.display()))?;
    Ok(connection)
}

/// A local SQLite file with a pool of idle connections, so a request does
/// not pay for opening the file.
pub struct SqliteFile {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    /// One writer at a time, queued in-process: SQLite's own busy handler
    /// sleeps in coarse steps, which wastes most of the write budget.
    writer: WriteGate,
    /// Makes the pool's commits durable, several at a time.
    commits: GroupCommit,
}

/// A binary semaphore held by the connection that is writing (for a whole
/// transaction when the guest opened one).
#[derive(Default)]
struct WriteGate {
    taken: Mutex<bool>,
    freed: std::sync::Condvar,
}

impl WriteGate {
    /// Takes the gate if it is free, without waiting.
    fn try_acquire(&self) -> bool {
        let mut taken = self.taken.lock().expect("write gate poisoned");
        !std::mem::replace(&mut *taken, true)
    }

    fn acquire(&self) {
        let mut taken = self.taken.lock().expect("write gate poisoned");
        while *taken {
            taken = self.freed.wait(taken).expect("write gate poisoned");
        }
        *taken = true;
    }

    fn release(&self) {
        *self.taken.lock().expect("write gate poisoned") = false;
        self.freed.notify_one();
    }
}

/// Whether a statement can only read (so it needs no write turn and makes
/// no commit): its first keyword is `SELECT`, `VALUES` or `EXPLAIN`, or it
/// is a `WITH` that SQLite says only reads (a recursive query, say; `WITH`
/// may also lead a write). Transaction statements are not: `BEGIN` takes
/// the turn for the transaction, and `COMMIT` commits.
fn is_read_only(connection: &rusqlite::Connection, statement: &str) -> bool {
    match first_keyword(statement).as_str() {
        "SELECT" | "VALUES" | "EXPLAIN" => true,
        // Prepared into the cache the statement then runs from; one that
        // does not prepare fails there, with SQLite's own words.
        "WITH" => connection
            .prepare_cached(statement)
            .is_ok_and(|prepared| prepared.readonly()),
        _ => false,
    }
}

/// Whether a statement inside a transaction may commit it.
fn may_end_transaction(statement: &str) -> bool {
    matches!(
        first_keyword(statement).as_str(),
        "COMMIT" | "END" | "RELEASE"
    )
}

/// A statement's first keyword after comments, upper-cased.
fn first_keyword(statement: &str) -> String {
    after_comments(statement)
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A statement from its first token on, past leading space and comments.
fn after_comments(statement: &str) -> &str {
    let mut s = statement.trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return s;
        }
    }
}

/// Where a statement runs.
enum Placement {
    /// On the runtime's thread, to the end.
    Here,
    /// On the runtime's thread for at most [`READ_BUDGET`] steps, then again
    /// on a blocking thread.
    HereWithinBudget,
    BlockingThread,
}

/// SQLite virtual-machine instructions between two budget checks.
const BUDGET_STEP_OPS: i32 = 1_000;
/// Budget checks an inline read may pass (about half a millisecond of work).
const READ_BUDGET: u32 = 50;

/// Whether a statement was stopped by its budget.
fn was_interrupted(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::OperationInterrupted
    )
}

/// Idle connections kept per file; more are opened under load and closed after.
const MAX_IDLE: usize = 32;

impl SqliteFile {
    pub fn open(path: &Path) -> Result<Arc<Self>> {
        // Open once now so a bad path fails at start, not on the first request.
        let first = open_pooled(path)?;
        Ok(Arc::new(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
            writer: WriteGate::default(),
            commits: GroupCommit::with_checkpointer(path),
        }))
    }

    /// A connection outside the guest pool, for start-up statements.
    pub fn connect_raw(&self) -> Result<rusqlite::Connection> {
        open_file(&self.path)
    }
}

impl SqliteDatabase for SqliteFile {
    fn connect(self: Arc<Self>, ack: Acknowledgement) -> Result<Arc<dyn SqliteConnection>> {
        let idle = self.idle.lock().expect("sqlite pool poisoned").pop();
        let connection = match idle {
            Some(c) => c,
            None => open_pooled(&self.path)?,
        };
        Ok(Arc::new(PooledConnection {
            file: self,
            ack,
            session: Mutex::new(Session {
                connection: Some(connection),
                writing: false,
                seen_before_writing: 0,
                synchronous: SQLITE_DEFAULT_SYNCHRONOUS,
            }),
        }))
    }
}

/// A guest connection: it syncs and checkpoints nothing itself, [`GroupCommit`] does.
fn open_pooled(path: &Path) -> Result<rusqlite::Connection> {
    let connection = open_file(path)?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    // The file's checkpointer thread copies the WAL back, not the request
    // whose commit crosses the threshold.
    connection.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(connection)
}

struct PooledConnection {
    file: Arc<SqliteFile>,
    ack: Acknowledgement,
    session: Mutex<Session>,
}

struct Session {
    /// Taken back into the pool on drop.
    connection: Option<rusqlite::Connection>,
    /// Holds the file's write gate.
    writing: bool,
    /// While writing: the newest commit ticket of others when the gate was
    /// taken, all a statement inside the transaction can have seen.
    seen_before_writing: u64,
    /// The guest's `PRAGMA synchronous` level (0 to 3), which the host
    /// keeps: the SQLite connection itself always runs NORMAL.
    synchronous: u8,
}

/// SQLite's `synchronous` when a connection opens: FULL.
const SQLITE_DEFAULT_SYNCHRONOUS: u8 = 2;

/// How commits at a `synchronous` level are acknowledged: OFF is taken as
/// NORMAL (a commit is never less durable than NORMAL), EXTRA as FULL.
fn acknowledged_as(level: u8) -> Synchronous {
    if level >= 2 {
        Synchronous::Full
    } else {
        Synchronous::Normal
    }
}

/// A guest's `PRAGMA [main.]synchronous`, which the host answers itself.
#[derive(Debug, PartialEq)]
enum SynchronousPragma {
    Read,
    Set(u8),
}

/// The `synchronous` pragma in `statement`, if that is what it is; `Err`
/// for a value SQLite's documentation does not name.
fn synchronous_pragma(statement: &str) -> Option<Result<SynchronousPragma, String>> {
    let rest = after_comments(statement);
    let rest = strip_keyword(rest, "PRAGMA")?.trim_start();
    let rest = strip_keyword(rest, "main")
        .and_then(|r| r.trim_start().strip_prefix('.'))
        .map_or(rest, str::trim_start);
    let rest = strip_keyword(rest, "synchronous")?.trim();
    let rest = rest.strip_suffix(';').unwrap_or(rest).trim_end();
    if rest.is_empty() {
        return Some(Ok(SynchronousPragma::Read));
    }
    let value = match rest.strip_prefix('=') {
        Some(value) => value.trim(),
        None => rest.strip_prefix('(')?.strip_suffix(')')?.trim(),
    };
    let value = value.trim_matches(|c| c == '\'' || c == '"');
    let level = match value.to_ascii_lowercase().as_str() {
        "0" | "off" | "no" | "false" => 0,
        "1" | "normal" | "on" | "yes" | "true" => 1,
        "2" | "full" => 2,
        "3" | "extra" => 3,
        _ => {
            return Some(Err(format!(
                "PRAGMA synchronous: {value:?} is not one of OFF, NORMAL, FULL, EXTRA or 0 to 3"
            )));
        }
    };
    Some(Ok(SynchronousPragma::Set(level)))
}

/// `text` without `keyword` (any case) at its start, if it starts with that word.
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    let rest = &text[keyword.len()..];
    let word_ends = !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    (head.eq_ignore_ascii_case(keyword) && word_ends).then_some(rest)
}

impl Session {
    /// Records that this connection now holds the file's write gate.
    fn took_the_gate(&mut self, commits: &GroupCommit) {
        self.writing = true;
        self.seen_before_writing = commits.latest();
    }

    fn connection(&self) -> &rusqlite::Connection {
        self.connection
            .as_ref()
            .expect("connection present until drop")
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let session = self.session.get_mut().expect("sqlite connection poisoned");
        let Some(connection) = session.connection.take() else {
            return;
        };
        // A guest that left a transaction open must not leak it to the next.
        let rolled_back =
            connection.is_autocommit() || connection.execute_batch("ROLLBACK").is_ok();
        if session.writing {
            session.writing = false;
            self.file.writer.release();
        }
        if !rolled_back {
            return;
        }
        let mut idle = self.file.idle.lock().expect("sqlite pool poisoned");
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }
}

impl SqliteConnection for PooledConnection {
    fn execute(
        self: Arc<Self>,
        statement: String,
        parameters: Vec<SqlValue>,
    ) -> BoxFuture<'static, Result<QueryResult>> {
        Box::pin(async move {
            if let Some(pragma) = synchronous_pragma(&statement) {
                return self.synchronous_pragma(pragma.map_err(anyhow::Error::msg)?);
            }
            // A hand-off to a blocking thread and back costs more than most
            // statements, so statements run here on the runtime's thread
            // unless they may wait: for the write gate (taken by another
            // request), or long (a read that outgrows its budget is stopped
            // and run again on a blocking thread; reads have no effects).
            // Commits are cheap here: they neither sync (group commit does)
            // nor checkpoint (the checkpointer does). Running a transaction
            // without yielding also keeps the gate held for the shortest
            // time. Waiting for the disk holds no thread either way.
            let on_blocking_thread = |this: Arc<Self>, statement: String, parameters| async move {
                tokio::task::spawn_blocking(move || this.run_in_turn(&statement, parameters, None))
                    .await
                    .context("sqlite task failed")
            };
            let (result, owes) = match self.placement(&statement) {
                Placement::Here => self.run_in_turn(&statement, parameters, None),
                Placement::HereWithinBudget => {
                    let (result, durable) =
                        self.run_in_turn(&statement, parameters.clone(), Some(READ_BUDGET));
                    if result.as_ref().is_err_and(was_interrupted) {
                        on_blocking_thread(Arc::clone(&self), statement, parameters).await?
                    } else {
                        (result, durable)
                    }
                }
                Placement::BlockingThread => {
                    on_blocking_thread(Arc::clone(&self), statement, parameters).await?
                }
            };
            let commits = &self.file.commits;
            if let Some((ticket, synchronous)) = owes.commit {
                self.ack
                    .owe_commit(commits, ticket, synchronous)
                    .await
                    .context("making the commit durable")?;
            }
            if let Some(seen) = owes.seen {
                self.ack
                    .owe(commits, seen)
                    .await
                    .context("waiting for the commits it saw to be durable")?;
            }
            result
        })
    }

    fn last_insert_rowid(&self) -> i64 {
        self.session().connection().last_insert_rowid()
    }

    fn changes(&self) -> u64 {
        self.session().connection().changes()
    }
}

impl PooledConnection {
    fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().expect("sqlite connection poisoned")
    }

    /// Where `statement` runs (see `execute`): a transaction holding the
    /// gate goes on here; a write that finds the gate free takes it and
    /// runs here; a read outside a transaction runs here within a budget;
    /// a write that must wait for the gate waits on a blocking thread.
    fn placement(&self, statement: &str) -> Placement {
        let mut session = self.session();
        if session.writing {
            return Placement::Here;
        }
        if is_read_only(session.connection(), statement) {
            return Placement::HereWithinBudget;
        }
        if self.file.writer.try_acquire() {
            session.took_the_gate(&self.file.commits);
            return Placement::Here;
        }
        Placement::BlockingThread
    }

    /// Answers a guest's `PRAGMA synchronous` from the session, as SQLite
    /// would: its level, or setting it outside a transaction.
    fn synchronous_pragma(&self, pragma: SynchronousPragma) -> Result<QueryResult> {
        let mut session = self.session();
        match pragma {
            SynchronousPragma::Read => Ok(QueryResult {
                columns: vec!["synchronous".into()],
                rows: vec![vec![SqlValue::Integer(session.synchronous.into())]],
            }),
            SynchronousPragma::Set(_) if !session.connection().is_autocommit() => {
                // SQLite's own words for this.
                anyhow::bail!("Safety level may not be changed inside a transaction")
            }
            SynchronousPragma::Set(level) => {
                session.synchronous = level;
                Ok(QueryResult {
                    columns: Vec::new(),
                    rows: Vec::new(),
                })
            }
        }
    }

    /// Runs a statement, and says what its request owes for it: the commit
    /// it made, and the newest commit it may have seen.
    fn run_in_turn(
        &self,
        statement: &str,
        parameters: Vec<SqlValue>,
        budget: Option<u32>,
    ) -> (Result<QueryResult>, Owes) {
        let mut session = self.session();
        let commits = &self.file.commits;
        if !session.writing && !is_read_only(session.connection(), statement) {
            self.file.writer.acquire();
            session.took_the_gate(commits);
        }
        let writing = session.writing;
        let synchronous = acknowledged_as(session.synchronous);
        let connection = session.connection();
        let ticket = (writing && (connection.is_autocommit() || may_end_transaction(statement)))
            .then(|| commits.issue(synchronous));
        let result = match budget {
            Some(budget) => {
                let mut left = budget;
                connection.progress_handler(
                    BUDGET_STEP_OPS,
                    Some(move || {
                        left = left.saturating_sub(1);
                        left == 0
                    }),
                );
                let result = run(connection, statement, parameters);
                connection.progress_handler(0, None::<fn() -> bool>);
                result
            }
            None => run(connection, statement, parameters),
        };
        match (ticket, synchronous) {
            (Some(ticket), Synchronous::Full) => commits.finish(ticket, &self.ack),
            (Some(ticket), Synchronous::Normal) => commits.finish_normal(ticket),
            (None, _) => {}
        }
        let ended = writing && connection.is_autocommit();
        let commit = ticket.filter(|_| ended).map(|ticket| (ticket, synchronous));
        let seen = match commit {
            // Syncing a FULL commit covers everything before it.
            Some((_, Synchronous::Full)) => None,
            _ if writing => Some(session.seen_before_writing),
            _ => Some(commits.latest()),
        };
        let owes = Owes { commit, seen };
        if ended {
            session.writing = false;
            self.file.writer.release();
        }
        (result, owes)
    }
}

/// What a statement leaves its request owing.
struct Owes {
    /// The commit it made, and how.
    commit: Option<(u64, Synchronous)>,
    /// The newest FULL commit it may have seen.
    seen: Option<u64>,
}

fn run(
    connection: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<SqlValue>,
) -> Result<QueryResult> {
    use rusqlite::types::{Value, ValueRef};
    let mut prepared = connection.prepare_cached(statement)?;
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    let parameters = parameters.into_iter().map(|p| match p {
        SqlValue::Integer(i) => Value::Integer(i),
        SqlValue::Real(r) => Value::Real(r),
        SqlValue::Text(t) => Value::Text(t),
        SqlValue::Blob(b) => Value::Blob(b),
        SqlValue::Null => Value::Null,
    });
    let mut rows = prepared.query(rusqlite::params_from_iter(parameters))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..columns.len())
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    ValueRef::Integer(i) => SqlValue::Integer(i),
                    ValueRef::Real(r) => SqlValue::Real(r),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
                    ValueRef::Null => SqlValue::Null,
                })
            })
            .collect::<rusqlite::Result<_>>()?;
        out.push(values);
    }
    Ok(QueryResult { columns, rows: out })
}

/// The databases one component was granted, by label.
#[derive(Clone, Default)]
pub struct SqliteGrants(Arc<HashMap<String, Arc<dyn SqliteDatabase>>>);

impl SqliteGrants {
    pub fn new(grants: HashMap<String, Arc<dyn SqliteDatabase>>) -> Self {
        Self(Arc::new(grants))
    }
}

/// The guest's `connection` resource, shared by both WIT versions.
pub struct ConnectionHandle(Arc<dyn SqliteConnection>);

/// One instance's SQLite state: its component's grants, the connections it
/// opened, and the acknowledgement their writes are owed to.
pub struct SqliteState {
    grants: SqliteGrants,
    connections: ResourceTable,
    ack: Acknowledgement,
}

impl SqliteState {
    pub fn new(grants: SqliteGrants, ack: Acknowledgement) -> Self {
        Self {
            grants,
            connections: ResourceTable::new(),
            ack,
        }
    }
}

/// A store's data that holds a [`SqliteState`].
pub trait SqliteView: Send {
    fn sqlite(&mut self) -> &mut SqliteState;
}

pub fn add_to_linker<T: SqliteView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    v2::fermyon::spin::sqlite::add_to_linker::<T, HasSelf<SqliteState>>(linker, T::sqlite)?;
    v3::spin::sqlite::sqlite::add_to_linker::<T, HasSelf<SqliteState>>(linker, T::sqlite)?;
    Ok(())
}

/// Both WIT versions have the same `open`/`execute` and value shapes; one
/// macro implements them for each generated module.
macro_rules! sqlite_host {
    ($wit:path) => {
        use $wit as wit;

        fn to_wit(value: SqlValue) -> wit::Value {
            match value {
                SqlValue::Integer(i) => wit::Value::Integer(i),
                SqlValue::Real(r) => wit::Value::Real(r),
                SqlValue::Text(t) => wit::Value::Text(t),
                SqlValue::Blob(b) => wit::Value::Blob(b),
                SqlValue::Null => wit::Value::Null,
            }
        }

        fn from_wit(value: wit::Value) -> SqlValue {
            match value {
                wit::Value::Integer(i) => SqlValue::Integer(i),
                wit::Value::Real(r) => SqlValue::Real(r),
                wit::Value::Text(t) => SqlValue::Text(t),
                wit::Value::Blob(b) => SqlValue::Blob(b),
                wit::Value::Null => SqlValue::Null,
            }
        }

        pub(super) async fn open(
            state: &mut SqliteState,
            database: String,
        ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, wit::Error>> {
            let Some(db) = state.grants.0.get(&database) else {
                return Ok(Err(wit::Error::AccessDenied));
            };
            match Arc::clone(db).connect(state.ack.clone()) {
                Ok(c) => Ok(Ok(state.connections.push(ConnectionHandle(c))?)),
                Err(e) => Ok(Err(wit::Error::Io(format!("{e:#}")))),
            }
        }

        pub(super) async fn execute(
            state: &mut SqliteState,
            connection: Resource<ConnectionHandle>,
            statement: String,
            parameters: Vec<wit::Value>,
        ) -> wasmtime::Result<Result<wit::QueryResult, wit::Error>> {
            let connection = Arc::clone(&state.connections.get(&connection)?.0);
            let parameters = parameters.into_iter().map(from_wit).collect();
            let result = connection.execute(statement, parameters).await;
            Ok(result
                .map(|result| wit::QueryResult {
                    columns: result.columns,
                    rows: result
                        .rows
                        .into_iter()
                        .map(|values| wit::RowResult {
                            values: values.into_iter().map(to_wit).collect(),
                        })
                        .collect(),
                })
                .map_err(|e| wit::Error::Io(format!("{e:#}"))))
        }
    };
}

mod host_v2 {
    use super::*;
    sqlite_host!(super::v2::fermyon::spin::sqlite);
}

mod host_v3 {
    use super::*;
    sqlite_host!(super::v3::spin::sqlite::sqlite);
}

impl v2::fermyon::spin::sqlite::Host for SqliteState {}

impl v2::fermyon::spin::sqlite::HostConnection for SqliteState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, v2::fermyon::spin::sqlite::Error>>
    {
        host_v2::open(self, database).await
    }

    async fn execute(
        &mut self,
        connection: Resource<ConnectionHandle>,
        statement: String,
        parameters: Vec<v2::fermyon::spin::sqlite::Value>,
    ) -> wasmtime::Result<
        Result<v2::fermyon::spin::sqlite::QueryResult, v2::fermyon::spin::sqlite::Error>,
    > {
        host_v2::execute(self, connection, statement, parameters).await
    }

    async fn drop(&mut self, connection: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
        self.connections.delete(connection)?;
        Ok(())
    }
}

impl v3::spin::sqlite::sqlite::Host for SqliteState {}

impl v3::spin::sqlite::sqlite::HostConnection for SqliteState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, v3::spin::sqlite::sqlite::Error>> {
        host_v3::open(self, database).await
    }

    async fn execute(
        &mut self,
        connection: Resource<ConnectionHandle>,
        statement: String,
        parameters: Vec<v3::spin::sqlite::sqlite::Value>,
    ) -> wasmtime::Result<
        Result<v3::spin::sqlite::sqlite::QueryResult, v3::spin::sqlite::sqlite::Error>,
    > {
        host_v3::execute(self, connection, statement, parameters).await
    }

    async fn last_insert_rowid(
        &mut self,
        connection: Resource<ConnectionHandle>,
    ) -> wasmtime::Result<i64> {
        Ok(self.connections.get(&connection)?.0.last_insert_rowid())
    }

    async fn changes(&mut self, connection: Resource<ConnectionHandle>) -> wasmtime::Result<u64> {
        Ok(self.connections.get(&connection)?.0.changes())
    }

    async fn drop(&mut self, connection: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
        self.connections.delete(connection)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_statements_are_recognised() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (x)").unwrap();
        let read_only = |sql| is_read_only(&c, sql);
        assert!(read_only("SELECT 1"));
        assert!(read_only("  -- note\n select * from t"));
        assert!(read_only("/* c */ VALUES (1)"));
        assert!(read_only(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n"
        ));
        assert!(!read_only("INSERT INTO t VALUES (1)"));
        assert!(!read_only("BEGIN"));
        assert!(!read_only("COMMIT"));
        assert!(!read_only("WITH x AS (SELECT 1) DELETE FROM t"));
        assert!(!read_only(
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"
        ));
        assert!(!read_only("WITH broken AS (SELEKT 1) SELECT 1"));
    }

    #[test]
    fn the_synchronous_pragma_is_recognised_in_the_forms_sqlite_takes() {
        use SynchronousPragma::{Read, Set};
        let parse = |sql| synchronous_pragma(sql).map(|p| p.map_err(drop));
        assert_eq!(parse("PRAGMA synchronous"), Some(Ok(Read)));
        assert_eq!(parse(" -- c\n pragma main.Synchronous;"), Some(Ok(Read)));
        assert_eq!(parse("PRAGMA synchronous = NORMAL"), Some(Ok(Set(1))));
        assert_eq!(parse("PRAGMA main . synchronous=off;"), Some(Ok(Set(0))));
        assert_eq!(parse("PRAGMA synchronous('full')"), Some(Ok(Set(2))));
        assert_eq!(parse("PRAGMA synchronous = 3"), Some(Ok(Set(3))));
        assert_eq!(parse("PRAGMA synchronous = sometimes"), Some(Err(())));
        // Other pragmas, other schemas and other statements go to SQLite.
        assert_eq!(parse("PRAGMA synchronous_extra"), None);
        assert_eq!(parse("PRAGMA temp.synchronous = 1"), None);
        assert_eq!(parse("PRAGMA journal_mode"), None);
        assert_eq!(parse("SELECT 'PRAGMA synchronous'"), None);
    }

    #[tokio::test]
    async fn a_normal_connection_commits_without_its_answer_waiting_for_the_disk() {
        use futures::FutureExt;
        let dir = std::env::temp_dir().join(format!("crm-host-normal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = SqliteFile::open(&dir.join("t.db")).unwrap();
        let ack = Acknowledgement::default();
        let c = Arc::clone(&file).connect(ack.clone()).unwrap();
        let level = |c| async move { run(&c, "PRAGMA synchronous").await.unwrap().rows };
        assert_eq!(
            level(Arc::clone(&c)).await,
            vec![vec![SqlValue::Integer(2)]]
        );
        run(&c, "CREATE TABLE t (x)").await.unwrap();
        ack.answer().await.unwrap();

        let ack = Acknowledgement::default();
        let c = Arc::clone(&file).connect(ack.clone()).unwrap();
        run(&c, "PRAGMA synchronous = NORMAL").await.unwrap();
        assert_eq!(
            level(Arc::clone(&c)).await,
            vec![vec![SqlValue::Integer(1)]]
        );
        run(&c, "BEGIN").await.unwrap();
        let Err(refused) = run(&c, "PRAGMA synchronous = FULL").await else {
            panic!("changed the level inside a transaction");
        };
        assert!(
            refused.to_string().contains("inside a transaction"),
            "{refused}"
        );
        run(&c, "INSERT INTO t VALUES (1)").await.unwrap();
        run(&c, "COMMIT").await.unwrap();
        // Readers see the commit without waiting for it...
        assert_eq!(file.commits.latest(), 1, "only the CREATE is waited for");
        // ...and its own request's answer does not wait either.
        assert!(matches!(ack.answer().now_or_never(), Some(Ok(()))));
        // The sync that covers it follows on its own.
        file.commits.synced_without_waiters(2).await;
        // A new connection starts at SQLite's default again.
        let c = Arc::clone(&file)
            .connect(Acknowledgement::default())
            .unwrap();
        assert_eq!(level(c).await, vec![vec![SqlValue::Integer(2)]]);
        let _ = std::fs::remove_dir_all(dir);
    }

    fn run(
        connection: &Arc<dyn SqliteConnection>,
        sql: &str,
    ) -> BoxFuture<'static, Result<QueryResult>> {
        Arc::clone(connection).execute(sql.to_string(), vec![])
    }

    #[tokio::test]
    async fn a_read_over_its_inline_budget_is_answered_in_full_from_a_blocking_thread() {
        let dir = std::env::temp_dir().join(format!("crm-host-budget-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = SqliteFile::open(&dir.join("t.db")).unwrap();
        let c = Arc::clone(&file)
            .connect(Acknowledgement::default())
            .unwrap();
        run(&c, "CREATE TABLE t (x INTEGER)").await.unwrap();
        run(
            &c,
            "INSERT INTO t WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) SELECT x FROM n",
        )
        .await
        .unwrap();
        // A short read fits the budget; this join of 4.5 million pairs does
        // not, and is stopped, then run again to the end.
        let short = run(&c, "SELECT count(*) FROM t").await.unwrap();
        assert_eq!(short.rows, vec![vec![SqlValue::Integer(3000)]]);
        let long = run(&c, "SELECT count(*) FROM t a JOIN t b ON a.x <= b.x")
            .await
            .unwrap();
        assert_eq!(long.rows, vec![vec![SqlValue::Integer(3000 * 3001 / 2)]]);
        drop(c);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_into_the_database_off_the_request_path() {
        let dir = std::env::temp_dir().join(format!("crm-host-ckpt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.db");
        let file = SqliteFile::open(&path).unwrap();
        let ack = Acknowledgement::default();
        let c = Arc::clone(&file).connect(ack.clone()).unwrap();
        run(&c, "CREATE TABLE t (x BLOB)").await.unwrap();
        for _ in 0..3 {
            run(&c, "BEGIN").await.unwrap();
            for _ in 0..300 {
                run(&c, "INSERT INTO t VALUES (zeroblob(4000))")
                    .await
                    .unwrap();
            }
            run(&c, "COMMIT").await.unwrap();
        }
        // Guest connections never checkpoint (the commit crossing SQLite's
        // 1,000-page default would copy the WAL itself, gate held)...
        let autocheckpoint = run(&c, "PRAGMA wal_autocheckpoint").await.unwrap();
        assert_eq!(autocheckpoint.rows, vec![vec![SqlValue::Integer(0)]]);
        // ...the syncs ask the checkpointer thread for one instead.
        ack.answer().await.unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while size() < 3_000_000 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(size() >= 3_000_000, "not checkpointed: {} bytes", size());
        drop(c);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn transactions_hold_the_write_turn_and_commits_are_durable_when_answered() {
        use futures::FutureExt;
        let dir = std::env::temp_dir().join(format!("crm-host-sqlite-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = SqliteFile::open(&dir.join("t.db")).unwrap();
        let (ack_a, ack_b) = (Acknowledgement::default(), Acknowledgement::default());
        let a = Arc::clone(&file).connect(ack_a.clone()).unwrap();
        let b = Arc::clone(&file).connect(ack_b.clone()).unwrap();
        run(&a, "CREATE TABLE IF NOT EXISTS t (x)").await.unwrap();
        run(&a, "BEGIN").await.unwrap();
        run(&a, "INSERT INTO t VALUES (1)").await.unwrap();
        assert!(*file.writer.taken.lock().unwrap());
        // Another connection reads meanwhile, but writes only after the commit.
        let count = run(&b, "SELECT count(*) FROM t").await.unwrap();
        assert_eq!(count.rows, vec![vec![SqlValue::Integer(0)]]);
        let waiting_write = tokio::spawn(run(&b, "INSERT INTO t VALUES (2)"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting_write.is_finished(),
            "wrote inside another's transaction"
        );
        run(&a, "COMMIT").await.unwrap();
        waiting_write.await.unwrap().unwrap();
        assert!(!*file.writer.taken.lock().unwrap());
        // Both commits are on disk once their requests answer.
        ack_a.answer().await.unwrap();
        ack_b.answer().await.unwrap();
        let latest = file.commits.latest();
        assert!(latest > 0);
        assert!(matches!(
            file.commits.durable(latest).now_or_never(),
            Some(Ok(()))
        ));
        run(&a, "BEGIN").await.unwrap();
        drop(a); // rolls back and frees the turn
        assert!(!*file.writer.taken.lock().unwrap());
        let count = run(&b, "SELECT count(*) FROM t").await.unwrap();
        assert_eq!(count.rows, vec![vec![SqlValue::Integer(2)]]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
