//! Submit-to-offer through the interaction engine: interactions submitted
//! to the demo process's `inbound` queue are routed by the reference Wasm
//! router (`on-queued`, then `pick-agent` among the 16 longest-idle of
//! 1,000 ready agents) and offered, each step committed to the database.
//! Measured on SQLite and on PostgreSQL (`PARLEY_TEST_POSTGRES`):
//!
//! - throughput: 20,000 submissions by 64 concurrent submitters, from the
//!   first submission to the last offer;
//! - latency at a fixed rate: 10,000 submissions per second for 3 s, open
//!   loop, each from its submission to its `offered` event.
//!
//! `cargo bench -p parley-tests --bench routing` (`PARLEY_BENCH_ONLY=sqlite`
//! or `postgres` for one backend; under `cargo test` it runs once, small,
//! on SQLite, as a smoke test).

use parley::app::RunningServer;
use parley_core::agents::{AgentSpec, CapacityRule, PresenceState, Skill};
use parley_engine::Engine;
use parley_store::{EventKind, NewInteraction, State, Store};
use parley_tests::database::TestDb;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one run measures.
struct Scale {
    agents: usize,
    burst: usize,
    rates: &'static [usize],
    seconds: u64,
}

const FULL: Scale = Scale {
    agents: 1000,
    burst: 20_000,
    rates: &[2_000, 10_000],
    seconds: 3,
};

const SMOKE: Scale = Scale {
    agents: 50,
    burst: 500,
    rates: &[500],
    seconds: 1,
};

/// Offer times by interaction, from the event stream.
type Offers = Arc<Mutex<HashMap<String, Instant>>>;

async fn start(db: &TestDb, data: &std::path::Path) -> RunningServer {
    let settings: parley::settings::Settings = toml::from_str(&format!(
        // Offers stay unanswered: no timeout may fire during the run.
        "listen = \"127.0.0.1:0\"\ndata-dir = {:?}\nadmin-token = \"bench-admin-token-0123\"\ndatabase = {:?}\n[routing]\noffer-timeout-ms = 86400000\n",
        data.display().to_string(),
        db.url()
    ))
    .unwrap();
    parley::app::start(settings).await.expect("server starts")
}

async fn ready_agents(engine: &Arc<Engine>, n: usize) {
    for i in 0..n {
        let id = format!("agent-{i:04}");
        engine
            .create_agent(AgentSpec {
                id: id.clone(),
                name: None,
                role: Default::default(),
                password: None,
                skills: vec![Skill {
                    name: "support".into(),
                    level: 5,
                }],
                groups: vec!["support".into()],
                capacity: CapacityRule {
                    limits: [("chat".to_string(), 1000)].into(),
                    ..CapacityRule::default()
                },
                after_call_work_ms: 0,
            })
            .await
            .unwrap();
        engine
            .set_presence(&id, &["chat".into()], Some(PresenceState::Ready), None)
            .await
            .unwrap();
    }
}

fn follow_offers(store: &Store) -> Offers {
    let offers: Offers = Arc::default();
    let mut events = store.subscribe();
    let seen = offers.clone();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if event.kind == EventKind::Offered
                && let Some(id) = event.interaction_id
            {
                seen.lock().unwrap().insert(id, Instant::now());
            }
        }
    });
    offers
}

async fn submit(engine: &Arc<Engine>) -> String {
    let stored = engine
        .store()
        .submit(NewInteraction {
            tenant: "bench".into(),
            media_type: "chat".into(),
            queue: Some("inbound".into()),
            attached: serde_json::json!([]),
            ..NewInteraction::default()
        })
        .await
        .unwrap();
    assert_eq!(stored.state, State::Queued);
    engine.enqueue(&stored.id);
    stored.id
}

/// Waits until all of `ids` were offered (`expected` offers in all, this
/// phase's and earlier ones); their submit-to-offer times.
async fn wait_offered(
    offers: &Offers,
    ids: &[(String, Instant)],
    expected: usize,
) -> Vec<Duration> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let count = offers.lock().unwrap().len();
        if count >= expected {
            let offers = offers.lock().unwrap();
            return ids.iter().map(|(id, at)| offers[id] - *at).collect();
        }
        assert!(
            Instant::now() < deadline,
            "{} never offered",
            expected - count
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(label: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "{label}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
}

async fn run(name: &str, db: TestDb, scale: &Scale) {
    let data = tempfile::tempdir().unwrap();
    let server = start(&db, data.path()).await;
    let engine = server.engine.clone();
    ready_agents(&engine, scale.agents).await;
    let offers = follow_offers(&server.store);

    // Throughput: as fast as 64 submitters go.
    let started = Instant::now();
    let per_task = scale.burst / 64;
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let mut ids = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let at = Instant::now();
                    ids.push((submit(&engine).await, at));
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    let latencies = wait_offered(&offers, &ids, ids.len()).await;
    let last_offer = {
        let offers = offers.lock().unwrap();
        ids.iter().map(|(id, _)| offers[id]).max().unwrap()
    };
    let elapsed = (last_offer - started).as_secs_f64();
    println!(
        "{name}: {} agents, {} interactions submitted and offered in {elapsed:.2} s = {:.0} interactions/s",
        scale.agents,
        ids.len(),
        ids.len() as f64 / elapsed
    );
    report(&format!("{name}: burst submit-to-offer"), latencies);

    // Latency at fixed rates, open loop.
    let mut offered = ids.len();
    for &rate in scale.rates {
        offered += at_rate(name, &engine, &offers, rate, scale.seconds, offered).await;
    }
    drop(server);
}

/// Submits `rate` interactions per second for `seconds`, open loop, and
/// reports their submit-to-offer times; returns how many it submitted.
async fn at_rate(
    name: &str,
    engine: &Arc<Engine>,
    offers: &Offers,
    rate: usize,
    seconds: u64,
    offered_before: usize,
) -> usize {
    let total = rate * seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tokio::time::sleep_until((started + interval * i as u32).into()).await;
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let at = Instant::now();
            (submit(&engine).await, at)
        }));
    }
    let mut ids = Vec::with_capacity(total);
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    let achieved = total as f64 / started.elapsed().as_secs_f64();
    let latencies = wait_offered(offers, &ids, offered_before + total).await;
    report(
        &format!("{name}: at {rate}/s ({achieved:.0}/s submitted) submit-to-offer"),
        latencies,
    );
    total
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let only = std::env::var("PARLEY_BENCH_ONLY").ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        if full {
            if only.as_deref() != Some("postgres") {
                run("sqlite", TestDb::sqlite(), &FULL).await;
            }
            if only.as_deref() != Some("sqlite") {
                run("postgres", TestDb::postgres().await, &FULL).await;
            }
        } else {
            run("sqlite (smoke)", TestDb::sqlite(), &SMOKE).await;
        }
    });
}
