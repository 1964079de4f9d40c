//! The plugin manifest: `plugin.toml` beside the component.
//!
//! ```toml
//! name = "skills-router"          # [a-z0-9-], unique in a server
//! world = "router"                # router, screener or mime-transformer
//! version = "1.2.0"               # the author's version label
//! component = "skills_router.wasm"
//! description = "Skills routing with relaxation"
//!
//! [limits]
//! memory-mb = 64                  # linear memory, all memories together
//! deadline-ms = 100               # wall clock per call
//! fuel = 50000000                 # optional instruction budget per call
//!
//! [instances]
//! mode = "fresh"                  # fresh: new instance per call; warm: reuse
//! max-calls = 10000               # warm: retire an instance after this many calls
//! max-idle = 4                    # warm: idle instances kept
//!
//! [capabilities]                  # everything is denied unless granted here
//! kv = true                       # parley:plugin/kv
//! clock = true                    # parley:plugin/clock and WASI clocks
//! calls = ["rules-screener"]      # plugins this one may call
//! env = ["TZ"]                    # host environment variables passed through
//! directories = [{ host = "data", guest = "/data", writable = false }]
//!
//! [config]                        # free-form; read with parley:plugin/config
//! relax-after-ms = 30000
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::LoadError;
use super::outbound::{HttpLimits, Origin};
use super::world::World;

/// The file name of a manifest inside a plugin directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed and validated plugin manifest.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Manifest {
    /// Plugin name, unique within a server.
    pub name: String,
    /// The world the component implements.
    pub world: World,
    /// The author's version label (informational; versions are identified
    /// by content hash).
    #[serde(default)]
    pub version: Option<String>,
    /// File name of the component, relative to the manifest.
    #[serde(default = "default_component")]
    pub component: String,
    /// One-line description.
    #[serde(default)]
    pub description: Option<String>,
    /// Resource limits per call.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Instance reuse policy.
    #[serde(default)]
    pub instances: InstancesSpec,
    /// Capability grants.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Directory of fixture cases, relative to the manifest.
    #[serde(default = "default_cases")]
    pub cases: String,
    /// Configuration values passed to the plugin.
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
}

fn default_component() -> String {
    "plugin.wasm".to_string()
}

fn default_cases() -> String {
    "cases".to_string()
}

/// Limits as written in a manifest; unset values take the server defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LimitsSpec {
    /// Linear memory limit in MiB.
    pub memory_mb: Option<u64>,
    /// Wall-clock deadline per call in milliseconds.
    pub deadline_ms: Option<u64>,
    /// Instruction (fuel) budget per call.
    pub fuel: Option<u64>,
}

/// How instances are reused across calls.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceMode {
    /// A fresh instance for every call: no state survives a call.
    #[default]
    Fresh,
    /// Instances are kept and reused, for plugins whose instantiation is
    /// expensive (interpreted languages) or that cache work across calls.
    Warm,
}

/// The `[instances]` table.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InstancesSpec {
    /// Fresh or warm instances.
    #[serde(default)]
    pub mode: InstanceMode,
    /// Warm: calls after which an instance is retired.
    #[serde(default = "default_max_calls")]
    pub max_calls: u32,
    /// Warm: idle instances kept for reuse.
    #[serde(default = "default_max_idle")]
    pub max_idle: usize,
}

fn default_max_calls() -> u32 {
    10_000
}

fn default_max_idle() -> usize {
    4
}

impl Default for InstancesSpec {
    fn default() -> Self {
        InstancesSpec {
            mode: InstanceMode::Fresh,
            max_calls: default_max_calls(),
            max_idle: default_max_idle(),
        }
    }
}

/// A directory granted to the plugin.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DirectoryGrant {
    /// Host path, relative to the manifest's directory unless absolute.
    pub host: PathBuf,
    /// Path the plugin sees.
    pub guest: String,
    /// Whether the plugin may write.
    #[serde(default)]
    pub writable: bool,
}

/// The `[capabilities]` table: what the plugin may reach. Empty denies all.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Capabilities {
    /// The per-plugin key-value store.
    #[serde(default)]
    pub kv: bool,
    /// The clock (host import and WASI clocks).
    #[serde(default)]
    pub clock: bool,
    /// Plugins this plugin may call.
    #[serde(default)]
    pub calls: Vec<String>,
    /// Host environment variables passed through.
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub directories: Vec<DirectoryGrant>,
    /// Secrets the plugin reads (`parley:plugin/secrets`), by name; the
    /// operator configures their values.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Origins the plugin may send HTTP requests to
    /// (`wasi:http/outgoing-handler`), e.g. `https://api.example.com`.
    #[serde(default)]
    pub http: Vec<Origin>,
}

/// Limits in force for calls of one plugin version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Limits {
    /// Linear memory limit in bytes.
    pub memory_bytes: u64,
    /// Wall-clock deadline per call.
    pub deadline: Duration,
    /// Fuel per call; `None` is unlimited (the deadline still applies).
    pub fuel: Option<u64>,
}

/// `bytes` in MiB as people read it: whole when it is whole, else to two
/// decimals (a limit of 64 MiB refuses 64.06 MiB, not "64 MiB").
pub fn mib(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        (bytes >> 20).to_string()
    } else {
        format!("{:.2}", bytes as f64 / f64::from(1 << 20))
    }
}

/// Server-wide defaults and ceilings for plugin limits, and what the
/// operator lets manifests grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitPolicy {
    /// Limits for a manifest that sets none.
    pub default: Limits,
    /// The most a manifest may ask for.
    pub max: Limits,
    /// What manifests may grant.
    pub grants: GrantPolicy,
    /// Limits of outbound HTTP requests.
    pub http: HttpLimits,
}

/// What the operator lets manifests grant beyond the plugin's own
/// directory: nothing unless listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantPolicy {
    /// Host environment variables manifests may pass through.
    pub env: Vec<String>,
    /// Host directories manifests may grant, with everything below them.
    /// A plugin installed into the plugin directory may also grant
    /// directories inside its own; an uploaded one has none.
    pub directories: Vec<PathBuf>,
    /// Secrets by name, with the plugins they may be granted to.
    pub secrets: BTreeMap<String, OperatorSecret>,
    /// Origins manifests may grant outbound HTTP to.
    pub http: Vec<Origin>,
}

/// A secret the operator configured (`[secrets.<name>]` of the server's
/// settings). Its value never shows in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorSecret {
    /// The value.
    pub value: String,
    /// Plugins whose manifests may grant it; `*` is any plugin.
    pub plugins: Vec<String>,
}

impl std::fmt::Debug for OperatorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSecret")
            .field("value", &"[redacted]")
            .field("plugins", &self.plugins)
            .finish()
    }
}

impl GrantPolicy {
    /// Refuses grants beyond the policy. `own` is the plugin's own
    /// directory, if it has one; `directories` are the resolved host paths.
    pub fn check(
        &self,
        plugin: &str,
        capabilities: &Capabilities,
        own: Option<&Path>,
        directories: &[PathBuf],
    ) -> Result<(), String> {
        if let Some(origin) = capabilities.http.iter().find(|o| !self.http.contains(o)) {
            return Err(format!(
                "the origin {origin} may not be granted (the operator allows [{}] under `[limits] grantable-http`)",
                self.http
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for name in &capabilities.secrets {
            let Some(secret) = self.secrets.get(name) else {
                return Err(format!(
                    "the secret `{name}` may not be granted: the operator configures no secret of that name under `[secrets]`"
                ));
            };
            if !secret.plugins.iter().any(|p| p == plugin || p == "*") {
                return Err(format!(
                    "the secret `{name}` may not be granted to `{plugin}`: `[secrets.{name}] plugins` allows {:?}",
                    secret.plugins
                ));
            }
        }
        if let Some(name) = capabilities.env.iter().find(|n| !self.env.contains(n)) {
            return Err(format!(
                "the environment variable `{name}` may not be granted (the operator allows {:?} under `[limits] grantable-env`)",
                self.env
            ));
        }
        let real = |p: &Path| std::fs::canonicalize(p).ok();
        let own = own.and_then(real);
        let roots: Vec<PathBuf> = self.directories.iter().filter_map(|d| real(d)).collect();
        for host in directories {
            let inside = real(host)
                .is_some_and(|host| own.iter().chain(&roots).any(|root| host.starts_with(root)));
            if !inside {
                return Err(format!(
                    "the directory {} may not be granted: only the plugin's own directory and those under `[limits] grantable-directories` may",
                    host.display()
                ));
            }
        }
        Ok(())
    }
}

impl Default for LimitPolicy {
    fn default() -> Self {
        LimitPolicy {
            default: Limits {
                memory_bytes: 64 << 20,
                deadline: Duration::from_millis(100),
                fuel: None,
            },
            max: Limits {
                memory_bytes: 1 << 30,
                deadline: Duration::from_secs(10),
                fuel: None,
            },
            grants: GrantPolicy::default(),
            http: HttpLimits::default(),
        }
    }
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped fields.
    #[error("invalid manifest {path}: {message}")]
    Syntax {
        /// The manifest path.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("plugin `{plugin}`: {message}")]
    Invalid {
        /// Plugin name.
        plugin: String,
        /// What is wrong.
        message: String,
    },
}

impl From<ManifestError> for LoadError {
    /// A refusal named after the plugin when the manifest got that far,
    /// else after the manifest's path; the name is said once.
    fn from(err: ManifestError) -> LoadError {
        match err {
            ManifestError::Invalid { plugin, message } => LoadError::new(&plugin, message),
            ManifestError::Read { ref path, .. } | ManifestError::Syntax { ref path, .. } => {
                LoadError::new(&path.display().to_string(), err.to_string())
            }
        }
    }
}

/// Whether `name` is a valid plugin name: lowercase letters, digits and
/// dashes, starting with a letter or digit, at most 64 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Manifest {
    /// Parses manifest text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads and parses `plugin.toml` from a plugin directory (or the
    /// manifest file itself).
    pub fn read(path: &Path) -> Result<(Manifest, String), ManifestError> {
        let path = if path.is_dir() {
            path.join(MANIFEST_FILE)
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        Ok((Manifest::parse(&text, &path)?, text))
    }

    fn invalid(&self, message: impl Into<String>) -> ManifestError {
        ManifestError::Invalid {
            plugin: self.name.clone(),
            message: message.into(),
        }
    }

    fn validate(&self) -> Result<(), ManifestError> {
        if !valid_name(&self.name) {
            return Err(self.invalid(
                "name must be 1-64 lowercase letters, digits or dashes, not starting with a dash",
            ));
        }
        if self.component.contains('/') || self.component.contains("..") {
            return Err(self.invalid("component must be a file name beside the manifest"));
        }
        if self.limits.memory_mb == Some(0) || self.limits.deadline_ms == Some(0) {
            return Err(self.invalid("limits must be greater than zero"));
        }
        if self.instances.max_calls == 0 {
            return Err(self.invalid("instances.max-calls must be greater than zero"));
        }
        if !self.capabilities.calls.is_empty() && !self.world.may_call_plugins() {
            return Err(self.invalid(format!(
                "capabilities.calls: the {} world cannot call plugins",
                self.world
            )));
        }
        if let Some(bad) = self.capabilities.calls.iter().find(|c| !valid_name(c)) {
            return Err(self.invalid(format!("capabilities.calls: `{bad}` is not a plugin name")));
        }
        if let Some(bad) = self.capabilities.secrets.iter().find(|c| !valid_name(c)) {
            return Err(self.invalid(format!(
                "capabilities.secrets: `{bad}` is not a secret name (lowercase letters, digits and dashes)"
            )));
        }
        if let Some(dir) = self
            .capabilities
            .directories
            .iter()
            .find(|d| !d.guest.starts_with('/'))
        {
            return Err(self.invalid(format!(
                "capabilities.directories: guest path `{}` must be absolute",
                dir.guest
            )));
        }
        Ok(())
    }

    /// The limits for this plugin under a server's policy. Asking for more
    /// than the server allows is an error, not a silent clamp.
    pub fn limits(&self, policy: &LimitPolicy) -> Result<Limits, ManifestError> {
        let memory_bytes = match self.limits.memory_mb {
            None => policy.default.memory_bytes,
            // Too large to count in bytes is over any server's maximum.
            Some(mb) => mb.saturating_mul(1 << 20),
        };
        let deadline = self
            .limits
            .deadline_ms
            .map_or(policy.default.deadline, Duration::from_millis);
        if memory_bytes > policy.max.memory_bytes {
            return Err(self.invalid(format!(
                "limits.memory-mb {} exceeds the server maximum of {}",
                self.limits.memory_mb.unwrap_or_default(),
                mib(policy.max.memory_bytes)
            )));
        }
        if deadline > policy.max.deadline {
            return Err(self.invalid(format!(
                "limits.deadline-ms {} exceeds the server maximum of {}",
                deadline.as_millis(),
                policy.max.deadline.as_millis()
            )));
        }
        let fuel = self.limits.fuel.or(policy.default.fuel);
        if let (Some(asked), Some(max)) = (fuel, policy.max.fuel)
            && asked > max
        {
            return Err(self.invalid(format!(
                "limits.fuel {asked} exceeds the server maximum of {max}"
            )));
        }
        Ok(Limits {
            memory_bytes,
            deadline,
            fuel,
        })
    }

    /// The configuration as the plugin reads it: strings as they are,
    /// other TOML values as JSON text.
    pub fn config_entries(&self) -> BTreeMap<String, String> {
        self.config
            .iter()
            .map(|(key, value)| {
                let text = match value {
                    toml::Value::String(s) => s.clone(),
                    other => serde_json::to_string(other).unwrap_or_default(),
                };
                (key.clone(), text)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("plugin.toml"))
    }

    #[test]
    fn minimal_manifest_takes_defaults() {
        let m = parse("name = \"r\"\nworld = \"router\"\n").unwrap();
        assert_eq!(m.component, "plugin.wasm");
        assert_eq!(m.instances.mode, InstanceMode::Fresh);
        let limits = m.limits(&LimitPolicy::default()).unwrap();
        assert_eq!(limits.deadline, Duration::from_millis(100));
    }

    #[test]
    fn unknown_field_is_named() {
        let err = parse("name = \"r\"\nworld = \"router\"\n[limits]\nmemory = 3\n").unwrap_err();
        assert!(err.to_string().contains("memory"), "{err}");
    }

    #[test]
    fn unknown_world_is_refused() {
        let err = parse("name = \"r\"\nworld = \"teleporter\"\n").unwrap_err();
        assert!(err.to_string().contains("teleporter"), "{err}");
    }

    #[test]
    fn limits_above_the_server_maximum_are_refused() {
        let m = parse("name = \"r\"\nworld = \"router\"\n[limits]\nmemory-mb = 4096\n").unwrap();
        let err = m.limits(&LimitPolicy::default()).unwrap_err();
        assert!(err.to_string().contains("memory-mb 4096"), "{err}");
        // Too many MiB to count in bytes is refused, not wrapped round.
        let huge = 1u64 << 44;
        let m = parse(&format!(
            "name = \"r\"\nworld = \"router\"\n[limits]\nmemory-mb = {huge}\n"
        ))
        .unwrap();
        let err = m.limits(&LimitPolicy::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("plugin `r`: limits.memory-mb {huge} exceeds the server maximum of 1024")
        );
    }

    #[test]
    fn sizes_in_mib_are_not_rounded_down() {
        assert_eq!(mib(64 << 20), "64");
        assert_eq!(mib((64 << 20) + (64 << 10)), "64.06");
    }

    #[test]
    fn screeners_cannot_call_plugins() {
        let err = parse("name = \"s\"\nworld = \"screener\"\n[capabilities]\ncalls = [\"x\"]\n")
            .unwrap_err();
        assert!(err.to_string().contains("cannot call plugins"), "{err}");
    }

    #[test]
    fn config_values_become_text_or_json() {
        let m = parse(
            "name = \"r\"\nworld = \"router\"\n[config]\na = \"x\"\nb = 3\nc = [{ skill = \"s\", level = 2 }]\n",
        )
        .unwrap();
        let entries = m.config_entries();
        assert_eq!(entries["a"], "x");
        assert_eq!(entries["b"], "3");
        assert_eq!(entries["c"], r#"[{"level":2,"skill":"s"}]"#);
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "-x", "Upper", "a/b", "a b"] {
            assert!(!valid_name(name), "{name}");
        }
        assert!(valid_name("skills-router-2"));
    }
}
