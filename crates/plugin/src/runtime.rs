//! The process-wide Wasm engine: compiler, pooling instance allocator,
//! epoch ticker, compile cache, admission control and the production
//! linker.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig,
};

use super::error::{FailureKind, PluginError};
use super::host_api;
use super::sandbox::HostState;

/// Settings of the plugin engine.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Instances that may exist at once (fresh and warm); calls beyond
    /// wait for a slot, up to their deadline.
    pub max_instances: u32,
    /// Largest linear memory any plugin may have, in bytes.
    pub max_memory_bytes: u64,
    /// Period of the epoch ticker: the granularity of deadlines.
    pub epoch_tick: Duration,
    /// Directory for compiled code, so restarts do not recompile.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            max_instances: 256,
            max_memory_bytes: 1 << 30,
            epoch_tick: Duration::from_millis(2),
            cache_dir: None,
        }
    }
}

/// The process-wide engine. Cheap to share behind an `Arc`.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<HostState>,
    admission: Arc<Semaphore>,
    settings: RuntimeSettings,
}

impl PluginRuntime {
    /// Builds the engine, starts its epoch ticker and links the host API.
    pub fn new(settings: RuntimeSettings) -> anyhow::Result<Arc<PluginRuntime>> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.consume_fuel(true);
        config.memory_init_cow(true);

        let n = settings.max_instances;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            .total_core_instances(n * 16)
            .total_memories(n * 4)
            .total_tables(n * 8)
            .total_stacks(n)
            .max_memories_per_component(32)
            .max_tables_per_component(64)
            .max_core_instances_per_component(200)
            .max_component_instance_size(10 << 20)
            .max_core_instance_size(10 << 20)
            .max_memory_size(settings.max_memory_bytes as usize)
            // Reset a freed slot by rewriting only the pages the instance
            // touched (found with the PAGEMAP_SCAN ioctl, Linux 6.7+), up
            // to these sizes, instead of unmapping them: the next instance
            // then takes no page faults. Older kernels fall back to madvise.
            .linear_memory_keep_resident(8 << 20)
            .table_keep_resident(1 << 20)
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));

        if let Some(dir) = &settings.cache_dir {
            std::fs::create_dir_all(dir)?;
            let mut cache = CacheConfig::new();
            cache.with_directory(dir);
            config.cache(Some(Cache::new(cache)?));
        }

        let engine = Engine::new(&config)?;
        start_epoch_ticker(&engine, settings.epoch_tick);

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        host_api::add_to_linker(&mut linker)?;

        Ok(Arc::new(PluginRuntime {
            engine,
            linker,
            admission: Arc::new(Semaphore::new(n as usize)),
            settings,
        }))
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The production linker: WASI (denied by default per store) and the
    /// `parley:plugin` host interfaces.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// The engine's settings.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }

    /// Compiles a component (or fetches it from the compile cache). Runs on
    /// a blocking thread: compilation is CPU-heavy.
    pub async fn compile(&self, bytes: Arc<Vec<u8>>) -> anyhow::Result<Component> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || Component::new(&engine, bytes.as_slice()))
            .await?
            .map_err(anyhow::Error::from)
    }

    /// Waits up to `wait` for an instance slot. Without one the pooling
    /// allocator would fail instantiation, so calls queue here instead.
    pub async fn admit(
        &self,
        plugin: &str,
        wait: Duration,
    ) -> Result<OwnedSemaphorePermit, PluginError> {
        match tokio::time::timeout(wait, self.admission.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(PluginError::unversioned(
                plugin,
                FailureKind::Overloaded,
                format!(
                    "all {} instance slots stayed busy for {} ms",
                    self.settings.max_instances,
                    wait.as_millis()
                ),
            )),
        }
    }

    /// Instance slots free now.
    pub fn free_slots(&self) -> usize {
        self.admission.available_permits()
    }
}

/// Ticks the engine's epoch from a plain thread (not the async runtime, so
/// a guest hogging a runtime worker cannot starve it). The thread holds a
/// weak reference and ends when the engine is dropped.
fn start_epoch_ticker(engine: &Engine, tick: Duration) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("parley-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(tick);
            }
        })
        .expect("spawning the epoch thread");
}
