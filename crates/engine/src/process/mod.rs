//! Business processes: which router plugin serves each queue and what
//! happens when it fails, the views on queues and the workbins, from a
//! TOML file (see [`config`]). The file is validated against the loaded
//! plugins and reloaded live when it changes; a file that does not
//! validate is refused and the running configuration stays.

pub mod config;

pub use config::{Fallback, Order, Process, ProcessFile, Queue, View, Workbin};

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::mpsc::UnboundedSender;

use parley_core::watch::{Watch, watch};
use parley_plugin::{Registry, World};

/// The demo business process installed on first start.
pub const DEMO: &str = include_str!("demo.toml");

/// The live business processes.
pub struct Processes {
    path: PathBuf,
    registry: Arc<Registry>,
    current: RwLock<Arc<ProcessFile>>,
    refused: Mutex<Option<String>>,
}

/// The processes as the API shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ProcessesStatus {
    /// The file they come from.
    #[schema(value_type = String)]
    pub path: PathBuf,
    /// The running configuration.
    pub processes: Vec<Process>,
    /// Why the last change to the file was refused, if it was.
    pub last_refused: Option<String>,
}

/// Writes the demo process to `path` unless a file is there.
pub fn install_demo(path: &Path) -> std::io::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    std::fs::write(path, DEMO)?;
    Ok(true)
}

impl Processes {
    /// Reads and validates the file at `path` against the live plugins.
    pub fn load(path: PathBuf, registry: Arc<Registry>) -> Result<Arc<Processes>, String> {
        let file = read(&path, &registry)?;
        Ok(Arc::new(Processes {
            path,
            registry,
            current: RwLock::new(Arc::new(file)),
            refused: Mutex::new(None),
        }))
    }

    /// The running configuration.
    pub fn current(&self) -> Arc<ProcessFile> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the file again: a valid one replaces the running
    /// configuration, an invalid one is refused and recorded.
    pub fn reload(&self) -> Result<(), String> {
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        match read(&self.path, &self.registry) {
            Ok(file) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(file);
                *refused = None;
                tracing::info!(path = %self.path.display(), "business processes reloaded");
                Ok(())
            }
            Err(message) => {
                tracing::error!(path = %self.path.display(), "business processes not reloaded: {message}");
                *refused = Some(message.clone());
                Err(message)
            }
        }
    }

    /// The running configuration and the last refusal.
    pub fn status(&self) -> ProcessesStatus {
        ProcessesStatus {
            path: self.path.clone(),
            processes: self.current().processes.clone(),
            last_refused: self
                .refused
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// Reloads whenever the file changes; what came of each reload is
    /// sent to `reports`.
    pub fn watch(
        self: &Arc<Self>,
        reports: UnboundedSender<Result<(), String>>,
    ) -> anyhow::Result<Watch> {
        // The directory is watched (editors replace files by renaming) and
        // only events for the file itself are let through: the data
        // directory also holds the busy database files.
        let dir = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let name = self.path.file_name().map(|n| n.to_os_string());
        let processes = self.clone();
        let is_the_file = move |p: &Path| p.file_name().map(|n| n.to_os_string()) == name;
        watch(&dir, false, is_the_file, move |_| {
            // Nobody listening is no reason to stop reloading.
            let _ = reports.send(processes.reload());
            async {}
        })
    }
}

fn read(path: &Path, registry: &Registry) -> Result<ProcessFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    file.validate(|name| registry.get(name).is_ok_and(|v| v.world() == World::Router))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file)
}
