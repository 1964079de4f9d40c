//! Accounts, credentials and roles, on SQLite and PostgreSQL: passwords
//! stored hashed, sessions, API keys, and the role each route needs.

use parley_tests::TestServer;
use parley_tests::client::{Client, agent_spec};
use parley_tests::database::TestDb;
use serde_json::json;
use sqlx::Connection;

async fn server(db: &TestDb) -> (TestServer, Client) {
    let server = TestServer::on_database(db.url(), "").await;
    let admin = server.admin();
    (server, admin)
}

async fn passwords_are_hashed_and_sessions_end(db: &TestDb) {
    let (_server, admin) = server(db).await;
    let ann = admin
        .create_agent(agent_spec("ann", json!({"chat": 2})))
        .await;
    assert!(
        ann.get("password").is_none() && ann.get("password-hash").is_none(),
        "{ann}"
    );
    let mut conn = sqlx::AnyConnection::connect(&db.url()).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM agents WHERE id = 'ann'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$") && !stored.contains("password-ann"),
        "{stored}"
    );

    let (status, wrong) = admin
        .post(
            "/v1/sessions",
            json!({"id": "ann", "password": "not-her-password"}),
        )
        .await;
    assert_eq!(
        (status, wrong["code"].as_str()),
        (401, Some("bad-credentials"))
    );
    let (status, _) = admin
        .post(
            "/v1/sessions",
            json!({"id": "nobody", "password": "whatever-1"}),
        )
        .await;
    assert_eq!(status, 401);

    let session = admin.login("ann", "password-ann").await;
    let (status, me) = session.get("/v1/me").await;
    assert_eq!(
        (status, me["principal"]["role"].as_str()),
        (200, Some("agent"))
    );
    assert_eq!(me["agent"]["id"], "ann");
    let (status, _) = session.delete("/v1/sessions/current").await;
    assert_eq!(status, 204);
    let (status, body) = session.get("/v1/me").await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    let (status, _) = admin.with_token("made-up").get("/v1/me").await;
    assert_eq!(status, 401);
}

async fn roles_are_enforced_on_every_route(db: &TestDb) {
    let (_server, admin) = server(db).await;
    admin
        .create_agent(agent_spec("ann", json!({"chat": 1})))
        .await;
    admin
        .create_agent(agent_spec("bob", json!({"chat": 1})))
        .await;
    let ann = admin.login("ann", "password-ann").await;
    // An agent: its own account and presence only; no admin or supervisor routes.
    for path in [
        "/v1/agents",
        "/v1/stats/queues",
        "/v1/processes",
        "/v1/plugins",
        "/v1/api-keys",
    ] {
        let (status, body) = ann.get(path).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{path}: {body}"
        );
    }
    let (status, _) = ann.get("/v1/agents/bob").await;
    assert_eq!(status, 403);
    let (status, _) = ann
        .put("/v1/agents/bob/presence", json!({"state": "ready"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = ann.post("/v1/agents", agent_spec("eve", json!({}))).await;
    assert_eq!(status, 403);

    // An API key acts with its role: supervisor reads, cannot administer.
    let key = admin
        .ok_post(
            "/v1/api-keys",
            json!({"name": "wallboard", "role": "supervisor"}),
        )
        .await;
    let wallboard = admin.with_token(key["key"].as_str().unwrap());
    let (status, agents) = wallboard.get("/v1/agents").await;
    assert_eq!(status, 200);
    assert_eq!(agents.as_array().unwrap().len(), 2);
    let (status, _) = wallboard
        .post("/v1/agents", agent_spec("eve", json!({})))
        .await;
    assert_eq!(status, 403);
    let (status, _) = wallboard
        .put("/v1/agents/bob/presence", json!({"state": "ready"}))
        .await;
    assert_eq!(status, 200, "supervisors set anyone's presence");
    let (_, keys) = admin.get("/v1/api-keys").await;
    assert_eq!(keys[0]["name"], "wallboard");
    assert!(keys[0].get("key").is_none() && keys[0].get("hash").is_none());
    let (status, duplicate) = admin
        .post(
            "/v1/api-keys",
            json!({"name": "wallboard", "role": "agent"}),
        )
        .await;
    assert_eq!(
        (status, duplicate["code"].as_str()),
        (409, Some("duplicate"))
    );
    let (status, _) = admin.delete("/v1/api-keys/wallboard").await;
    assert_eq!(status, 204);
    let (status, _) = wallboard.get("/v1/agents").await;
    assert_eq!(status, 401, "a revoked key is refused at once");

    // A role change ends the account's sessions; the next one has it.
    let mut promoted = agent_spec("ann", json!({"chat": 1}));
    promoted["role"] = json!("supervisor");
    let (status, _) = admin.put("/v1/agents/ann", promoted).await;
    assert_eq!(status, 200);
    let (status, _) = ann.get("/v1/agents").await;
    assert_eq!(status, 401);
    let ann = admin.login("ann", "password-ann").await;
    let (status, _) = ann.get("/v1/agents").await;
    assert_eq!(status, 200);

    // Bad input is refused with a clear error and changes nothing.
    let (status, body) = admin
        .post(
            "/v1/agents",
            json!({"id": "x", "password": "short", "capacity": {"limits": {"chat": 1}}}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("at least 8"),
        "{body}"
    );
    let (status, body) = admin.post("/v1/agents", agent_spec("bob", json!({}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("duplicate-agent"))
    );
    let (status, body) = admin
        .put("/v1/agents/bob/presence", json!({"state": "dancing"}))
        .await;
    assert_eq!(status, 400, "{body}");
}

async fn administrative_actions_are_audited(db: &TestDb) {
    let (_server, admin) = TestServer::with_admin(Some(db), "").await;
    admin
        .create_agent(agent_spec("ann", json!({"chat": 1})))
        .await;
    let mut spec = agent_spec("ann", json!({"chat": 2}));
    spec["password"] = json!("a-new-password");
    assert_eq!(admin.put("/v1/agents/ann", spec).await.0, 200);
    let key = admin
        .ok_post("/v1/api-keys", json!({"name": "crm", "role": "supervisor"}))
        .await;
    assert_eq!(admin.delete("/v1/api-keys/crm").await.0, 204);
    assert_eq!(admin.delete("/v1/agents/ann").await.0, 204);

    let (status, log) = admin.get("/v1/audit").await;
    assert_eq!(status, 200, "{log}");
    let actions: Vec<(&str, &str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("admin", "account.deleted", "ann"),
            ("admin", "api-key.deleted", "crm"),
            ("admin", "api-key.created", "crm"),
            ("admin", "account.replaced", "ann"),
            ("admin", "account.created", "ann"),
        ]
    );
    assert_eq!(log[3]["detail"]["new-password"], true);
    assert!(
        !log.to_string().contains(key["key"].as_str().unwrap()),
        "no secret is logged"
    );
    // Filtered and paged.
    let (_, created) = admin.get("/v1/audit?action=api-key.created").await;
    assert_eq!(created.as_array().unwrap().len(), 1);
    let newest = log[0]["id"].as_str().unwrap();
    let (_, older) = admin
        .get(&format!("/v1/audit?before={newest}&limit=2"))
        .await;
    assert_eq!(older.as_array().unwrap().len(), 2);
    assert_eq!(older[0]["action"], "api-key.deleted");
    // Administrators only.
    admin.create_agent(agent_spec("sue", json!({}))).await;
    let mut sue = agent_spec("sue", json!({}));
    sue["role"] = json!("supervisor");
    admin.put("/v1/agents/sue", sue).await;
    let sue = admin.login("sue", "password-sue").await;
    assert_eq!(sue.get("/v1/audit").await.0, 403);
}

on_both_backends!(
    passwords_are_hashed_and_sessions_end,
    roles_are_enforced_on_every_route,
    administrative_actions_are_audited,
);
