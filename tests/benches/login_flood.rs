//! A password flood against one node: parallel wrong-password logins
//! while another client reads the accounts (a database request) over and
//! over. Measured: the server's peak resident memory above what it held
//! before the flood, and the other client's request times during it.
//!
//! Two runs: with the default limits (the per-address rate answers most
//! attempts `429` at once), and with the rate limits off, so every attempt
//! is verified and only the bound on concurrent hashes holds memory and
//! CPU.
//!
//! `cargo bench -p parley-tests --bench login_flood` (200 attempts); under
//! `cargo test` it runs once, small, as a smoke test.

use parley_tests::client::{Client, agent_spec};
use parley_tests::process::{ServerProcess, free_port};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-admin-token-0123";

fn start_server(dir: &std::path::Path, quotas: &str) -> ServerProcess {
    let config = dir.join("parley.toml");
    std::fs::write(
        &config,
        format!(
            "data-dir = {:?}\nadmin-token = \"{TOKEN}\"\n{quotas}",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    ServerProcess::with_config(&format!("127.0.0.1:{}", free_port()), &config)
}

/// What one flood measured.
struct Outcome {
    verified: usize,
    refused: usize,
    flood: Duration,
    extra_peak_mb: f64,
    probe_p50_ms: f64,
    probe_p99_ms: f64,
    probes: usize,
}

async fn flood(quotas: &str, attempts: usize) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), quotas);
    let admin = Client::new(&server.url(), TOKEN);
    admin.create_agent(agent_spec("ann", json!({}))).await;
    // Warm: one login of each kind, and the probe's path.
    admin.login("ann", "password-ann").await;
    admin.get("/v1/agents").await;
    let before = server.resident_bytes();

    let flooding = Arc::new(AtomicBool::new(true));
    let probe = {
        let admin = admin.clone();
        let flooding = flooding.clone();
        tokio::spawn(async move {
            let mut times = Vec::new();
            while flooding.load(Ordering::Relaxed) {
                let start = Instant::now();
                let (status, _) = admin.get("/v1/agents").await;
                assert_eq!(status, 200);
                times.push(start.elapsed());
            }
            times
        })
    };
    let start = Instant::now();
    let logins = (0..attempts).map(|n| {
        let admin = admin.clone();
        async move {
            let id = if n % 2 == 0 { "ann" } else { "nobody" };
            let (status, _) = admin
                .with_token("")
                .post(
                    "/v1/sessions",
                    json!({"id": id, "password": "wrong-password"}),
                )
                .await;
            status
        }
    });
    let statuses = futures_util::future::join_all(logins).await;
    let flood = start.elapsed();
    flooding.store(false, Ordering::Relaxed);
    let mut times = probe.await.unwrap();
    times.sort();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Outcome {
        verified: statuses.iter().filter(|s| **s == 401).count(),
        refused: statuses.iter().filter(|s| **s == 429).count(),
        flood,
        extra_peak_mb: server.peak_resident_bytes().saturating_sub(before) as f64 / 1048576.0,
        probe_p50_ms: at(0.5),
        probe_p99_ms: at(0.99),
        probes: times.len(),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let attempts = if full { 200 } else { 10 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, quotas) in [
        ("default limits", ""),
        (
            "rate limits off (the hashing bound only)",
            "[quotas]\nlogin = { per-minute = 0, burst = 0 }\nlogin-failures = 1000000\n",
        ),
    ] {
        let o = runtime.block_on(flood(quotas, attempts));
        assert_eq!(o.verified + o.refused, attempts, "only 401 and 429");
        println!(
            "login flood, {name}: {attempts} parallel attempts in {:.2} s ({} verified, {} refused); \
             server peak memory +{:.1} MiB; other requests during it: p50 {:.2} ms, p99 {:.2} ms ({} requests)",
            o.flood.as_secs_f64(),
            o.verified,
            o.refused,
            o.extra_peak_mb,
            o.probe_p50_ms,
            o.probe_p99_ms,
            o.probes
        );
    }
}
