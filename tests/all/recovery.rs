//! Crash recovery, on SQLite and PostgreSQL: the server is killed with
//! SIGKILL under routing load, several times, and restarted. After each
//! restart nothing acknowledged is lost, every acknowledged accept still
//! holds, interactions that were being routed or offered went back to
//! their queues, and no agent is over capacity.

use parley_tests::client::{Client, agent_spec};
use parley_tests::database::TestDb;
use parley_tests::process::{ServerProcess, free_port};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const AGENTS: usize = 8;
const CAPACITY: usize = 2;
const CRASHES: usize = 3;

/// What the server acknowledged before it was killed.
#[derive(Default)]
struct Acknowledged {
    /// Interactions whose submission was answered 201.
    submitted: Vec<String>,
    /// Accepted interactions not completed since, with their agent.
    accepted: HashMap<String, String>,
    /// Completed interactions.
    completed: Vec<String>,
}

/// Submits chats with client ids until the server stops answering.
async fn submitter(admin: Client, prefix: String, acked: Arc<Mutex<Acknowledged>>) {
    for n in 0.. {
        let id = format!("{prefix}-{n}");
        let body = json!({"id": id, "tenant": "acme", "media-type": "chat", "queue": "inbound"});
        match tokio::time::timeout(
            Duration::from_secs(5),
            admin.try_post("/v1/interactions", body),
        )
        .await
        {
            Ok(Some((201, _))) => acked.lock().unwrap().submitted.push(id),
            Ok(Some(_)) => {}
            _ => return,
        }
    }
}

/// Accepts offers and completes every other accepted interaction until
/// the server stops answering.
async fn desk(agent: Client, me: String, acked: Arc<Mutex<Acknowledged>>) {
    let mut flip = false;
    loop {
        let Some((200, offered)) = agent
            .try_get(&format!("/v1/interactions?state=offered&owner={me}"))
            .await
        else {
            return;
        };
        for i in offered.as_array().into_iter().flatten() {
            let id = i["id"].as_str().unwrap().to_string();
            match agent
                .try_post(&format!("/v1/interactions/{id}/accept"), json!({}))
                .await
            {
                Some((200, _)) => {
                    acked
                        .lock()
                        .unwrap()
                        .accepted
                        .insert(id.clone(), me.clone());
                }
                Some(_) => continue,
                None => return,
            }
            flip = !flip;
            if flip {
                match agent
                    .try_post(&format!("/v1/interactions/{id}/complete"), json!({}))
                    .await
                {
                    Some((200, _)) => {
                        let mut acked = acked.lock().unwrap();
                        acked.accepted.remove(&id);
                        acked.completed.push(id);
                    }
                    Some(_) => {}
                    None => return,
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn check_invariants(admin: &Client, acked: &Acknowledged) {
    for id in &acked.submitted {
        let (status, i) = admin.get(&format!("/v1/interactions/{id}")).await;
        assert_eq!(status, 200, "acknowledged {id} was lost: {i}");
    }
    for (id, agent) in &acked.accepted {
        let (_, i) = admin.get(&format!("/v1/interactions/{id}")).await;
        assert_eq!(
            (i["state"].as_str(), i["owner"].as_str()),
            (Some("accepted"), Some(agent.as_str())),
            "{i}"
        );
    }
    for id in &acked.completed {
        let (_, i) = admin.get(&format!("/v1/interactions/{id}")).await;
        assert_eq!(i["state"], "completed", "{i}");
    }
    let mut held: BTreeMap<String, usize> = BTreeMap::new();
    for state in ["offered", "accepted"] {
        let (_, list) = admin
            .get(&format!("/v1/interactions?state={state}&limit=5000"))
            .await;
        for i in list.as_array().unwrap() {
            *held
                .entry(i["owner"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert!(
        held.values().all(|n| *n <= CAPACITY),
        "over capacity after a restart: {held:?}"
    );
}

async fn killing_the_server_under_load_loses_nothing_acknowledged(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("parley.toml");
    std::fs::write(
        &config,
        format!(
            "data-dir = {:?}\nadmin-token = \"test-admin-token-0123\"\ndatabase = {:?}\n[routing]\noffer-timeout-ms = 600000\n",
            dir.path().join("data").display().to_string(),
            db.url()
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut server = ServerProcess::with_config(&listen, &config);
    let admin = Client::new(&server.url(), "test-admin-token-0123");
    let mut agents = Vec::new();
    for n in 0..AGENTS {
        let id = format!("agent-{n}");
        admin
            .create_agent(agent_spec(&id, json!({"chat": CAPACITY})))
            .await;
        let agent = admin.login(&id, &format!("password-{id}")).await;
        agent.presence(&id, &["chat"], "ready").await;
        agents.push((id, agent));
    }
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    for crash in 0..CRASHES {
        let mut tasks = Vec::new();
        for t in 0..4 {
            let prefix = format!("crash{crash}-t{t}");
            tasks.push(tokio::spawn(submitter(
                admin.clone(),
                prefix,
                acked.clone(),
            )));
        }
        for (id, agent) in &agents {
            tasks.push(tokio::spawn(desk(agent.clone(), id.clone(), acked.clone())));
        }
        tokio::time::sleep(Duration::from_millis(700 + 300 * crash as u64)).await;
        server.kill();
        for task in tasks {
            task.await.unwrap();
        }
        server = ServerProcess::with_config(&listen, &config);
        let snapshot = std::mem::take(&mut *acked.lock().unwrap());
        assert!(!snapshot.submitted.is_empty(), "the load ran");
        assert!(
            !snapshot.completed.is_empty(),
            "agents accepted and completed"
        );
        check_invariants(&admin, &snapshot).await;
        *acked.lock().unwrap() = snapshot;
    }
    // Some interactions were offered or being routed at a crash, and went
    // back to their queues; routing then resumed.
    let (_, events) = admin.get("/v1/events?after=0&limit=1000").await;
    let mut recovered = 0;
    let mut cursor = 0;
    let mut page: Value = events;
    loop {
        let list = page.as_array().unwrap().clone();
        let Some(last) = list.last() else { break };
        cursor = last["seq"].as_i64().unwrap();
        recovered += list
            .iter()
            .filter(|e| e["data"]["reason"] == "recovered after a restart")
            .count();
        page = admin
            .get(&format!("/v1/events?after={cursor}&limit=1000"))
            .await
            .1;
    }
    assert!(cursor > 0);
    assert!(recovered > 0, "no interaction was in flight at any crash");
    drop(server);
}

on_both_backends!(killing_the_server_under_load_loses_nothing_acknowledged);
