//! The engine's compile cache: compiled code is kept on disk, so a restart
//! (a new engine on the same directory) does not compile again.

use parley_plugin::{PluginRuntime, RuntimeSettings};
use parley_tests::{bundled_plugin, prepare};
use std::path::Path;

fn artifacts_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    if e.path().is_dir() {
                        artifacts_under(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The number of artifacts once the cache has stopped changing (wasmtime
/// writes cache files from a background worker).
async fn settled_artifacts(dir: &Path) -> usize {
    let mut last = artifacts_under(dir);
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let now = artifacts_under(dir);
        if now == last && now > 0 {
            return now;
        }
        last = now;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_code_is_cached_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("compiled");
    let plugin = bundled_plugin(tmp.path(), "skills-router");
    let settings = RuntimeSettings {
        max_instances: 8,
        cache_dir: Some(cache.clone()),
        ..RuntimeSettings::default()
    };
    let first = PluginRuntime::new(settings.clone()).unwrap();
    prepare(&first, &plugin).await;
    let cached = settled_artifacts(&cache).await;
    assert!(cached > 0, "nothing was written to the compile cache");
    // A new engine (a restart) finds the compiled code and adds nothing.
    let second = PluginRuntime::new(settings).unwrap();
    let version = prepare(&second, &plugin).await;
    assert_eq!(settled_artifacts(&cache).await, cached);
    version.validate().await.unwrap();
}
