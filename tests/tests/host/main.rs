//! `crm-host` itself, against the purpose-built guests in `tests/guests/`:
//! one module per part of the runtime (as wasmtime's `tests/all`), each on
//! hosts of its own, all sharing the run's compiled-code cache.

mod access_denied;
mod component_id;
mod composition;
mod isolation;
mod key_value;
mod logging;
mod manifest;
mod outbound;
mod restart;
mod routing;
mod sqlite;
mod variables;
mod wasi;
