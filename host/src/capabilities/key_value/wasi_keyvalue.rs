//! `wasi:keyvalue@0.2.0-draft2` (`store`, `atomics`, `batch`), as Spin 3+
//! serves it, over the same grants and backends as `fermyon:spin/key-value`:
//! a bucket is a granted label; `increment` and compare-and-swap are atomic
//! across every process sharing the store.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, Resource};

use super::{KeyValueState, KeyValueStore, KeyValueView};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/keyvalue@0.2.0-draft2",
        inline: "package crm-host:wasi-keyvalue; world host { include wasi:keyvalue/imports@0.2.0-draft2; }",
        imports: { default: async | trappable },
        with: {
            "wasi:keyvalue/store.bucket": super::Bucket,
            "wasi:keyvalue/atomics.cas": super::Cas,
        },
    });
}

use bindings::wasi::keyvalue::atomics::{self, CasError};
use bindings::wasi::keyvalue::batch;
use bindings::wasi::keyvalue::store::{self, Error, KeyResponse};

/// The guest's `bucket` resource: one granted store.
pub struct Bucket(Arc<dyn KeyValueStore>);

/// The guest's `cas` resource: a key and the value it held when the
/// operation began (or when `current` last read it), which `swap` expects.
pub struct Cas {
    store: Arc<dyn KeyValueStore>,
    key: String,
    expected: Option<Vec<u8>>,
}

pub fn add_to_linker<T: KeyValueView + 'static>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    store::add_to_linker::<T, HasSelf<KeyValueState>>(linker, T::key_value)?;
    atomics::add_to_linker::<T, HasSelf<KeyValueState>>(linker, T::key_value)?;
    batch::add_to_linker::<T, HasSelf<KeyValueState>>(linker, T::key_value)?;
    Ok(())
}

fn other(error: anyhow::Error) -> Error {
    Error::Other(format!("{error:#}"))
}

impl KeyValueState {
    fn bucket(&self, bucket: &Resource<Bucket>) -> wasmtime::Result<Arc<dyn KeyValueStore>> {
        Ok(Arc::clone(&self.stores.get(bucket)?.0))
    }

    /// A new `cas` on `key`, expecting what the store holds now.
    async fn begin_cas(
        &mut self,
        store: Arc<dyn KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let expected = match store.get(key.clone(), self.ack.clone()).await {
            Ok(value) => value,
            Err(e) => return Ok(Err(other(e))),
        };
        Ok(Ok(self.stores.push(Cas {
            store,
            key,
            expected,
        })?))
    }
}

impl store::Host for KeyValueState {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<Bucket>, Error>> {
        let Some(store) = self.grants.0.get(&identifier) else {
            return Ok(Err(Error::AccessDenied));
        };
        let bucket = Bucket(Arc::clone(store));
        Ok(Ok(self.stores.push(bucket)?))
    }
}

impl store::HostBucket for KeyValueState {
    async fn get(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let pending = self.bucket(&bucket)?.get(key, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn set(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let pending = self.bucket(&bucket)?.set(key, value, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn delete(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let pending = self.bucket(&bucket)?.delete(key, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn exists(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let pending = self.bucket(&bucket)?.exists(key, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    /// Every key at once, with no cursor, as Spin answers.
    async fn list_keys(
        &mut self,
        bucket: Resource<Bucket>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<KeyResponse, Error>> {
        let pending = self.bucket(&bucket)?.keys(self.ack.clone());
        Ok(pending
            .await
            .map(|keys| KeyResponse { keys, cursor: None })
            .map_err(other))
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.stores.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for KeyValueState {
    async fn increment(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let pending = self
            .bucket(&bucket)?
            .increment(key, delta, self.ack.clone());
        Ok(pending.await.map_err(other))
    }

    async fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), CasError>> {
        let Cas {
            store,
            key,
            expected,
        } = self.stores.delete(cas)?;
        let swapped = store
            .compare_and_swap(key.clone(), expected, value, self.ack.clone())
            .await;
        Ok(match swapped {
            Ok(true) => Ok(()),
            // Someone wrote first: a fresh operation expecting what they wrote.
            Ok(false) => match self.begin_cas(store, key).await? {
                Ok(fresh) => Err(CasError::CasFailed(fresh)),
                Err(e) => Err(CasError::StoreError(e)),
            },
            Err(e) => Err(CasError::StoreError(other(e))),
        })
    }
}

impl atomics::HostCas for KeyValueState {
    async fn new(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let store = self.bucket(&bucket)?;
        self.begin_cas(store, key).await
    }

    async fn current(
        &mut self,
        cas: Resource<Cas>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let (store, key) = {
            let cas = self.stores.get(&cas)?;
            (Arc::clone(&cas.store), cas.key.clone())
        };
        let value = match store.get(key, self.ack.clone()).await {
            Ok(value) => value,
            Err(e) => return Ok(Err(other(e))),
        };
        self.stores.get_mut(&cas)?.expected.clone_from(&value);
        Ok(Ok(value))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.stores.delete(cas)?;
        Ok(())
    }
}

/// Batches as Spin's backends run them: one operation per key, not atomic
/// as a whole (the interface promises no more).
impl batch::Host for KeyValueState {
    async fn get_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, Error>> {
        let store = self.bucket(&bucket)?;
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            match store.get(key.clone(), self.ack.clone()).await {
                Ok(value) => found.push((key, value)),
                Err(e) => return Ok(Err(other(e))),
            }
        }
        Ok(Ok(found))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<Bucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let store = self.bucket(&bucket)?;
        for (key, value) in key_values {
            if let Err(e) = store.set(key, value, self.ack.clone()).await {
                return Ok(Err(other(e)));
            }
        }
        Ok(Ok(()))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let store = self.bucket(&bucket)?;
        for key in keys {
            if let Err(e) = store.delete(key, self.ack.clone()).await {
                return Ok(Err(other(e)));
            }
        }
        Ok(Ok(()))
    }
}
