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
//! have seen is on disk, so no request ever sees data a crash could undo.
//!
//! Statements that may commit take a ticket, in the order of the file's
//! write gate; syncing up to a ticket makes it and all earlier ones durable.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

pub struct GroupCommit {
    wal: PathBuf,
    state: Mutex<State>,
    /// Signalled when a statement holding a ticket finishes.
    finished: Condvar,
    /// Signalled when a sync ends.
    synced: Condvar,
}

#[derive(Default)]
struct State {
    /// The newest ticket handed out.
    issued: u64,
    /// The newest ticket whose statement has finished (tickets finish in order).
    finished: u64,
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// A sync up to this ticket failed: its commits may be lost.
    failed: u64,
    syncing: bool,
    /// The WAL file last synced (device, inode): a new one needs its directory synced.
    wal_file: Option<(u64, u64)>,
}

impl GroupCommit {
    pub fn new(database: &Path) -> Self {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            wal: wal.into(),
            state: Mutex::default(),
            finished: Condvar::new(),
            synced: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("group commit poisoned")
    }

    /// A ticket for a statement that may commit; call with the write gate
    /// held, before running it.
    pub fn issue(&self) -> u64 {
        let mut state = self.state();
        state.issued += 1;
        state.issued
    }

    /// Marks a ticket's statement finished; call before releasing the gate.
    pub fn finish(&self, ticket: u64) {
        self.state().finished = ticket;
        self.finished.notify_all();
    }

    /// The newest ticket: a statement that has just run may have seen the
    /// commit of any ticket up to this one.
    pub fn latest(&self) -> u64 {
        self.state().issued
    }

    /// Blocks until every commit up to `ticket` is on disk. The first waiter
    /// to find no sync running syncs for everyone; the others wait for it.
    pub fn wait_durable(&self, ticket: u64) -> io::Result<()> {
        let mut state = self.state();
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if state.failed >= ticket {
                return Err(io::Error::other(
                    "syncing the WAL failed: the commit may not be durable",
                ));
            }
            if state.finished < ticket {
                state = self.finished.wait(state).expect("group commit poisoned");
                continue;
            }
            if state.syncing {
                state = self.synced.wait(state).expect("group commit poisoned");
                continue;
            }
            state.syncing = true;
            let target = state.finished;
            let known = state.wal_file;
            drop(state);
            let outcome = sync_wal(&self.wal, known);
            state = self.state();
            state.syncing = false;
            match outcome {
                Ok(wal_file) => {
                    state.durable = target;
                    state.wal_file = wal_file;
                }
                // After a failed fsync Linux may drop the dirty pages, so a
                // later successful one proves nothing about these commits.
                Err(_) => state.failed = target,
            }
            self.synced.notify_all();
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
    use std::sync::Arc;

    fn temp_database(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("crm-host-gc-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("t.db")
    }

    #[test]
    fn a_finished_ticket_becomes_durable_with_one_sync_for_all() {
        let database = temp_database("all");
        std::fs::write(format!("{}-wal", database.display()), b"frames").unwrap();
        let commits = GroupCommit::new(&database);
        let tickets: Vec<u64> = (0..3).map(|_| commits.issue()).collect();
        assert_eq!(tickets, [1, 2, 3]);
        commits.finish(3);
        commits.wait_durable(3).unwrap();
        // Earlier tickets were covered by the same sync.
        assert_eq!(commits.state().durable, 3);
        commits.wait_durable(1).unwrap();
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    #[test]
    fn a_reader_waits_for_a_commit_in_progress() {
        let database = temp_database("reader");
        let commits = Arc::new(GroupCommit::new(&database));
        let ticket = commits.issue();
        let reader = {
            let commits = Arc::clone(&commits);
            std::thread::spawn(move || commits.wait_durable(commits.latest()))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!reader.is_finished(), "answered before the commit finished");
        commits.finish(ticket);
        reader.join().unwrap().unwrap();
        assert_eq!(commits.state().durable, ticket);
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }

    #[test]
    fn a_failed_sync_fails_its_tickets() {
        // A WAL path under a regular file cannot be opened: not NotFound, an error.
        let database = temp_database("failed");
        std::fs::write(database.parent().unwrap().join("file"), b"").unwrap();
        let commits = GroupCommit::new(&database.parent().unwrap().join("file/t.db"));
        let ticket = commits.issue();
        commits.finish(ticket);
        assert!(commits.wait_durable(ticket).is_err());
        assert!(
            commits.wait_durable(ticket).is_err(),
            "a retry must not succeed"
        );
        let _ = std::fs::remove_dir_all(database.parent().unwrap());
    }
}
