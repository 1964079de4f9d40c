//! What operators and integrators rely on: `/ready` answers anyone,
//! `/metrics` a supervisor's key, and the demo business process routes a chat to a ready agent
//! through the reference Wasm router using only the documented API (the
//! document itself is tested in `openapi.rs`).

use parley_tests::TestServer;
use parley_tests::client::agent_spec;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_and_metrics_answer() {
    let server = TestServer::start(|_| {}).await;
    let admin = server.admin();
    let (status, ready) = admin.with_token("").get("/ready").await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")));
    admin
        .create_agent(agent_spec("ann", json!({"chat": 3})))
        .await;
    admin.presence("ann", &["chat"], "ready").await;
    let id = admin
        .submit(json!({"tenant": "acme", "media-type": "chat", "queue": "inbound"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin.wait_state(&id, "offered").await;
    let anonymous = reqwest::get(admin.url("/metrics")).await.unwrap();
    assert_eq!(anonymous.status(), 401, "/metrics needs a credential");
    let scraper = admin
        .ok_post(
            "/v1/api-keys",
            json!({"name": "prometheus", "role": "supervisor"}),
        )
        .await;
    let metrics = admin
        .http()
        .get(admin.url("/metrics"))
        .bearer_auth(scraper["key"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "parley_offered_total 1",
        "parley_agents_ready{media=\"chat\"} 1",
        "parley_agent_load{media=\"chat\"} 1",
        "parley_queue_waiting{queue=\"inbound\"} 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in:\n{metrics}"
        );
    }
    // Plugin calls by plugin and version: the router decided and picked.
    let (_, router) = admin.get("/v1/plugins/skills-router").await;
    let version = &router["live"]["id"].as_str().unwrap()[..12];
    let calls =
        format!("parley_plugin_calls_total{{plugin=\"skills-router\",version=\"{version}\"}} ");
    let counted: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&calls))
        .unwrap_or_else(|| panic!("no `{calls}` in:\n{metrics}"))
        .parse()
        .unwrap();
    assert!(counted >= 2, "{counted} calls");
}

/// The steps the README shows, with the demo business process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_process_routes_a_chat_to_a_ready_agent() {
    let server = TestServer::start(|_| {}).await;
    let admin = server.admin();
    admin
        .create_agent(json!({
            "id": "ann", "password": "ann-secret-1",
            "skills": [{"name": "support", "level": 3}],
            "capacity": {"limits": {"chat": 3, "email": 1}, "blocks": {"chat": ["email"]}}
        }))
        .await;
    let ann = admin.login("ann", "ann-secret-1").await;
    ann.presence("ann", &["chat"], "ready").await;
    let chat = admin
        .submit(json!({"tenant": "demo", "media-type": "chat", "queue": "inbound"}))
        .await;
    let id = chat["id"].as_str().unwrap();
    let offered = ann.wait_state(id, "offered").await;
    assert_eq!(offered["owner"], "ann");
    ann.ok_post(&format!("/v1/interactions/{id}/accept"), json!({}))
        .await;
    let (_, plugins) = admin.get("/v1/plugins/skills-router").await;
    assert!(
        plugins["live"]["stats"]["calls"].as_u64().unwrap() >= 2,
        "{plugins}"
    );
}
