//! Helpers shared by the integration tests and the benchmarks: the test
//! guests, plugin directories, sample inputs and servers started for a test.

use parley_plugin::bindings::types::{AgentCandidate, Interaction, MediaLoad, SkillLevel};
use parley_plugin::version::Services;
use parley_plugin::{LimitPolicy, PluginRuntime, PluginVersion, RuntimeSettings, source};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod certificates;
pub mod chat;
pub mod client;
pub mod database;
pub mod mail;
pub mod process;

pub use client::Client;

/// Paths of the compiled test guests.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// An engine with default settings and a small pool.
pub fn engine() -> Arc<PluginRuntime> {
    PluginRuntime::new(RuntimeSettings {
        max_instances: 64,
        ..RuntimeSettings::default()
    })
    .expect("engine")
}

/// Writes a plugin directory `<root>/<name>` with the component copied
/// from `wasm` and a manifest of `world` plus `extra` TOML.
pub fn write_plugin(root: &Path, name: &str, world: &str, wasm: &str, extra: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(wasm, dir.join("plugin.wasm")).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        format!("name = \"{name}\"\nworld = \"{world}\"\n{extra}\n"),
    )
    .unwrap();
    dir
}

/// Installs the bundled plugin `name` under `root` and returns its directory.
pub fn bundled_plugin(root: &Path, name: &str) -> PathBuf {
    parley_bundled::find(name)
        .expect("bundled plugin")
        .install(root)
        .unwrap()
}

/// Compiles the plugin in `dir` (no registry, default limits policy).
pub async fn prepare(engine: &Arc<PluginRuntime>, dir: &Path) -> PluginVersion {
    let source = source::read_plugin_dir(dir, "test").expect("plugin source");
    PluginVersion::prepare(
        engine,
        &LimitPolicy::default(),
        &Services::default(),
        source,
    )
    .await
    .expect("plugin prepares")
}

/// A chat interaction.
pub fn interaction(id: &str) -> Interaction {
    Interaction {
        id: id.into(),
        tenant: "acme".into(),
        media_type: "chat".into(),
        queue: "inbound".into(),
        priority: 0,
        age_ms: 0,
        queue_age_ms: 0,
        subject: None,
        attached: Vec::new(),
        contact: None,
        thread_id: None,
    }
}

/// What sample agent `i` of [`candidates`] looks like.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    /// Agent id.
    pub id: String,
    /// Skills and levels.
    pub skills: Vec<(String, u8)>,
    /// Chats handled now.
    pub active: u32,
    /// Chat capacity.
    pub capacity: u32,
    /// Idle time.
    pub idle_ms: u64,
}

/// `n` varied agents: most have `support`, some are full, idle times differ.
pub fn agent_specs(n: usize) -> Vec<AgentSpec> {
    (0..n)
        .map(|i| AgentSpec {
            id: format!("agent-{i:03}"),
            skills: vec![
                ("support".to_string(), (i % 5) as u8),
                ("billing".to_string(), (i % 3) as u8 + 1),
            ],
            active: (i % 4) as u32,
            capacity: 3,
            idle_ms: ((i * 7919) % 60_000) as u64,
        })
        .collect()
}

/// The sample agents as the host passes them to plugins.
pub fn candidates(n: usize) -> Vec<AgentCandidate> {
    agent_specs(n)
        .into_iter()
        .map(|a| AgentCandidate {
            id: a.id,
            skills: a
                .skills
                .into_iter()
                .map(|(name, level)| SkillLevel { name, level })
                .collect(),
            groups: vec!["support".into()],
            load: vec![MediaLoad {
                media_type: "chat".into(),
                active: a.active,
                capacity: a.capacity,
            }],
            idle_ms: a.idle_ms,
        })
        .collect()
}

/// The `parley` binary of this build (`cargo build --release` builds it
/// before the tests run; see the README's test command).
pub fn parley_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory");
    let bin = profile_dir.join("parley");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build --release`)",
        bin.display()
    );
    bin
}

/// A server started in this process for one test, on a free port, with
/// its own data and plugin directories.
pub struct TestServer {
    /// The running server.
    pub server: parley::app::RunningServer,
    /// Its plugin directory.
    pub plugins_dir: PathBuf,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// An HTTP client.
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// How to start a [`TestServer`].
#[derive(Default)]
pub struct Options {
    /// Database URL (default: SQLite in the data directory).
    pub database: Option<String>,
    /// Extra settings, TOML (e.g. a `[routing]` section).
    pub settings: String,
    /// The business-process file (default: the demo one).
    pub processes: Option<String>,
}

impl TestServer {
    /// Starts a server with the bundled plugins, after `setup` has written
    /// into its (empty) plugin directory.
    pub async fn start(setup: impl FnOnce(&Path)) -> TestServer {
        TestServer::start_with(Options::default(), setup).await
    }

    /// Starts a server as `options` say.
    pub async fn start_with(options: Options, setup: impl FnOnce(&Path)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let plugins_dir = dir.path().join("plugins");
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&plugins_dir).unwrap();
        std::fs::create_dir_all(&data_dir).unwrap();
        setup(&plugins_dir);
        if let Some(processes) = &options.processes {
            std::fs::write(data_dir.join("processes.toml"), processes).unwrap();
        }
        let database = options
            .database
            .map(|url| format!("database = {url:?}\n"))
            .unwrap_or_default();
        let settings: parley::settings::Settings = toml::from_str(&format!(
            "listen = \"127.0.0.1:0\"\ndata-dir = {:?}\nadmin-token = \"test-admin-token-0123\"\n{database}{}\n",
            data_dir.display().to_string(),
            options.settings,
        ))
        .unwrap();
        let settings = parley::settings::Settings {
            plugins_dir: Some(plugins_dir.clone()),
            ..settings
        };
        let server = parley::app::start(settings).await.expect("server starts");
        TestServer {
            server,
            plugins_dir,
            data_dir,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// Starts a server with the bundled plugins and the demo process on the
    /// database at `url`, with extra `settings` (TOML).
    pub async fn on_database(url: String, settings: &str) -> TestServer {
        let options = Options {
            database: Some(url),
            settings: settings.to_string(),
            ..Options::default()
        };
        TestServer::start_with(options, |_| {}).await
    }

    /// A server on `db` (default: SQLite in its data directory) with
    /// extra `settings` (TOML), and its admin client.
    pub async fn with_admin(db: Option<&database::TestDb>, settings: &str) -> (TestServer, Client) {
        let options = Options {
            database: db.map(database::TestDb::url),
            settings: settings.to_string(),
            ..Options::default()
        };
        let server = TestServer::start_with(options, |_| {}).await;
        let admin = server.admin();
        (server, admin)
    }

    /// A client of this server with the admin token.
    pub fn admin(&self) -> Client {
        Client::new(
            &format!("http://{}", self.server.addr),
            "test-admin-token-0123",
        )
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    /// POSTs JSON with the admin token; returns status and JSON body.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth("test-admin-token-0123")
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// GETs with the admin token; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth("test-admin-token-0123")
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }
}
