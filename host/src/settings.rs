//! The server's configuration file (`parley.toml`). Every key is optional.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data-dir = "parley-data"          # versions, compile cache, admin token
//! plugins-dir = "parley-data/plugins"  # watched; bundled plugins go here
//! install-bundled = true            # install missing bundled plugins
//! admin-token = "..."               # default: generated into data-dir
//! database = "postgres://parley@db/parley"  # default: sqlite://<data-dir>/parley.db
//! processes = "processes.toml"      # default: <data-dir>/processes.toml (a demo on first start)
//!
//! [engine]
//! max-instances = 256               # plugin instances alive at once
//! epoch-tick-ms = 2                 # deadline granularity
//!
//! [limits]                          # defaults and ceilings per plugin
//! default-memory-mb = 64
//! default-deadline-ms = 100
//! max-memory-mb = 1024
//! max-deadline-ms = 10000
//! # default-fuel, max-fuel: instruction budgets (unset: none)
//! grantable-env = ["TZ"]            # variables manifests may pass through (default: none)
//! grantable-directories = ["/srv/parley/plugin-data"]  # besides a plugin's own directory
//! grantable-http = ["https://api.example.com"]  # origins manifests may send requests to
//! http-timeout-ms = 10000           # an outbound request's wait for its response headers
//! http-max-response-bytes = 1048576
//! http-concurrency = 4              # open requests per plugin version
//!
//! [secrets.crm-token]               # any number; plugins read them (docs/plugins.md)
//! value-env = "CRM_TOKEN"           # or value-file = "...", or value = "..."
//! plugins = ["crm-router"]          # which manifests may grant it ("*": any)
//!
//! [routing]
//! offer-timeout-ms = 30000          # then the offer goes back to routing
//! candidates = 16                   # agents passed to pick-agent, longest idle first
//! hold-retry-ms = 5000              # re-ask a failed router (fallback `hold`)
//! not-ready-on-timeout = true       # an unanswered offer makes the agent not ready
//!
//! [chat]                            # see docs/chat.md
//! queue = "inbound"                 # where new chats go
//! resume-window-s = 300             # how long a disconnected customer may resume
//! max-message-chars = 4000
//! max-file-bytes = 5242880
//! file-types = ["image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain"]
//! # [[chat.masking]] name, pattern, action = "mask" | "drop", keep-last
//!
//! [http]                            # see docs/deploy.md
//! tls = { cert = "/etc/parley/cert.pem", key = "/etc/parley/key.pem" }  # reloaded on change
//! header-timeout-s = 10             # to send a request's headers
//! idle-timeout-s = 120              # no byte either way: closed
//! max-connections = 10000
//! max-connections-per-address = 256
//! trusted-proxies = ["127.0.0.1"]   # whose X-Forwarded-For is believed
//!
//! [quotas]                          # per client address; see docs/security.md
//! login = { per-minute = 120, burst = 60 }
//! login-failures = 5                # per account id, then waits doubling from 1 s
//! login-backoff-s = 1               # the first of those waits
//! concurrent-hashes = 2             # default: the number of cores
//! chat-start = { per-minute = 60, burst = 30 }
//! form-post = { per-minute = 20, burst = 10 }
//!
//! [accounts]
//! session-hours = 12                # a session ends this long after login
//! idle-minutes = 60                 # or after this long unused (0: never)
//! admin-accounts = false            # whether accounts may have the admin role
//!
//! [desktop]
//! dispositions = ["resolved", "follow-up", "no-resolution"]
//! not-ready-reasons = ["break", "meeting", "training", "admin"]
//!
//! [email]                           # see docs/email.md
//! queue = "inbound"                 # where new e-mails go
//! address = "support@example.com"   # From of replies
//! name = "Example Support"
//! review-group = "trainees"         # their replies wait for a supervisor
//! acknowledge-with = "email-ack"    # standard response sent to new e-mails
//! [[email.mailbox]]                 # any number
//! name = "support"
//! protocol = "imap"                 # or "pop3"
//! host = "mail.example.com"
//! security = "tls"                  # or "starttls", "none"
//! user = "support"
//! password-env = "SUPPORT_MAIL_PASSWORD"
//! leave-on-server = false
//! [email.smtp]
//! host = "smtp.example.com"
//! security = "starttls"
//! user = "support"
//! password-env = "SMTP_PASSWORD"
//! [email.mime]
//! inbound = "mime-normalizer"       # mime-transformer plugins
//! # [[email.masking]] as [[chat.masking]]; default: card numbers masked
//! [retention]                       # off unless an age is set; see docs/contacts.md
//! archive-after-days = 90           # archive finished interactions this old
//! delete-after-days = 365           # then delete them
//! archive-dir = "parley-data/archive"  # default: <data-dir>/archive
//! sweep-interval-s = 3600
//! [[recording]]                     # record a router's decisions; see docs/plugins.md
//! plugin = "skills-router"
//! sample = 0.01                     # share of calls recorded
//! max-bytes = 67108864              # <data-dir>/recordings/<plugin>.jsonl stops growing here
//! mask = ["subject", "contact.display-name", "attached.email"]  # default: the customer's words and identity
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use parley_chat::ChatSettings;
use parley_email::EmailSettings;
use parley_engine::RoutingSettings;
use parley_listener::ListenerSettings;
use parley_plugin::manifest::OperatorSecret;
use parley_plugin::observe::recorder::RecordingSettings;
use parley_plugin::outbound::{HttpLimits, Origin};
use parley_plugin::{GrantPolicy, LimitPolicy, Limits, RuntimeSettings};
use parley_server::quotas::QuotaSettings;
use parley_server::{AccountSettings, DesktopSettings};
use parley_store::retention::RetentionSettings;

/// Server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    /// Address of the HTTP API.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Directory for the server's own files.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The watched plugin directory (default: `<data-dir>/plugins`).
    #[serde(default)]
    pub plugins_dir: Option<PathBuf>,
    /// Whether to install bundled plugins missing from the plugin directory.
    #[serde(default = "yes")]
    pub install_bundled: bool,
    /// Bearer token for the admin API (default: generated once and kept in
    /// `<data-dir>/admin-token`).
    #[serde(default)]
    pub admin_token: Option<String>,
    /// Database URL: `sqlite://FILE` or `postgres://...` (default: a SQLite
    /// file in the data directory).
    #[serde(default)]
    pub database: Option<String>,
    /// The business-process file (default: `<data-dir>/processes.toml`,
    /// where a demo process is installed on first start).
    #[serde(default)]
    pub processes: Option<PathBuf>,
    /// Engine settings.
    #[serde(default)]
    pub engine: EngineSection,
    /// Plugin limit defaults and ceilings.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Routing and offers.
    #[serde(default)]
    pub routing: RoutingSettings,
    /// The web chat channel.
    #[serde(default)]
    pub chat: ChatSettings,
    /// Pick lists of the agent desktop.
    #[serde(default)]
    pub desktop: DesktopSettings,
    /// Sessions and accounts.
    #[serde(default)]
    pub accounts: AccountSettings,
    /// The listener: TLS, connection limits, trusted proxies.
    #[serde(default)]
    pub http: ListenerSettings,
    /// Rate limits by client address.
    #[serde(default)]
    pub quotas: QuotaSettings,
    /// The e-mail channel.
    #[serde(default)]
    pub email: EmailSettings,
    /// Archiving and deleting finished interactions.
    #[serde(default)]
    pub retention: RetentionSettings,
    /// Plugins whose decisions are recorded.
    #[serde(default)]
    pub recording: Vec<RecordingSettings>,
    /// Secrets plugins may be granted, by name.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretSettings>,
}

/// `[secrets.<name>]`: a secret plugins may read, with where its value
/// comes from (exactly one of `value`, `value-env`, `value-file`; read at
/// start) and which plugins may be granted it.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SecretSettings {
    /// The value written here.
    pub value: Option<String>,
    /// An environment variable holding the value.
    pub value_env: Option<String>,
    /// A file holding the value (surrounding whitespace ignored).
    pub value_file: Option<PathBuf>,
    /// Plugins whose manifests may grant it; `*` is any plugin.
    pub plugins: Vec<String>,
}

impl std::fmt::Debug for SecretSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretSettings")
            .field("value_env", &self.value_env)
            .field("value_file", &self.value_file)
            .field("plugins", &self.plugins)
            .finish_non_exhaustive()
    }
}

impl SecretSettings {
    /// The value, from wherever the settings say it is.
    fn resolve(&self, name: &str) -> anyhow::Result<String> {
        let value = match (&self.value, &self.value_env, &self.value_file) {
            (Some(value), None, None) => value.clone(),
            (None, Some(var), None) => std::env::var(var).map_err(|_| {
                anyhow::anyhow!("[secrets.{name}]: the environment variable {var} is not set")
            })?,
            (None, None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| {
                    anyhow::anyhow!("[secrets.{name}]: cannot read {}: {e}", path.display())
                })?
                .trim()
                .to_string(),
            _ => anyhow::bail!(
                "[secrets.{name}]: give exactly one of `value`, `value-env` and `value-file`"
            ),
        };
        if value.is_empty() {
            anyhow::bail!("[secrets.{name}]: the value is empty");
        }
        Ok(value)
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("parley-data")
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EngineSection {
    /// Plugin instances alive at once.
    #[serde(default = "default_max_instances")]
    pub max_instances: u32,
    /// Epoch tick in milliseconds.
    #[serde(default = "default_tick")]
    pub epoch_tick_ms: u64,
}

fn default_max_instances() -> u32 {
    256
}

fn default_tick() -> u64 {
    2
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            max_instances: default_max_instances(),
            epoch_tick_ms: default_tick(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LimitsSection {
    /// Memory for plugins that set none, MiB.
    pub default_memory_mb: Option<u64>,
    /// Deadline for plugins that set none, ms.
    pub default_deadline_ms: Option<u64>,
    /// Fuel for plugins that set none.
    pub default_fuel: Option<u64>,
    /// Most memory a plugin may ask for, MiB.
    pub max_memory_mb: Option<u64>,
    /// Longest deadline a plugin may ask for, ms.
    pub max_deadline_ms: Option<u64>,
    /// Most fuel a plugin may ask for.
    pub max_fuel: Option<u64>,
    /// Host environment variables manifests may pass through.
    #[serde(default)]
    pub grantable_env: Vec<String>,
    /// Host directories manifests may grant (besides a plugin's own).
    #[serde(default)]
    pub grantable_directories: Vec<PathBuf>,
    /// Origins manifests may grant outbound HTTP to.
    #[serde(default)]
    pub grantable_http: Vec<Origin>,
    /// Longest an outbound request of a plugin may take, ms.
    pub http_timeout_ms: Option<u64>,
    /// Largest response body a plugin may receive, bytes.
    pub http_max_response_bytes: Option<u64>,
    /// Requests one plugin version may have open at once.
    pub http_concurrency: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

impl Settings {
    /// Reads `path`, or the defaults when there is none.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Settings> {
        let Some(path) = path else {
            return Ok(Settings::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid settings {}: {e}", path.display()))
    }

    /// The watched plugin directory.
    pub fn plugins_dir(&self) -> PathBuf {
        self.plugins_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("plugins"))
    }

    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("parley.db").display()))
    }

    /// The business-process file.
    pub fn processes_path(&self) -> PathBuf {
        self.processes
            .clone()
            .unwrap_or_else(|| self.data_dir.join("processes.toml"))
    }

    /// Where plugin versions are kept.
    pub fn versions_dir(&self) -> PathBuf {
        self.data_dir.join("versions")
    }

    /// The plugin engine's settings.
    pub fn engine_settings(&self) -> RuntimeSettings {
        RuntimeSettings {
            max_instances: self.engine.max_instances,
            max_memory_bytes: self.max_memory_bytes(),
            epoch_tick: Duration::from_millis(self.engine.epoch_tick_ms.max(1)),
            cache_dir: Some(self.data_dir.join("compiled")),
        }
    }

    /// The most memory a plugin may ask for.
    fn max_memory_bytes(&self) -> u64 {
        self.limits
            .max_memory_mb
            .map_or(LimitPolicy::default().max.memory_bytes, |mb| mb << 20)
    }

    /// Plugin limit defaults and ceilings, and what manifests may grant
    /// (secret values read here: a missing one is an error).
    pub fn limit_policy(&self) -> anyhow::Result<LimitPolicy> {
        let mut secrets = BTreeMap::new();
        for (name, secret) in &self.secrets {
            if !parley_plugin::manifest::valid_name(name) {
                anyhow::bail!(
                    "[secrets.{name}]: a secret name is lowercase letters, digits and dashes"
                );
            }
            secrets.insert(
                name.clone(),
                OperatorSecret {
                    value: secret.resolve(name)?,
                    plugins: secret.plugins.clone(),
                },
            );
        }
        let base = LimitPolicy::default();
        let l = &self.limits;
        Ok(LimitPolicy {
            default: Limits {
                memory_bytes: l
                    .default_memory_mb
                    .map_or(base.default.memory_bytes, |mb| mb << 20),
                deadline: l
                    .default_deadline_ms
                    .map_or(base.default.deadline, Duration::from_millis),
                fuel: l.default_fuel.or(base.default.fuel),
            },
            max: Limits {
                memory_bytes: self.max_memory_bytes(),
                deadline: l
                    .max_deadline_ms
                    .map_or(base.max.deadline, Duration::from_millis),
                fuel: l.max_fuel.or(base.max.fuel),
            },
            grants: GrantPolicy {
                env: l.grantable_env.clone(),
                directories: l.grantable_directories.clone(),
                secrets,
                http: l.grantable_http.clone(),
            },
            http: HttpLimits {
                timeout: l
                    .http_timeout_ms
                    .map_or(base.http.timeout, Duration::from_millis),
                max_response_bytes: l
                    .http_max_response_bytes
                    .unwrap_or(base.http.max_response_bytes),
                concurrency: l.http_concurrency.unwrap_or(base.http.concurrency),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let s = Settings::default();
        assert_eq!(s.listen.port(), 8080);
        assert_eq!(s.plugins_dir(), PathBuf::from("parley-data/plugins"));
        assert!(s.install_bundled);
        assert_eq!(s.database_url(), "sqlite://parley-data/parley.db");
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Settings>("lisen = \"1.2.3.4:5\"").is_err());
    }

    #[test]
    fn limits_override_the_policy() {
        let s: Settings =
            toml::from_str("[limits]\ndefault-deadline-ms = 7\nmax-fuel = 9").unwrap();
        let p = s.limit_policy().unwrap();
        assert_eq!(p.default.deadline, Duration::from_millis(7));
        assert_eq!(p.max.fuel, Some(9));
    }
}
