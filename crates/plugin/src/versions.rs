//! The version history on disk: every version ever made live, kept so any
//! of them can be made live again, and which one is live now.
//!
//! ```text
//! <root>/<plugin>/<version id>/component.wasm
//!                             /plugin.toml
//!                             /cases.json
//!                             /record.json
//!                             /stats.json   (its call counters, kept
//!                                            while live and after)
//! <root>/<plugin>/state.json               (live version, last refusal)
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::cases::Case;
use super::error::LoadError;
use super::manifest::Manifest;
use super::version::{PluginSource, PluginVersion, StatsSnapshot};
use super::world::World;

/// What the history records of one version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct VersionRecord {
    /// Content hash.
    pub id: String,
    /// Plugin name.
    pub plugin: String,
    pub world: World,
    /// The author's version label.
    #[serde(alias = "author_version")]
    pub author_version: Option<String>,
    /// Where it came from when first loaded.
    pub origin: String,
    /// When it was first loaded, in milliseconds since the Unix epoch.
    #[serde(alias = "loaded_at_ms")]
    pub loaded_at_ms: u64,
    /// The plugin directory it was read from, if any.
    #[schema(value_type = Option<String>)]
    #[serde(alias = "source_dir")]
    pub source_dir: Option<PathBuf>,
    /// Size of the component in bytes.
    #[serde(alias = "component_bytes")]
    pub component_bytes: u64,
    /// Its call counters over every time it was live, as last saved
    /// (current for the live version); none until first saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<StatsSnapshot>,
}

/// A version that was refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Refusal {
    /// Its id.
    pub version: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Why.
    pub message: String,
}

/// Which version of a plugin is live, and what its plugin directory held
/// when last read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LiveState {
    /// Id of the live version.
    pub live: Option<String>,
    /// Id of the plugin directory's content when it was last read (loaded
    /// or refused), so a restart neither retries a refused version nor
    /// undoes a rollback.
    pub directory: Option<String>,
    /// The last version refused, from any origin.
    #[serde(default)]
    pub last_refused: Option<Refusal>,
}

/// The on-disk history.
#[derive(Debug, Clone)]
pub struct VersionStore {
    root: PathBuf,
}

fn io(context: &str, e: impl std::fmt::Display) -> String {
    format!("{context}: {e}")
}

/// Writes a file through a temporary name and a rename, so a crash never
/// leaves it half written.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| io(&tmp.display().to_string(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(&path.display().to_string(), e))
}

impl VersionStore {
    /// A history rooted at `root` (created when first written).
    pub fn new(root: impl Into<PathBuf>) -> VersionStore {
        VersionStore { root: root.into() }
    }

    fn plugin_dir(&self, plugin: &str) -> PathBuf {
        self.root.join(plugin)
    }

    /// Keeps a version: its component, manifest, cases and record.
    pub fn save(
        &self,
        version: &PluginVersion,
        source: &PluginSource,
    ) -> Result<VersionRecord, String> {
        let dir = self.plugin_dir(version.name()).join(&version.id);
        let record_path = dir.join("record.json");
        if let Ok(text) = std::fs::read_to_string(&record_path)
            && let Ok(record) = serde_json::from_str::<VersionRecord>(&text)
        {
            return Ok(record);
        }
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir.display().to_string(), e))?;
        write_atomic(&dir.join("component.wasm"), source.component())?;
        write_atomic(&dir.join("plugin.toml"), source.manifest_text().as_bytes())?;
        let cases: BTreeMap<&str, &Case> =
            source.cases.iter().map(|c| (c.name.as_str(), c)).collect();
        write_atomic(
            &dir.join("cases.json"),
            &serde_json::to_vec_pretty(&cases).map_err(|e| io("cases", e))?,
        )?;
        let record = VersionRecord {
            id: version.id.clone(),
            plugin: version.name().to_string(),
            world: version.world(),
            author_version: version.manifest.version.clone(),
            origin: source.origin.clone(),
            loaded_at_ms: version.loaded_at_ms,
            source_dir: source.base_dir.clone(),
            component_bytes: source.component().len() as u64,
            stats: None,
        };
        // The record goes last: a version directory without one is incomplete.
        write_atomic(
            &record_path,
            &serde_json::to_vec_pretty(&record).map_err(|e| io("record", e))?,
        )?;
        Ok(record)
    }

    /// Every complete version of `plugin`, oldest first.
    pub fn records(&self, plugin: &str) -> Vec<VersionRecord> {
        let Ok(entries) = std::fs::read_dir(self.plugin_dir(plugin)) else {
            return Vec::new();
        };
        let mut records: Vec<VersionRecord> = entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path().join("record.json")).ok())
            .filter_map(|text| serde_json::from_str::<VersionRecord>(&text).ok())
            .map(|mut record| {
                record.stats = self.stats(plugin, &record.id);
                record
            })
            .collect();
        records.sort_by(|a, b| {
            a.loaded_at_ms
                .cmp(&b.loaded_at_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        records
    }

    /// The one version of `plugin` whose id starts with `prefix`.
    pub fn resolve(&self, plugin: &str, prefix: &str) -> Result<VersionRecord, LoadError> {
        let matching: Vec<VersionRecord> = self
            .records(plugin)
            .into_iter()
            .filter(|r| r.id.starts_with(prefix))
            .collect();
        match matching.len() {
            1 => Ok(matching.into_iter().next().expect("one")),
            0 => Err(LoadError::not_found(
                plugin,
                format!("has no version `{prefix}`"),
            )),
            n => Err(LoadError::new(
                plugin,
                format!("`{prefix}` matches {n} versions; give more digits"),
            )),
        }
    }

    /// Reads a kept version back as a source to load.
    pub fn read(&self, record: &VersionRecord, origin: &str) -> Result<PluginSource, String> {
        let dir = self.plugin_dir(&record.plugin).join(&record.id);
        let manifest_path = dir.join("plugin.toml");
        let (manifest, manifest_text) =
            Manifest::read(&manifest_path).map_err(|e| e.to_string())?;
        let component =
            std::fs::read(dir.join("component.wasm")).map_err(|e| io("component", e))?;
        let cases_text =
            std::fs::read_to_string(dir.join("cases.json")).map_err(|e| io("cases", e))?;
        let cases: BTreeMap<String, Case> =
            serde_json::from_str(&cases_text).map_err(|e| io("cases", e))?;
        let mut source = PluginSource::new(manifest, manifest_text, component, origin);
        source.base_dir = record.source_dir.clone();
        source.cases = cases
            .into_iter()
            .map(|(name, mut case)| {
                case.name = name;
                case
            })
            .collect();
        Ok(source)
    }

    /// The call counters last saved for version `id` of `plugin`.
    pub fn stats(&self, plugin: &str, id: &str) -> Option<StatsSnapshot> {
        let path = self.plugin_dir(plugin).join(id).join("stats.json");
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
    }

    /// Saves the call counters of a kept version.
    pub fn save_stats(&self, version: &PluginVersion) -> Result<(), String> {
        let dir = self.plugin_dir(version.name()).join(&version.id);
        if !dir.join("record.json").is_file() {
            return Err(format!("version {} is not kept", version.id));
        }
        write_atomic(
            &dir.join("stats.json"),
            &serde_json::to_vec_pretty(&version.stats()).map_err(|e| io("stats", e))?,
        )
    }

    /// The live state of `plugin`.
    pub fn state(&self, plugin: &str) -> LiveState {
        std::fs::read_to_string(self.plugin_dir(plugin).join("state.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Records the live state of `plugin`.
    pub fn set_state(&self, plugin: &str, state: &LiveState) -> Result<(), String> {
        let dir = self.plugin_dir(plugin);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir.display().to_string(), e))?;
        write_atomic(
            &dir.join("state.json"),
            &serde_json::to_vec_pretty(state).map_err(|e| io("state", e))?,
        )
    }

    /// Names of the plugins with a history.
    pub fn plugins(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }
}
