//! Watches the plugin directory and loads a plugin again when its files
//! change. Bursts of events (a copy in several writes) are coalesced; a
//! half-written component fails validation and the next event retries.

use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::manifest::MANIFEST_FILE;
use super::registry::Registry;

/// Quiet time after the last event before loading.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// A running watch; dropping it stops watching.
pub struct PluginWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PluginWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The plugin a changed path belongs to: its first component under `dir`.
fn plugin_of(dir: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(dir).ok()?;
    let first = relative.components().next()?;
    Some(first.as_os_str().to_string_lossy().into_owned())
}

/// Watches `dir`; each changed plugin subdirectory is loaded again.
pub fn watch(registry: Arc<Registry>, dir: PathBuf) -> anyhow::Result<PluginWatcher> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })?;
    watcher.watch(&dir, RecursiveMode::Recursive)?;
    let task = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut changed = BTreeSet::new();
            changed.extend(plugin_of(&dir, &first));
            while let Ok(Some(path)) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                changed.extend(plugin_of(&dir, &path));
            }
            for name in changed {
                let plugin_dir = dir.join(&name);
                if !plugin_dir.join(MANIFEST_FILE).is_file() {
                    continue;
                }
                match registry.load_dir(&plugin_dir, "watch").await {
                    Ok(loaded) if loaded.unchanged => {}
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(plugin = %name, "new version not loaded: {}", e.message)
                    }
                }
            }
        }
    });
    Ok(PluginWatcher {
        _watcher: watcher,
        task,
    })
}
