//! The live plugin versions by name: loading (validate, then swap),
//! rollback, restoring at startup, and calls between plugins.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock, Weak};

use super::bindings::types::{ScreenRequest, ScreenResult};
use super::cases::run_cases;
use super::error::{FailureKind, LoadError, PluginError};
use super::manifest::{LimitPolicy, MANIFEST_FILE};
use super::observe::Observers;
use super::observe::shadow::{Shadow, ShadowSummary};
use super::peers::{BoxFuture, InteractionContent, PluginPeers};
use super::runtime::PluginRuntime;
use super::source::read_plugin_dir;
use super::version::{PluginSource, PluginVersion, Services, StatsSnapshot, short_id};
pub use super::versions::Refusal;
use super::versions::{LiveState, VersionRecord, VersionStore};
use super::world::World;

/// Origins that read the plugin directory.
const DIRECTORY_ORIGINS: [&str; 2] = ["watch", "startup"];

/// The result of a successful load.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Loaded {
    /// Plugin name.
    pub plugin: String,
    /// The version now live.
    pub version: String,
    /// The version it replaced, if any.
    pub replaced: Option<String>,
    /// True when that version was already live (nothing changed).
    pub unchanged: bool,
}

/// The live version of a plugin, as listed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct LiveVersion {
    /// Content hash.
    pub id: String,
    /// The author's version label.
    pub author_version: Option<String>,
    /// Where it came from.
    pub origin: String,
    /// When it became live (ms since the Unix epoch).
    pub loaded_at_ms: u64,
    /// Call counters.
    pub stats: StatsSnapshot,
}

/// One plugin as listed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct PluginStatus {
    pub name: String,
    pub world: World,
    /// The live version.
    pub live: LiveVersion,
    /// Every kept version, oldest first, each with its statistics.
    pub versions: Vec<VersionRecord>,
    /// The last refused version, if any (kept across restarts).
    pub last_refused: Option<Refusal>,
}

/// The registry of live plugin versions.
pub struct Registry {
    engine: Arc<PluginRuntime>,
    policy: LimitPolicy,
    services: Services,
    history: VersionStore,
    live: RwLock<BTreeMap<String, Arc<PluginVersion>>>,
    /// Held while statistics are written, so the periodic save and the
    /// save of a replaced version never write the same file at once.
    saving_stats: Mutex<()>,
    loading: tokio::sync::Mutex<()>,
    content: RwLock<Option<Weak<dyn InteractionContent>>>,
    observers: Observers,
}

fn now_ms() -> u64 {
    parley_core::now_ms().max(0) as u64
}

impl Registry {
    /// A registry keeping its version history under `history`.
    pub fn new(
        engine: Arc<PluginRuntime>,
        policy: LimitPolicy,
        history: VersionStore,
    ) -> Arc<Registry> {
        Arc::new_cyclic(|me: &Weak<Registry>| {
            let peers: Weak<dyn PluginPeers> = me.clone();
            Registry {
                engine,
                policy,
                services: Services {
                    peers: Some(peers),
                    ..Services::default()
                },
                history,
                live: RwLock::new(BTreeMap::new()),
                saving_stats: Mutex::new(()),
                loading: tokio::sync::Mutex::new(()),
                content: RwLock::new(None),
                observers: Observers::default(),
            }
        })
    }

    /// Lets plugins screen stored interactions
    /// (`plugins.screen-interaction`) through `content`, which the registry
    /// holds weakly: whoever owns it (the server's interaction engine)
    /// keeps it alive. Until this is called such calls are `unavailable`.
    pub fn set_content(&self, content: Weak<dyn InteractionContent>) {
        *self.content.write().unwrap_or_else(|p| p.into_inner()) = Some(content);
    }

    pub fn engine(&self) -> &Arc<PluginRuntime> {
        &self.engine
    }

    /// The live version of `plugin`.
    pub fn get(&self, plugin: &str) -> Result<Arc<PluginVersion>, PluginError> {
        self.live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(plugin)
            .cloned()
            .ok_or_else(|| {
                PluginError::unversioned(plugin, FailureKind::NotFound, "no such plugin is loaded")
            })
    }

    /// Names of the live plugins.
    pub fn names(&self) -> Vec<String> {
        self.live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Compiles, validates (instantiation and the version's fixture cases)
    /// and, if all is well, atomically makes `source` the live version.
    /// Calls already running finish on the version they started on. On any
    /// failure the running version stays live.
    pub async fn load(&self, source: PluginSource) -> Result<Loaded, LoadError> {
        let _one_at_a_time = self.loading.lock().await;
        let name = source.manifest.name.clone();
        let id = source.version_id().to_string();
        let from_directory = DIRECTORY_ORIGINS.contains(&source.origin.as_str());
        let mut state = self.history.state(&name);
        if from_directory {
            state.directory = Some(id.clone());
        }
        let current = self.get(&name).ok();
        if let Some(current) = current.as_ref().filter(|c| c.id == id) {
            self.save_state(&name, &state);
            return Ok(Loaded {
                plugin: name,
                version: current.id.clone(),
                replaced: Some(current.id.clone()),
                unchanged: true,
            });
        }
        let version = match self.prepare(source.clone()).await {
            Ok(version) => version,
            Err(err) => {
                tracing::error!(plugin = %name, version = short_id(&id), origin = %source.origin, "refused: {}", err.message);
                state.last_refused = Some(Refusal {
                    version: id,
                    at_ms: now_ms(),
                    message: err.message.clone(),
                });
                self.save_state(&name, &state);
                return Err(err);
            }
        };
        self.history
            .save(&version, &source)
            .map_err(|e| LoadError::new(&name, format!("cannot keep the version: {e}")))?;
        // Back live (after a restart or a rollback): its statistics go on
        // from where they were.
        if let Some(saved) = self.history.stats(&name, &version.id) {
            version.carry_over(&saved);
        }
        let version = Arc::new(version);
        let replaced = self
            .live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.clone(), version.clone());
        if let Some(old) = &replaced {
            old.retire();
            self.save_stats(old);
        }
        state.live = Some(id.clone());
        self.save_state(&name, &state);
        tracing::info!(
            plugin = %name,
            version = version.short_id(),
            replaced = replaced.as_ref().map(|r| r.short_id()),
            origin = %version.origin,
            "plugin version is live"
        );
        Ok(Loaded {
            plugin: name,
            version: id,
            replaced: replaced.map(|r| r.id.clone()),
            unchanged: false,
        })
    }

    /// Saves the call counters of `version` with its history.
    fn save_stats(&self, version: &PluginVersion) {
        let _one_at_a_time = self.saving_stats.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = self.history.save_stats(version) {
            tracing::error!(
                plugin = version.name(),
                version = version.short_id(),
                "cannot keep the call statistics: {e}"
            );
        }
    }

    /// Saves the call counters of every live version, so a restart loses
    /// none counted until now (the server does it periodically and when
    /// it stops).
    pub fn save_all_stats(&self) {
        for version in &self.live_versions() {
            self.save_stats(version);
        }
    }

    /// The live versions now.
    fn live_versions(&self) -> Vec<Arc<PluginVersion>> {
        self.live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    fn save_state(&self, name: &str, state: &LiveState) {
        if let Err(e) = self.history.set_state(name, state) {
            tracing::error!(plugin = name, "cannot record the live version: {e}");
        }
    }

    /// Compiles and validates a version without making it live.
    pub async fn prepare(&self, source: PluginSource) -> Result<PluginVersion, LoadError> {
        self.prepare_with(source, &self.services).await
    }

    /// The recorders and shadows watching the plugins.
    pub fn observers(&self) -> &Observers {
        &self.observers
    }

    /// Prepares `source` (checked and its cases passed, as for a load) to
    /// run in the shadow of the live version of its plugin, with a
    /// key-value store of its own, and starts it there.
    pub async fn start_shadow(&self, source: PluginSource) -> Result<ShadowSummary, LoadError> {
        let name = source.manifest.name.clone();
        let live = self
            .get(&name)
            .map_err(|_| LoadError::new(&name, "no live version to run beside"))?;
        let services = Services {
            kv: Arc::default(),
            peers: self.services.peers.clone(),
        };
        let candidate = self.prepare_with(source, &services).await?;
        if candidate.world() != live.world() {
            return Err(LoadError::new(
                &name,
                format!(
                    "the candidate is a {}, the live version a {}",
                    candidate.world(),
                    live.world()
                ),
            ));
        }
        let shadow = Shadow::new(candidate);
        let summary = shadow.summary();
        self.observers.set_shadow(&name, shadow);
        tracing::info!(plugin = %name, candidate = %summary.candidate, "shadow run started");
        Ok(summary)
    }

    async fn prepare_with(
        &self,
        source: PluginSource,
        services: &Services,
    ) -> Result<PluginVersion, LoadError> {
        let version = PluginVersion::prepare(&self.engine, &self.policy, services, source).await?;
        version.validate().await?;
        if version.cases.is_empty() {
            tracing::warn!(
                plugin = version.name(),
                version = version.short_id(),
                "loaded without fixture cases: nothing was checked before it went live"
            );
        } else {
            let failed: Vec<String> = run_cases(&version, &version.cases)
                .await?
                .into_iter()
                .filter_map(|report| match report.outcome {
                    super::cases::CaseOutcome::Passed => None,
                    super::cases::CaseOutcome::Failed { reason, .. } => {
                        Some(format!("{}: {reason}", report.name))
                    }
                })
                .collect();
            if !failed.is_empty() {
                return Err(LoadError::new(
                    version.name(),
                    format!(
                        "{} fixture case(s) failed: {}",
                        failed.len(),
                        failed.join("; ")
                    ),
                ));
            }
        }
        Ok(version)
    }

    /// Loads the plugin in directory `dir`.
    pub async fn load_dir(&self, dir: &Path, origin: &str) -> Result<Loaded, LoadError> {
        self.load(read_plugin_dir(dir, origin)?).await
    }

    /// Makes a kept version live again: the one whose id starts with `to`,
    /// or else the newest version loaded before the live one.
    pub async fn rollback(&self, plugin: &str, to: Option<&str>) -> Result<Loaded, LoadError> {
        let fail = |message: String| LoadError::new(plugin, message);
        let record = match to {
            Some(prefix) => self.history.resolve(plugin, prefix)?,
            None => {
                let live = self
                    .get(plugin)
                    .map_err(|e| LoadError::not_found(plugin, e.message))?;
                let records = self.history.records(plugin);
                let live_loaded = records
                    .iter()
                    .find(|r| r.id == live.id)
                    .map_or(live.loaded_at_ms, |r| r.loaded_at_ms);
                records
                    .into_iter()
                    .rfind(|r| r.id != live.id && r.loaded_at_ms <= live_loaded)
                    .ok_or_else(|| fail("has no earlier version to roll back to".into()))?
            }
        };
        let source = self.history.read(&record, "rollback").map_err(fail)?;
        self.load(source).await
    }

    /// Loads every plugin at startup: each subdirectory of `plugins_dir`
    /// (unless the history says its content was already seen, in which
    /// case the version recorded live, e.g. after a rollback, is restored),
    /// and the live version of plugins only in the history. Returns the
    /// failures; plugins that load are live.
    pub async fn restore(&self, plugins_dir: &Path) -> Vec<LoadError> {
        let mut errors = Vec::new();
        let mut seen = Vec::new();
        let mut dirs: Vec<_> = std::fs::read_dir(plugins_dir)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        dirs.sort();
        for dir in dirs.into_iter().filter(|d| d.join(MANIFEST_FILE).is_file()) {
            let source = match read_plugin_dir(&dir, "startup") {
                Ok(source) => source,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let name = source.manifest.name.clone();
            seen.push(name.clone());
            let state = self.history.state(&name);
            let result = if state.directory.as_deref() == Some(source.version_id())
                && state.live.is_some()
            {
                self.restore_live(&name, &state).await
            } else {
                match self.load(source).await {
                    Ok(loaded) => Ok(loaded),
                    Err(e) if state.live.is_some() => {
                        errors.push(e);
                        self.restore_live(&name, &state).await
                    }
                    Err(e) => Err(e),
                }
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        for name in self
            .history
            .plugins()
            .into_iter()
            .filter(|n| !seen.contains(n))
        {
            let state = self.history.state(&name);
            if state.live.is_some()
                && let Err(e) = self.restore_live(&name, &state).await
            {
                errors.push(e);
            }
        }
        errors
    }

    async fn restore_live(&self, name: &str, state: &LiveState) -> Result<Loaded, LoadError> {
        let id = state.live.as_deref().unwrap_or_default();
        let record = self.history.resolve(name, id)?;
        let source = self
            .history
            .read(&record, "restore")
            .map_err(|e| LoadError::new(name, e))?;
        self.load(source).await
    }

    /// The status of one version: live version, history, last refusal.
    fn status_of(&self, version: &PluginVersion) -> PluginStatus {
        let stats = version.stats();
        let mut versions = self.history.records(version.name());
        if let Some(live) = versions.iter_mut().find(|r| r.id == version.id) {
            live.stats = Some(stats.clone());
        }
        PluginStatus {
            name: version.name().to_string(),
            world: version.world(),
            live: LiveVersion {
                id: version.id.clone(),
                author_version: version.manifest.version.clone(),
                origin: version.origin.clone(),
                loaded_at_ms: version.loaded_at_ms,
                stats,
            },
            versions,
            last_refused: self.history.state(version.name()).last_refused,
        }
    }

    /// The status of the live plugin `name`.
    pub fn status(&self, name: &str) -> Result<PluginStatus, PluginError> {
        let version = self.get(name)?;
        Ok(self.status_of(&version))
    }

    /// Every live plugin with its history.
    pub fn list(&self) -> Vec<PluginStatus> {
        self.live_versions()
            .iter()
            .map(|v| self.status_of(v))
            .collect()
    }
}

impl PluginPeers for Registry {
    fn screen<'a>(
        &'a self,
        plugin: &'a str,
        request: ScreenRequest,
    ) -> BoxFuture<'a, Result<ScreenResult, PluginError>> {
        Box::pin(async move {
            let version = self.get(plugin)?;
            Ok(version.screen(&request).await?.value)
        })
    }

    fn content(&self) -> Option<Arc<dyn InteractionContent>> {
        self.content
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(Weak::upgrade)
    }
}
