//! Watches the plugin directory and loads a plugin again when its files
//! change. A half-written component fails validation and the next change
//! event retries.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

use super::error::LoadError;
use super::manifest::MANIFEST_FILE;
use super::registry::{Loaded, Registry};
use parley_core::watch::{Watch, watch as watch_path};

/// The plugin a changed path belongs to: its first component under `dir`.
fn plugin_of(dir: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(dir).ok()?;
    let first = relative.components().next()?;
    Some(first.as_os_str().to_string_lossy().into_owned())
}

/// Watches `dir`; each changed plugin subdirectory is loaded again, and
/// what came of it (a new live version or a refusal; not a load that
/// changed nothing) is sent to `reports`.
pub fn watch(
    registry: Arc<Registry>,
    dir: PathBuf,
    reports: UnboundedSender<Result<Loaded, LoadError>>,
) -> anyhow::Result<Watch> {
    let root = dir.clone();
    watch_path(
        &dir,
        true,
        |_| true,
        move |paths| {
            let registry = registry.clone();
            let reports = reports.clone();
            let names: std::collections::BTreeSet<String> =
                paths.iter().filter_map(|p| plugin_of(&root, p)).collect();
            let root = root.clone();
            async move {
                for name in names {
                    let plugin_dir = root.join(&name);
                    if !plugin_dir.join(MANIFEST_FILE).is_file() {
                        continue;
                    }
                    let loaded = registry.load_dir(&plugin_dir, "watch").await;
                    if let Err(e) = &loaded {
                        tracing::warn!(plugin = %name, "new version not loaded: {}", e.message);
                    }
                    if !loaded.as_ref().is_ok_and(|l| l.unchanged) {
                        // Nobody listening is no reason to stop loading.
                        let _ = reports.send(loaded);
                    }
                }
            }
        },
    )
}
