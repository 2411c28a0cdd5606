//! Key-value stores (`fermyon:spin/key-value@2.0.0`): the manifest's
//! `key_value_stores` grants, runtime-config `[key_value_store.<label>]`, and
//! the [`KeyValueStore`] backend trait with a SQLite-file implementation laid
//! out like Spin's own (`spin_key_value` table, one row per store and key).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use futures::future::BoxFuture;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::capabilities::sqlite::{Acknowledgement, GroupCommit, Synchronous};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/spin@2.0.0",
        inline: "package crm-host:key-value; world host { import fermyon:spin/key-value@2.0.0; }",
        imports: { default: async | trappable },
        with: { "fermyon:spin/key-value.store": super::StoreHandle },
    });
}

use bindings::fermyon::spin::key_value::{self as kv, Error};

/// A key-value store backend. One value per label; a Redis or cloud backend
/// is one more implementation of this trait. What an operation wrote (or
/// could have read) must be durable before the request's `ack` settles.
pub trait KeyValueStore: Send + Sync {
    fn get(&self, key: String, ack: Acknowledgement)
    -> BoxFuture<'static, Result<Option<Vec<u8>>>>;
    fn set(
        &self,
        key: String,
        value: Vec<u8>,
        ack: Acknowledgement,
    ) -> BoxFuture<'static, Result<()>>;
    fn delete(&self, key: String, ack: Acknowledgement) -> BoxFuture<'static, Result<()>>;
    fn exists(&self, key: String, ack: Acknowledgement) -> BoxFuture<'static, Result<bool>>;
    fn keys(&self, ack: Acknowledgement) -> BoxFuture<'static, Result<Vec<String>>>;
}

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
        self.run(ack, true, move |c, store| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute((store, &key, &value))
            .map(drop)
        })
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
}

/// The stores one component was granted, by label.
#[derive(Clone, Default)]
pub struct KeyValueGrants(Arc<HashMap<String, Arc<dyn KeyValueStore>>>);

impl KeyValueGrants {
    pub fn new(grants: HashMap<String, Arc<dyn KeyValueStore>>) -> Self {
        Self(Arc::new(grants))
    }
}

/// The guest's `store` resource.
pub struct StoreHandle(Arc<dyn KeyValueStore>);

/// One instance's key-value state: its component's grants, the stores it
/// opened, and the acknowledgement their operations are owed to.
pub struct KeyValueState {
    grants: KeyValueGrants,
    stores: ResourceTable,
    ack: Acknowledgement,
}

impl KeyValueState {
    pub fn new(grants: KeyValueGrants, ack: Acknowledgement) -> Self {
        Self {
            grants,
            stores: ResourceTable::new(),
            ack,
        }
    }
}

/// A store's data that holds a [`KeyValueState`].
pub trait KeyValueView: Send {
    fn key_value(&mut self) -> &mut KeyValueState;
}

pub fn add_to_linker<T: KeyValueView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    kv::add_to_linker::<T, HasSelf<KeyValueState>>(linker, T::key_value)?;
    Ok(())
}

fn other(error: anyhow::Error) -> Error {
    Error::Other(format!("{error:#}"))
}

impl kv::Host for KeyValueState {}

impl kv::HostStore for KeyValueState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<StoreHandle>, Error>> {
        let Some(store) = self.grants.0.get(&label) else {
            return Ok(Err(Error::AccessDenied));
        };
        let handle = StoreHandle(Arc::clone(store));
        Ok(Ok(self.stores.push(handle)?))
    }

    async fn get(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let pending = self.stores.get(&store)?.0.get(key, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn set(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let pending = self.stores.get(&store)?.0.set(key, value, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn delete(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let pending = self.stores.get(&store)?.0.delete(key, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn exists(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let pending = self.stores.get(&store)?.0.exists(key, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<StoreHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let pending = self.stores.get(&store)?.0.keys(self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn drop(&mut self, store: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.stores.delete(store)?;
        Ok(())
    }
}
