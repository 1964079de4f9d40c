//! The real-time event stream, on SQLite and PostgreSQL: Server-Sent Events
//! and WebSocket deliver the log from a cursor and then live, and a client
//! that reconnects with its last cursor misses nothing and sees nothing
//! twice.

use futures_util::StreamExt;
use parley_tests::TestServer;
use parley_tests::client::{Client, PATIENCE, agent_spec};
use parley_tests::database::TestDb;
use serde_json::{Value, json};

async fn server(db: &TestDb) -> (TestServer, Client) {
    let server = TestServer::on_database(db.url(), "").await;
    let admin = server.admin();
    (server, admin)
}

/// Reads SSE events from `response` until `n` have arrived.
async fn read_sse(response: &mut reqwest::Response, n: usize) -> Vec<Value> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(PATIENCE, response.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                events.push(serde_json::from_str(data).unwrap());
            }
        }
    }
    events
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

async fn submit_some(admin: &Client, n: usize) {
    for _ in 0..n {
        admin
            .submit(json!({"tenant": "acme", "media-type": "sms"}))
            .await;
    }
}

async fn server_sent_events_resume_from_a_cursor(db: &TestDb) {
    let (_server, admin) = server(db).await;
    submit_some(&admin, 3).await;
    let http = reqwest::Client::new();
    let mut stream = http
        .get(admin.url("/v1/events/stream?after=0"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // Three from the log, then three live.
    let first = read_sse(&mut stream, 3).await;
    submit_some(&admin, 3).await;
    let live = read_sse(&mut stream, 3).await;
    drop(stream);
    // Reconnect after the fourth, as a browser does with Last-Event-ID,
    // while more events are committed.
    submit_some(&admin, 2).await;
    let mut resumed = http
        .get(admin.url("/v1/events/stream"))
        .bearer_auth(&admin.token)
        .header("Last-Event-ID", live[0]["seq"].to_string())
        .send()
        .await
        .unwrap();
    let rest = read_sse(&mut resumed, 4).await;
    let (_, log) = admin.get("/v1/events?after=0").await;
    let log: Vec<Value> = log.as_array().unwrap().clone();
    assert_eq!(log.len(), 8);
    let mut seen = seqs(&first);
    seen.extend(seqs(&live[..1]));
    seen.extend(seqs(&rest));
    assert_eq!(seen, seqs(&log), "no gap, no repeat");
    assert_eq!(rest, log[4..], "the same events as the log");
}

async fn websocket_streams_an_agents_own_events(db: &TestDb) {
    let (_server, admin) = server(db).await;
    admin
        .create_agent(agent_spec("ann", json!({"chat": 1})))
        .await;
    let ann = admin.login("ann", "password-ann").await;
    let url = admin
        .url(&format!("/v1/events/ws?after=0&token={}", ann.token))
        .replacen("http://", "ws://", 1);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // Others' events are not sent; its presence changes are.
    submit_some(&admin, 2).await;
    ann.presence("ann", &["chat"], "ready").await;
    ann.presence("ann", &["chat"], "not-ready").await;
    let mut got = Vec::new();
    while got.len() < 3 {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a message in time")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            got.push(serde_json::from_str::<Value>(&text).unwrap());
        }
    }
    let kinds: Vec<&str> = got.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["agent-created", "presence", "presence"]);
    assert!(got.iter().all(|e| e["agent-id"] == "ann"));
    assert_eq!(got[2]["data"]["presence"]["chat"]["state"], "not-ready");
    // Without a credential there is no stream.
    let anonymous = admin.url("/v1/events/ws").replacen("http://", "ws://", 1);
    assert!(tokio_tungstenite::connect_async(anonymous).await.is_err());
}

on_both_backends!(
    server_sent_events_resume_from_a_cursor,
    websocket_streams_an_agents_own_events,
);
