//! The plugin admin API: authentication, listing, invoking with JSON,
//! uploads that are validated before they go live, and clear errors.

use base64::Engine as _;
use parley_tests::{TestServer, bundled_plugin};
use serde_json::json;

fn chat(id: &str) -> serde_json::Value {
    json!({"id": id, "tenant": "acme", "media-type": "chat", "queue": "q", "priority": 0,
           "age-ms": 0, "queue-age-ms": 0, "attached": []})
}

/// The text under `key` in every object of a JSON array.
fn each<'a>(list: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_the_admin_token() {
    let server = TestServer::start(|_| {}).await;
    let health = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let anonymous = server
        .http
        .get(server.url("/v1/plugins"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    let wrong = server
        .http
        .get(server.url("/v1/plugins"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_plugins_are_listed_and_invocable() {
    let server = TestServer::start(|_| {}).await;
    let (status, list) = server.get("/v1/plugins").await;
    assert_eq!(status, 200);
    assert_eq!(
        each(&list, "name"),
        ["mime-normalizer", "rules-screener", "skills-router"]
    );
    let (status, out) = server
        .post(
            "/v1/plugins/skills-router/invoke",
            json!({"function": "on-queued", "input": {"interaction": chat("c1")}}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["output"]["ok"]["action"]["route"]["target"]["skills"],
        json!([{"skill": "support", "min-level": 1}])
    );
    assert!(out["fuel"].as_u64().unwrap() > 0);
    let (_, listed) = server.get("/v1/plugins/skills-router").await;
    assert_eq!(
        listed["live"]["stats"]["calls"], 0,
        "a call by hand runs apart from live traffic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_invocations_get_clear_errors() {
    let server = TestServer::start(|_| {}).await;
    let (status, body) = server
        .post("/v1/plugins/nope/invoke", json!({"function": "on-queued"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("plugin-not-found"))
    );
    let (status, body) = server
        .post(
            "/v1/plugins/skills-router/invoke",
            json!({"function": "teleport"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no function `teleport`"),
        "{body}"
    );
    let mut bad = chat("c1");
    bad["priority"] = json!("high");
    let (status, body) = server
        .post(
            "/v1/plugins/skills-router/invoke",
            json!({"function": "on-queued", "input": {"interaction": bad}}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("interaction.priority: expected an integer"),
        "{body}"
    );
    let (_, listed) = server.get("/v1/plugins/skills-router").await;
    assert_eq!(
        listed["live"]["stats"]["calls"], 0,
        "bad input never reaches the plugin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_validated_before_going_live() {
    let server = TestServer::start(|_| {}).await;
    let live = server
        .server
        .registry
        .get("skills-router")
        .unwrap()
        .id
        .clone();
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundled_plugin(tmp.path(), "skills-router");
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let component = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(dir.join("skills_router.wasm")).unwrap());

    // Not a component.
    let (status, body) = server
        .post(
            "/v1/plugins",
            json!({"manifest": manifest, "component": "AAAA"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("plugin-refused"))
    );
    // A new version (other configuration) whose case fails.
    let changed = manifest.replace("relax-after-ms = 30000", "relax-after-ms = 10000");
    assert_ne!(changed, manifest);
    let failing = json!({"function": "on-timer", "input": {"interaction": chat("c"), "tag": "relax"},
                         "expect": {"err": {"kind": "internal", "message": "wrong"}}});
    let (status, body) = server
        .post(
            "/v1/plugins",
            json!({"manifest": changed, "component": component, "cases": {"wrong": failing}}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("1 fixture case(s) failed: wrong"),
        "{body}"
    );
    assert_eq!(
        server.server.registry.get("skills-router").unwrap().id,
        live
    );

    // Without the failing case, it goes live.
    let (status, body) = server
        .post(
            "/v1/plugins",
            json!({"manifest": changed, "component": component}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["replaced"], live);
    assert_ne!(
        server.server.registry.get("skills-router").unwrap().id,
        live
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactions_are_submitted_read_and_followed_through_events() {
    let server = TestServer::start(|_| {}).await;
    // Without a queue it is kept, not routed (routing: tests/all/routing.rs).
    let new = json!({"id": "web-1", "tenant": "acme", "media-type": "chat",
                     "attached": [{"key": "order", "value": {"text": "AB123456"}}]});
    let (status, created) = server.post("/v1/interactions", new.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["state"].as_str(), created["queue"].as_str()),
        (Some("submitted"), None)
    );
    let (status, again) = server.post("/v1/interactions", new).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("duplicate-interaction"))
    );
    let (status, read) = server.get("/v1/interactions/web-1").await;
    assert_eq!((status, &read), (200, &created));
    let (status, missing) = server.get("/v1/interactions/nope").await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (404, Some("interaction-not-found"))
    );
    let (status, bad) = server
        .post(
            "/v1/interactions",
            json!({"tenant": "", "media-type": "chat"}),
        )
        .await;
    assert_eq!((status, bad["code"].as_str()), (400, Some("bad-request")));
    let (status, unknown_field) = server
        .post(
            "/v1/interactions",
            json!({"tenant": "acme", "media-type": "chat", "queu": "x"}),
        )
        .await;
    assert_eq!(
        (status, unknown_field["code"].as_str()),
        (400, Some("bad-request"))
    );
    assert!(
        unknown_field["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `queu`"),
        "{unknown_field}"
    );

    let (status, _) = server
        .post(
            "/v1/interactions",
            json!({"id": "web-2", "tenant": "acme", "media-type": "sms"}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, events) = server.get("/v1/events?after=0").await;
    assert_eq!(each(&events, "kind"), ["submitted", "submitted"]);
    let cursor = events[0]["seq"].as_i64().unwrap();
    let (_, rest) = server.get(&format!("/v1/events?after={cursor}")).await;
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(rest[0]["interaction-id"], "web-2");
}
