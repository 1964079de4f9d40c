//! Watching a router on live traffic: a recording of its decisions
//! (sampled, masked) replayed with `parley plugin replay` against the same
//! version (nothing changes) and a deliberately different one (decisions
//! change), and a candidate in the live version's shadow, compared and
//! never acted on.

use parley_tests::client::{Client, agent_spec};
use parley_tests::{Options, TestServer, bundled_plugin, parley_bin};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// The reference router's manifest asking for `support` at level 2 instead
/// of 1: on-queued decides differently.
fn stricter(manifest: &str) -> String {
    let changed = manifest.replace(
        "skill = \"support\", level = 1",
        "skill = \"support\", level = 2",
    );
    assert_ne!(
        changed, manifest,
        "the requirement to change is in the manifest"
    );
    changed
}

/// `n` chats for queue `inbound`, with the customer's address attached.
async fn submit_chats(admin: &Client, n: usize, tag: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let submitted = admin
            .submit(json!({
                "tenant": "acme", "media-type": "chat", "queue": "inbound",
                "attached": [
                    {"key": "email", "value": {"text": format!("customer-{tag}-{i}@example.com")}},
                    {"key": "segment", "value": {"text": "standard"}},
                ],
            }))
            .await;
        ids.push(submitted["id"].as_str().unwrap().to_string());
    }
    ids
}

/// Every one of `ids` offered to an agent.
async fn wait_offered(admin: &Client, ids: &[String]) {
    for id in ids {
        admin
            .wait_for(id, "offered", |i| i["state"] == "offered")
            .await;
    }
}

fn replay(recording: &Path, plugin: &str) -> Value {
    let out = std::process::Command::new(parley_bin())
        .args(["plugin", "replay", "--json"])
        .arg(recording)
        .arg(plugin)
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("parley-cli-tests"),
        )
        .output()
        .expect("parley runs");
    assert!(
        out.status.success(),
        "replay failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_replays_the_same_on_the_same_version_and_shows_changes() {
    let options = Options {
        settings: "[[recording]]\nplugin = \"skills-router\"\nsample = 1.0\n".into(),
        ..Options::default()
    };
    let server = TestServer::start_with(options, |_| {}).await;
    let admin = server.admin();
    for agent in ["ann", "bob"] {
        admin
            .create_agent(agent_spec(agent, json!({"chat": 10})))
            .await;
        let client = admin.login(agent, &format!("password-{agent}")).await;
        client.presence(agent, &["chat"], "ready").await;
    }
    let ids = submit_chats(&admin, 6, "rec").await;
    wait_offered(&admin, &ids).await;

    let (status, recording) = admin.get("/v1/plugins/skills-router/recording").await;
    assert_eq!(status, 200, "{recording}");
    assert!(
        recording["recorded"].as_u64().unwrap() >= 12,
        "on-queued and pick-agent of each: {recording}"
    );
    let lines = admin
        .http()
        .get(server.url("/v1/plugins/skills-router/recording/calls"))
        .bearer_auth("test-admin-token-0123")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The customer's address is masked, consistently.
    assert!(
        !lines.contains("@example.com"),
        "an address was recorded: {lines}"
    );
    assert!(lines.contains("masked:"));
    assert!(lines.contains("\"standard\""), "unmasked fields stay");
    let functions: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["case"]["function"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(functions.iter().any(|f| f == "on-queued"), "{functions:?}");
    assert!(functions.iter().any(|f| f == "pick-agent"), "{functions:?}");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("skills-router.jsonl");
    std::fs::write(&file, &lines).unwrap();

    // The same version decides every call the same way.
    let same = replay(&file, "skills-router");
    assert_eq!(same["calls"], json!(functions.len()), "{same}");
    assert_eq!(same["changed"], json!([]), "{same}");

    // A stricter version changes each on-queued decision, and nothing else.
    let dir = bundled_plugin(tmp.path(), "skills-router");
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    std::fs::write(dir.join("plugin.toml"), stricter(&manifest)).unwrap();
    std::fs::remove_dir_all(dir.join("cases")).unwrap();
    let other = replay(&file, dir.to_str().unwrap());
    let changed = other["changed"].as_array().unwrap();
    let queued = functions.iter().filter(|f| *f == "on-queued").count();
    assert_eq!(changed.len(), queued, "{other}");
    assert!(
        changed.iter().all(|c| c["function"] == "on-queued"),
        "{other}"
    );
    let diff = changed[0]["diff"].as_str().unwrap();
    assert!(diff.contains("\"min-level\": 2"), "{diff}");
}

/// Waits until the shadow of `plugin` compared `n` calls; its summary.
async fn compared(admin: &Client, n: u64) -> Value {
    let start = Instant::now();
    loop {
        let (status, summary) = admin.get("/v1/plugins/skills-router/shadow").await;
        assert_eq!(status, 200, "{summary}");
        if summary["total"]["compared"].as_u64().unwrap_or(0)
            + summary["total"]["failed"].as_u64().unwrap_or(0)
            >= n
        {
            return summary;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{summary}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_candidate_is_compared_and_never_acted_on() {
    let server = TestServer::start(|_| {}).await;
    let admin = server.admin();
    admin
        .create_agent(agent_spec("ann", json!({"chat": 20})))
        .await;
    let ann = admin.login("ann", "password-ann").await;
    ann.presence("ann", &["chat"], "ready").await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundled_plugin(tmp.path(), "skills-router");
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let component = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        std::fs::read(dir.join("skills_router.wasm")).unwrap(),
    );

    let (_, before) = admin.get("/v1/plugins/skills-router").await;
    let live = before["live"]["id"].clone();
    assert!(live.is_string(), "{before}");

    // The same strategy (another version: its description differs) agrees.
    let twin = manifest.replace("description = \"", "description = \"Twin: ");
    let (status, started) = admin
        .post(
            "/v1/plugins/skills-router/shadow",
            json!({"manifest": twin, "component": component}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let ids = submit_chats(&admin, 4, "twin").await;
    wait_offered(&admin, &ids).await;
    let summary = compared(&admin, 8).await;
    assert_eq!(summary["agreement"], json!(1.0), "{summary}");
    assert_eq!(summary["disagreements"], json!([]), "{summary}");

    // A stricter one disagrees on on-queued; routing follows the live one
    // (ann has support level 5, so both would find her; the decision
    // itself differs).
    let (status, _) = admin
        .post(
            "/v1/plugins/skills-router/shadow",
            json!({"manifest": stricter(&manifest), "component": component}),
        )
        .await;
    assert_eq!(status, 200);
    let ids = submit_chats(&admin, 4, "strict").await;
    wait_offered(&admin, &ids).await;
    let summary = compared(&admin, 8).await;
    let on_queued = &summary["functions"]["on-queued"];
    assert_eq!(on_queued["compared"], json!(4), "{summary}");
    assert_eq!(on_queued["agreed"], json!(0), "{summary}");
    assert_eq!(
        summary["functions"]["pick-agent"]["agreed"],
        json!(4),
        "{summary}"
    );
    assert_eq!(summary["agreement"], json!(0.5), "{summary}");
    let d = &summary["disagreements"][0];
    assert_eq!(d["function"], "on-queued");
    assert!(ids.iter().any(|id| d["interaction"] == json!(id)), "{d}");
    assert_eq!(
        d["live"]["ok"]["action"]["route"]["target"]["skills"][0]["min-level"], 1,
        "{d}"
    );
    assert_eq!(
        d["candidate"]["ok"]["action"]["route"]["target"]["skills"][0]["min-level"], 2,
        "{d}"
    );
    // The live version is still the one it was.
    let (_, now) = admin.get("/v1/plugins/skills-router").await;
    assert_eq!(now["live"]["id"], live, "{now}");

    let (status, last) = admin.delete("/v1/plugins/skills-router/shadow").await;
    assert_eq!(status, 200, "{last}");
    let (status, _) = admin.get("/v1/plugins/skills-router/shadow").await;
    assert_eq!(status, 404);
}
