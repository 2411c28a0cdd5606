//! The data of one request's wasmtime `Store`: each capability's state for
//! one component instance, composed here and handed to each capability
//! through its view trait (as `WasiView` does for WASI).

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::key_value::{KeyValueState, KeyValueView};
use crate::capabilities::outbound_http::OutboundHooks;
use crate::capabilities::sqlite::{SqliteState, SqliteView};
use crate::capabilities::variables::{ComponentVariables, VariablesView};

pub struct HostState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    /// WASI's and `wasi:http`'s resources.
    pub table: ResourceTable,
    pub hooks: OutboundHooks,
    pub limits: MemoryLimit,
    pub key_value: KeyValueState,
    pub sqlite: SqliteState,
    pub variables: ComponentVariables,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl KeyValueView for HostState {
    fn key_value(&mut self) -> &mut KeyValueState {
        &mut self.key_value
    }
}

impl SqliteView for HostState {
    fn sqlite(&mut self) -> &mut SqliteState {
        &mut self.sqlite
    }
}

impl VariablesView for HostState {
    fn variables(&mut self) -> &mut ComponentVariables {
        &mut self.variables
    }
}

/// Caps a guest's linear memory and remembers that it hit the cap, so the
/// trap that usually follows is reported as what it is.
pub struct MemoryLimit {
    pub max_bytes: usize,
    pub exceeded: bool,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_bytes;
        self.exceeded |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
