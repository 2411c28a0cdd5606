//! The data of one request's wasmtime `Store`: everything the host
//! capabilities need for one component instance.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::key_value::KeyValueGrants;
use crate::capabilities::outbound_http::OutboundHooks;
use crate::capabilities::sqlite::{Acknowledgement, SqliteGrants};
use crate::capabilities::variables::ComponentVariables;

pub struct HostState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub hooks: OutboundHooks,
    pub limits: MemoryLimit,
    pub key_value: KeyValueGrants,
    pub sqlite: SqliteGrants,
    pub variables: ComponentVariables,
    /// What the request's writes owe the disk before its effects leave the host.
    pub ack: Acknowledgement,
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
