//! The local-file backend: a pool of connections to one SQLite file in WAL
//! mode, one writer at a time through the write gate, commits made durable
//! by [`GroupCommit`], and each guest's `PRAGMA synchronous` kept by its
//! session.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::future::BoxFuture;

#[cfg(test)]
use super::group_commit::CHECKPOINT_EVERY;
use super::group_commit::{WAL_RESTART_BYTES, WalEnd, end_wal};
use super::statement::{SynchronousPragma, is_read_only, may_end_transaction, synchronous_pragma};
use super::{
    Acknowledgement, GroupCommit, QueryResult, SqlValue, SqliteConnection, SqliteDatabase,
    Synchronous,
};

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
        // A restarted WAL file is cut back to this, not left at its longest.
        .and_then(|()| connection.pragma_update(None, "journal_size_limit", WAL_RESTART_BYTES))
        .with_context(|| format!("setting WAL mode on {}", path.display()))?;
    Ok(connection)
}

/// A local SQLite file with a pool of idle connections, so a request does
/// not pay for opening the file.
pub struct SqliteFile {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    /// One writer at a time, queued in-process: SQLite's own busy handler
    /// sleeps in coarse steps, which wastes most of the write budget. The
    /// checkpointer takes it too, to truncate the WAL.
    writer: Arc<WriteGate>,
    /// Makes the pool's commits durable, several at a time.
    commits: GroupCommit,
}

/// A binary semaphore held by the connection that is writing (for a whole
/// transaction when the guest opened one).
#[derive(Default)]
pub(super) struct WriteGate {
    taken: Mutex<bool>,
    freed: std::sync::Condvar,
}

impl WriteGate {
    /// Takes the gate if it is free, without waiting.
    fn try_acquire(&self) -> bool {
        let mut taken = self.taken.lock().expect("write gate poisoned");
        !std::mem::replace(&mut *taken, true)
    }

    pub(super) fn acquire(&self) {
        let mut taken = self.taken.lock().expect("write gate poisoned");
        while *taken {
            taken = self.freed.wait(taken).expect("write gate poisoned");
        }
        *taken = true;
    }

    /// Takes the gate, or gives up at `deadline` (then `false`).
    fn acquire_until(&self, deadline: Instant) -> bool {
        let mut taken = self.taken.lock().expect("write gate poisoned");
        while *taken {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            taken = self
                .freed
                .wait_timeout(taken, left)
                .expect("write gate poisoned")
                .0;
        }
        *taken = true;
        true
    }

    pub(super) fn release(&self) {
        *self.taken.lock().expect("write gate poisoned") = false;
        self.freed.notify_one();
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

/// Tries of the checkpoint at a clean stop, 10 ms apart.
const STOP_CHECKPOINT_ATTEMPTS: u32 = 500;

/// Idle connections kept per file; more are opened under load and closed after.
const MAX_IDLE: usize = 32;

impl SqliteFile {
    pub fn open(path: &Path) -> Result<Arc<Self>> {
        // Open once now so a bad path fails at start, not on the first request.
        let first = open_pooled(path)?;
        let writer = Arc::new(WriteGate::default());
        Ok(Arc::new(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
            commits: GroupCommit::with_checkpointer(path, Arc::clone(&writer)),
            writer,
        }))
    }

    /// At a clean stop: copies the whole WAL into the database and
    /// truncates it, so nothing is left to recover or to take up space.
    pub fn checkpoint_at_stop(&self) -> Result<()> {
        let connection = open_file(&self.path)?;
        // Busy only while the checkpointer thread finishes a checkpoint of
        // its own (readers are gone by now).
        for _ in 0..STOP_CHECKPOINT_ATTEMPTS {
            if end_wal(&connection, &self.writer, WalEnd::Truncate)
                .with_context(|| format!("checkpointing {}", self.path.display()))?
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        anyhow::bail!("checkpointing {}: still busy", self.path.display())
    }

    /// A connection outside the guest pool, for start-up statements.
    pub fn connect_raw(&self) -> Result<rusqlite::Connection> {
        open_file(&self.path)
    }
}

impl SqliteDatabase for SqliteFile {
    fn connect(
        self: Arc<Self>,
        ack: Acknowledgement,
        deadline: Instant,
    ) -> Result<Arc<dyn SqliteConnection>> {
        let idle = self.idle.lock().expect("sqlite pool poisoned").pop();
        let connection = match idle {
            Some(c) => c,
            None => open_pooled(&self.path)?,
        };
        Ok(Arc::new(PooledConnection {
            file: self,
            ack,
            deadline,
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
    /// The request's: a statement still running then is interrupted, and a
    /// write still waiting for the gate gives up, so that nothing a request
    /// cut off by its timeout asked for happens after its answer.
    deadline: Instant,
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
            if !self.file.writer.acquire_until(self.deadline) {
                let ran_out = anyhow::anyhow!("the request's time ran out waiting to write");
                return (Err(ran_out), Owes::NOTHING);
            }
            session.took_the_gate(commits);
        }
        let writing = session.writing;
        let synchronous = acknowledged_as(session.synchronous);
        let connection = session.connection();
        let ticket = (writing && (connection.is_autocommit() || may_end_transaction(statement)))
            .then(|| commits.issue(synchronous));
        // Every statement stops at the request's deadline; an inline read
        // also at the end of its budget.
        let deadline = self.deadline;
        let mut left = budget;
        connection.progress_handler(
            BUDGET_STEP_OPS,
            Some(move || {
                let over_budget = left.as_mut().is_some_and(|left| {
                    *left = left.saturating_sub(1);
                    *left == 0
                });
                over_budget || Instant::now() >= deadline
            }),
        );
        let result = run(connection, statement, parameters);
        connection.progress_handler(0, None::<fn() -> bool>);
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

impl Owes {
    /// A statement that never ran.
    const NOTHING: Self = Self {
        commit: None,
        seen: None,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_normal_connection_commits_without_its_answer_waiting_for_the_disk() {
        use futures::FutureExt;
        let dir = std::env::temp_dir().join(format!("crm-host-normal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = SqliteFile::open(&dir.join("t.db")).unwrap();
        let ack = Acknowledgement::default();
        let c = Arc::clone(&file)
            .connect(ack.clone(), no_deadline())
            .unwrap();
        let level = |c| async move { run(&c, "PRAGMA synchronous").await.unwrap().rows };
        assert_eq!(
            level(Arc::clone(&c)).await,
            vec![vec![SqlValue::Integer(2)]]
        );
        run(&c, "CREATE TABLE t (x)").await.unwrap();
        ack.answer().await.unwrap();

        let ack = Acknowledgement::default();
        let c = Arc::clone(&file)
            .connect(ack.clone(), no_deadline())
            .unwrap();
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
            .connect(Acknowledgement::default(), no_deadline())
            .unwrap();
        assert_eq!(level(c).await, vec![vec![SqlValue::Integer(2)]]);
        let _ = std::fs::remove_dir_all(dir);
    }

    fn no_deadline() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    #[tokio::test]
    async fn past_its_deadline_a_statement_stops_and_a_waiting_write_gives_up() {
        let dir = std::env::temp_dir().join(format!("crm-host-deadline-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = SqliteFile::open(&dir.join("t.db")).unwrap();
        let holder = Arc::clone(&file)
            .connect(Acknowledgement::default(), no_deadline())
            .unwrap();
        run(&holder, "CREATE TABLE t (x)").await.unwrap();
        let soon = || Instant::now() + Duration::from_millis(200);
        // A statement that would never end, on the runtime's thread.
        let c = Arc::clone(&file)
            .connect(Acknowledgement::default(), soon())
            .unwrap();
        let started = Instant::now();
        let endless = run(
            &c,
            "INSERT INTO t WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n",
        )
        .await;
        assert!(endless.is_err(), "an endless statement ended");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        drop(c);
        // A write waiting for another's transaction gives up at its deadline
        // and never runs, even once the gate is free.
        run(&holder, "BEGIN").await.unwrap();
        run(&holder, "INSERT INTO t VALUES ('held')").await.unwrap();
        let waiter = Arc::clone(&file)
            .connect(Acknowledgement::default(), soon())
            .unwrap();
        let Err(refused) = run(&waiter, "INSERT INTO t VALUES ('late')").await else {
            panic!("wrote inside another's transaction");
        };
        assert!(refused.to_string().contains("ran out"), "{refused}");
        run(&holder, "COMMIT").await.unwrap();
        let rows = run(&holder, "SELECT x FROM t").await.unwrap().rows;
        assert_eq!(rows, vec![vec![SqlValue::Text("held".into())]]);
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
            .connect(Acknowledgement::default(), no_deadline())
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
        let c = Arc::clone(&file)
            .connect(ack.clone(), no_deadline())
            .unwrap();
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_while_readers_never_stop() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = std::env::temp_dir().join(format!("crm-host-wal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.db");
        let file = SqliteFile::open(&path).unwrap();
        let c = Arc::clone(&file)
            .connect(Acknowledgement::default(), no_deadline())
            .unwrap();
        run(&c, "CREATE TABLE t (x BLOB)").await.unwrap();
        drop(c);
        // Readers overlapping each other, so that some snapshot is always
        // open: passive checkpoints alone could then never restart the WAL.
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (stop, path) = (Arc::clone(&stop), path.clone());
                std::thread::spawn(move || {
                    let reader = open_file(&path).unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        reader
                            .query_row("SELECT count(*), sum(length(x)) FROM t", [], |_| Ok(()))
                            .unwrap();
                    }
                })
            })
            .collect();
        let wal = dir.join("t.db-wal");
        let mut largest = 0;
        // Three times the restart threshold, one durable 64 KiB commit at a time.
        let written = 3 * WAL_RESTART_BYTES;
        for _ in 0..written / (64 << 10) {
            let ack = Acknowledgement::default();
            let c = Arc::clone(&file)
                .connect(ack.clone(), no_deadline())
                .unwrap();
            run(&c, "INSERT INTO t VALUES (randomblob(65536))")
                .await
                .unwrap();
            ack.answer().await.unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            reader.join().unwrap();
        }
        // Issue 15's bound: the threshold, plus what commits add while a
        // checkpoint runs.
        assert!(
            largest <= 64_000_000,
            "the WAL grew to {largest} bytes after {written} written"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_are_not_held_at_the_gate_while_the_wal_is_under_its_bound() {
        let dir = std::env::temp_dir().join(format!("crm-host-wal-gate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.db");
        let file = SqliteFile::open(&path).unwrap();
        let commit = |sql: &'static str| {
            let file = Arc::clone(&file);
            async move {
                let ack = Acknowledgement::default();
                let c = file.connect(ack.clone(), no_deadline()).unwrap();
                run(&c, sql).await.unwrap();
                ack.answer().await.unwrap();
            }
        };
        commit("CREATE TABLE t (x BLOB)").await;
        // A reader on an old snapshot for the whole test: any restart or
        // truncation of the WAL would wait for it with the writers held.
        let reader = open_file(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        reader
            .query_row("SELECT count(*) FROM t", [], |_| Ok(()))
            .unwrap();
        // 24 MiB of WAL: well under the bound, but a WAL the checkpointer
        // once restarted at 16 MiB of file length.
        for _ in 0..(24 << 20) / (256 << 10) {
            commit("INSERT INTO t VALUES (randomblob(262144))").await;
        }
        // Long enough for several checkpoints.
        let mut slowest = Duration::ZERO;
        let until = Instant::now() + 5 * CHECKPOINT_EVERY;
        while Instant::now() < until {
            let started = Instant::now();
            commit("INSERT INTO t VALUES (randomblob(4000))").await;
            slowest = slowest.max(started.elapsed());
        }
        assert!(
            slowest < Duration::from_millis(100),
            "a commit waited {slowest:?}: the checkpointer held the gate"
        );
        reader.execute_batch("COMMIT").unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn transactions_hold_the_write_turn_and_commits_are_durable_when_answered() {
        use futures::FutureExt;
        let dir = std::env::temp_dir().join(format!("crm-host-sqlite-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = SqliteFile::open(&dir.join("t.db")).unwrap();
        let (ack_a, ack_b) = (Acknowledgement::default(), Acknowledgement::default());
        let a = Arc::clone(&file)
            .connect(ack_a.clone(), no_deadline())
            .unwrap();
        let b = Arc::clone(&file)
            .connect(ack_b.clone(), no_deadline())
            .unwrap();
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
