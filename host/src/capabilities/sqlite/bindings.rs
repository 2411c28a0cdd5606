//! The guest-facing side: both WIT versions' bindings, implemented once for
//! each by a macro on [`SqliteState`], an instance's grants and connections.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use super::{Acknowledgement, SqlValue, SqliteConnection, SqliteDatabase};

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
/// opened, the acknowledgement their writes are owed to, and the request's
/// deadline, past which none of its statements runs on.
pub struct SqliteState {
    grants: SqliteGrants,
    connections: ResourceTable,
    ack: Acknowledgement,
    deadline: Instant,
}

impl SqliteState {
    pub fn new(grants: SqliteGrants, ack: Acknowledgement, deadline: Instant) -> Self {
        Self {
            grants,
            connections: ResourceTable::new(),
            ack,
            deadline,
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
            match Arc::clone(db).connect(state.ack.clone(), state.deadline) {
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
