//! The wasmtime engines: pooling allocator sized like Spin's, epoch-based
//! request timeouts, and a compiled-code cache that survives restarts.
//!
//! There are two kinds. Components that use no component-model-async
//! built-ins run on an engine without concurrency support: its stores have
//! no idle worker fiber to unwind when a request ends, which is a fifth of a
//! small request's cost. Components that do use them (`waitable.join`, ...)
//! get an engine with it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig,
};

/// How often the epoch advances: how often a computing guest yields, and
/// how late past its deadline it may be stopped.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Instances that may be alive at once (as Spin's default).
const MAX_INSTANCES: u32 = 1_000;

/// Whether an engine supports the component model's concurrency (async) built-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    Off,
    On,
}

pub fn new_engine(
    cache_dir: &Path,
    max_memory_bytes: usize,
    concurrency: Concurrency,
) -> Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(concurrency == Concurrency::On)
        .epoch_interruption(true);
    // wasmtime's cache gets a directory of its own: its clean-up worker
    // deletes every file there it did not write, which took the compiled
    // components kept beside it (`precompiled`) whenever it ran after them.
    let wasmtime_cache = std::path::absolute(cache_dir.join("wasmtime"))?;
    std::fs::create_dir_all(&wasmtime_cache)
        .with_context(|| format!("creating {}", wasmtime_cache.display()))?;
    let mut cache_config = CacheConfig::new();
    cache_config.with_directory(&wasmtime_cache);
    config.cache(Some(
        Cache::new(cache_config)
            .map_err(anyhow::Error::from)
            .context("compiled-code cache")?,
    ));

    let mut pooled = config.clone();
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(MAX_INSTANCES)
        .total_memories(MAX_INSTANCES)
        .total_tables(2 * MAX_INSTANCES)
        .total_stacks(MAX_INSTANCES)
        .total_core_instances(4 * MAX_INSTANCES)
        .max_component_instance_size(10 << 20)
        .max_core_instance_size(10 << 20)
        .max_core_instances_per_component(200)
        .max_tables_per_component(64)
        .max_memories_per_component(32)
        .max_tables_per_module(2)
        .max_memories_per_module(2)
        .max_memory_size(max_memory_bytes.max(1 << 20))
        // Reset instance slots by rewriting only the pages a request dirtied
        // (PAGEMAP_SCAN, Linux 6.7+) instead of `madvise`: no page faults on
        // reuse and no TLB-shootdown IPIs, which dominated the trivial route.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(16 << 20)
        .table_keep_resident(1 << 20)
        // What still needs `madvise` is flushed in batches.
        .decommit_batch_size(32);
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    match Engine::new(&pooled) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            // Too little address space for the pool (some containers): fall
            // back to allocating per instance, as Spin does.
            eprintln!(
                "{}",
                serde_json::json!({"level": "warn", "msg": "pooling allocator unavailable; allocating on demand", "error": format!("{e:#}")})
            );
            Ok(Engine::new(&config)?)
        }
    }
}

/// Advances the engines' epochs while any is alive, on a plain thread so a
/// busy runtime cannot stall it.
pub fn start_epoch_ticker(engines: &[&Engine]) {
    let engines: Vec<_> = engines.iter().map(|e| e.weak()).collect();
    std::thread::spawn(move || {
        loop {
            let mut alive = false;
            for engine in engines.iter().filter_map(|e| e.upgrade()) {
                engine.increment_epoch();
                alive = true;
            }
            if !alive {
                return;
            }
            std::thread::sleep(EPOCH_TICK);
        }
    });
}
