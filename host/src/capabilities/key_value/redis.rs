//! Spin's Redis key-value backend (`type = "redis"`, `url = "redis://…"`):
//! every label with one URL shares that server's keyspace, as in Spin, so
//! replicas and processes on several machines see one store.

use anyhow::{Context, Result};
use futures::future::BoxFuture;
use redis::AsyncCommands;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::KeyValueStore;
use crate::capabilities::sqlite::Acknowledgement;

/// A Redis server's keyspace. The connection is made on first use (a
/// server that is down fails that operation, not the host's start) and
/// re-made by the [`ConnectionManager`] after a failure.
pub struct RedisKeyValue {
    client: redis::Client,
    connection: std::sync::Arc<OnceCell<ConnectionManager>>,
}

impl RedisKeyValue {
    pub fn open(url: &str) -> Result<Self> {
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL `{url}`"))?;
        Ok(Self {
            client,
            connection: Default::default(),
        })
    }

    /// Runs `f` on a connection to the server, once more on a fresh one if
    /// the first had been dropped (a server restart): every operation here
    /// is idempotent. Redis makes writes as durable as its own
    /// configuration says, so nothing is owed to the request's `ack`.
    fn run<T: Send + 'static, F>(
        &self,
        f: impl Fn(ConnectionManager) -> F + Send + 'static,
    ) -> BoxFuture<'static, Result<T>>
    where
        F: Future<Output = redis::RedisResult<T>> + Send,
    {
        let client = self.client.clone();
        let connection = std::sync::Arc::clone(&self.connection);
        Box::pin(async move {
            let manager = manager(&client, &connection).await?;
            match f(manager.clone()).await {
                Err(e) if e.is_connection_dropped() || e.is_io_error() => {
                    Ok(f(manager.clone()).await?)
                }
                answer => Ok(answer?),
            }
        })
    }
}

/// A server that is down fails an operation within a few seconds rather
/// than after the manager's default minute of backing off, so the guest
/// hears of it inside its request.
fn connection_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500))
}

impl KeyValueStore for RedisKeyValue {
    /// Redis keeps its own persistence: nothing of it is on this host.
    fn checkpoint_at_stop(&self) -> Result<()> {
        Ok(())
    }

    fn get(&self, key: String, _: Acknowledgement) -> BoxFuture<'static, Result<Option<Vec<u8>>>> {
        self.run(move |mut c| {
            let key = key.clone();
            async move { c.get(key).await }
        })
    }

    fn set(
        &self,
        key: String,
        value: Vec<u8>,
        _: Acknowledgement,
    ) -> BoxFuture<'static, Result<()>> {
        self.run(move |mut c| {
            let (key, value) = (key.clone(), value.clone());
            async move { c.set(key, value).await }
        })
    }

    fn delete(&self, key: String, _: Acknowledgement) -> BoxFuture<'static, Result<()>> {
        self.run(move |mut c| {
            let key = key.clone();
            async move { c.del(key).await }
        })
    }

    fn exists(&self, key: String, _: Acknowledgement) -> BoxFuture<'static, Result<bool>> {
        self.run(move |mut c| {
            let key = key.clone();
            async move { c.exists(key).await }
        })
    }

    /// Every key on the server, as Spin's Redis backend answers (`KEYS *`).
    fn keys(&self, _: Acknowledgement) -> BoxFuture<'static, Result<Vec<String>>> {
        self.run(|mut c| async move { c.keys("*").await })
    }

    /// `INCRBY`, as Spin's Redis backend: the number is decimal text.
    fn increment(
        &self,
        key: String,
        delta: i64,
        _: Acknowledgement,
    ) -> BoxFuture<'static, Result<i64>> {
        // Not retried: a dropped connection may have applied it.
        let client = self.client.clone();
        let connection = std::sync::Arc::clone(&self.connection);
        Box::pin(async move {
            let mut manager = manager(&client, &connection).await?;
            Ok(manager.incr(key, delta).await?)
        })
    }

    /// `WATCH`, compare, `MULTI`/`SET`/`EXEC` on a connection of its own
    /// (a watch belongs to a connection): `EXEC` is refused if another
    /// client wrote the key after the watch.
    fn compare_and_swap(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        _: Acknowledgement,
    ) -> BoxFuture<'static, Result<bool>> {
        let client = self.client.clone();
        Box::pin(async move {
            let mut c = client
                .get_multiplexed_async_connection()
                .await
                .context("connecting to Redis")?;
            redis::cmd("WATCH").arg(&key).exec_async(&mut c).await?;
            let current: Option<Vec<u8>> = c.get(&key).await?;
            if current != expected {
                redis::cmd("UNWATCH").exec_async(&mut c).await?;
                return Ok(false);
            }
            let committed: Option<()> = redis::pipe()
                .atomic()
                .set(&key, value)
                .ignore()
                .query_async(&mut c)
                .await?;
            Ok(committed.is_some())
        })
    }
}

/// The store's connection manager, made on first use.
async fn manager(
    client: &redis::Client,
    connection: &OnceCell<ConnectionManager>,
) -> Result<ConnectionManager> {
    Ok(connection
        .get_or_try_init(|| client.get_connection_manager_with_config(connection_config()))
        .await
        .context("connecting to Redis")?
        .clone())
}
