//! Capabilities: a plugin reaches files, environment variables, the clock,
//! its key-value store and other plugins only when its manifest grants
//! them; an import it is not granted refuses the whole component. A plugin
//! built against the contract as first released still loads.

use parley_plugin::bindings::routing::{Action, Change, Decision, RouteRequest, Target};
use parley_plugin::bindings::types::{Attribute, Value};
use parley_plugin::invoke::{call_json, export_type, find_export, params_from_json};
use parley_plugin::manifest::OperatorSecret;
use parley_plugin::versions::VersionStore;
use parley_plugin::world::imported_functions;
use parley_plugin::{GrantPolicy, LimitPolicy, Registry};
use parley_tests::{bundled_plugin, engine, guests, interaction, write_plugin};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A registry with the bundled screener and a probe router granted
/// `grants` (and the secret it reads), on a server whose operator lets
/// manifests grant `PATH`.
async fn registry_with_probe(root: &Path, grants: &str) -> (Arc<Registry>, Result<(), String>) {
    let policy = LimitPolicy {
        grants: GrantPolicy {
            env: vec!["PATH".into()],
            http: vec!["http://127.0.0.1:9".parse().unwrap()],
            secrets: BTreeMap::from([(
                "probe-token".to_string(),
                OperatorSecret {
                    value: "probe-token-value".into(),
                    plugins: vec!["probe".into()],
                },
            )]),
            ..GrantPolicy::default()
        },
        ..LimitPolicy::default()
    };
    let registry = Registry::new(engine(), policy, VersionStore::new(root.join("versions")));
    let plugins = root.join("plugins");
    registry
        .load_dir(&bundled_plugin(&plugins, "rules-screener"), "test")
        .await
        .unwrap();
    let probe = write_plugin(
        &plugins,
        "probe",
        "router",
        guests::PROBE_ROUTER,
        &format!(
            "[capabilities]\nsecrets = [\"probe-token\"]\nhttp = [\"http://127.0.0.1:9\"]\n{grants}"
        ),
    );
    std::fs::create_dir_all(probe.join("data")).unwrap();
    std::fs::write(probe.join("data/hello.txt"), "hello from the host").unwrap();
    let loaded = registry
        .load_dir(&probe, "test")
        .await
        .map(drop)
        .map_err(|e| e.to_string());
    (registry, loaded)
}

/// Runs the probes and returns each one's outcome.
async fn probe(registry: &Registry, probes: &[&str]) -> BTreeMap<String, String> {
    let mut ix = interaction("probe");
    ix.subject = Some("I want a refund".into());
    ix.attached.push(Attribute {
        key: "probe".into(),
        value: Value::Texts(probes.iter().map(|p| p.to_string()).collect()),
    });
    let Decision { changes, .. } = registry
        .get("probe")
        .unwrap()
        .on_queued(&ix)
        .await
        .unwrap()
        .value;
    changes
        .into_iter()
        .filter_map(|change| match change {
            Change::SetAttribute(Attribute {
                key,
                value: Value::Text(text),
            }) => Some((key, text)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn granted_capabilities_are_reachable() {
    let root = tempfile::tempdir().unwrap();
    let grants = r#"kv = true
clock = true
calls = ["rules-screener"]
env = ["PATH"]
directories = [{ host = "data", guest = "/data" }]"#;
    let (registry, loaded) = registry_with_probe(root.path(), grants).await;
    loaded.unwrap();
    let out = probe(
        &registry,
        &[
            "read:/data/hello.txt",
            "write:/data/new.txt",
            "env:PATH",
            "clock",
            "kv",
            "screen:rules-screener",
            "screen-interaction:rules-screener",
        ],
    )
    .await;
    assert_eq!(out["read:/data/hello.txt"], "hello from the host");
    assert!(
        out["write:/data/new.txt"].starts_with("error"),
        "read-only grant: {out:?}"
    );
    assert!(!root.path().join("plugins/probe/data/new.txt").exists());
    assert_eq!(out["env:PATH"], std::env::var("PATH").unwrap());
    let now: u64 = out["clock"].parse().unwrap();
    assert!(now > 1_700_000_000, "clock reads {now}");
    assert_eq!(out["kv"], "1");
    assert_eq!(out["screen:rules-screener"], "billing=0.9");
    assert_eq!(
        out["screen-interaction:rules-screener"],
        "error: ErrorKind::Unavailable: no stored interactions are reachable here",
        "a registry without a server stores no interactions"
    );
    // The key-value store keeps its state across calls.
    assert_eq!(probe(&registry, &["kv"]).await["kv"], "2");
}

/// A call made by hand (the invoke API) runs apart: a key-value store of
/// its own, and uncounted in the live version's statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_apart_keeps_off_the_live_store_and_statistics() {
    let root = tempfile::tempdir().unwrap();
    let grants = "kv = true\ncalls = [\"rules-screener\"]";
    let (registry, loaded) = registry_with_probe(root.path(), grants).await;
    loaded.unwrap();
    assert_eq!(probe(&registry, &["kv"]).await["kv"], "1");
    let version = registry.get("probe").unwrap();
    let function = export_type(&version, "on-queued").unwrap();
    let mut input = serde_json::Map::new();
    input.insert(
        "interaction".into(),
        serde_json::json!({
            "id": "apart", "tenant": "acme", "media-type": "chat", "queue": "inbound",
            "priority": 0, "age-ms": 0, "queue-age-ms": 0,
            "attached": [{"key": "probe", "value": {"texts": ["kv"]}}]
        }),
    );
    let params = params_from_json(&function, "on-queued", &input).unwrap();
    let export = version.export_name();
    for _ in 0..2 {
        let called = version
            .call_apart(async |store, guest| {
                let func = find_export(store, &guest.instance, export, "on-queued").unwrap();
                call_json(store, func, &params).await
            })
            .await
            .unwrap();
        let changes = called.value["ok"]["changes"].to_string();
        assert!(
            changes.contains(r#"{"key":"kv","value":{"text":"1"}}"#),
            "an empty store each time: {changes}"
        );
    }
    assert_eq!(version.stats().calls, 1, "only the live call counts");
    assert_eq!(probe(&registry, &["kv"]).await["kv"], "2", "the live store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writable_directory_grant_allows_writes_there_only() {
    let root = tempfile::tempdir().unwrap();
    let grants = r#"kv = true
calls = ["rules-screener"]
directories = [{ host = "data", guest = "/data", writable = true }]"#;
    let (registry, loaded) = registry_with_probe(root.path(), grants).await;
    loaded.unwrap();
    let out = probe(
        &registry,
        &[
            "write:/data/new.txt",
            "write:/etc/evil.txt",
            "read:/etc/passwd",
        ],
    )
    .await;
    assert_eq!(out["write:/data/new.txt"], "written");
    assert_eq!(
        std::fs::read_to_string(root.path().join("plugins/probe/data/new.txt")).unwrap(),
        "written by probe-router"
    );
    assert!(out["write:/etc/evil.txt"].starts_with("error"), "{out:?}");
    assert!(out["read:/etc/passwd"].starts_with("error"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ungranted_capabilities_are_denied() {
    let root = tempfile::tempdir().unwrap();
    let (registry, loaded) =
        registry_with_probe(root.path(), "kv = true\ncalls = [\"other\"]").await;
    loaded.unwrap();
    let out = probe(
        &registry,
        &[
            "read:/data/hello.txt",
            "env:PATH",
            "env:HOME",
            "clock",
            "screen:rules-screener",
            "screen-interaction:rules-screener",
        ],
    )
    .await;
    assert!(out["read:/data/hello.txt"].starts_with("error"), "{out:?}");
    assert_eq!(out["env:PATH"], "error: environment variable not found");
    assert_eq!(out["env:HOME"], "error: environment variable not found");
    assert_eq!(
        out["clock"], "0",
        "WASI clocks read zero without the clock grant"
    );
    for call in ["screen:rules-screener", "screen-interaction:rules-screener"] {
        assert_eq!(
            out[call],
            "error: ErrorKind::Denied: the manifest does not grant calls to `rules-screener`"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_built_against_the_first_contract_still_loads() {
    let root = tempfile::tempdir().unwrap();
    let registry = Registry::new(
        engine(),
        LimitPolicy::default(),
        VersionStore::new(root.path().join("versions")),
    );
    let plugins = root.path().join("plugins");
    registry
        .load_dir(&bundled_plugin(&plugins, "rules-screener"), "test")
        .await
        .unwrap();
    let legacy = write_plugin(
        &plugins,
        "legacy",
        "router",
        guests::LEGACY_ROUTER,
        "[capabilities]\ncalls = [\"rules-screener\"]\n[config]\nscreener = \"rules-screener\"",
    );
    registry.load_dir(&legacy, "test").await.unwrap();
    let version = registry.get("legacy").unwrap();
    // It knows `plugins` without `screen-interaction`, added since.
    let imports = imported_functions(version.component(), version.engine().engine());
    let plugins_import: Vec<&str> = imports
        .iter()
        .find(|(interface, _)| interface == "parley:plugin/plugins@0.1.0")
        .map(|(_, functions)| functions.iter().map(|(f, _)| f.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(plugins_import, ["screen"]);
    let mut ix = interaction("legacy");
    ix.subject = Some("I want a refund".into());
    let decision = version.on_queued(&ix).await.unwrap().value;
    match decision.action {
        Action::Route(RouteRequest {
            target: Target::Agent(agent),
            ..
        }) => assert_eq!(agent, "billing", "routed on the screened category"),
        other => panic!("unexpected action {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ungranted_import_refuses_the_component() {
    let root = tempfile::tempdir().unwrap();
    let (registry, loaded) = registry_with_probe(root.path(), "").await;
    let err = loaded.unwrap_err();
    assert!(err.contains("plugin `probe`"), "{err}");
    assert!(
        err.contains("parley:plugin/kv@0.2.0") && err.contains("kv = true"),
        "{err}"
    );
    assert!(
        err.contains("parley:plugin/plugins@0.2.0") && err.contains("calls = [...]"),
        "{err}"
    );
    assert!(registry.get("probe").is_err(), "nothing was loaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_granted_directory_refuses_the_version() {
    let root = tempfile::tempdir().unwrap();
    let grants = "kv = true\ncalls = [\"rules-screener\"]\ndirectories = [{ host = \"nowhere\", guest = \"/data\" }]";
    let (registry, loaded) = registry_with_probe(root.path(), grants).await;
    let err = loaded.unwrap_err();
    assert!(err.contains("directory grant /data: cannot open"), "{err}");
    assert!(err.contains("nowhere"), "{err}");
    assert!(registry.get("probe").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_beyond_the_operators_policy_refuse_the_version() {
    for (grants, refusal) in [
        // The host's environment, beyond what the operator allows.
        (
            "env = [\"PARLEY_ADMIN_TOKEN\"]",
            "`PARLEY_ADMIN_TOKEN` may not be granted",
        ),
        // The whole file system, read-write.
        (
            "directories = [{ host = \"/\", guest = \"/\", writable = true }]",
            "the directory / may not be granted",
        ),
        // Out of its own directory by a relative path.
        (
            "directories = [{ host = \"..\", guest = \"/up\" }]",
            "may not be granted",
        ),
    ] {
        let root = tempfile::tempdir().unwrap();
        let grants = format!("kv = true\ncalls = [\"rules-screener\"]\n{grants}");
        let (registry, loaded) = registry_with_probe(root.path(), &grants).await;
        let err = loaded.unwrap_err();
        assert!(err.contains(refusal), "{grants}: {err}");
        assert!(
            registry.get("probe").is_err(),
            "{grants}: nothing was loaded"
        );
    }
}
