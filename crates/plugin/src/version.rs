//! One loaded version of a plugin: its compiled component, pre-linked
//! instance template, limits, warm instances and call statistics.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::Store;
use wasmtime::component::{Component, Instance, InstancePre};

use super::bindings::{
    ContractVersion, MimeTransformExports, MimeTransformGuest, RoutingExports, RoutingGuest,
    ScreeningExports, ScreeningGuest, social, v0_1_0, v0_2,
};
use super::cases::Case;
use super::error::{FailureKind, LoadError, PluginError, chain};
use super::kv::{KvSpace, KvStore};
use super::manifest::{InstanceMode, LimitPolicy, Manifest};
use super::outbound::{HttpCounts, OutboundHttp};
use super::peers::PluginPeers;
use super::runtime::PluginRuntime;
use super::sandbox::{self, HostState, PluginContext};
use super::secrets::Secrets;
use super::world::{ComponentShape, World};

/// Extra time the host waits, past a call's deadline, for a guest blocked
/// in a host call (epochs interrupt only running guest code).
pub(crate) const HOST_CALL_GRACE: Duration = Duration::from_millis(20);

/// Everything needed to load a version: the manifest, the component bytes
/// and the fixture cases it ships. The version's identity (the manifest
/// text and the component) is fixed at construction, and its hash computed
/// once there.
#[derive(Debug, Clone)]
pub struct PluginSource {
    /// The parsed manifest.
    pub manifest: Manifest,
    manifest_text: String,
    component: Arc<Vec<u8>>,
    id: String,
    /// Directory the manifest came from, for relative directory grants.
    pub base_dir: Option<PathBuf>,
    /// Fixture cases run before the version goes live.
    pub cases: Vec<Case>,
    /// Where the version came from: `watch`, `admin-api`, `startup`...
    pub origin: String,
}

impl PluginSource {
    /// A source with no base directory and no cases (set those fields
    /// after). `manifest` must be `manifest_text` parsed.
    pub fn new(
        manifest: Manifest,
        manifest_text: String,
        component: Vec<u8>,
        origin: &str,
    ) -> Self {
        let mut hash = Sha256::new();
        hash.update(component.as_slice());
        hash.update([0u8]);
        hash.update(manifest_text.as_bytes());
        PluginSource {
            manifest,
            manifest_text,
            component: Arc::new(component),
            id: hex::encode(hash.finalize()),
            base_dir: None,
            cases: Vec::new(),
            origin: origin.to_string(),
        }
    }

    /// The content hash identifying this version: SHA-256 over the
    /// component and the manifest text.
    pub fn version_id(&self) -> &str {
        &self.id
    }

    /// The manifest text as written (part of the version's identity).
    pub fn manifest_text(&self) -> &str {
        &self.manifest_text
    }

    /// The component bytes.
    pub fn component(&self) -> &Arc<Vec<u8>> {
        &self.component
    }
}

/// The exports of a version, typed by world.
pub enum Exports {
    /// A routing strategy.
    Router(RoutingExports),
    /// Screening rules.
    Screener(ScreeningExports),
    /// A MIME transformer.
    MimeTransformer(MimeTransformExports),
    /// A social-channel driver (0.2.1 and later only).
    SocialDriver(social::GuestIndices),
}

impl Exports {
    /// Finds the typed exports of `world` as built against `contract`.
    fn find(
        world: World,
        contract: ContractVersion,
        pre: &InstancePre<HostState>,
    ) -> wasmtime::Result<Exports> {
        use ContractVersion::{V0_1, V0_2};
        use v0_1_0::exports::parley::plugin as old;
        use v0_2::exports::parley::plugin as new;
        Ok(match (world, contract) {
            (World::Router, V0_1) => {
                Exports::Router(RoutingExports::V0_1(old::routing::GuestIndices::new(pre)?))
            }
            (World::Router, V0_2) => {
                Exports::Router(RoutingExports::V0_2(new::routing::GuestIndices::new(pre)?))
            }
            (World::Screener, V0_1) => Exports::Screener(ScreeningExports::V0_1(
                old::screening::GuestIndices::new(pre)?,
            )),
            (World::Screener, V0_2) => Exports::Screener(ScreeningExports::V0_2(
                new::screening::GuestIndices::new(pre)?,
            )),
            (World::MimeTransformer, V0_1) => Exports::MimeTransformer(MimeTransformExports::V0_1(
                old::mime_transform::GuestIndices::new(pre)?,
            )),
            (World::MimeTransformer, V0_2) => Exports::MimeTransformer(MimeTransformExports::V0_2(
                new::mime_transform::GuestIndices::new(pre)?,
            )),
            (World::SocialDriver, V0_2) => Exports::SocialDriver(social::GuestIndices::new(pre)?),
            (World::SocialDriver, V0_1) => {
                wasmtime::bail!("the social-driver world is not in contract 0.1")
            }
        })
    }

    /// The functions of `instance`.
    fn load(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<GuestExports> {
        Ok(match self {
            Exports::Router(indices) => GuestExports::Router(indices.load(store, instance)?),
            Exports::Screener(indices) => GuestExports::Screener(indices.load(store, instance)?),
            Exports::MimeTransformer(indices) => {
                GuestExports::MimeTransformer(indices.load(store, instance)?)
            }
            Exports::SocialDriver(indices) => {
                GuestExports::SocialDriver(indices.load(store, instance)?)
            }
        })
    }
}

/// The exported functions of one instance, typed by world.
pub enum GuestExports {
    /// A routing strategy.
    Router(RoutingGuest),
    /// Screening rules.
    Screener(ScreeningGuest),
    /// A MIME transformer.
    MimeTransformer(MimeTransformGuest),
    /// A social-channel driver.
    SocialDriver(social::Guest),
}

/// An instance, with its exported functions looked up and type-checked
/// once for all its calls.
pub struct Guest {
    /// The instance, for calls by name (the invoke API, cases).
    pub instance: Instance,
    /// Its typed functions.
    pub exports: GuestExports,
}

/// Counters of a version's calls.
#[derive(Debug, Default)]
struct Stats {
    calls: AtomicU64,
    fuel: AtomicU64,
    failures: [AtomicU64; FailureKind::ALL.len()],
}

/// A snapshot of a version's call counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatsSnapshot {
    /// Calls made.
    pub calls: u64,
    /// Instructions used by successful calls.
    pub fuel: u64,
    /// Failed calls by kind (kinds with no failure left out).
    #[schema(schema_with = failure_counts)]
    pub failures: Vec<(FailureKind, u64)>,
    /// Outbound HTTP requests, for a version granted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCounts>,
}

/// The schema of [`StatsSnapshot::failures`]: `[kind, count]` pairs.
fn failure_counts() -> utoipa::openapi::schema::Array {
    use utoipa::PartialSchema;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let pair = ArrayBuilder::new()
        .description(Some("A failure kind and how many calls failed so."))
        .items(
            OneOfBuilder::new()
                .item(FailureKind::schema())
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new().items(pair).build()
}

/// An instance with its store, holding one admission slot.
struct Slot {
    store: Store<HostState>,
    guest: Guest,
    calls: u32,
    _permit: OwnedSemaphorePermit,
}

/// A loaded plugin version.
pub struct PluginVersion {
    /// Content hash (hex SHA-256).
    pub id: String,
    pub manifest: Manifest,
    pub manifest_text: String,
    /// Where it came from.
    pub origin: String,
    /// When it was loaded, in milliseconds since the Unix epoch.
    pub loaded_at_ms: u64,
    /// Imports and exports of the component.
    pub shape: ComponentShape,
    /// The exported world interface, as the component names it.
    export: String,
    /// Fixture cases shipped with the version.
    pub cases: Vec<Case>,
    component: Component,
    ctx: Arc<PluginContext>,
    pre: InstancePre<HostState>,
    exports: Exports,
    engine: Arc<PluginRuntime>,
    warm: Mutex<Vec<Slot>>,
    retired: AtomicBool,
    stats: Stats,
}

/// The value of a successful call, with the version that produced it and
/// what it cost.
#[derive(Debug, Clone)]
pub struct Called<R> {
    /// What the plugin returned.
    pub value: R,
    /// Plugin name.
    pub plugin: String,
    /// Short id of the version that answered.
    pub version: String,
    /// Instructions used.
    pub fuel: u64,
    /// Wall-clock time, including waiting for a slot and instantiation.
    pub elapsed: Duration,
}

impl<R> Called<R> {
    /// The same call with its value turned into another by `f`.
    pub fn map<T>(self, f: impl FnOnce(R) -> T) -> Called<T> {
        Called {
            value: f(self.value),
            plugin: self.plugin,
            version: self.version,
            fuel: self.fuel,
            elapsed: self.elapsed,
        }
    }

    /// The same call with its value turned into another by `f`, or `f`'s
    /// error.
    pub fn try_map<T, E>(self, f: impl FnOnce(R) -> Result<T, E>) -> Result<Called<T>, E> {
        Ok(Called {
            value: f(self.value)?,
            plugin: self.plugin,
            version: self.version,
            fuel: self.fuel,
            elapsed: self.elapsed,
        })
    }
}

/// Services a version's host imports reach.
#[derive(Clone, Default)]
pub struct Services {
    /// Key-value namespaces.
    pub kv: Arc<KvSpace>,
    /// Other plugins.
    pub peers: Option<Weak<dyn PluginPeers>>,
}

/// The first 12 hex digits of a version id, as shown to people.
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(12)]
}

impl PluginVersion {
    /// Compiles and links a version: checks the manifest's limits, the
    /// component's world and grants, and the exported functions' types.
    /// Nothing runs yet; see [`PluginVersion::validate`].
    pub async fn prepare(
        engine: &Arc<PluginRuntime>,
        policy: &LimitPolicy,
        services: &Services,
        source: PluginSource,
    ) -> Result<PluginVersion, LoadError> {
        let manifest = &source.manifest;
        let name = manifest.name.as_str();
        let fail = |message: String| LoadError::new(name, message);
        let limits = manifest.limits(policy)?;
        let id = source.version_id().to_string();
        let component = engine
            .compile(source.component.clone())
            .await
            .map_err(|e| {
                fail(format!(
                    "`{}` is not a valid component: {e:#}",
                    manifest.component
                ))
            })?;
        let shape = ComponentShape::of(&component, engine.engine());
        let (export, contract) = shape
            .check(manifest.world, &manifest.capabilities)
            .map_err(fail)?;
        let pre = engine
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| fail(format!("cannot be linked: {e:#}")))?;
        let exports = Exports::find(manifest.world, contract, &pre).map_err(|e| {
            fail(format!(
                "exports do not match the `{}` world: {e:#}",
                manifest.world
            ))
        })?;
        let directories: Vec<(PathBuf, String, bool)> = manifest
            .capabilities
            .directories
            .iter()
            .map(|d| {
                let host = match &source.base_dir {
                    Some(base) if d.host.is_relative() => base.join(&d.host),
                    _ => d.host.clone(),
                };
                (host, d.guest.clone(), d.writable)
            })
            .collect();
        for (host, guest, _) in &directories {
            cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority()).map_err(
                |e| {
                    fail(format!(
                        "directory grant {guest}: cannot open {}: {e}",
                        host.display()
                    ))
                },
            )?;
        }
        let hosts: Vec<PathBuf> = directories
            .iter()
            .map(|(host, _, _)| host.clone())
            .collect();
        policy
            .grants
            .check(
                name,
                &manifest.capabilities,
                source.base_dir.as_deref(),
                &hosts,
            )
            .map_err(fail)?;
        let secrets = Secrets::granted(&manifest.capabilities.secrets, &policy.grants);
        let ctx = Arc::new(PluginContext {
            name: name.to_string(),
            version: short_id(&id).to_string(),
            config: manifest.config_entries(),
            grants: manifest.capabilities.clone(),
            directories,
            limits,
            kv: manifest
                .capabilities
                .kv
                .then(|| services.kv.for_plugin(name)),
            peers: services.peers.clone(),
            http: (!manifest.capabilities.http.is_empty()).then(|| {
                Arc::new(OutboundHttp::new(
                    name,
                    short_id(&id),
                    manifest.capabilities.http.clone(),
                    policy.http,
                    secrets.clone(),
                ))
            }),
            secrets,
        });
        let loaded_at_ms = parley_core::now_ms().max(0) as u64;
        Ok(PluginVersion {
            id,
            manifest: source.manifest,
            manifest_text: source.manifest_text,
            origin: source.origin,
            loaded_at_ms,
            shape,
            export,
            cases: source.cases,
            component,
            ctx,
            pre,
            exports,
            engine: engine.clone(),
            warm: Mutex::new(Vec::new()),
            retired: AtomicBool::new(false),
            stats: Stats::default(),
        })
    }

    /// Plugin name.
    pub fn name(&self) -> &str {
        &self.ctx.name
    }

    /// Short version id.
    pub fn short_id(&self) -> &str {
        &self.ctx.version
    }

    /// The world the version implements.
    pub fn world(&self) -> World {
        self.manifest.world
    }

    /// The compiled component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The shared context of the version's stores.
    pub fn context(&self) -> &Arc<PluginContext> {
        &self.ctx
    }

    /// The exported world interface, as the component names it (e.g.
    /// `parley:plugin/routing@0.1.0`).
    pub fn export_name(&self) -> &str {
        &self.export
    }

    /// The engine the version was compiled for.
    pub fn engine(&self) -> &Arc<PluginRuntime> {
        &self.engine
    }

    /// Proves the version can be instantiated within its limits.
    pub async fn validate(&self) -> Result<(), LoadError> {
        self.lease().await.map(drop).map_err(|e| {
            LoadError::new(
                self.name(),
                format!("cannot be instantiated: {}", e.message),
            )
        })
    }

    /// Stops reusing warm instances (the version is no longer live). Calls
    /// running on it finish normally.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
        self.warm.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Warm instances idle now.
    pub fn idle_instances(&self) -> usize {
        self.warm.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The version's call counters.
    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            calls: self.stats.calls.load(Ordering::Relaxed),
            fuel: self.stats.fuel.load(Ordering::Relaxed),
            failures: FailureKind::ALL
                .iter()
                .zip(&self.stats.failures)
                .map(|(kind, n)| (*kind, n.load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            http: self.http_counters(),
        }
    }

    /// Adds counters saved from earlier times the version was live (before
    /// a restart or a rollback), so its statistics cover them all.
    pub fn carry_over(&self, saved: &StatsSnapshot) {
        self.stats.calls.fetch_add(saved.calls, Ordering::Relaxed);
        self.stats.fuel.fetch_add(saved.fuel, Ordering::Relaxed);
        for (kind, n) in &saved.failures {
            if let Some(index) = FailureKind::ALL.iter().position(|k| k == kind) {
                self.stats.failures[index].fetch_add(*n, Ordering::Relaxed);
            }
        }
        if let (Some(http), Some(saved)) = (&self.ctx.http, saved.http) {
            http.counters.carry_over(saved);
        }
    }

    /// What the version's outbound requests came to, if it is granted
    /// outbound HTTP.
    pub fn http_counters(&self) -> Option<HttpCounts> {
        self.ctx.http.as_ref().map(|http| http.counters.snapshot())
    }

    fn record_failure(&self, err: &PluginError) {
        let index = FailureKind::ALL
            .iter()
            .position(|k| *k == err.kind)
            .unwrap_or(0);
        self.stats.failures[index].fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            plugin = self.name(),
            version = self.short_id(),
            kind = err.kind.as_str(),
            "plugin call failed: {}",
            err.message
        );
    }

    fn fail(&self, err: PluginError) -> PluginError {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        self.record_failure(&err);
        err
    }

    /// Takes an instance for one call: a warm one if the version keeps
    /// them, else a fresh one from the pool. The instance is armed with
    /// the call's deadline and fuel.
    pub async fn lease(&self) -> Result<Lease<'_>, PluginError> {
        let started = Instant::now();
        let reused = self.warm.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut slot = match reused {
            Some(slot) => slot,
            None => self
                .instantiate(self.ctx.clone())
                .await
                .map_err(|e| self.fail(e))?,
        };
        sandbox::arm(&mut slot.store).map_err(|e| {
            self.fail(
                self.ctx
                    .failure(FailureKind::Instantiation, format!("{e:#}")),
            )
        })?;
        Ok(Lease {
            version: self,
            slot: Some(slot),
            started,
            apart: false,
        })
    }

    /// Takes a fresh instance apart from live traffic, for one call made
    /// by hand (the invoke API): its key-value store is an empty one of its
    /// own, the call (its outbound requests too) is not counted in the
    /// version's statistics nor held to its open-request cap, and the
    /// instance is never reused.
    pub async fn lease_apart(&self) -> Result<Lease<'_>, PluginError> {
        let started = Instant::now();
        let ctx = PluginContext {
            kv: self.ctx.kv.as_ref().map(|_| Arc::new(KvStore::default())),
            peers: self.ctx.peers.clone(),
            name: self.ctx.name.clone(),
            version: self.ctx.version.clone(),
            config: self.ctx.config.clone(),
            grants: self.ctx.grants.clone(),
            directories: self.ctx.directories.clone(),
            limits: self.ctx.limits,
            secrets: self.ctx.secrets.clone(),
            http: self.ctx.http.as_ref().map(|http| Arc::new(http.apart())),
        };
        let mut slot = self.instantiate(Arc::new(ctx)).await?;
        sandbox::arm(&mut slot.store).map_err(|e| {
            self.ctx
                .failure(FailureKind::Instantiation, format!("{e:#}"))
        })?;
        Ok(Lease {
            version: self,
            slot: Some(slot),
            started,
            apart: true,
        })
    }

    async fn instantiate(&self, ctx: Arc<PluginContext>) -> Result<Slot, PluginError> {
        let permit = self
            .engine
            .admit(self.name(), self.ctx.limits.deadline)
            .await
            .map_err(|mut e| {
                e.version = Some(self.short_id().to_string());
                e
            })?;
        let mut store = sandbox::new_store(&self.engine, ctx, None).map_err(|e| {
            self.ctx
                .failure(FailureKind::Instantiation, chain(e.as_ref()))
        })?;
        sandbox::arm(&mut store).map_err(|e| {
            self.ctx
                .failure(FailureKind::Instantiation, format!("{e:#}"))
        })?;
        let instance = self.pre.instantiate_async(&mut store).await.map_err(|e| {
            let mut failure = sandbox::classify(&e, &store);
            if failure.kind == FailureKind::Trap {
                failure.kind = FailureKind::Instantiation;
            }
            failure
        })?;
        let exports = self.exports.load(&mut store, &instance).map_err(|e| {
            self.ctx
                .failure(FailureKind::Instantiation, chain(e.as_ref()))
        })?;
        Ok(Slot {
            store,
            guest: Guest { instance, exports },
            calls: 0,
            _permit: permit,
        })
    }

    fn give_back(&self, mut slot: Slot) {
        slot.calls += 1;
        let instances = &self.manifest.instances;
        if instances.mode != InstanceMode::Warm
            || slot.calls >= instances.max_calls
            || self.retired.load(Ordering::SeqCst)
        {
            return;
        }
        let mut warm = self.warm.lock().unwrap_or_else(|p| p.into_inner());
        if warm.len() < instances.max_idle {
            warm.push(slot);
        }
    }
}

/// One instance lent to one call. Drop it unsettled (e.g. on
/// cancellation) and the instance is discarded.
pub struct Lease<'v> {
    version: &'v PluginVersion,
    slot: Option<Slot>,
    started: Instant,
    /// Taken by [`PluginVersion::lease_apart`].
    apart: bool,
}

impl Lease<'_> {
    /// The store and the instance (with its typed functions) to call into.
    pub fn parts(&mut self) -> (&mut Store<HostState>, &Guest) {
        let slot = self.slot.as_mut().expect("lease already settled");
        (&mut slot.store, &slot.guest)
    }

    /// The wall-clock time left before the call's deadline, plus the grace
    /// for a guest blocked in a host call.
    pub fn time_left(&self) -> Duration {
        let slot = self.slot.as_ref().expect("lease already settled");
        sandbox::deadline(&slot.store).saturating_duration_since(Instant::now()) + HOST_CALL_GRACE
    }

    /// Settles the lease with the outcome of a call made through
    /// [`Lease::parts`] and bounded by [`Lease::time_left`] (`Err(())` when
    /// that bound elapsed): on success the instance may be reused, on any
    /// failure it is discarded and the failure counted and logged.
    pub fn settle<R>(
        mut self,
        outcome: Result<wasmtime::Result<R>, ()>,
    ) -> Result<Called<R>, PluginError> {
        let version = self.version;
        let slot = self.slot.take().expect("lease already settled");
        let counted = !self.apart;
        if counted {
            version.stats.calls.fetch_add(1, Ordering::Relaxed);
        }
        let failure = match outcome {
            Ok(Ok(value)) => {
                let fuel = sandbox::fuel_used(&slot.store);
                if counted {
                    version.stats.fuel.fetch_add(fuel, Ordering::Relaxed);
                    version.give_back(slot);
                }
                return Ok(Called {
                    value,
                    plugin: version.ctx.name.clone(),
                    version: version.ctx.version.clone(),
                    fuel,
                    elapsed: self.started.elapsed(),
                });
            }
            Ok(Err(err)) => sandbox::classify(&err, &slot.store),
            Err(()) => version.ctx.failure(
                FailureKind::Timeout,
                format!(
                    "still blocked in a host call after its {} ms deadline",
                    version.ctx.limits.deadline.as_millis()
                ),
            ),
        };
        if counted {
            version.record_failure(&failure);
        }
        Err(failure)
    }
}

impl PluginVersion {
    /// Runs one guest call on a leased instance, bounded by the deadline,
    /// and settles the lease.
    pub async fn call<R>(
        &self,
        call: impl AsyncFnOnce(&mut Store<HostState>, &Guest) -> wasmtime::Result<R>,
    ) -> Result<Called<R>, PluginError> {
        Self::call_on(self.lease().await?, call).await
    }

    /// [`PluginVersion::call`] on an instance apart from live traffic
    /// ([`PluginVersion::lease_apart`]).
    pub async fn call_apart<R>(
        &self,
        call: impl AsyncFnOnce(&mut Store<HostState>, &Guest) -> wasmtime::Result<R>,
    ) -> Result<Called<R>, PluginError> {
        Self::call_on(self.lease_apart().await?, call).await
    }

    async fn call_on<R>(
        mut lease: Lease<'_>,
        call: impl AsyncFnOnce(&mut Store<HostState>, &Guest) -> wasmtime::Result<R>,
    ) -> Result<Called<R>, PluginError> {
        let limit = lease.time_left();
        let (store, guest) = lease.parts();
        let outcome = tokio::time::timeout(limit, call(store, guest))
            .await
            .map_err(|_| ());
        lease.settle(outcome)
    }
}
