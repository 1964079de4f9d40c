//! Web chat on one node: many concurrent chat sessions, each routed and
//! accepted by an agent, with the customer on the session WebSocket and
//! each agent on one account WebSocket; then customers send messages at a
//! fixed rate (open loop) and each is timed from the customer's send to
//! its arrival on the agent's socket: stored (SQLite, synchronous=FULL,
//! group commit), masked, delivered.
//!
//! The server is a separate `parley serve` process (its resident memory is
//! read from `/proc`); the customers and agents are clients in this one.
//!
//! `cargo bench -p parley-tests --bench chat` (10,000 sessions, 2,000
//! messages/s for 10 s); under `cargo test` it runs once, small, as a smoke
//! test.

use futures_util::stream::{SplitSink, StreamExt};
use futures_util::{SinkExt, future};
use parley_tests::client::Client;
use parley_tests::process::{ServerProcess, free_port};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, WsMessage>;

/// What one run measures.
struct Scale {
    agents: usize,
    sessions: usize,
    rate: usize,
    seconds: u64,
}

const FULL: Scale = Scale {
    agents: 200,
    sessions: 10_000,
    rate: 2_000,
    seconds: 10,
};

const SMOKE: Scale = Scale {
    agents: 4,
    sessions: 40,
    rate: 100,
    seconds: 1,
};

/// Arrival times of the measured messages at agents, by text.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

fn start_server(dir: &std::path::Path) -> ServerProcess {
    let config = dir.join("parley.toml");
    std::fs::write(
        &config,
        format!(
            "data-dir = {:?}\nadmin-token = \"bench-admin-token-0123\"\n[routing]\noffer-timeout-ms = 86400000\n[chat]\nresume-window-s = 86400\n\
             customer-messages = {{ per-minute = 0, burst = 0 }}\n\
             [quotas]\nchat-start = {{ per-minute = 0, burst = 0 }}\nlogin = {{ per-minute = 0, burst = 0 }}\n\
             [http]\nmax-connections = 100000\nmax-connections-per-address = 100000\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    ServerProcess::with_config(&format!("127.0.0.1:{}", free_port()), &config)
}

async fn ws(url: String) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
    // Without Nagle's delay, as browsers connect.
    tokio_tungstenite::connect_async_with_config(url.replacen("http://", "ws://", 1), None, true)
        .await
        .expect("a WebSocket")
        .0
}

/// Agents with room for the sessions, logged in, ready, each on its
/// account socket recording when measured messages arrive.
async fn agents(admin: &Client, scale: &Scale, arrivals: &Arrivals) -> HashMap<String, Client> {
    let per_agent = scale.sessions.div_ceil(scale.agents) + 1;
    let logins = (0..scale.agents).map(|i| {
        let admin = admin.clone();
        async move {
            let id = format!("agent-{i:04}");
            admin
                .create_agent(json!({
                    "id": id, "password": "bench-password",
                    "skills": [{"name": "support", "level": 5}],
                    "capacity": {"limits": {"chat": per_agent}},
                }))
                .await;
            let agent = admin.login(&id, "bench-password").await;
            agent.presence(&id, &["chat"], "ready").await;
            (id, agent)
        }
    });
    let agents: HashMap<String, Client> = future::join_all(logins).await.into_iter().collect();
    for agent in agents.values() {
        let socket = ws(format!(
            "{}?token={}",
            agent.url("/v1/chats/ws"),
            agent.token
        ))
        .await;
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let (_, mut frames) = socket.split();
            while let Some(Ok(frame)) = frames.next().await {
                let WsMessage::Text(text) = frame else {
                    continue;
                };
                if !text.contains("\"bench ") {
                    continue;
                }
                let at = Instant::now();
                let frame: Value = serde_json::from_str(&text).unwrap();
                if let Some(text) = frame["message"]["text"].as_str() {
                    arrivals.lock().unwrap().insert(text.to_string(), at);
                }
            }
        });
    }
    agents
}

/// Starts the sessions (64 at a time), each with its customer socket
/// open (drained in the background); returns the sockets' write halves.
async fn sessions(admin: &Client, n: usize) -> Vec<Arc<tokio::sync::Mutex<Sink>>> {
    let base = admin.url("");
    let http = reqwest::Client::new();
    let mut sinks = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
        let started = chunk.iter().map(|i| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let body = json!({"nickname": format!("customer {i}")});
                let started: Value = http
                    .post(format!("{base}/v1/chat/sessions"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let url = format!(
                    "{base}/v1/chat/sessions/{}/ws?key={}",
                    started["id"].as_str().unwrap(),
                    started["key"].as_str().unwrap()
                );
                let (sink, mut frames) = ws(url).await.split();
                tokio::spawn(async move { while let Some(Ok(_)) = frames.next().await {} });
                Arc::new(tokio::sync::Mutex::new(sink))
            }
        });
        sinks.extend(future::join_all(started).await);
    }
    sinks
}

/// Each agent accepts its offers, until `n` chats are accepted.
async fn accept_all(admin: &Client, agents: &HashMap<String, Client>, n: usize) {
    let mut events = ws(format!(
        "{}?token={}&after=0",
        admin.url("/v1/events/ws"),
        admin.token
    ))
    .await;
    let mut accepting = Vec::new();
    while accepting.len() < n {
        let Some(Ok(WsMessage::Text(text))) = events.next().await else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).unwrap();
        if event["kind"] != "offered" {
            continue;
        }
        let id = event["interaction-id"].as_str().unwrap().to_string();
        let agent = agents[event["agent-id"].as_str().unwrap()].clone();
        accepting.push(tokio::spawn(async move {
            agent
                .ok_post(&format!("/v1/interactions/{id}/accept"), json!({}))
                .await;
        }));
    }
    for task in accepting {
        task.await.unwrap();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run(scale: &Scale) {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path());
    let admin = Client::new(&server.url(), "bench-admin-token-0123");
    let idle = server.resident_bytes();
    let arrivals: Arrivals = Arc::default();
    let agents = agents(&admin, scale, &arrivals).await;

    let started = Instant::now();
    let accepted = tokio::spawn({
        let admin = admin.clone();
        let n = scale.sessions;
        async move { accept_all(&admin, &agents, n).await }
    });
    let sinks = sessions(&admin, scale.sessions).await;
    accepted.await.unwrap();
    let opened = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded = server.resident_bytes();
    println!(
        "chat: {} sessions started, routed, accepted by {} agents and connected in {opened:.1} s; server memory {} MiB idle, {} MiB with the sessions ({:.1} KiB per session)",
        scale.sessions,
        scale.agents,
        idle / (1 << 20),
        loaded / (1 << 20),
        (loaded.saturating_sub(idle)) as f64 / 1024.0 / scale.sessions as f64
    );

    // Customers write at a fixed rate, open loop, round the sessions.
    let total = scale.rate * scale.seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / scale.rate as f64);
    let sent: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let begun = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tokio::time::sleep_until((begun + interval * i as u32).into()).await;
        let sink = sinks[i % sinks.len()].clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let text = format!("bench {i}");
            let frame = json!({"type": "message", "text": text}).to_string();
            let mut sink = sink.lock().await;
            sent.lock().unwrap().push((text, Instant::now()));
            sink.send(WsMessage::Text(frame.into())).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let achieved = total as f64 / begun.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().unwrap().len() < total {
        assert!(
            Instant::now() < deadline,
            "{} of {total} messages never reached their agent",
            total - arrivals.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrivals = arrivals.lock().unwrap();
    let mut latencies: Vec<Duration> = sent
        .lock()
        .unwrap()
        .iter()
        .map(|(text, at)| arrivals[text].saturating_duration_since(*at))
        .collect();
    latencies.sort();
    println!(
        "chat: {total} messages at {} /s ({achieved:.0}/s sent) over {} sessions, customer to agent: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; server memory {} MiB",
        scale.rate,
        scale.sessions,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        server.resident_bytes() / (1 << 20),
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(if full { &FULL } else { &SMOKE }));
}
