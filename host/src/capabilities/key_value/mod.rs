//! Key-value stores (`fermyon:spin/key-value@2.0.0` and, in
//! [`wasi_keyvalue`], `wasi:keyvalue@0.2.0-draft2`): the manifest's
//! `key_value_stores` grants and the [`KeyValueStore`] backend trait, with
//! Spin's two self-hosted backends: a SQLite file laid out like Spin's own
//! ([`SqliteKeyValue`], `type = "spin"`) and a Redis server
//! ([`RedisKeyValue`], `type = "redis"`).

mod redis;
mod sqlite;
mod wasi_keyvalue;

pub use redis::RedisKeyValue;
pub use sqlite::SqliteKeyValue;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use futures::future::BoxFuture;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::capabilities::sqlite::Acknowledgement;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/spin@2.0.0",
        inline: "package crm-host:key-value; world host { import fermyon:spin/key-value@2.0.0; }",
        imports: { default: async | trappable },
        with: { "fermyon:spin/key-value.store": super::StoreHandle },
    });
}

use bindings::fermyon::spin::key_value::{self as kv, Error};

/// A key-value store backend, one value per label. What an operation wrote
/// (or could have read) must be durable before the request's `ack` settles,
/// as far as the backend makes anything durable.
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
    /// Adds `delta` to the number at `key` (0 when absent) in one atomic
    /// step across every client of the store, and answers the sum.
    fn increment(
        &self,
        key: String,
        delta: i64,
        ack: Acknowledgement,
    ) -> BoxFuture<'static, Result<i64>>;
    /// Sets `key` to `value` only if it still holds `expected` (`None`:
    /// only if absent), atomically across every client; answers whether it
    /// did.
    fn compare_and_swap(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        ack: Acknowledgement,
    ) -> BoxFuture<'static, Result<bool>>;
    /// At a clean stop, after the last request: leaves nothing to recover
    /// (a local file truncates its WAL to nothing).
    fn checkpoint_at_stop(&self) -> Result<()>;
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

/// Links `fermyon:spin/key-value` and `wasi:keyvalue` (both served by Spin).
pub fn add_to_linker<T: KeyValueView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    kv::add_to_linker::<T, HasSelf<KeyValueState>>(linker, T::key_value)?;
    wasi_keyvalue::add_to_linker(linker)
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
