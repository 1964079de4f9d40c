//! Hot reload under live traffic: replacing a router's component in the
//! watched directory switches decisions to the new version within a
//! second without failing a call; a broken replacement is refused while
//! the running version keeps serving; rollback restores the earlier one.

use parley_tests::{TestServer, bundled_plugin, guests, write_plugin};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// One call's outcome: when it was answered, and the agent picked (or the
/// error).
type Outcome = (Instant, Result<String, String>);

fn pick_agent_request() -> Value {
    let candidate = |id: &str, idle: u64| {
        json!({"id": id, "skills": [{"name": "support", "level": 2}], "groups": [],
               "load": [{"media-type": "chat", "active": 0, "capacity": 2}], "idle-ms": idle})
    };
    json!({
        "function": "pick-agent",
        "input": {
            "interaction": {"id": "i1", "tenant": "acme", "media-type": "chat", "queue": "q",
                            "priority": 0, "age-ms": 0, "queue-age-ms": 0, "attached": []},
            "candidates": [candidate("agent-old", 10), candidate("agent-longest-idle", 50_000)]
        }
    })
}

async fn call(server: &TestServer) -> Result<String, String> {
    let (status, body) = server
        .post("/v1/plugins/router/invoke", pick_agent_request())
        .await;
    match (status, body["output"]["ok"].as_str()) {
        (200, Some(agent)) => Ok(agent.to_string()),
        _ => Err(format!("{status}: {body}")),
    }
}

/// Replaces the component the way a deploy script would: write a new file
/// beside it, then rename it over the old one.
fn replace_component(plugin_dir: &std::path::Path, bytes: &[u8]) {
    let tmp = plugin_dir.join("plugin.wasm.new");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, plugin_dir.join("plugin.wasm")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_a_router_under_load_switches_without_a_failed_call() {
    let server = Arc::new(
        TestServer::start(|plugins| {
            write_plugin(
                plugins,
                "router",
                "router",
                guests::TEST_ROUTER,
                // The skills router swapped in below may call the screener.
                "[capabilities]\ncalls = [\"rules-screener\"]\n[config]\nagent = \"agent-old\"",
            );
        })
        .await,
    );
    let plugin_dir = server.plugins_dir.join("router");
    let first_version = server.server.registry.get("router").unwrap().id.clone();
    assert_eq!(call(&server).await, Ok("agent-old".into()));

    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (server, outcomes, running) = (server.clone(), outcomes.clone(), running.clone());
        clients.push(tokio::spawn(async move {
            while running.load(Ordering::SeqCst) {
                let result = call(&server).await;
                outcomes.lock().await.push((Instant::now(), result));
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Swap in a different implementation: the reference skills router picks
    // the longest-idle agent.
    let tmp = tempfile::tempdir().unwrap();
    let skills = bundled_plugin(tmp.path(), "skills-router");
    let replaced_at = Instant::now();
    replace_component(
        &plugin_dir,
        &std::fs::read(skills.join("skills_router.wasm")).unwrap(),
    );
    let switched_at = loop {
        let switched = outcomes
            .lock()
            .await
            .iter()
            .find(|(at, r)| *at > replaced_at && r.as_deref() == Ok("agent-longest-idle"))
            .map(|(at, _)| *at);
        if let Some(at) = switched {
            break at;
        }
        assert!(
            replaced_at.elapsed() < Duration::from_secs(5),
            "decisions never switched"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let switch_time = switched_at - replaced_at;
    assert!(
        switch_time < Duration::from_secs(1),
        "switched after {switch_time:?}"
    );
    let second_version = server.server.registry.get("router").unwrap().id.clone();
    assert_ne!(second_version, first_version);

    // A broken replacement is refused; the running version keeps answering.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let broken_at = Instant::now();
    replace_component(&plugin_dir, b"not a component at all");
    let refusal = loop {
        let (_, status) = server.get("/v1/plugins/router").await;
        if let Some(message) = status["last-refused"]["message"].as_str() {
            break message.to_string();
        }
        assert!(
            broken_at.elapsed() < Duration::from_secs(5),
            "the broken version was not looked at"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(refusal.contains("is not a valid component"), "{refusal}");

    // Both are in the audit log, as the plugin directory's doing.
    let audited = |action: &'static str| {
        let server = server.clone();
        async move {
            let (_, log) = server.get(&format!("/v1/audit?action={action}")).await;
            log.as_array().unwrap().clone()
        }
    };
    let started = Instant::now();
    let (loaded, refused) = loop {
        let (loaded, refused) = (
            audited("plugin.loaded").await,
            audited("plugin.refused").await,
        );
        if !loaded.is_empty() && !refused.is_empty() {
            break (loaded, refused);
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not audited: {loaded:?} {refused:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let load = loaded
        .iter()
        .find(|e| e["detail"]["version"] == second_version.as_str())
        .unwrap_or_else(|| panic!("{loaded:?}"));
    assert_eq!(
        (&load["actor"], &load["target"]),
        (
            &serde_json::json!("plugin-directory"),
            &serde_json::json!("router")
        )
    );
    assert_eq!(load["detail"]["replaced"], first_version.as_str());
    assert!(
        refused[0]["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("is not a valid component"),
        "{refused:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        server.server.registry.get("router").unwrap().id,
        second_version
    );

    running.store(false, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let outcomes = outcomes.lock().await;
    let failures: Vec<&Outcome> = outcomes.iter().filter(|(_, r)| r.is_err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} calls failed: {:?}",
        failures.len(),
        outcomes.len(),
        failures.first()
    );
    assert!(
        outcomes.len() > 20,
        "only {} calls were made",
        outcomes.len()
    );
    let after_broken: Vec<&Outcome> = outcomes.iter().filter(|(at, _)| *at > broken_at).collect();
    assert!(!after_broken.is_empty());
    assert!(
        after_broken
            .iter()
            .all(|(_, r)| r.as_deref() == Ok("agent-longest-idle"))
    );

    // Rollback makes the first version live again.
    let (status, loaded) = server.post("/v1/plugins/router/rollback", json!({})).await;
    assert_eq!(status, 200, "{loaded}");
    assert_eq!(loaded["version"], first_version);
    assert_eq!(loaded["replaced"], second_version);
    assert_eq!(call(&server).await, Ok("agent-old".into()));
    // ...and the other way round, by version prefix.
    let (status, loaded) = server
        .post(
            "/v1/plugins/router/rollback",
            json!({ "to": &second_version[..10] }),
        )
        .await;
    assert_eq!(status, 200, "{loaded}");
    assert_eq!(call(&server).await, Ok("agent-longest-idle".into()));
    // A version that was never loaded is not found, said once.
    let (status, refused) = server
        .post("/v1/plugins/router/rollback", json!({ "to": "ffffffff" }))
        .await;
    assert_eq!(status, 404, "{refused}");
    assert_eq!(refused["code"], "not-found", "{refused}");
    assert_eq!(
        refused["message"],
        "plugin `router`: has no version `ffffffff`"
    );
}

/// The call statistics of every version and the last refusal outlive a
/// rollback and a restart: a bad version's failures stay on record after
/// the good one is live again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_and_refusals_are_kept_across_rollbacks_and_restarts() {
    use parley_plugin::versions::VersionStore;
    use parley_plugin::{LimitPolicy, Registry};
    use parley_tests::{candidates, engine, interaction};

    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    let new_registry = || {
        Registry::new(
            engine(),
            LimitPolicy::default(),
            VersionStore::new(root.path().join("versions")),
        )
    };
    let registry = new_registry();
    let dir = write_plugin(
        &plugins,
        "router",
        "router",
        guests::TEST_ROUTER,
        // Without `agent`, it picks the first candidate.
        "",
    );
    // Loaded as the directory watcher loads them, so a restart does not
    // retry the refused content the directory still holds.
    let good = registry.load_dir(&dir, "watch").await.unwrap().version;
    let (ix, agents) = (interaction("i1"), candidates(3));
    for _ in 0..3 {
        let live = registry.get("router").unwrap();
        live.pick_agent(&ix, &agents).await.unwrap();
    }
    // A version whose every call traps goes live and fails twice.
    std::fs::write(
        dir.join("plugin.toml"),
        "name = \"router\"\nworld = \"router\"\n[config]\nbehavior = \"trap\"\n",
    )
    .unwrap();
    let bad = registry.load_dir(&dir, "watch").await.unwrap().version;
    assert_ne!(bad, good);
    for _ in 0..2 {
        let live = registry.get("router").unwrap();
        assert!(live.pick_agent(&ix, &agents).await.is_err());
    }
    // A version refused outright is remembered too.
    std::fs::write(
        dir.join("plugin.toml"),
        "name = \"router\"\nworld = \"screener\"\n",
    )
    .unwrap();
    let refusal = registry.load_dir(&dir, "watch").await.unwrap_err();

    let loaded = registry.rollback("router", Some(&good)).await.unwrap();
    assert_eq!(loaded.version, good);
    let failed = |stats: &parley_plugin::version::StatsSnapshot| -> u64 {
        stats.failures.iter().map(|(_, n)| n).sum()
    };
    let check = |registry: &Registry, good_calls: u64| {
        let status = registry.status("router").unwrap();
        assert_eq!(status.live.id, good);
        assert_eq!(status.live.stats.calls, good_calls);
        let bad_record = status.versions.iter().find(|r| r.id == bad).unwrap();
        let bad_stats = bad_record
            .stats
            .as_ref()
            .expect("the bad version's statistics");
        assert_eq!((bad_stats.calls, failed(bad_stats)), (2, 2));
        let good_record = status.versions.iter().find(|r| r.id == good).unwrap();
        assert_eq!(good_record.stats.as_ref().unwrap().calls, good_calls);
        let refused = status.last_refused.expect("the last refusal");
        assert_eq!(refused.message, refusal.message);
    };
    // The good version's count goes on from where it was.
    check(&registry, 3);
    registry
        .get("router")
        .unwrap()
        .pick_agent(&ix, &agents)
        .await
        .unwrap();
    check(&registry, 4);

    // A restart (the server saves the statistics when it stops) keeps it all.
    registry.save_all_stats();
    drop(registry);
    let restarted = new_registry();
    let errors = restarted.restore(&plugins).await;
    assert!(errors.is_empty(), "{errors:?}");
    check(&restarted, 4);
}
