//! The deny adapter: a component exporting the host interfaces that
//! `crm-host-compose` withholds from a dependency which did not inherit the
//! matching configuration from its parent (`inherit_configuration` in
//! `spin.toml`). It answers the way Spin's own deny adapter does:
//!
//! - key-value stores and SQLite databases: `open` fails with `access-denied`;
//! - variables: every name is `undefined`;
//! - outbound HTTP: `internal-error("\"wasi:http/outgoing-handler\" is not permitted")`;
//! - environment: no variables, no arguments, no initial directory;
//! - files: no preopened directories.
//!
//! Resources are never handed out (every `open` fails), so their methods are
//! unreachable; they trap without pulling in the panic machinery.
//!
//! The built component is committed as `host/compose/deny_adapter.wasm`; see
//! README.md for how to rebuild it.

wit_bindgen::generate!({
    world: "crm:deny-adapter/adapter",
    path: "wit",
    generate_all,
});

use exports::fermyon::spin::{key_value as kv2, sqlite as sqlite2, variables as variables2};
use exports::spin::key_value::key_value as kv3;
use exports::spin::sqlite::sqlite as sqlite3;
use exports::spin::variables::variables as variables3;
use exports::wasi::cli::environment;
use exports::wasi::filesystem::preopens;
use exports::wasi::http::outgoing_handler;

/// A method of a resource that can never exist (its `open` always fails).
fn never() -> ! {
    // A bare trap: no panic message formatting linked in for these.
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    unreachable!("deny adapter resources are never created")
}

struct Adapter;
export!(Adapter);

/// Never constructed: stands for the store / connection resources.
struct Denied;

impl kv2::Guest for Adapter {
    type Store = Denied;
}

impl kv2::GuestStore for Denied {
    fn open(_label: String) -> Result<kv2::Store, kv2::Error> {
        Err(kv2::Error::AccessDenied)
    }
    fn get(&self, _key: String) -> Result<Option<Vec<u8>>, kv2::Error> {
        never()
    }
    fn set(&self, _key: String, _value: Vec<u8>) -> Result<(), kv2::Error> {
        never()
    }
    fn delete(&self, _key: String) -> Result<(), kv2::Error> {
        never()
    }
    fn exists(&self, _key: String) -> Result<bool, kv2::Error> {
        never()
    }
    fn get_keys(&self) -> Result<Vec<String>, kv2::Error> {
        never()
    }
}

impl kv3::Guest for Adapter {
    type Store = Denied;
}

impl kv3::GuestStore for Denied {
    async fn open(_label: String) -> Result<kv3::Store, kv3::Error> {
        Err(kv3::Error::AccessDenied)
    }
    async fn get(&self, _key: String) -> Result<Option<Vec<u8>>, kv3::Error> {
        never()
    }
    async fn set(&self, _key: String, _value: Vec<u8>) -> Result<(), kv3::Error> {
        never()
    }
    async fn delete(&self, _key: String) -> Result<(), kv3::Error> {
        never()
    }
    async fn exists(&self, _key: String) -> Result<bool, kv3::Error> {
        never()
    }
    async fn get_keys(
        &self,
    ) -> (
        wit_bindgen::StreamReader<String>,
        wit_bindgen::FutureReader<Result<(), kv3::Error>>,
    ) {
        never()
    }
}

impl sqlite2::Guest for Adapter {
    type Connection = Denied;
}

impl sqlite2::GuestConnection for Denied {
    fn open(_database: String) -> Result<sqlite2::Connection, sqlite2::Error> {
        Err(sqlite2::Error::AccessDenied)
    }
    fn execute(
        &self,
        _statement: String,
        _parameters: Vec<sqlite2::Value>,
    ) -> Result<sqlite2::QueryResult, sqlite2::Error> {
        never()
    }
}

impl sqlite3::Guest for Adapter {
    type Connection = Denied;
}

impl sqlite3::GuestConnection for Denied {
    fn open(_database: String) -> Result<sqlite3::Connection, sqlite3::Error> {
        Err(sqlite3::Error::AccessDenied)
    }
    fn execute(
        &self,
        _statement: String,
        _parameters: Vec<sqlite3::Value>,
    ) -> Result<sqlite3::QueryResult, sqlite3::Error> {
        never()
    }
    fn last_insert_rowid(&self) -> i64 {
        never()
    }
    fn changes(&self) -> u64 {
        never()
    }
}

impl variables2::Guest for Adapter {
    fn get(name: String) -> Result<String, variables2::Error> {
        Err(variables2::Error::Undefined(name))
    }
}

impl variables3::Guest for Adapter {
    async fn get(name: String) -> Result<String, variables3::Error> {
        Err(variables3::Error::Undefined(name))
    }
}

impl outgoing_handler::Guest for Adapter {
    fn handle(
        _request: outgoing_handler::OutgoingRequest,
        _options: Option<outgoing_handler::RequestOptions>,
    ) -> Result<outgoing_handler::FutureIncomingResponse, outgoing_handler::ErrorCode> {
        Err(outgoing_handler::ErrorCode::InternalError(Some(
            "\"wasi:http/outgoing-handler\" is not permitted".to_string(),
        )))
    }
}

impl environment::Guest for Adapter {
    fn get_environment() -> Vec<(String, String)> {
        Vec::new()
    }
    fn get_arguments() -> Vec<String> {
        Vec::new()
    }
    fn initial_cwd() -> Option<String> {
        None
    }
}

impl preopens::Guest for Adapter {
    fn get_directories() -> Vec<(preopens::Descriptor, String)> {
        Vec::new()
    }
}
