//! The version history: every version is kept, rollback makes an earlier
//! one live, and a restart restores what was live (a rollback stays rolled
//! back, a refused version is not retried, a new directory version loads).

use parley_plugin::versions::VersionStore;
use parley_plugin::{LimitPolicy, Registry};
use parley_tests::{engine, guests, write_plugin};
use std::path::Path;
use std::sync::Arc;

fn registry(root: &Path) -> Arc<Registry> {
    Registry::new(
        engine(),
        LimitPolicy::default(),
        VersionStore::new(root.join("versions")),
    )
}

fn write_version(plugins: &Path, agent: &str) -> std::path::PathBuf {
    write_plugin(
        plugins,
        "router",
        "router",
        guests::TEST_ROUTER,
        &format!("[config]\nagent = \"{agent}\""),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_survives_a_restart_and_new_directory_versions_load() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    let first = {
        let registry = registry(root.path());
        let v1 = registry
            .load_dir(&write_version(&plugins, "one"), "startup")
            .await
            .unwrap();
        let v2 = registry
            .load_dir(&write_version(&plugins, "two"), "watch")
            .await
            .unwrap();
        assert_eq!(v2.replaced.as_deref(), Some(v1.version.as_str()));
        let history = registry.list();
        assert_eq!(history[0].versions.len(), 2);
        assert!(history[0].versions[0].loaded_at_ms <= history[0].versions[1].loaded_at_ms);
        let back = registry.rollback("router", None).await.unwrap();
        assert_eq!(back.version, v1.version);
        let err = registry.rollback("router", None).await.unwrap_err();
        assert!(err.message.contains("no earlier version"), "{err}");
        v1.version
    };
    // Restart: the directory still holds version two, but one was rolled
    // back to, and stays live.
    let registry = registry(root.path());
    assert!(registry.restore(&plugins).await.is_empty());
    assert_eq!(registry.get("router").unwrap().id, first);

    // A new version in the directory loads at the next start.
    write_version(&plugins, "three");
    let registry = self::registry(root.path());
    assert!(registry.restore(&plugins).await.is_empty());
    let live = registry.get("router").unwrap();
    assert_eq!(live.manifest.config["agent"].as_str(), Some("three"));
    assert_eq!(registry.list()[0].versions.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_version_is_not_retried_at_restart() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    let good = {
        let registry = registry(root.path());
        let good = registry
            .load_dir(&write_version(&plugins, "good"), "startup")
            .await
            .unwrap();
        std::fs::write(plugins.join("router/plugin.wasm"), b"broken").unwrap();
        let err = registry
            .load_dir(&plugins.join("router"), "watch")
            .await
            .unwrap_err();
        assert!(err.message.contains("not a valid component"), "{err}");
        assert_eq!(registry.get("router").unwrap().id, good.version);
        good.version
    };
    let registry = registry(root.path());
    assert!(
        registry.restore(&plugins).await.is_empty(),
        "the refused version is not retried"
    );
    assert_eq!(registry.get("router").unwrap().id, good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_to_an_unknown_version_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let registry = registry(root.path());
    registry
        .load_dir(
            &write_version(&root.path().join("plugins"), "one"),
            "startup",
        )
        .await
        .unwrap();
    let err = registry
        .rollback("router", Some("ffffffff"))
        .await
        .unwrap_err();
    assert!(err.not_found, "{err}");
    assert_eq!(
        err.to_string(),
        "plugin `router`: has no version `ffffffff`"
    );
}
