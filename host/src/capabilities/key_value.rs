//! Key-value stores (`fermyon:spin/key-value@2.0.0`): the manifest's
//! `key_value_stores` grants, runtime-config `[key_value_store.<label>]`, and
//! the [`KeyValueStore`] backend trait with a SQLite-file implementation laid
//! out like Spin's own (`spin_key_value` table, one row per store and key).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::state::HostState;

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
/// is one more implementation of this trait.
pub trait KeyValueStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    fn delete(&self, key: &str) -> Result<()>;
    fn exists(&self, key: &str) -> Result<bool>;
    fn keys(&self) -> Result<Vec<String>>;
}

/// Spin's default backend: a table in a SQLite file shared by all labels
/// that point at that file.
pub struct SqliteKeyValue {
    store: String,
    connection: Arc<Mutex<rusqlite::Connection>>,
}

impl SqliteKeyValue {
    pub fn open(path: &Path, store: &str) -> Result<Self> {
        let connection = crate::capabilities::sqlite::open_file(path)?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS spin_key_value (
                    store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                    PRIMARY KEY (store, key))",
            )
            .with_context(|| format!("creating the key-value table in {}", path.display()))?;
        Ok(Self {
            store: store.to_string(),
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> Result<T> {
        let connection = self
            .connection
            .lock()
            .expect("key-value connection poisoned");
        Ok(f(&connection)?)
    }
}

impl KeyValueStore for SqliteKeyValue {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        use rusqlite::OptionalExtension;
        self.with(|c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row((&self.store, key), |row| row.get(0))
                .optional()
        })
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.with(|c| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute((&self.store, key, value))
            .map(drop)
        })
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.with(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute((&self.store, key))
                .map(drop)
        })
    }

    fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    fn keys(&self) -> Result<Vec<String>> {
        self.with(|c| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?
                .query_map([&self.store], |row| row.get(0))?
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

pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    kv::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    Ok(())
}

fn other(error: anyhow::Error) -> Error {
    Error::Other(format!("{error:#}"))
}

impl kv::Host for HostState {}

impl kv::HostStore for HostState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<StoreHandle>, Error>> {
        let Some(store) = self.key_value.0.get(&label) else {
            return Ok(Err(Error::AccessDenied));
        };
        let handle = StoreHandle(Arc::clone(store));
        Ok(Ok(self.table.push(handle)?))
    }

    async fn get(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self.table.get(&store)?.0.get(&key).map_err(other))
    }

    async fn set(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.table.get(&store)?.0.set(&key, &value).map_err(other))
    }

    async fn delete(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.table.get(&store)?.0.delete(&key).map_err(other))
    }

    async fn exists(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(self.table.get(&store)?.0.exists(&key).map_err(other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<StoreHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(self.table.get(&store)?.0.keys().map_err(other))
    }

    async fn drop(&mut self, store: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
