//! Spin's default key-value backend (`type = "spin"`): a table in a SQLite
//! file shared by all labels that point at that file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use futures::future::BoxFuture;

use super::KeyValueStore;
use crate::capabilities::sqlite::{Acknowledgement, GroupCommit, Synchronous};

/// Spin's default backend: a table in a SQLite file shared by all labels
/// that point at that file. Statements run on blocking threads; writes
/// commit with `synchronous=NORMAL` and [`GroupCommit`] makes them durable
/// several at a time, as for the SQLite databases.
pub struct SqliteKeyValue(Arc<Inner>);

struct Inner {
    store: String,
    connection: Mutex<rusqlite::Connection>,
    commits: GroupCommit,
}

impl SqliteKeyValue {
    pub fn open(path: &Path, store: &str) -> Result<Self> {
        let connection = crate::capabilities::sqlite::open_file(path)?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS spin_key_value (
                    store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                    PRIMARY KEY (store, key));
                 PRAGMA synchronous = NORMAL;",
            )
            .with_context(|| format!("creating the key-value table in {}", path.display()))?;
        Ok(Self(Arc::new(Inner {
            store: store.to_string(),
            connection: Mutex::new(connection),
            commits: GroupCommit::new(path),
        })))
    }

    /// Runs `f` on a blocking thread; `writes` statements take a commit
    /// ticket. Every commit `f` made or could have seen is owed to `ack`.
    fn run<T: Send + 'static>(
        &self,
        ack: Acknowledgement,
        writes: bool,
        f: impl FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'static, Result<T>> {
        let inner = Arc::clone(&self.0);
        Box::pin(async move {
            let worker = Arc::clone(&inner);
            let by = ack.clone();
            let (result, ticket, seen) = tokio::task::spawn_blocking(move || {
                let connection = worker
                    .connection
                    .lock()
                    .expect("key-value connection poisoned");
                let ticket = writes.then(|| worker.commits.issue(Synchronous::Full));
                let result = f(&connection, &worker.store);
                if let Some(ticket) = ticket {
                    worker.commits.finish(ticket, &by);
                }
                // A read may have seen any commit issued so far.
                (result, ticket, worker.commits.latest())
            })
            .await
            .context("key-value task failed")?;
            match ticket {
                Some(ticket) => {
                    ack.owe_commit(&inner.commits, ticket, Synchronous::Full)
                        .await
                }
                None => ack.owe(&inner.commits, seen).await,
            }
            .context("making the key-value write durable")?;
            Ok(result?)
        })
    }
}

fn get_value(
    c: &rusqlite::Connection,
    store: &str,
    key: &str,
) -> rusqlite::Result<Option<Vec<u8>>> {
    use rusqlite::OptionalExtension;
    c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
        .query_row((store, key), |row| row.get(0))
        .optional()
}

impl KeyValueStore for SqliteKeyValue {
    fn checkpoint_at_stop(&self) -> Result<()> {
        let connection = self
            .0
            .connection
            .lock()
            .expect("key-value connection poisoned");
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .context("checkpointing the key-value store")
    }

    fn get(
        &self,
        key: String,
        ack: Acknowledgement,
    ) -> BoxFuture<'static, Result<Option<Vec<u8>>>> {
        self.run(ack, false, move |c, store| get_value(c, store, &key))
    }

    fn set(
        &self,
        key: String,
        value: Vec<u8>,
        ack: Acknowledgement,
    ) -> BoxFuture<'static, Result<()>> {
        self.run(ack, true, move |c, store| put(c, store, &key, &value))
    }

    fn delete(&self, key: String, ack: Acknowledgement) -> BoxFuture<'static, Result<()>> {
        self.run(ack, true, move |c, store| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute((store, &key))
                .map(drop)
        })
    }

    fn exists(&self, key: String, ack: Acknowledgement) -> BoxFuture<'static, Result<bool>> {
        self.run(ack, false, move |c, store| {
            get_value(c, store, &key).map(|v| v.is_some())
        })
    }

    fn keys(&self, ack: Acknowledgement) -> BoxFuture<'static, Result<Vec<String>>> {
        self.run(ack, false, |c, store| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                .query_map([store], |row| row.get(0))?
                .collect()
        })
    }

    /// As Spin's SQLite backend: the number is 8 little-endian bytes.
    fn increment(
        &self,
        key: String,
        delta: i64,
        ack: Acknowledgement,
    ) -> BoxFuture<'static, Result<i64>> {
        self.run(ack, true, move |c, store| {
            // IMMEDIATE: another process's increment waits for this one
            // rather than both reading the same number.
            immediate(c, || {
                let current = match get_value(c, store, &key)? {
                    None => 0,
                    Some(bytes) => i64::from_le_bytes(bytes.try_into().map_err(|_| {
                        rusqlite::Error::InvalidParameterName(format!(
                            "`{key}` does not hold a number written by increment"
                        ))
                    })?),
                };
                let sum = current.checked_add(delta).ok_or_else(|| {
                    rusqlite::Error::InvalidParameterName(format!("`{key}` would overflow"))
                })?;
                put(c, store, &key, &sum.to_le_bytes())?;
                Ok(sum)
            })
        })
    }

    fn compare_and_swap(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        ack: Acknowledgement,
    ) -> BoxFuture<'static, Result<bool>> {
        self.run(ack, true, move |c, store| {
            let changed = match expected {
                Some(old) => c
                    .prepare_cached(
                        "UPDATE spin_key_value SET value = ?4
                         WHERE store = ?1 AND key = ?2 AND value = ?3",
                    )?
                    .execute((store, &key, &old, &value))?,
                None => c
                    .prepare_cached(
                        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT (store, key) DO NOTHING",
                    )?
                    .execute((store, &key, &value))?,
            };
            Ok(changed == 1)
        })
    }
}

fn put(c: &rusqlite::Connection, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
    )?
    .execute((store, key, value))
    .map(drop)
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: committed if it succeeds,
/// rolled back if not.
fn immediate<T>(
    c: &rusqlite::Connection,
    f: impl FnOnce() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.execute_batch("BEGIN IMMEDIATE")?;
    match f() {
        Ok(answer) => {
            c.execute_batch("COMMIT")?;
            Ok(answer)
        }
        Err(e) => {
            let _ = c.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
