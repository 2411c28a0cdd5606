//! Group commit for one database file in WAL mode.
//!
//! Guest connections commit with `synchronous=NORMAL`, which appends the
//! transaction to the WAL without waiting for the disk; then one `fdatasync`
//! of the WAL covers every commit made before it, however many requests made
//! them. That sync is the one `synchronous=FULL` would have made per commit
//! (in WAL mode FULL differs from NORMAL only there), so a write is as
//! durable as with FULL when it is answered, and it is answered only then.
//!
//! Reads wait too: a statement is answered only once every commit it could
//! have seen is on disk, so no request ever sees data a crash could undo
//! (unless that data was committed asking for less, below).
//!
//! Statements that may commit take a ticket, in the order of the file's
//! write gate; syncing up to a ticket makes it and all earlier ones durable.
//! When a sync starts depends on who else is writing (as PostgreSQL's
//! `commit_siblings`): a commit made while no other request owes this file
//! a commit starts a sync at once, since no other commit will join it soon,
//! and the disk works while the request goes on (a guest that audits a
//! read, then answers, has its answer ready about when the sync ends).
//! Otherwise the sync starts when a request asks for it, at its answer, so
//! the commits of requests running side by side share one sync instead of
//! each paying for its own. Syncs run on a blocking thread, one at a time;
//! the next one starts as soon as it ends if commits that someone waits for
//! have finished meanwhile, and covers them all. Waiting is async, so a
//! request waiting for the disk holds no thread.
//!
//! WAL checkpoints run off the request path too: guest connections do not
//! checkpoint (`wal_autocheckpoint = 0`), and after syncs a [`Checkpointer`]
//! thread copies the WAL into the database (`PASSIVE`, so it blocks no
//! reader or writer) at most every [`CHECKPOINT_EVERY`]. Otherwise the
//! commit that crosses 1,000 WAL pages copies them itself, with the write
//! gate held, and every request queued behind it waits. A WAL whose frames
//! in use pass [`WAL_RESTART_BYTES`] is restarted from its start (writers
//! held at the gate for it), since passive checkpoints never end it while
//! readers keep coming; the restart cuts the file back to
//! `journal_size_limit` (set on every connection, see
//! [`super::pool::open_file`]) and later commits reuse it, where a
//! truncated WAL would grow again block by block, each sync then also
//! writing the file's new length. A clean stop truncates every WAL.
//!
//! A connection whose guest asked for `PRAGMA synchronous = NORMAL` commits
//! as SQLite defines it: the commit is in the WAL, so it survives a crash
//! of the host, but its answer does not wait for the disk, and other
//! connections see it before it is durable (they wait only for FULL
//! commits). Unlike SQLite, which leaves such a commit unsynced until the
//! next checkpoint, a sync covering it starts within
//! [`NORMAL_COMMIT_SYNCED_WITHIN`]; and a request that also makes a FULL
//! commit, or calls out, waits for its NORMAL commits too, so an entry
//! about a change is never less durable than the change.
//!
//! A request does not wait statement by statement: what its statements wrote
//! or saw is owed to its [`Acknowledgement`], which is settled before
//! anything leaves the host (its response, or an outbound request). A
//! request that commits twice (say an audit entry, then its write) thus
//! waits once, for the sync that covers its last commit, and commits to two
//! files (SQLite and key-value) are synced side by side. Nobody outside the
//! request can tell the difference: a crash before the settle loses only
//! writes nobody was told about.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::pool::WriteGate;

/// How a commit is acknowledged, named after SQLite's `synchronous`
/// settings that ask for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// Durable before anyone is told of it or sees it (SQLite's default).
    Full,
    /// In the WAL when answered; on disk soon after, without anyone waiting.
    Normal,
}

/// The longest a NORMAL commit waits before a sync covering it starts
/// (sooner if anyone's sync starts first).
pub const NORMAL_COMMIT_SYNCED_WITHIN: Duration = Duration::from_millis(10);

#[derive(Clone)]
pub struct GroupCommit(Arc<Shared>);

struct Shared {
    wal: PathBuf,
    checkpointer: Option<Checkpointer>,
    state: Mutex<State>,
    /// What waiters watch; written only with `state` locked.
    progress: watch::Sender<Progress>,
}

#[derive(Default)]
struct State {
    /// The newest ticket handed out.
    issued: u64,
    /// The newest ticket handed out to a FULL commit.
    issued_full: u64,
    /// A NORMAL commit has finished and a sync is due for it.
    normal_sync_due: bool,
    /// The newest ticket whose statement has finished (tickets finish in order).
    finished: u64,
    /// The newest ticket someone waits to see durable.
    requested: u64,
    /// Requests that owe this file a commit and have not answered yet.
    owing: usize,
    progress: Progress,
    syncing: bool,
    /// The WAL file last synced (device, inode): a new one needs its directory synced.
    wal_file: Option<(u64, u64)>,
}

#[derive(Clone, Copy, Default)]
struct Progress {
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// A sync failed. After a failed fsync Linux may have dropped the dirty
    /// pages, so no later sync can vouch for any commit: like PostgreSQL,
    /// stop promising durability until a restart.
    failed: bool,
}

impl GroupCommit {
    pub fn new(database: &Path) -> Self {
        Self::build(database, None)
    }

    /// As [`new`](Self::new), for a file whose connections leave
    /// checkpoints to a [`Checkpointer`] thread; `writer` is their write gate.
    pub(super) fn with_checkpointer(database: &Path, writer: Arc<WriteGate>) -> Self {
        Self::build(database, Some(Checkpointer::start(database, writer)))
    }

    fn build(database: &Path, checkpointer: Option<Checkpointer>) -> Self {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        Self(Arc::new(Shared {
            wal: wal.into(),
            checkpointer,
            state: Mutex::default(),
            progress: watch::Sender::new(Progress::default()),
        }))
    }

    /// A ticket for a statement that may commit; call with the write gate
    /// held, before running it.
    pub fn issue(&self, synchronous: Synchronous) -> u64 {
        let mut state = self.0.state();
        state.issued += 1;
        if synchronous == Synchronous::Full {
            state.issued_full = state.issued;
        }
        state.issued
    }

    /// Marks a ticket's statement, made for the request `by`, finished; call
    /// before releasing the gate. Starts its sync at once if no other
    /// request owes this file a commit.
    pub fn finish(&self, ticket: u64, by: &Acknowledgement) {
        // Asked before taking the state lock: `owe` takes them the other way.
        let counted = by.owes(self);
        let mut state = self.0.state();
        state.finished = ticket;
        if state.owing.saturating_sub(usize::from(counted)) == 0 {
            state.requested = state.requested.max(ticket);
        }
        Shared::sync_if_needed(&self.0, state);
    }

    /// Marks a NORMAL commit's ticket finished, and makes sure a sync
    /// covering it starts within [`NORMAL_COMMIT_SYNCED_WITHIN`]. Waiting a
    /// little lets one sync cover the NORMAL commits of many requests.
    pub fn finish_normal(&self, ticket: u64) {
        let mut state = self.0.state();
        state.finished = ticket;
        if std::mem::replace(&mut state.normal_sync_due, true) {
            return;
        }
        drop(state);
        let this = Arc::clone(&self.0);
        tokio::spawn(async move {
            tokio::time::sleep(NORMAL_COMMIT_SYNCED_WITHIN).await;
            let mut state = this.state();
            state.normal_sync_due = false;
            state.requested = state.requested.max(state.finished);
            Shared::sync_if_needed(&this, state);
        });
    }

    /// The newest FULL commit's ticket: a statement that has just run may
    /// have seen the commit of any ticket up to this one, and must not be
    /// answered before it is durable. (It may also have seen later NORMAL
    /// commits, which is what NORMAL allows.)
    pub fn latest(&self) -> u64 {
        self.0.state().issued_full
    }

    /// Waits until every commit up to `ticket` is on disk.
    pub async fn durable(&self, ticket: u64) -> io::Result<()> {
        let mut progress = {
            let mut state = self.0.state();
            if state.progress.durable >= ticket {
                return Ok(());
            }
            state.requested = state.requested.max(ticket);
            // Subscribed before the lock is released: no update can be missed.
            let progress = self.0.progress.subscribe();
            Shared::sync_if_needed(&self.0, state);
            progress
        };
        let reached = *progress
            .wait_for(|p| p.durable >= ticket || p.failed)
            .await
            .map_err(|_| io::Error::other("group commit stopped"))?;
        if reached.durable >= ticket {
            Ok(())
        } else {
            Err(io::Error::other(
                "syncing the database's WAL failed earlier, so no commit can be promised durable; restart the host",
            ))
        }
    }
}

#[cfg(test)]
impl GroupCommit {
    /// Returns once `ticket` is durable, without waiting for it (which
    /// would ask for a sync); fails after five seconds.
    pub(super) async fn synced_without_waiters(&self, ticket: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while self.0.state().progress.durable < ticket {
            assert!(std::time::Instant::now() < deadline, "never synced");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// What one request's statements wrote or saw that must be on disk before
/// the request's effects leave the host: per file, the newest ticket.
#[derive(Clone, Default)]
pub struct Acknowledgement(Arc<Mutex<Owed>>);

#[derive(Default)]
struct Owed {
    /// Each counted in its file's `owing` while here.
    tickets: Vec<(GroupCommit, u64)>,
    /// The request's NORMAL commits: owed only if it also commits FULL
    /// (anywhere), or calls out.
    normal: Vec<(GroupCommit, u64)>,
    /// The request has made a FULL commit.
    committed_full: bool,
    /// The request has answered: later statements wait for themselves.
    answered: bool,
}

/// Adds `ticket` of `commits` to `list`, which keeps one, the newest, per
/// file; says whether the file is new to the list.
fn note(list: &mut Vec<(GroupCommit, u64)>, commits: &GroupCommit, ticket: u64) -> bool {
    match list.iter_mut().find(|(c, _)| Arc::ptr_eq(&c.0, &commits.0)) {
        Some((_, owed)) => {
            *owed = (*owed).max(ticket);
            false
        }
        None => {
            list.push((commits.clone(), ticket));
            true
        }
    }
}

impl Drop for Owed {
    /// A request that ends without answering (its guest failed) owes nothing more.
    fn drop(&mut self) {
        for (commits, _) in &self.tickets {
            commits.0.state().owing -= 1;
        }
    }
}

impl Acknowledgement {
    /// Owes `ticket` of `commits`; waits for it here only when the request
    /// has already answered (a guest still streaming its body).
    pub async fn owe(&self, commits: &GroupCommit, ticket: u64) -> io::Result<()> {
        {
            let mut owed = self.owed();
            if !owed.answered {
                if note(&mut owed.tickets, commits, ticket) {
                    commits.0.state().owing += 1;
                }
                return Ok(());
            }
        }
        commits.durable(ticket).await
    }

    /// Owes this request's own commit `ticket` of `commits`, made as
    /// `synchronous` says.
    pub async fn owe_commit(
        &self,
        commits: &GroupCommit,
        ticket: u64,
        synchronous: Synchronous,
    ) -> io::Result<()> {
        match synchronous {
            Synchronous::Full => {
                self.owed().committed_full = true;
                self.owe(commits, ticket).await
            }
            Synchronous::Normal => {
                let mut owed = self.owed();
                // After the answer there is nobody to wait for: the sync
                // that `finish_normal` arranged makes it durable.
                if !owed.answered {
                    note(&mut owed.normal, commits, ticket);
                }
                Ok(())
            }
        }
    }

    /// Waits until everything owed so far is on disk, NORMAL commits
    /// included (before an outbound request: a call cannot be taken back).
    pub async fn settle(&self) -> io::Result<()> {
        let tickets = {
            let owed = self.owed();
            let mut tickets = owed.tickets.clone();
            for (commits, ticket) in &owed.normal {
                note(&mut tickets, commits, *ticket);
            }
            tickets
        };
        Self::wait(tickets).await
    }

    /// The request answers: settles what is owed (its NORMAL commits too if
    /// it made a FULL one), and from now on each statement waits for itself.
    pub async fn answer(&self) -> io::Result<()> {
        let (mut tickets, normal) = {
            let mut owed = self.owed();
            owed.answered = true;
            // Without a FULL commit, NORMAL ones are left to their own sync.
            let normal = if owed.committed_full {
                std::mem::take(&mut owed.normal)
            } else {
                Vec::new()
            };
            (std::mem::take(&mut owed.tickets), normal)
        };
        for (commits, _) in &tickets {
            commits.0.state().owing -= 1;
        }
        for (commits, ticket) in &normal {
            note(&mut tickets, commits, *ticket);
        }
        Self::wait(tickets).await
    }

    /// Whether this request owes `commits` a commit.
    fn owes(&self, commits: &GroupCommit) -> bool {
        self.owed()
            .tickets
            .iter()
            .any(|(c, _)| Arc::ptr_eq(&c.0, &commits.0))
    }

    async fn wait(tickets: Vec<(GroupCommit, u64)>) -> io::Result<()> {
        // Different files sync side by side.
        futures::future::try_join_all(
            tickets
                .iter()
                .map(|(commits, ticket)| commits.durable(*ticket)),
        )
        .await
        .map(drop)
    }

    fn owed(&self) -> MutexGuard<'_, Owed> {
        self.0.lock().expect("acknowledgement poisoned")
    }
}

/// Frames in use (as bytes) past which the checkpointer restarts the WAL,
/// writers held off: a third as often as at 16 MiB, and what commits add
/// meanwhile still keeps the file under issue 15's 64 MB. Also the
/// `journal_size_limit` a restarted WAL file is cut back to.
pub const WAL_RESTART_BYTES: u64 = 48 << 20;

/// The header SQLite writes before each page in the WAL.
const WAL_FRAME_HEADER_BYTES: u64 = 24;

/// The least time between two checkpoints of one file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// How long a restart or truncation waits for readers still on the WAL
/// (writers wait meanwhile) before it gives up until the next checkpoint.
const WAL_END_WAITS_FOR_READERS: Duration = Duration::from_millis(200);

/// How often it looks again meanwhile. SQLite's own busy handler sleeps 1,
/// 2, 5, 10, 15... ms between looks, all of it with the writers held at
/// the gate, for readers that mostly end within a millisecond.
const WAL_END_LOOKS_EVERY: Duration = Duration::from_micros(100);

/// The checkpointer's busy handler: `true` to look again.
fn wait_for_readers(looks: i32) -> bool {
    let waited = WAL_END_LOOKS_EVERY * u32::try_from(looks).unwrap_or(u32::MAX);
    if waited >= WAL_END_WAITS_FOR_READERS {
        return false;
    }
    std::thread::sleep(WAL_END_LOOKS_EVERY);
    true
}

/// A thread that checkpoints one database's WAL when asked, at most every
/// [`CHECKPOINT_EVERY`].
///
/// A passive checkpoint copies only what no reader's snapshot still needs,
/// and SQLite restarts the WAL from its start only when a writer finds it
/// all copied and no reader on it: with readers overlapping without end
/// (any busy app), neither happens and the WAL grows without bound (1.17 GB
/// beside a 74 MB database after 20 s of load). So once the frames in use
/// pass [`WAL_RESTART_BYTES`] the checkpointer holds writers off at the
/// write gate, waits for the readers on the WAL, copies the rest and has
/// the next commit start the WAL over. It decides by frames in use, not by
/// the file's length, which a restart does not shrink below
/// `journal_size_limit`: deciding by length held the writers at every
/// checkpoint once the file was long.
struct Checkpointer(Arc<(Mutex<bool>, Condvar)>);

impl Checkpointer {
    fn start(database: &Path, writer: Arc<WriteGate>) -> Self {
        let wanted = Arc::new((Mutex::new(false), Condvar::new()));
        let shared = Arc::clone(&wanted);
        let database = database.to_path_buf();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_when_asked(&database, &shared, &writer))
            .expect("spawning the checkpoint thread");
        Self(wanted)
    }

    fn request(&self) {
        let (wanted, wake) = &*self.0;
        *wanted.lock().expect("checkpointer poisoned") = true;
        wake.notify_one();
    }
}

fn checkpoint_when_asked(database: &Path, wanted: &(Mutex<bool>, Condvar), writer: &WriteGate) {
    let mut connection = None;
    loop {
        {
            let (flag, wake) = wanted;
            let mut asked = flag.lock().expect("checkpointer poisoned");
            while !*asked {
                asked = wake.wait(asked).expect("checkpointer poisoned");
            }
            *asked = false;
        }
        if connection.is_none() {
            connection = rusqlite::Connection::open(database)
                .and_then(|c| {
                    c.busy_handler(Some(wait_for_readers))?;
                    let page_size: u64 = c.query_row("PRAGMA page_size", [], |row| row.get(0))?;
                    Ok((c, page_size + WAL_FRAME_HEADER_BYTES))
                })
                .ok();
        }
        if let Some((c, frame_bytes)) = &connection
            && let Err(e) = c
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    row.get::<_, i64>(1)
                })
                .and_then(|frames| {
                    let in_use = u64::try_from(frames).unwrap_or(0) * frame_bytes;
                    if in_use > WAL_RESTART_BYTES && !end_wal(c, writer, WalEnd::Restart)? {
                        eprintln!(
                            "{}",
                            serde_json::json!({"level": "warn", "msg": "WAL restart gave up: readers stayed on it; the next checkpoint retries", "database": database.display().to_string(), "wal_bytes_in_use": in_use})
                        );
                    }
                    Ok(())
                })
        {
            eprintln!(
                "{}",
                serde_json::json!({"level": "warn", "msg": "WAL checkpoint failed; the next one retries", "database": database.display().to_string(), "error": e.to_string()})
            );
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

/// How a checkpoint holding the writers off ends the WAL.
#[derive(Clone, Copy)]
pub(super) enum WalEnd {
    /// The next commit writes from the WAL's start, over the old frames.
    Restart,
    /// The file is cut to nothing (at a clean stop).
    Truncate,
}

/// Copies the whole WAL into the database and ends it as `how` says,
/// holding `writer` (the file's write gate) so no commit comes between.
/// Readers still on the WAL are waited for as `connection`'s busy handler
/// says; `false` if they outlasted it or another checkpoint was running
/// (the WAL then stays as it was).
pub(super) fn end_wal(
    connection: &rusqlite::Connection,
    writer: &WriteGate,
    how: WalEnd,
) -> rusqlite::Result<bool> {
    let pragma = match how {
        WalEnd::Restart => "PRAGMA wal_checkpoint(RESTART)",
        WalEnd::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    writer.acquire();
    let outcome = connection.query_row(pragma, [], |row| row.get::<_, i64>(0));
    writer.release();
    match outcome {
        Ok(busy) => Ok(busy == 0),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("group commit poisoned")
    }

    /// Starts a sync when someone waits for a finished commit and none runs.
    fn sync_if_needed(this: &Arc<Self>, mut state: MutexGuard<'_, State>) {
        let durable = state.progress.durable;
        if state.syncing
            || state.progress.failed
            || state.requested <= durable
            || state.finished <= durable
        {
            return;
        }
        state.syncing = true;
        drop(state);
        let this = Arc::clone(this);
        tokio::task::spawn_blocking(move || this.sync_while_requested());
    }

    fn sync_while_requested(&self) {
        let mut state = self.state();
        loop {
            let target = state.finished;
            let known = state.wal_file;
            drop(state);
            let outcome = sync_wal(&self.wal, known);
            state = self.state();
            match outcome {
                Ok(wal_file) => {
                    state.progress.durable = target;
                    state.wal_file = wal_file;
                    if let Some(checkpointer) = &self.checkpointer {
                        checkpointer.request();
                    }
                }
                Err(e) => {
                    state.progress.failed = true;
                    eprintln!(
                        "{}",
                        serde_json::json!({"level": "error", "msg": "syncing a SQLite WAL failed; commits are no longer acknowledged", "wal": self.wal.display().to_string(), "error": e.to_string()})
                    );
                }
            }
            let durable = state.progress.durable;
            let more =
                !state.progress.failed && state.requested > durable && state.finished > durable;
            // Not syncing any more before anyone is told, so a waiter that
            // wakes sees the state settled.
            state.syncing = more;
            self.progress.send_replace(state.progress);
            if !more {
                return;
            }
        }
    }
}

/// Syncs the WAL's data, and its directory when the file is new to us (as
/// SQLite does for a WAL it creates). Returns the file's identity.
fn sync_wal(wal: &Path, known: Option<(u64, u64)>) -> io::Result<Option<(u64, u64)>> {
    let file = match File::open(wal) {
        Ok(file) => file,
        // No WAL: the last connection closed and checkpointed everything
        // into the database file, which SQLite synced.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    file.sync_data()?;
    let metadata = file.metadata()?;
    let identity = (metadata.dev(), metadata.ino());
    if known != Some(identity)
        && let Some(dir) = wal.parent()
    {
        File::open(dir)?.sync_all()?;
    }
    Ok(Some(identity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use std::time::Duration;

    fn temp_database(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("crm-host-gc-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("t.db")
    }

    #[tokio::test]
    async fn one_sync_makes_every_finished_ticket_durable() {
        let database = temp_database("all");
        std::fs::write(format!("{}-wal", database.display()), b"frames").unwrap();
        let commits = GroupCommit::new(&database);
        let tickets: Vec<u64> = (0..3).map(|_| commits.issue(Synchronous::Full)).collect();
        assert_eq!(tickets, [1, 2, 3]);
        commits.finish(3, &Acknowledgement::default());
        commits.durable(3).await.unwrap();
        assert_eq!(commits.0.state().progress.durable, 3);
        // Earlier tickets were covered by the same sync.
        commits.durable(1).await.unwrap();
        assert!(!commits.0.state().syncing);
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    #[tokio::test]
    async fn a_finished_commit_is_synced_before_anyone_waits_for_it() {
        let database = temp_database("eager");
        std::fs::write(format!("{}-wal", database.display()), b"frames").unwrap();
        let commits = GroupCommit::new(&database);
        let ticket = commits.issue(Synchronous::Full);
        commits.finish(ticket, &Acknowledgement::default());
        commits.synced_without_waiters(ticket).await;
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    #[tokio::test]
    async fn a_commit_made_while_others_owe_commits_waits_to_share_their_sync() {
        let database = temp_database("siblings");
        std::fs::write(format!("{}-wal", database.display()), b"frames").unwrap();
        let commits = GroupCommit::new(&database);
        let durable = || commits.0.state().progress.durable;
        let (sibling, me) = (Acknowledgement::default(), Acknowledgement::default());
        let first = commits.issue(Synchronous::Full);
        commits.finish(first, &sibling);
        sibling.owe(&commits, first).await.unwrap();
        commits.durable(first).await.unwrap();
        // The sibling has committed and not answered yet: this commit does
        // not start a sync of its own...
        let mine = commits.issue(Synchronous::Full);
        commits.finish(mine, &me);
        me.owe(&commits, mine).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(durable(), first);
        // ...nor does the sibling's next one (this request is still owing)...
        let last = commits.issue(Synchronous::Full);
        commits.finish(last, &sibling);
        sibling.owe(&commits, last).await.unwrap();
        // ...and the sibling's answer makes both durable with one sync.
        sibling.answer().await.unwrap();
        assert_eq!(durable(), last);
        me.answer().now_or_never().unwrap().unwrap();
        assert_eq!(commits.0.state().owing, 0);
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    #[tokio::test]
    async fn a_reader_waits_for_a_commit_in_progress() {
        let database = temp_database("reader");
        let commits = Arc::new(GroupCommit::new(&database));
        let ticket = commits.issue(Synchronous::Full);
        let reader = {
            let commits = Arc::clone(&commits);
            tokio::spawn(async move { commits.durable(commits.latest()).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!reader.is_finished(), "answered before the commit finished");
        commits.finish(ticket, &Acknowledgement::default());
        reader.await.unwrap().unwrap();
        assert_eq!(commits.0.state().progress.durable, ticket);
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    #[tokio::test]
    async fn a_request_owes_its_tickets_until_it_answers() {
        let database = temp_database("owed");
        std::fs::write(format!("{}-wal", database.display()), b"frames").unwrap();
        let commits = GroupCommit::new(&database);
        let ack = Acknowledgement::default();
        let (first, second) = (
            commits.issue(Synchronous::Full),
            commits.issue(Synchronous::Full),
        );
        commits.finish(first, &Acknowledgement::default());
        commits.finish(second, &Acknowledgement::default());
        // Owing is immediate: it does not wait for the syncs under way.
        ack.owe(&commits, first).now_or_never().unwrap().unwrap();
        ack.owe(&commits, second).now_or_never().unwrap().unwrap();
        assert_eq!(ack.owed().tickets.len(), 1, "one entry per file");
        // Answering waits for one sync covering both.
        ack.answer().await.unwrap();
        assert_eq!(commits.0.state().progress.durable, second);
        // After the answer, a statement waits for itself.
        let third = commits.issue(Synchronous::Full);
        commits.finish(third, &Acknowledgement::default());
        ack.owe(&commits, third).await.unwrap();
        assert_eq!(commits.0.state().progress.durable, third);
        assert!(ack.owed().tickets.is_empty());
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    /// A database whose WAL cannot be synced (its path runs under a regular file).
    fn unsyncable(name: &str) -> (GroupCommit, PathBuf) {
        let database = temp_database(name);
        let not_a_dir = database.parent().unwrap().join("file");
        std::fs::write(&not_a_dir, b"").unwrap();
        (GroupCommit::new(&not_a_dir.join("t.db")), database)
    }

    #[tokio::test]
    async fn a_normal_commit_is_synced_soon_and_seen_without_waiting() {
        let database = temp_database("normal");
        std::fs::write(format!("{}-wal", database.display()), b"frames").unwrap();
        let commits = GroupCommit::new(&database);
        let full = commits.issue(Synchronous::Full);
        commits.finish(full, &Acknowledgement::default());
        let normal = commits.issue(Synchronous::Normal);
        commits.finish_normal(normal);
        assert_eq!(commits.latest(), full, "readers wait for FULL commits only");
        // Nobody waits for the NORMAL commit, and it is synced all the same.
        commits.synced_without_waiters(normal).await;
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    #[tokio::test]
    async fn a_request_waits_for_its_normal_commits_only_when_it_commits_full_or_calls_out() {
        // Waiting for a commit of `unsyncable` fails, so a request that
        // waits for one cannot answer without an error.
        let (unsyncable, dir) = unsyncable("normal-owed");
        let healthy_database = temp_database("normal-owed-healthy");
        std::fs::write(format!("{}-wal", healthy_database.display()), b"frames").unwrap();
        let healthy = GroupCommit::new(&healthy_database);
        let commit_normally = |ack: &Acknowledgement| {
            let ticket = unsyncable.issue(Synchronous::Normal);
            unsyncable.finish_normal(ticket);
            ack.owe_commit(&unsyncable, ticket, Synchronous::Normal)
                .now_or_never()
                .unwrap()
                .unwrap();
        };
        // Only NORMAL commits: the answer goes at once.
        let reader = Acknowledgement::default();
        commit_normally(&reader);
        assert!(matches!(reader.answer().now_or_never(), Some(Ok(()))));
        // A FULL commit elsewhere (another file): the NORMAL one is waited for too.
        let writer = Acknowledgement::default();
        commit_normally(&writer);
        let ticket = healthy.issue(Synchronous::Full);
        healthy.finish(ticket, &writer);
        writer
            .owe_commit(&healthy, ticket, Synchronous::Full)
            .await
            .unwrap();
        assert!(writer.answer().await.is_err());
        // Calling out settles NORMAL commits as well.
        let caller = Acknowledgement::default();
        commit_normally(&caller);
        assert!(caller.settle().await.is_err());
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
        let _ = std::fs::remove_dir_all(healthy_database.parent().unwrap());
    }

    #[tokio::test]
    async fn a_failed_sync_fails_its_tickets_and_every_later_one() {
        // A WAL path under a regular file cannot be opened, and not for NotFound.
        let (commits, database) = unsyncable("failed");
        let first = commits.issue(Synchronous::Full);
        commits.finish(first, &Acknowledgement::default());
        assert!(commits.durable(first).await.is_err());
        let second = commits.issue(Synchronous::Full);
        commits.finish(second, &Acknowledgement::default());
        assert!(commits.durable(second).await.is_err());
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }
}
