//! The interaction engine through the API, on SQLite and PostgreSQL:
//! routing through the reference Wasm router to ready agents, offers and
//! their answers, capacity under concurrent routing, router fallbacks,
//! operations on accepted interactions, views and workbins.

use parley_tests::client::{Client, agent_spec};
use parley_tests::database::TestDb;
use parley_tests::{Options, TestServer, guests, write_plugin};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Short offer timeouts, so tests see them fire.
const FAST: &str = "[routing]\noffer-timeout-ms = 1500\n";

async fn server(db: &TestDb) -> (TestServer, Client) {
    let server = TestServer::on_database(db.url(), FAST).await;
    let admin = server.admin();
    (server, admin)
}

/// Creates agent `id` with chat capacity `chats`, logs it in and makes it
/// ready on chat.
async fn ready_agent(admin: &Client, id: &str, chats: u32) -> Client {
    admin
        .create_agent(agent_spec(id, json!({"chat": chats, "email": 1})))
        .await;
    let agent = admin.login(id, &format!("password-{id}")).await;
    agent.presence(id, &["chat"], "ready").await;
    agent
}

fn chat() -> Value {
    json!({"tenant": "acme", "media-type": "chat", "queue": "inbound"})
}

fn id_of(interaction: &Value) -> String {
    interaction["id"].as_str().unwrap().to_string()
}

fn kinds(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Offered and accepted interactions per owner.
async fn active_by_owner(admin: &Client) -> BTreeMap<String, usize> {
    let mut active = BTreeMap::new();
    for state in ["offered", "accepted"] {
        let (_, list) = admin
            .get(&format!("/v1/interactions?state={state}&limit=1000"))
            .await;
        for i in list.as_array().unwrap() {
            *active
                .entry(i["owner"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    active
}

/// The chats `agent` holds, from the agent statistics.
async fn load_of(admin: &Client, agent: &str) -> u64 {
    let (_, stats) = admin.get("/v1/stats/agents").await;
    let me = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == agent)
        .unwrap();
    me["load"]["chat"].as_u64().unwrap_or(0)
}

async fn a_queued_chat_is_offered_accepted_and_completed(db: &TestDb) {
    let (_server, admin) = server(db).await;
    admin
        .create_agent(json!({
            "id": "ann", "password": "password-ann",
            "skills": [{"name": "support", "level": 3}],
            "capacity": {"limits": {"chat": 2}},
            "after-call-work-ms": 300,
        }))
        .await;
    let ann = admin.login("ann", "password-ann").await;
    ann.presence("ann", &["chat"], "ready").await;
    let id = id_of(&admin.submit(chat()).await);
    let offered = ann.wait_state(&id, "offered").await;
    assert_eq!(offered["owner"], "ann");

    let accepted = ann
        .ok_post(&format!("/v1/interactions/{id}/accept"), json!({}))
        .await;
    assert_eq!(accepted["state"], "accepted");
    let done = ann
        .ok_post(
            &format!("/v1/interactions/{id}/complete"),
            json!({"disposition": "resolved"}),
        )
        .await;
    assert_eq!(
        (done["state"].as_str(), done["disposition"].as_str()),
        (Some("completed"), Some("resolved"))
    );

    // After-call work, then ready again by itself.
    let (_, me) = ann.get("/v1/agents/ann").await;
    assert_eq!(me["presence"]["chat"]["state"], "after-call-work", "{me}");
    let start = std::time::Instant::now();
    loop {
        let (_, me) = ann.get("/v1/agents/ann").await;
        if me["presence"]["chat"]["state"] == "ready" {
            break;
        }
        assert!(start.elapsed() < parley_tests::client::PATIENCE, "{me}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The agent's own event log: its offer, accept and completion.
    let (_, events) = ann.get("/v1/events?after=0").await;
    let mine = kinds(&events);
    for kind in ["offered", "accepted", "completed", "presence"] {
        assert!(mine.contains(&kind.to_string()), "{mine:?}");
    }
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["agent-id"] == "ann"),
        "an agent reads only its own events"
    );
    // The full log has the routing lock and the events in order.
    let (_, all) = admin.get("/v1/events?after=0&limit=1000").await;
    let flow: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["interaction-id"] == id.as_str())
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        flow,
        [
            "submitted",
            "queued",
            "routing",
            // The reference router tells a waiting chat customer where
            // they stand.
            "notified",
            "offered",
            "accepted",
            "completed"
        ]
    );
}

async fn capacity_holds_under_concurrent_routing(db: &TestDb) {
    let (_server, admin) = server(db).await;
    let mut agents = Vec::new();
    for n in 0..5 {
        agents.push(ready_agent(&admin, &format!("agent-{n}"), 2).await);
    }
    let submits: Vec<_> = (0..40)
        .map(|_| {
            let admin = admin.clone();
            tokio::spawn(async move { id_of(&admin.submit(chat()).await) })
        })
        .collect();
    let mut ids = Vec::new();
    for submit in submits {
        ids.push(submit.await.unwrap());
    }
    // Ten slots: ten offers, thirty waiting, never more than two each.
    let mut completed = 0;
    let start = std::time::Instant::now();
    while completed < ids.len() {
        let active = active_by_owner(&admin).await;
        assert!(
            active.values().all(|n| *n <= 2),
            "over capacity: {active:?}"
        );
        for (n, agent) in agents.iter().enumerate() {
            let me = format!("agent-{n}");
            let (_, offered) = agent
                .get(&format!("/v1/interactions?state=offered&owner={me}"))
                .await;
            for i in offered.as_array().unwrap() {
                let id = id_of(i);
                agent
                    .ok_post(&format!("/v1/interactions/{id}/accept"), json!({}))
                    .await;
                let active = active_by_owner(&admin).await;
                assert!(
                    active.values().all(|n| *n <= 2),
                    "over capacity: {active:?}"
                );
                agent
                    .ok_post(&format!("/v1/interactions/{id}/complete"), json!({}))
                    .await;
                completed += 1;
            }
        }
        assert!(
            start.elapsed() < parley_tests::client::PATIENCE * 3,
            "{completed} completed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for id in &ids {
        let (_, i) = admin.get(&format!("/v1/interactions/{id}")).await;
        assert_eq!(i["state"], "completed", "{i}");
    }
}

/// Chats arriving one after another go round equally free agents with
/// room for several, rather than filling one agent first.
async fn chats_spread_across_equally_free_agents(db: &TestDb) {
    let (_server, admin) = server(db).await;
    let mut agents = BTreeMap::new();
    for n in 0..5 {
        let id = format!("agent-{n}");
        agents.insert(id.clone(), ready_agent(&admin, &id, 3).await);
    }
    for round in 1..=2 {
        for _ in 0..5 {
            let id = id_of(&admin.submit(chat()).await);
            let offered = admin.wait_state(&id, "offered").await;
            // Accepted at once, so that no offer times out meanwhile.
            agents[offered["owner"].as_str().unwrap()]
                .ok_post(&format!("/v1/interactions/{id}/accept"), json!({}))
                .await;
        }
        let active = active_by_owner(&admin).await;
        assert_eq!(active.len(), 5, "round {round}: {active:?}");
        assert!(
            active.values().all(|n| *n == round),
            "round {round}: {active:?}"
        );
    }
}

async fn rejected_and_unanswered_offers_go_to_other_agents(db: &TestDb) {
    let (_server, admin) = server(db).await;
    let ann = ready_agent(&admin, "ann", 1).await;
    let bob = ready_agent(&admin, "bob", 1).await;
    let id = id_of(&admin.submit(chat()).await);
    let first = admin.wait_state(&id, "offered").await;
    let (first_agent, other, other_id) = if first["owner"] == "ann" {
        (&ann, &bob, "bob")
    } else {
        (&bob, &ann, "ann")
    };
    // The other agent cannot answer someone else's offer.
    let (status, body) = other
        .post(&format!("/v1/interactions/{id}/accept"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    first_agent
        .ok_post(
            &format!("/v1/interactions/{id}/reject"),
            json!({"reason": "busy"}),
        )
        .await;
    let second = admin
        .wait_for(&id, "offered to the other agent", |i| {
            i["state"] == "offered" && i["owner"] == other_id
        })
        .await;
    assert_eq!(second["owner"], other_id);
    // Nobody answers: back to the queue, the agent made not ready, and no
    // agent who declined gets it again.
    admin.wait_state(&id, "queued").await;
    // The agent is made not ready right after.
    let start = std::time::Instant::now();
    let presence = loop {
        let (_, agent) = admin.get(&format!("/v1/agents/{other_id}")).await;
        if agent["presence"]["chat"]["state"] != "ready" {
            break agent["presence"]["chat"].clone();
        }
        assert!(start.elapsed() < parley_tests::client::PATIENCE, "{agent}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(presence["state"], "not-ready");
    assert_eq!(presence["reason"], "offer-timeout");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, still) = admin.get(&format!("/v1/interactions/{id}")).await;
    assert_eq!(still["state"], "queued", "{still}");
    // A new agent gets it.
    let cid = ready_agent(&admin, "cid", 1).await;
    let third = cid.wait_state(&id, "offered").await;
    assert_eq!(third["owner"], "cid");
    let (_, events) = admin.get("/v1/events?after=0&limit=1000").await;
    let all = kinds(&events);
    assert!(
        all.contains(&"rejected".to_string()) && all.contains(&"offer-timed-out".to_string()),
        "{all:?}"
    );
    let (_, stats) = admin.get("/v1/stats/agents").await;
    let counts: Vec<(String, u64, u64)> = stats
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap().to_string(),
                a["counts"]["rejected"].as_u64().unwrap(),
                a["counts"]["timed-out"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(counts.iter().any(|(_, r, _)| *r == 1), "{counts:?}");
    assert!(
        counts.iter().any(|(a, _, t)| a == other_id && *t == 1),
        "{counts:?}"
    );
}

async fn an_agent_going_away_loses_its_offer(db: &TestDb) {
    let (_server, admin) = server(db).await;
    let ann = ready_agent(&admin, "ann", 1).await;
    let id = id_of(&admin.submit(chat()).await);
    ann.wait_state(&id, "offered").await;
    ann.presence("ann", &[], "not-ready").await;
    admin.wait_state(&id, "queued").await;
    let bob = ready_agent(&admin, "bob", 1).await;
    let offered = bob.wait_state(&id, "offered").await;
    assert_eq!(offered["owner"], "bob");
    let (_, events) = admin.get("/v1/events?after=0&limit=1000").await;
    assert!(kinds(&events).contains(&"offer-revoked".to_string()));
}

async fn a_failing_router_applies_the_queue_fallback(db: &TestDb) {
    let processes = r#"
[[process]]
name = "broken"
[[process.queue]]
name = "inbound"
router = "failing-router"
fallback = { group = "tier2" }
"#;
    let options = Options {
        database: Some(db.url()),
        settings: FAST.into(),
        processes: Some(processes.into()),
    };
    let server = TestServer::start_with(options, |dir| {
        write_plugin(
            dir,
            "failing-router",
            "router",
            guests::TEST_ROUTER,
            "component = \"plugin.wasm\"\n[config]\nbehavior = \"trap\"\n",
        );
    })
    .await;
    let admin = server.admin();
    admin
        .create_agent(
            json!({"id": "tia", "password": "password-tia", "groups": ["tier2"],
                             "capacity": {"limits": {"chat": 1}}}),
        )
        .await;
    let tia = admin.login("tia", "password-tia").await;
    tia.presence("tia", &["chat"], "ready").await;
    let id = id_of(&admin.submit(chat()).await);
    let offered = tia.wait_state(&id, "offered").await;
    assert_eq!(offered["owner"], "tia");
    let (_, totals) = admin.get("/v1/stats/totals").await;
    assert!(totals["router-failures"].as_u64().unwrap() >= 1, "{totals}");
    // Its pick-agent failed too: the offer's event says the host picked.
    let (_, events) = admin.get("/v1/events?after=0&limit=1000").await;
    let offer = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "offered" && e["interaction-id"] == id.as_str())
        .unwrap_or_else(|| panic!("no offered event: {events}"));
    let reason = offer["data"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("pick-agent failed (")
            && reason.contains("offered to the first candidate"),
        "{offer}"
    );
}

async fn agents_and_supervisors_operate_on_interactions(db: &TestDb) {
    let (_server, admin) = server(db).await;
    let ann = ready_agent(&admin, "ann", 2).await;
    admin
        .create_agent(json!({"id": "sue", "password": "password-sue", "role": "supervisor"}))
        .await;
    let sue = admin.login("sue", "password-sue").await;
    let a = id_of(&admin.submit(chat()).await);
    ann.wait_state(&a, "offered").await;
    ann.ok_post(&format!("/v1/interactions/{a}/accept"), json!({}))
        .await;
    let bob = ready_agent(&admin, "bob", 2).await;

    // Only the owner (or a supervisor) acts; only supervisors move.
    let (status, body) = bob
        .post(&format!("/v1/interactions/{a}/complete"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (status, _) = bob
        .post(
            &format!("/v1/interactions/{a}/move"),
            json!({"queue": "overflow"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = bob.get(&format!("/v1/interactions/{a}")).await;
    assert_eq!(status, 403, "bob is not in it");

    // Conference bob in, and out.
    let conf = ann
        .ok_post(
            &format!("/v1/interactions/{a}/conference"),
            json!({"agent": "bob"}),
        )
        .await;
    assert_eq!(conf["parties"], json!(["bob"]));
    let (status, _) = bob.get(&format!("/v1/interactions/{a}")).await;
    assert_eq!(status, 200, "a party sees it");
    assert_eq!(load_of(&admin, "bob").await, 1, "a party holds capacity");
    let left = bob
        .ok_post(&format!("/v1/interactions/{a}/leave"), json!({}))
        .await;
    assert_eq!(left["parties"], json!([]));
    assert_eq!(load_of(&admin, "bob").await, 0);
    assert_eq!(load_of(&admin, "ann").await, 1, "the owner keeps it");

    // Transfer to bob: offered to him; he accepts.
    let moved = ann
        .ok_post(
            &format!("/v1/interactions/{a}/transfer"),
            json!({"agent": "bob"}),
        )
        .await;
    assert_eq!(
        (moved["state"].as_str(), moved["owner"].as_str()),
        (Some("offered"), Some("bob"))
    );
    bob.ok_post(&format!("/v1/interactions/{a}/accept"), json!({}))
        .await;
    assert_eq!(
        (load_of(&admin, "ann").await, load_of(&admin, "bob").await),
        (0, 1)
    );

    // Park in bob's workbin; only bob pulls it back.
    let parked = bob
        .ok_post(
            &format!("/v1/interactions/{a}/park"),
            json!({"workbin": "follow-up"}),
        )
        .await;
    assert_eq!(
        (parked["state"].as_str(), parked["workbin-owner"].as_str()),
        (Some("parked"), Some("bob"))
    );
    let (_, bin) = bob.get("/v1/workbins/follow-up").await;
    assert_eq!(bin.as_array().unwrap().len(), 1);
    let (status, _) = ann
        .post(&format!("/v1/interactions/{a}/pull"), json!({}))
        .await;
    assert_eq!(status, 403);
    let pulled = bob
        .ok_post(&format!("/v1/interactions/{a}/pull"), json!({}))
        .await;
    assert_eq!(
        (pulled["state"].as_str(), pulled["owner"].as_str()),
        (Some("accepted"), Some("bob"))
    );

    // Transfer to a queue: routed again (to ann, who has room).
    bob.ok_post(
        &format!("/v1/interactions/{a}/transfer"),
        json!({"queue": "overflow"}),
    )
    .await;
    let again = admin
        .wait_for(&a, "offered from overflow", |i| {
            i["state"] == "offered" && i["queue"] == "overflow"
        })
        .await;
    assert!(
        again["owner"] == "ann" || again["owner"] == "bob",
        "{again}"
    );

    // A supervisor stops it; both agents are free again.
    let stopped = sue
        .ok_post(
            &format!("/v1/interactions/{a}/stop"),
            json!({"reason": "spam"}),
        )
        .await;
    assert_eq!(stopped["state"], "stopped");
    assert!(active_by_owner(&admin).await.is_empty());

    // Pull from a queue: with nobody ready, a chat waits; ann pulls it.
    ann.presence("ann", &[], "not-ready").await;
    bob.presence("bob", &[], "not-ready").await;
    let b = id_of(&admin.submit(chat()).await);
    admin.wait_waiting(&b).await;
    let (_, view) = ann.get("/v1/views/oldest-first").await;
    assert!(
        view.as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == b.as_str()),
        "{view}"
    );
    let moved = sue
        .ok_post(
            &format!("/v1/interactions/{b}/move"),
            json!({"queue": "overflow"}),
        )
        .await;
    assert_eq!(moved["queue"], "overflow");
    admin.wait_waiting(&b).await;
    // No view shows the overflow queue: agents cannot pull from it.
    let (status, refused) = ann
        .post(&format!("/v1/interactions/{b}/pull"), json!({}))
        .await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")));
    sue.ok_post(
        &format!("/v1/interactions/{b}/move"),
        json!({"queue": "inbound"}),
    )
    .await;
    admin.wait_waiting(&b).await;
    let pulled = ann
        .ok_post(&format!("/v1/interactions/{b}/pull"), json!({}))
        .await;
    assert_eq!(
        (pulled["state"].as_str(), pulled["owner"].as_str()),
        (Some("accepted"), Some("ann"))
    );
}

async fn views_filter_and_order_waiting_interactions(db: &TestDb) {
    let (_server, admin) = server(db).await;
    let mut ids = Vec::new();
    for (priority, segment) in [(1, "vip"), (5, "std"), (3, "vip")] {
        let mut body = chat();
        body["priority"] = json!(priority);
        body["attached"] = json!([{"key": "segment", "value": {"text": segment}}]);
        ids.push(id_of(&admin.submit(body).await));
    }
    for id in &ids {
        admin.wait_waiting(id).await;
    }
    let (_, vip) = admin.get("/v1/views/vip").await;
    let shown: Vec<&str> = vip
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown,
        [ids[2].as_str(), ids[0].as_str()],
        "vip only, higher priority first"
    );
    let (_, oldest) = admin.get("/v1/views/oldest-first").await;
    let shown: Vec<&str> = oldest
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ids.iter().map(String::as_str).collect::<Vec<_>>());
    // Submissions must fit the processes.
    let (status, body) = admin
        .post(
            "/v1/interactions",
            json!({"tenant": "acme", "media-type": "fax", "queue": "inbound"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("does not handle media type `fax`"),
        "{body}"
    );
    let (status, body) = admin
        .post(
            "/v1/interactions",
            json!({"tenant": "acme", "media-type": "chat", "queue": "nowhere"}),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("queue `nowhere` is not configured"))
    );
    let (status, missing) = admin.get("/v1/views/nope").await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (404, Some("view-not-found"))
    );
    let (_, queues) = admin.get("/v1/stats/queues").await;
    let inbound = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "inbound")
        .unwrap();
    assert_eq!(inbound["waiting"], 3, "{inbound}");
    assert!(inbound["oldest-ms"].as_u64().is_some());
}

on_both_backends!(
    a_queued_chat_is_offered_accepted_and_completed,
    capacity_holds_under_concurrent_routing,
    chats_spread_across_equally_free_agents,
    rejected_and_unanswered_offers_go_to_other_agents,
    an_agent_going_away_loses_its_offer,
    a_failing_router_applies_the_queue_fallback,
    agents_and_supervisors_operate_on_interactions,
    views_filter_and_order_waiting_interactions,
);
