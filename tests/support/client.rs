//! An HTTP client of a Parley server with one credential, and the steps
//! tests repeat: creating agents, logging in, setting presence, waiting
//! for an interaction to reach a state.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A client with a bearer credential.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// The bearer secret.
    pub token: String,
}

/// How long tests wait for an asynchronous outcome before failing.
pub const PATIENCE: Duration = Duration::from_secs(20);

impl Client {
    /// A client of the server at `base` (`http://host:port`).
    pub fn new(base: &str, token: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    /// The same server with another credential.
    pub fn with_token(&self, token: &str) -> Client {
        Client::new(&self.base, token)
    }

    /// The HTTP client, for requests the helpers do not cover.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    async fn try_send(&self, request: reqwest::RequestBuilder) -> Option<(u16, Value)> {
        let response = request.bearer_auth(&self.token).send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.ok()?))
    }

    /// GET that may find the server gone (`None`).
    pub async fn try_get(&self, path: &str) -> Option<(u16, Value)> {
        self.try_send(self.http.get(self.url(path))).await
    }

    /// POST that may find the server gone (`None`).
    pub async fn try_post(&self, path: &str, body: Value) -> Option<(u16, Value)> {
        self.try_send(self.http.post(self.url(path)).json(&body))
            .await
    }

    /// GET; status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    /// POST JSON; status and JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    /// PUT JSON; status and JSON body.
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    /// DELETE; status and JSON body.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    /// GET that must succeed; the raw body.
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.bytes().await.expect("body").to_vec()
    }

    /// GET that must succeed; the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        String::from_utf8(self.get_bytes(path).await).expect("a UTF-8 body")
    }

    /// POST that must succeed; the body.
    pub async fn ok_post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {answer}"
        );
        answer
    }

    /// Creates an agent (admin) with a password; the account.
    pub async fn create_agent(&self, spec: Value) -> Value {
        self.ok_post("/v1/agents", spec).await
    }

    /// Logs `id` in; a client with its session token.
    pub async fn login(&self, id: &str, password: &str) -> Client {
        let session = self
            .ok_post("/v1/sessions", json!({"id": id, "password": password}))
            .await;
        self.with_token(session["token"].as_str().expect("a token"))
    }

    /// Creates account `id` with `role` (name `Agent <id>`, three chats at
    /// a time), logs it in and makes it ready for chats; its client.
    pub async fn ready_agent(&self, id: &str, role: &str) -> Client {
        let mut spec = agent_spec(id, json!({"chat": 3}));
        spec["role"] = json!(role);
        spec["name"] = json!(format!("Agent {id}"));
        self.create_agent(spec).await;
        let agent = self.login(id, &format!("password-{id}")).await;
        agent.presence(id, &["chat"], "ready").await;
        agent
    }

    /// PATCH JSON; status and JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    /// Sets the presence of `agent` on `media` (all if empty).
    pub async fn presence(&self, agent: &str, media: &[&str], state: &str) -> Value {
        let (status, body) = self
            .put(
                &format!("/v1/agents/{agent}/presence"),
                json!({"media": media, "state": state}),
            )
            .await;
        assert_eq!(status, 200, "presence of {agent}: {body}");
        body
    }

    /// Submits an interaction; the stored one.
    pub async fn submit(&self, body: Value) -> Value {
        self.ok_post("/v1/interactions", body).await
    }

    /// Waits until interaction `id` satisfies `done`; returns it.
    pub async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (_, interaction) = self.get(&format!("/v1/interactions/{id}")).await;
            if done(&interaction) {
                return interaction;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "interaction {id} never became {what}: {interaction}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (with this client, a supervisor's) for interaction `id` to be
    /// offered to `agent_id`, and accepts it as `agent`.
    pub async fn accept_when_offered(&self, agent: &Client, agent_id: &str, id: &str) {
        self.wait_for(id, &format!("offered to {agent_id}"), |i| {
            i["state"] == "offered" && i["owner"] == agent_id
        })
        .await;
        agent
            .ok_post(&format!("/v1/interactions/{id}/accept"), json!({}))
            .await;
    }

    /// Waits until interaction `id` was routed and waits in its queue (the
    /// strategy found no agent); needs a supervisor's credential.
    pub async fn wait_waiting(&self, id: &str) {
        let start = Instant::now();
        loop {
            let (_, events) = self.get("/v1/events?after=0&limit=1000").await;
            let kinds: Vec<&str> = events
                .as_array()
                .expect("events")
                .iter()
                .filter(|e| e["interaction-id"] == id)
                .filter_map(|e| e["kind"].as_str())
                .collect();
            if kinds.contains(&"routing") && kinds.last() == Some(&"queued") {
                return;
            }
            assert!(start.elapsed() < PATIENCE, "{id} never waited: {kinds:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until interaction `id` is in `state`; returns it.
    pub async fn wait_state(&self, id: &str, state: &str) -> Value {
        self.wait_for(id, state, |i| i["state"] == state).await
    }
}

/// An agent account: `support` skill level 5, in group `tier1`, password
/// `password-<id>`, with `capacity` limits.
pub fn agent_spec(id: &str, capacity: Value) -> Value {
    json!({
        "id": id,
        "password": format!("password-{id}"),
        "skills": [{"name": "support", "level": 5}, {"name": "email", "level": 5}],
        "groups": ["tier1"],
        "capacity": {"limits": capacity},
    })
}
