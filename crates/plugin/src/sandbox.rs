//! The sandbox one plugin call runs in: the store data, a WASI context
//! that denies everything the manifest does not grant, the memory limiter,
//! and the per-call deadline and fuel.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    FsPerms, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

use super::cases::mocks::CaseHost;
use super::error::{FailureKind, PluginError};
use super::kv::KvStore;
use super::manifest::{Capabilities, Limits, mib};
use super::outbound::{HttpHooks, OutboundHttp};
use super::peers::PluginPeers;
use super::runtime::PluginRuntime;
use super::secrets::Secrets;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Bytes of a plugin's stderr kept per call, to explain traps (Rust panics
/// print their message there).
const STDERR_CAPACITY: usize = 8 << 10;

/// Instructions between two points where a running guest's instruction
/// count is written back to its store. Compiled code keeps the count in a
/// register and writes it back at calls and at these points only, not
/// when the deadline interrupts it, so a call stopped at its deadline
/// reports the instructions it ran up to the last of them: its count is
/// short by less than this. Each point is also a yield to the async
/// runtime, too rare to cost a call anything measurable.
pub const FUEL_FLUSH_INTERVAL: u64 = 10_000_000;

/// What every store of one plugin version shares: identity, configuration,
/// grants and the services its host imports reach.
pub struct PluginContext {
    /// Plugin name.
    pub name: String,
    /// Short version id (content hash prefix).
    pub version: String,
    /// Configuration values as the plugin reads them.
    pub config: BTreeMap<String, String>,
    /// Capability grants.
    pub grants: Capabilities,
    /// Granted directories, resolved to absolute host paths.
    pub directories: Vec<(PathBuf, String, bool)>,
    /// Limits per call.
    pub limits: Limits,
    /// The key-value store, when granted.
    pub kv: Option<Arc<KvStore>>,
    /// Other plugins, for `parley:plugin/plugins` calls.
    pub peers: Option<Weak<dyn PluginPeers>>,
    /// Granted secrets, with their values.
    pub secrets: Secrets,
    /// Outbound HTTP, when granted.
    pub http: Option<Arc<OutboundHttp>>,
}

impl PluginContext {
    /// A failure of this plugin version, its message cleared of secrets.
    pub fn failure(&self, kind: FailureKind, message: impl Into<String>) -> PluginError {
        let message = message.into();
        PluginError {
            plugin: self.name.clone(),
            version: Some(self.version.clone()),
            kind,
            message: self.secrets.redact(&message).into_owned(),
        }
    }
}

/// Memory and table growth limits of one store. The memory limit holds
/// for all of the instance's linear memories together (a component may
/// have several: one per core module, or multi-memory). Remembers whether
/// a growth was refused so that the resulting trap is reported as such.
pub struct MemoryLimiter {
    memory_bytes: usize,
    /// Bytes of all linear memories of the store now.
    in_use: usize,
    /// The total a refused growth asked for.
    refused: Option<usize>,
}

/// Table elements any one table may hold.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = (self.in_use - current.min(self.in_use)).saturating_add(desired);
        if total > self.memory_bytes {
            self.refused = Some(total);
            return Ok(false);
        }
        self.in_use = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// A clock frozen at zero, installed as the WASI clocks of plugins without
/// the `clock` grant.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The data of one store: one instance of one plugin version.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    http_hooks: HttpHooks,
    limiter: MemoryLimiter,
    stderr: MemoryOutputPipe,
    deadline: Instant,
    /// The plugin version this store runs.
    pub ctx: Arc<PluginContext>,
    /// Mocked host imports, when running fixture cases.
    pub mocks: Option<Box<CaseHost>>,
    /// Ids of the interactions the running call was given: the only ones
    /// it may screen (`plugins.screen-interaction`).
    pub(super) scope: Vec<String>,
    /// Compiled patterns alive in the resource table.
    pub(super) live_patterns: usize,
}

impl HostState {
    /// The wall-clock time left before the armed call's deadline.
    pub(super) fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

impl HostState {
    /// The store's resource table (WASI's and the host interfaces').
    pub(super) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_hooks,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn wasi_context(ctx: &PluginContext, stderr: &MemoryOutputPipe) -> anyhow::Result<WasiCtx> {
    let mut wasi = WasiCtxBuilder::new();
    wasi.stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    for name in &ctx.grants.env {
        if let Ok(value) = std::env::var(name) {
            wasi.env(name, value);
        }
    }
    if !ctx.grants.clock {
        wasi.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
    }
    for (host, guest, writable) in &ctx.directories {
        let perms = if *writable {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        wasi.preopened_dir(host, guest, perms)?;
    }
    Ok(wasi.build())
}

/// Marks a call stopped by its deadline.
#[derive(Debug)]
struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// Creates a store for one instance of a plugin version, with its limits
/// installed. Each call must be armed with [`arm`] first.
pub fn new_store(
    engine: &PluginRuntime,
    ctx: Arc<PluginContext>,
    mocks: Option<Box<CaseHost>>,
) -> anyhow::Result<Store<HostState>> {
    let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
    let state = HostState {
        wasi: wasi_context(&ctx, &stderr)?,
        table: ResourceTable::new(),
        http: WasiHttpCtx::new(),
        http_hooks: HttpHooks(ctx.http.clone()),
        limiter: MemoryLimiter {
            memory_bytes: ctx.limits.memory_bytes as usize,
            in_use: 0,
            refused: None,
        },
        stderr,
        deadline: Instant::now(),
        ctx,
        mocks,
        scope: Vec::new(),
        live_patterns: 0,
    };
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store.fuel_async_yield_interval(Some(FUEL_FLUSH_INTERVAL))?;
    // Each epoch tick past the deadline check yields to the async runtime,
    // so a looping guest never holds a worker thread; once the wall-clock
    // deadline has passed the guest is stopped.
    store.epoch_deadline_callback(|store| {
        if Instant::now() >= store.data().deadline {
            Err(wasmtime::Error::new(DeadlineExceeded))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    Ok(store)
}

/// Arms a store for one call: a fresh deadline and fuel budget.
pub fn arm(store: &mut Store<HostState>) -> anyhow::Result<()> {
    let limits = store.data().ctx.limits;
    let state = store.data_mut();
    state.deadline = Instant::now() + limits.deadline;
    state.limiter.refused = None;
    state.scope.clear();
    store.set_fuel(limits.fuel.unwrap_or(u64::MAX))?;
    store.set_epoch_deadline(1);
    Ok(())
}

/// Instructions (fuel) used since the store was armed.
pub fn fuel_used(store: &Store<HostState>) -> u64 {
    let budget = store.data().ctx.limits.fuel.unwrap_or(u64::MAX);
    budget.saturating_sub(store.get_fuel().unwrap_or(budget))
}

/// The wall-clock deadline of the armed call.
pub fn deadline(store: &Store<HostState>) -> Instant {
    store.data().deadline
}

/// Turns an error out of a guest call into a typed failure.
pub fn classify(err: &wasmtime::Error, store: &Store<HostState>) -> PluginError {
    let state = store.data();
    let ctx = &state.ctx;
    if err.downcast_ref::<DeadlineExceeded>().is_some()
        || matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt))
    {
        return ctx.failure(
            FailureKind::Timeout,
            format!(
                "stopped after its {} ms deadline",
                ctx.limits.deadline.as_millis()
            ),
        );
    }
    if matches!(err.downcast_ref::<Trap>(), Some(Trap::OutOfFuel)) {
        return ctx.failure(
            FailureKind::FuelExhausted,
            format!(
                "used up its budget of {} instructions",
                ctx.limits.fuel.unwrap_or(u64::MAX)
            ),
        );
    }
    if let Some(desired) = state.limiter.refused {
        return ctx.failure(
            FailureKind::MemoryLimit,
            format!(
                "tried to grow its memories to {} MiB in all, over its {} MiB limit",
                mib(desired as u64),
                mib(ctx.limits.memory_bytes)
            ),
        );
    }
    let stderr = String::from_utf8_lossy(&state.stderr.contents())
        .trim()
        .to_string();
    let mut message = format!("{err:#}");
    if let Some(trap) = err.downcast_ref::<Trap>() {
        message = format!("{trap}");
    }
    if !stderr.is_empty() {
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        message.push_str(" — stderr: ");
        message.push_str(&tail.into_iter().rev().collect::<Vec<_>>().join(" | "));
    }
    ctx.failure(FailureKind::Trap, message)
}
