//! The composition root: builds the store, the plugin runtime, the
//! engine, the channels and the HTTP API from the settings, starts their
//! background tasks and serves until stopped.

use std::path::Path;
use std::sync::{Arc, Weak};

use parley_chat::Chat;
use parley_core::agents::password;
use parley_core::watch::Watch;
use parley_email::EmailChannel;
use parley_engine::Engine;
use parley_engine::process::{self, Processes};
use parley_listener::connection::Listener;
use parley_plugin::observe::recorder::Recorder;
use parley_plugin::registry::Loaded;
use parley_plugin::versions::VersionStore;
use parley_plugin::{LoadError, PluginRuntime, Registry, watcher};
use parley_server::auth::Credentials;
use parley_server::quotas::Quotas;
use parley_server::{AppState, router};
use parley_store::Store;
use parley_store::audit::NewAuditEntry;
use parley_store::retention::Retention;
use serde_json::json;
use tokio::sync::mpsc;

use crate::settings::Settings;

/// The admin token: from the settings, `PARLEY_ADMIN_TOKEN`, or the file
/// `PARLEY_ADMIN_TOKEN_FILE` names (a systemd credential, a mounted
/// secret), else the one kept in `<data-dir>/admin-token`, created on first
/// start. An empty or short one is refused: it would make a guessable
/// credential an administrator's.
pub fn admin_token(settings: &Settings) -> anyhow::Result<String> {
    let path = settings.data_dir.join("admin-token");
    let (token, source) = if let Some(token) = &settings.admin_token {
        (token.clone(), "`admin-token` in the settings".to_string())
    } else if let Ok(token) = std::env::var("PARLEY_ADMIN_TOKEN") {
        (token, "PARLEY_ADMIN_TOKEN".to_string())
    } else if let Some(file) = std::env::var_os("PARLEY_ADMIN_TOKEN_FILE") {
        let file = std::path::PathBuf::from(file);
        let token = std::fs::read_to_string(&file).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the admin token file {} (PARLEY_ADMIN_TOKEN_FILE): {e}",
                file.display()
            )
        })?;
        (token, file.display().to_string())
    } else if let Ok(token) = std::fs::read_to_string(&path) {
        (token, path.display().to_string())
    } else {
        let token = password::new_secret("");
        write_private(&path, &token)?;
        return Ok(token);
    };
    let token = token.trim();
    anyhow::ensure!(
        !token.is_empty(),
        "the admin token in {source} is empty: give one, or remove it to have one generated into {}",
        path.display()
    );
    anyhow::ensure!(
        token.chars().count() >= MIN_ADMIN_TOKEN,
        "the admin token in {source} is shorter than {MIN_ADMIN_TOKEN} characters: give a longer one, or remove it to have one generated into {}",
        path.display()
    );
    Ok(token.to_string())
}

/// Shortest admin token taken.
const MIN_ADMIN_TOKEN: usize = 16;

/// Writes `text` to `path` readable by the server's user only: into a
/// temporary file of mode 0600 beside it, then renamed over it, so no
/// reader ever sees it half written or with wider permissions.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = path.with_extension("new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

/// Keeps the data directory to the server's user: it becomes 0700, so
/// nothing in it (the database and its journals, archives, recordings,
/// plugin versions, the admin token) is reachable by others, and the files
/// directly in it become 0600.
fn secure_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// A started server.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
    /// The live plugins.
    pub registry: Arc<Registry>,
    /// Interactions and events.
    pub store: Store,
    /// The interaction engine.
    pub engine: Arc<Engine>,
    /// The web chat channel.
    pub chat: Arc<Chat>,
    /// The e-mail channel.
    pub email: Arc<EmailChannel>,
    pub admin_token: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Background tasks (retention and idle rate-limit key sweeps, the
    /// audit of file changes, saving plugin statistics).
    sweeps: Vec<tokio::task::JoinHandle<()>>,
    _watches: [Watch; 2],
}

impl RunningServer {
    /// Waits until the server stops (it stops on SIGINT or SIGTERM), then
    /// keeps the plugins' call statistics.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let served = (&mut self.task).await?;
        self.registry.save_all_stats();
        Ok(served?)
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
        for sweep in &self.sweeps {
            sweep.abort();
        }
    }
}

/// Starts the server: installs missing bundled plugins, restores and loads
/// plugins, watches the plugin directory and serves the API (on a port
/// picked by the system when the settings say port 0).
pub async fn start(mut settings: Settings) -> anyhow::Result<RunningServer> {
    // Relative to where the server started, once and for all (the
    // compiled-code cache needs an absolute path).
    settings.data_dir = std::path::absolute(&settings.data_dir)?;
    let plugins_dir = settings.plugins_dir();
    if rustix::process::geteuid().is_root() {
        tracing::warn!(
            "parley is running as root: run it as its own user (docs/deploy.md shows how)"
        );
    }
    std::fs::create_dir_all(&settings.data_dir)?;
    secure_data_dir(&settings.data_dir)?;
    std::fs::create_dir_all(&plugins_dir)?;
    if settings.install_bundled {
        for name in parley_bundled::install_missing(&plugins_dir)? {
            tracing::info!(plugin = name, dir = %plugins_dir.display(), "installed bundled plugin");
        }
    }
    let store = Store::open(&settings.database_url()).await?;
    // The database file, new on a first start.
    secure_data_dir(&settings.data_dir)?;
    let engine = PluginRuntime::new(settings.engine_settings())?;
    let registry = Registry::new(
        engine,
        settings.limit_policy()?,
        VersionStore::new(settings.versions_dir()),
    );
    for recording in &settings.recording {
        let recorder = Recorder::new(recording.clone(), &settings.data_dir.join("recordings"))
            .map_err(anyhow::Error::msg)?;
        registry
            .observers()
            .set_recorder(&recording.plugin, recorder);
    }
    for error in registry.restore(&plugins_dir).await {
        tracing::error!(plugin = %error.plugin, "not loaded: {}", error.message);
    }
    let (plugin_reports, plugin_changes) = mpsc::unbounded_channel();
    let plugin_watch = watcher::watch(registry.clone(), plugins_dir.clone(), plugin_reports)?;
    let processes_path = settings.processes_path();
    if settings.install_bundled && process::install_demo(&processes_path)? {
        tracing::info!(path = %processes_path.display(), "installed the demo business process");
    }
    let processes =
        Processes::load(processes_path.clone(), registry.clone()).map_err(anyhow::Error::msg)?;
    let (process_reports, process_changes) = mpsc::unbounded_channel();
    let process_watch = processes.watch(process_reports)?;
    let audit = tokio::spawn(audit_file_changes(
        store.clone(),
        plugin_changes,
        process_changes,
        processes_path.display().to_string(),
    ));
    let admin_token = admin_token(&settings)?;
    let engine = Engine::new(
        store.clone(),
        registry.clone(),
        processes,
        settings.routing.clone(),
    );
    // Routers screen stored interactions through the engine's store.
    let content: Weak<Engine> = Arc::downgrade(&engine);
    registry.set_content(content);
    engine.recover().await?;
    let chat = Chat::new(engine.clone(), settings.chat.clone()).map_err(anyhow::Error::msg)?;
    chat.start_tasks().await?;
    let email =
        EmailChannel::new(engine.clone(), settings.email.clone()).map_err(anyhow::Error::msg)?;
    email.start_tasks()?;
    if settings.install_bundled && parley_server::responses::install_demo(&store).await? {
        tracing::info!("installed the demo standard responses");
    }
    let retention = Retention::new(
        store.clone(),
        settings.retention.clone(),
        &settings.data_dir,
    )
    .map_err(anyhow::Error::msg)?;
    let sweep = retention.spawn();
    let quotas = Arc::new(Quotas::new(&settings.quotas));
    let quota_sweep = quotas.spawn_sweep();
    let stats_saves = tokio::spawn(save_plugin_stats(registry.clone()));
    let state = Arc::new(AppState {
        registry: registry.clone(),
        engine: engine.clone(),
        admin_token: admin_token.clone(),
        credentials: Credentials::new(settings.accounts.clone()),
        quotas: quotas.clone(),
        chat: chat.clone(),
        email: email.clone(),
        desktop: settings.desktop.clone(),
        retention,
    });
    let listener = Listener::bind(settings.listen, settings.http.clone()).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        address = %addr,
        tls = listener.is_tls(),
        plugins = ?registry.names(),
        plugins_dir = %plugins_dir.display(),
        database = ?store.backend(),
        "parley is listening"
    );
    let task = tokio::spawn(listener.serve(router(state), shutdown_signal()));
    Ok(RunningServer {
        addr,
        registry,
        store,
        engine,
        chat,
        email,
        admin_token,
        task,
        sweeps: sweep
            .into_iter()
            .chain([quota_sweep, audit, stats_saves])
            .collect(),
        _watches: [plugin_watch, process_watch],
    })
}

/// How often the live plugin versions' call statistics are saved: what a
/// crash (not a stop) can lose of them.
const STATS_SAVE_PERIOD: std::time::Duration = std::time::Duration::from_secs(30);

/// Saves the live plugin versions' call statistics now and then.
async fn save_plugin_stats(registry: Arc<Registry>) {
    let mut every = tokio::time::interval(STATS_SAVE_PERIOD);
    every.tick().await;
    loop {
        every.tick().await;
        let registry = registry.clone();
        // File writes, off the async workers.
        if let Err(e) = tokio::task::spawn_blocking(move || registry.save_all_stats()).await {
            tracing::error!("saving plugin statistics failed: {e}");
        }
    }
}

/// Records in the audit log what the watched files changed: plugin
/// versions loaded or refused from the plugin directory, and reloads of
/// the business-process file at `processes_path`.
async fn audit_file_changes(
    store: Store,
    mut plugins: mpsc::UnboundedReceiver<Result<Loaded, LoadError>>,
    mut processes: mpsc::UnboundedReceiver<Result<(), String>>,
    processes_path: String,
) {
    loop {
        let entry = tokio::select! {
            Some(loaded) = plugins.recv() => match loaded {
                Ok(loaded) => NewAuditEntry {
                    actor: "plugin-directory".into(),
                    action: "plugin.loaded".into(),
                    target: loaded.plugin,
                    detail: json!({"version": loaded.version, "replaced": loaded.replaced}),
                },
                Err(refused) => NewAuditEntry {
                    actor: "plugin-directory".into(),
                    action: "plugin.refused".into(),
                    target: refused.plugin,
                    detail: json!({"reason": refused.message}),
                },
            },
            Some(reloaded) = processes.recv() => {
                let (action, detail) = match reloaded {
                    Ok(()) => ("processes.reloaded", json!({})),
                    Err(reason) => ("processes.refused", json!({"reason": reason})),
                };
                NewAuditEntry {
                    actor: "process-file".into(),
                    action: action.into(),
                    target: processes_path.clone(),
                    detail,
                }
            }
            else => return,
        };
        if let Err(err) = store.audit(entry).await {
            tracing::error!("the audit log did not take a file change: {err}");
        }
    }
}

/// Runs the server until interrupted.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    start(settings).await?.wait().await
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
