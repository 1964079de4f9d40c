//! Business processes: the demo process is installed on first start, the
//! file is reloaded live when it changes, and a file that does not validate
//! is refused while the running configuration stays.

use parley_tests::TestServer;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Polls `GET /v1/processes` until `done` holds (or fails after 5 s).
async fn wait_for(server: &TestServer, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait_for_at(server, "/v1/processes", what, done).await
}

/// Polls `GET path` until `done` holds (or fails after 5 s).
async fn wait_for_at(
    server: &TestServer,
    path: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = server.get(path).await;
        assert_eq!(status, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{what}: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn queue_names(status: &Value) -> Vec<&str> {
    status["processes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["queues"].as_array().unwrap())
        .map(|q| q["name"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_reload_live_and_refuse_invalid_files() {
    let server = TestServer::start(|_| {}).await;
    let (status, demo) = server.get("/v1/processes").await;
    assert_eq!(status, 200);
    assert_eq!(demo["processes"][0]["name"], "demo");
    assert_eq!(queue_names(&demo), ["inbound", "overflow"]);
    assert_eq!(
        demo["processes"][0]["queues"][1]["fallback"]["group"],
        "support"
    );
    let file = server.data_dir.join("processes.toml");
    let text = std::fs::read_to_string(&file).unwrap();

    // An unknown router: refused, the demo keeps running.
    std::fs::write(
        &file,
        text.replace(
            "router = \"skills-router\"\nfallback = { queue",
            "router = \"no-such-router\"\nfallback = { queue",
        ),
    )
    .unwrap();
    let refused = wait_for(&server, "the refusal", |s| !s["last-refused"].is_null()).await;
    let message = refused["last-refused"].as_str().unwrap();
    assert!(
        message.contains("queue `inbound` uses router `no-such-router`"),
        "{message}"
    );
    assert_eq!(queue_names(&refused), ["inbound", "overflow"]);

    // A fallback cycle: refused too.
    std::fs::write(
        &file,
        text.replace(
            "fallback = { group = \"support\" }",
            "fallback = { queue = \"inbound\" }",
        ),
    )
    .unwrap();
    let refused = wait_for(&server, "the cycle", |s| {
        s["last-refused"]
            .as_str()
            .is_some_and(|m| m.contains("cycle"))
    })
    .await;
    assert!(
        refused["last-refused"]
            .as_str()
            .unwrap()
            .contains("inbound → overflow → inbound")
    );

    // A valid change is live at once, even while another file in the same
    // directory (as the database's are) changes all the time.
    let noise = {
        let dir = server.data_dir.clone();
        tokio::spawn(async move {
            for i in 0u32.. {
                std::fs::write(dir.join("busy.db-wal"), i.to_le_bytes()).unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    std::fs::write(
        &file,
        text.replace("name = \"overflow\"", "name = \"spillover\"")
            .replace("queue = \"overflow\"", "queue = \"spillover\""),
    )
    .unwrap();
    let reloaded = wait_for(&server, "the reload", |s| s["last-refused"].is_null()).await;
    assert_eq!(queue_names(&reloaded), ["inbound", "spillover"]);
    noise.abort();

    // Each reload and refusal is in the audit log.
    let path = file.display().to_string();
    for (action, about) in [
        ("processes.refused", "cycle"),
        ("processes.refused", "no-such-router"),
        ("processes.reloaded", ""),
    ] {
        let log = wait_for_at(
            &server,
            &format!("/v1/audit?action={action}"),
            action,
            |log| {
                log.as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["detail"]["reason"].as_str().unwrap_or("").contains(about))
            },
        )
        .await;
        for entry in log.as_array().unwrap() {
            assert_eq!(
                (entry["actor"].as_str(), entry["target"].as_str()),
                (Some("process-file"), Some(path.as_str())),
                "{entry}"
            );
        }
    }
}
