//! The attacks a server on the open internet meets, each tried against a
//! running server and each failing: password floods, slow and idle
//! connections, floods of anonymous chats, messages, files and sockets,
//! customers steering routing, streams outliving their session, refused
//! operations with side effects, coaching seen by the customer.

use parley_tests::TestServer;
use parley_tests::chat::{self, agent_socket};
use parley_tests::client::{Client, PATIENCE, agent_spec};
use parley_tests::database::TestDb;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs a login; status, `Retry-After` and body.
async fn log_in(admin: &Client, id: &str, password: &str) -> (u16, Option<u64>, Value) {
    let response = admin
        .http()
        .post(admin.url("/v1/sessions"))
        .json(&json!({"id": id, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (
        status,
        retry_after,
        response.json().await.unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_flood_from_one_address_is_refused_after_its_burst() {
    let (_server, admin) = TestServer::with_admin(
        None,
        "[quotas]\nlogin = { per-minute = 60, burst = 20 }\nlogin-failures = 1000",
    )
    .await;
    // 200 parallel attempts on as many unknown ids (no account backoff).
    let attempts = (0..200).map(|n| {
        let admin = admin.clone();
        async move { log_in(&admin, &format!("nobody-{n}"), "wrong-password").await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let refused: Vec<_> = answers.iter().filter(|(s, ..)| *s == 429).collect();
    let verified = answers.iter().filter(|(s, ..)| *s == 401).count();
    assert_eq!(
        refused.len() + verified,
        200,
        "only 401 and 429: {answers:?}"
    );
    // The burst, and what the rate refilled while the flood lasted.
    assert!((20..=60).contains(&verified), "{verified} verified");
    for (_, retry_after, body) in refused {
        assert_eq!(body["code"], "rate-limited", "{body}");
        assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    }
    let (status, _) = admin.get("/health").await;
    assert_eq!(status, 200);
    let metrics = admin.get_text("/metrics").await;
    let counted = metrics
        .lines()
        .find_map(|l| l.strip_prefix("parley_rate_limited_total{limit=\"login\"} "))
        .map(|n| n.parse::<usize>().unwrap());
    assert_eq!(counted, Some(200 - verified), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_make_an_account_wait_known_or_not() {
    let (_server, admin) = TestServer::with_admin(
        None,
        "[quotas]\nlogin = { per-minute = 0, burst = 0 }\nlogin-backoff-s = 600",
    )
    .await;
    admin.create_agent(agent_spec("ann", json!({}))).await;
    admin.create_agent(agent_spec("bob", json!({}))).await;
    // The same answers for an account that exists and one that does not.
    for id in ["ann", "nobody"] {
        for _ in 0..5 {
            let (status, _, body) = log_in(&admin, id, "wrong-password").await;
            assert_eq!(
                (status, body["code"].as_str()),
                (401, Some("bad-credentials")),
                "{id}: {body}"
            );
        }
        let (status, retry_after, body) = log_in(&admin, id, "wrong-password").await;
        assert_eq!((status, body["code"].as_str()), (429, Some("rate-limited")));
        assert_eq!(
            retry_after,
            Some(600),
            "{id}: the first wait is the setting's"
        );
    }
    // Even the right password waits its turn; other accounts do not.
    let (status, ..) = log_in(&admin, "ann", "password-ann").await;
    assert_eq!(status, 429);
    let (status, ..) = log_in(&admin, "bob", "password-bob").await;
    assert_eq!(status, 201);
}

/// Connects and waits until the server closes the connection; what it
/// sent first, if anything.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_surplus_connections_are_closed() {
    let (server, admin) = TestServer::with_admin(
        None,
        "[http]\nheader-timeout-s = 1\nidle-timeout-s = 2\nmax-connections-per-address = 3",
    )
    .await;
    let addr = server.server.addr;
    // Headers that never end.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let answer = closed_by_server(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    // A connection that says nothing.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    closed_by_server(&mut idle).await;
    // A kept-alive connection that goes quiet after a request.
    let mut quiet = tokio::net::TcpStream::connect(addr).await.unwrap();
    quiet
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_by_server(&mut quiet).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Three held connections from one address; a fourth is closed at once.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let mut surplus = tokio::net::TcpStream::connect(addr).await.unwrap();
    surplus
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok();
    assert_eq!(closed_by_server(&mut surplus).await, "");
    drop(held);
    // Their places free again as they close.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while admin.try_get("/health").await.map(|(s, _)| s) != Some(200) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cap never freed"
        );
        tokio::task::yield_now().await;
    }
}

async fn chat_limits(db: &TestDb) {
    let (server, admin) = TestServer::with_admin(
        Some(db),
        "[quotas]\nchat-start = { per-minute = 1, burst = 3 }\n\
         [chat]\ncustomer-messages = { per-minute = 1, burst = 3 }\n\
         max-files-per-session = 2\nmax-file-bytes-per-session = 1000\nmax-sockets-per-session = 2",
    )
    .await;
    let base = format!("http://{}", server.server.addr);
    let mut customers = Vec::new();
    for n in 0..3 {
        customers.push(chat::start(&base, json!({"nickname": format!("c{n}")})).await);
    }
    let fourth = admin
        .http()
        .post(format!("{base}/v1/chat/sessions"))
        .json(&json!({"nickname": "c3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(fourth.status().as_u16(), 429);
    assert!(fourth.headers().contains_key("retry-after"));

    // Messages: the burst, then a wait.
    let customer = &customers[0];
    for n in 0..3 {
        let (status, body) = customer.say(&format!("message {n}")).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = customer.say("one too many").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate-limited")));

    // Files: two, then the quota; bytes count too.
    let other = &customers[1];
    for n in 0..2 {
        let (status, body) = other
            .upload(&format!("f{n}.txt"), "text/plain", b"hello".to_vec())
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = other.upload("f2.txt", "text/plain", b"hi".to_vec()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("quota-exceeded"))
    );
    let third = &customers[2];
    let (status, body) = third
        .upload("big.txt", "text/plain", vec![b'a'; 1001])
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("quota-exceeded"))
    );

    // Sockets: two per chat; an oversized message closes one unread.
    let mut first = third.socket(0).await;
    let _second = third.socket(0).await;
    let url = format!("{}?key={}", third.url("/ws"), third.key).replacen("http://", "ws://", 1);
    let refused = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(refused.to_string().contains("429"), "{refused}");
    first
        .send(json!({"type": "message", "text": "x".repeat(64 * 1024)}))
        .await;
    while first.next().await.is_some() {}
    let (status, transcript) = admin.get(&format!("/v1/chats/{}", third.id)).await;
    assert_eq!(status, 200, "{transcript}");
    assert!(
        !transcript.to_string().contains("xxxx"),
        "nothing of it is stored: {transcript}"
    );

    let metrics = admin.get_text("/metrics").await;
    for line in [
        "parley_rate_limited_total{limit=\"chat-start\"} 1",
        "parley_rate_limited_total{limit=\"chat-message\"} 1",
        "parley_rate_limited_total{limit=\"chat-files\"} 2",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}`:\n{metrics}"
        );
    }
}

async fn customers_cannot_steer_routing(db: &TestDb) {
    let (server, admin) = TestServer::with_admin(
        Some(db),
        "[[chat.widget]]\nname = \"shop\"\nqueues = [\"inbound\"]\nattached-keys = [\"order-id\"]\n",
    )
    .await;
    let base = format!("http://{}", server.server.addr);
    let steering = json!([
        {"key": "order-id", "value": {"text": "A-17"}},
        {"key": "vip", "value": {"boolean": true}},
        {"key": "skills", "value": {"texts": ["platinum"]}},
    ]);
    // The default widget takes no attached data; the shop's takes its key.
    for (widget, kept) in [
        (None, json!([])),
        (
            Some("shop"),
            json!([{"key": "order-id", "value": {"text": "A-17"}}]),
        ),
    ] {
        let customer = chat::start(
            &base,
            json!({"nickname": "Eve", "widget": widget, "attached": steering}),
        )
        .await;
        let (_, interaction) = admin
            .get(&format!("/v1/interactions/{}", customer.id))
            .await;
        assert_eq!(interaction["attached"], kept, "{widget:?}");
    }
    // A queue the widget does not offer, and a widget that does not exist.
    for body in [
        json!({"nickname": "Eve", "queue": "overflow"}),
        json!({"nickname": "Eve", "widget": "shop", "queue": "overflow"}),
        json!({"nickname": "Eve", "widget": "elsewhere"}),
    ] {
        let response = admin
            .http()
            .post(format!("{base}/v1/chat/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{body}");
    }
}

/// Opens `client`'s SSE stream.
async fn event_stream(client: &Client) -> reqwest::Response {
    let response = client
        .http()
        .get(client.url("/v1/events/stream"))
        .bearer_auth(&client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

/// Reads `stream` until the server ends it.
async fn ends(stream: &mut reqwest::Response) {
    tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await
    .expect("the stream ends");
}

async fn sessions_end_with_their_streams(db: &TestDb) {
    let (server, admin) = TestServer::with_admin(Some(db), "").await;
    admin.create_agent(agent_spec("ann", json!({}))).await;
    admin.create_agent(agent_spec("bob", json!({}))).await;

    // Logout: that session's stream and sockets close; another stays.
    let ann = admin.login("ann", "password-ann").await;
    let ann_elsewhere = admin.login("ann", "password-ann").await;
    let mut stream = event_stream(&ann).await;
    let mut socket = agent_socket(&ann).await;
    let (status, _) = ann.delete("/v1/sessions/current").await;
    assert_eq!(status, 204);
    ends(&mut stream).await;
    assert!(socket.next().await.is_none(), "the chat socket closes");
    assert_eq!(ann.get("/v1/me").await.0, 401);
    assert_eq!(ann_elsewhere.get("/v1/me").await.0, 200);

    // A new password ends every session of the account.
    let mut stream = event_stream(&ann_elsewhere).await;
    let mut spec = agent_spec("ann", json!({}));
    spec["password"] = json!("a-new-password");
    let (status, body) = admin.put("/v1/agents/ann", spec).await;
    assert_eq!(status, 200, "{body}");
    ends(&mut stream).await;
    assert_eq!(ann_elsewhere.get("/v1/me").await.0, 401);

    // So does a new role.
    let ann = admin.login("ann", "a-new-password").await;
    let mut stream = event_stream(&ann).await;
    let mut promoted = agent_spec("ann", json!({}));
    promoted["role"] = json!("supervisor");
    promoted.as_object_mut().unwrap().remove("password");
    assert_eq!(admin.put("/v1/agents/ann", promoted).await.0, 200);
    ends(&mut stream).await;
    assert_eq!(ann.get("/v1/me").await.0, 401);

    // And deleting the account.
    let bob = admin.login("bob", "password-bob").await;
    let mut stream = event_stream(&bob).await;
    assert_eq!(admin.delete("/v1/agents/bob").await.0, 204);
    ends(&mut stream).await;
    assert_eq!(bob.get("/v1/me").await.0, 401);

    // Nobody becomes an administrator without the operator's flag.
    let mut admin_spec = agent_spec("root", json!({}));
    admin_spec["role"] = json!("admin");
    let (status, body) = admin.post("/v1/agents", admin_spec).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    drop(server);
}

async fn a_refused_transfer_holds_nothing(db: &TestDb) {
    let (_server, admin) = TestServer::with_admin(Some(db), "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let id = admin
        .submit(json!({"tenant": "acme", "media-type": "chat", "queue": "inbound"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin.accept_when_offered(&ann, "ann", &id).await;
    admin.presence("ann", &["chat"], "not-ready").await;
    let bob = admin.ready_agent("bob", "agent").await;
    let key = admin
        .ok_post("/v1/api-keys", json!({"name": "crm", "role": "agent"}))
        .await;
    let crm = admin.with_token(key["key"].as_str().unwrap());
    for _ in 0..3 {
        let (status, body) = crm
            .post(
                &format!("/v1/interactions/{id}/transfer"),
                json!({"agent": "bob"}),
            )
            .await;
        assert!(status == 403 || status == 409, "{status} {body}");
    }
    // Bob's room is whole (three chats): the next three are his.
    for _ in 0..3 {
        let next = admin
            .submit(json!({"tenant": "acme", "media-type": "chat", "queue": "inbound"}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        admin.accept_when_offered(&bob, "bob", &next).await;
    }
}

on_both_backends!(
    chat_limits,
    customers_cannot_steer_routing,
    sessions_end_with_their_streams,
    a_refused_transfer_holds_nothing,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_the_servers_alone() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start(|_| {}).await;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&server.data_dir), 0o700);
    assert_eq!(mode(&server.data_dir.join("parley.db")), 0o600);
}
