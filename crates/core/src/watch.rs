//! Watching files and directories: a burst of change events (an editor
//! saving, a copy in several writes) is coalesced over a short quiet
//! period and handed to a callback once.

use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// Quiet time after the last event before the callback runs.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// Longest a burst is collected, so steady events never starve the callback.
const MAX_COLLECT: Duration = Duration::from_secs(1);

/// A running watch; dropping it stops watching.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watches `path` (and, if `recursive`, everything below it) and calls
/// `on_change` with the changed paths that `accept` lets through, once per
/// burst of events.
pub fn watch<F, Fut>(
    path: &Path,
    recursive: bool,
    accept: impl Fn(&Path) -> bool + Send + 'static,
    on_change: F,
) -> anyhow::Result<Watch>
where
    F: Fn(BTreeSet<PathBuf>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            for path in event.paths.into_iter().filter(|p| accept(p)) {
                let _ = tx.send(path);
            }
        }
    })?;
    let mode = if recursive {
        RecursiveMode::Recursive
    } else {
        RecursiveMode::NonRecursive
    };
    watcher.watch(path, mode)?;
    let task = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut changed = BTreeSet::from([first]);
            let until = tokio::time::Instant::now() + MAX_COLLECT;
            while let Ok(Some(path)) = tokio::time::timeout_at(
                until.min(tokio::time::Instant::now() + DEBOUNCE),
                rx.recv(),
            )
            .await
            {
                changed.insert(path);
            }
            on_change(changed).await;
        }
    });
    Ok(Watch {
        _watcher: watcher,
        task,
    })
}
