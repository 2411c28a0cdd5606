//! Host capabilities, one module each, like Spin's factors: each owns its WIT
//! bindings, the manifest fields it reads and a backend trait.

pub mod files;
pub mod key_value;
pub mod outbound_http;
pub mod sqlite;
pub mod variables;
pub mod wasi;
