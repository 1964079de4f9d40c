//! Screening before routing: a router asks the host to screen a stored
//! interaction (`plugins.screen-interaction`); the host builds the request
//! from what it stores (a chat: the customer's messages; an e-mail: the
//! customer's latest message, taken in from Dovecot), the screener's
//! categories and fields become attached data, and the category's skill
//! decides who gets it. Calls are denied without the grant or for another
//! interaction, and a screener that loops or traps leaves the router
//! routing.

use parley_tests::client::{Client, PATIENCE};
use parley_tests::database::TestDb;
use parley_tests::mail::Dovecot;
use parley_tests::{Options, TestServer, bundled_plugin, chat, guests, write_plugin};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// The business process of these tests: chats start in `lobby` (the
/// bundled skills router, which does not screen chats) and are moved to
/// the `triage` queue, whose router screens them.
const PROCESSES: &str = r#"
[[process]]
name = "support"
media-types = ["chat", "workitem", "email"]

[[process.queue]]
name = "lobby"
router = "skills-router"

[[process.queue]]
name = "triage"
router = "triage-router"
"#;

/// Writes `name`, the reference skills router screening every medium with
/// `screener`, requiring `billing` for the `billing` category.
fn triage_router(plugins: &Path, name: &str, screener: &str) {
    let bundle = bundled_plugin(&plugins.join("../bundle"), "skills-router");
    write_plugin(
        plugins,
        name,
        "router",
        bundle.join("skills_router.wasm").to_str().unwrap(),
        &format!(
            r#"[limits]
deadline-ms = 250
[capabilities]
calls = ["{screener}"]
[config]
requirements = {{ "*" = [{{ skill = "support", level = 1 }}] }}
screening = {{ plugin = "{screener}", media = ["*"], category-skills = {{ billing = "billing" }} }}
"#
        ),
    );
}

/// A server with [`PROCESSES`] after `setup` wrote its plugins.
async fn server(db: Option<&TestDb>, settings: &str, setup: impl FnOnce(&Path)) -> TestServer {
    let options = Options {
        database: db.map(TestDb::url),
        settings: settings.to_string(),
        processes: Some(PROCESSES.into()),
    };
    TestServer::start_with(options, setup).await
}

/// Creates agent `id` with `skills`, logs it in and makes it ready on chat
/// and work items.
async fn ready_agent(admin: &Client, id: &str, skills: Value) -> Client {
    admin
        .create_agent(json!({
            "id": id, "password": format!("password-{id}"), "skills": skills,
            "capacity": {"limits": {"chat": 1, "workitem": 1}},
        }))
        .await;
    let agent = admin.login(id, &format!("password-{id}")).await;
    agent.presence(id, &["chat", "workitem"], "ready").await;
    agent
}

/// The value of attribute `key` of an interaction, as `{"text": ...}`.
fn attribute<'a>(interaction: &'a Value, key: &str) -> Option<&'a Value> {
    interaction["attached"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

fn text_of<'a>(interaction: &'a Value, key: &str) -> &'a str {
    attribute(interaction, key)
        .and_then(|v| v["text"].as_str())
        .unwrap_or_else(|| panic!("no text attribute `{key}`: {interaction}"))
}

/// Waits until interaction `id` waits in `queue` with attribute `key`.
async fn wait_attribute(admin: &Client, id: &str, queue: &str, key: &str) -> Value {
    admin
        .wait_for(id, &format!("waiting in {queue} with `{key}`"), |i| {
            i["state"] == "queued" && i["queue"] == queue && attribute(i, key).is_some()
        })
        .await
}

async fn a_chat_is_screened_and_offered_to_the_matching_skill(db: &TestDb) {
    let server = server(Some(db), "[chat]\nqueue = \"lobby\"\n", |plugins| {
        triage_router(plugins, "triage-router", "rules-screener")
    })
    .await;
    let admin = server.admin();
    let customer = chat::start(
        &server.url(""),
        json!({"nickname": "Ada", "subject": "My order"}),
    )
    .await;
    admin.wait_waiting(&customer.id).await;
    let (status, said) = customer.say("I want a refund for order AB123456").await;
    assert_eq!(status, 201, "{said}");
    admin
        .ok_post(
            &format!("/v1/interactions/{}/move", customer.id),
            json!({"queue": "triage"}),
        )
        .await;

    // Screened from what the customer wrote: the result is attached data.
    let screened = wait_attribute(&admin, &customer.id, "triage", "category").await;
    assert_eq!(text_of(&screened, "category"), "billing", "{screened}");
    assert_eq!(
        attribute(&screened, "category-score"),
        Some(&json!({"decimal": 0.9}))
    );
    assert_eq!(
        attribute(&screened, "categories"),
        Some(&json!({"texts": ["billing", "orders"]}))
    );
    assert_eq!(text_of(&screened, "field.order-number"), "AB123456");

    // An agent without `billing` does not get it; one with it does.
    ready_agent(&admin, "ann", json!([{"name": "support", "level": 5}])).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, waiting) = admin
        .get(&format!("/v1/interactions/{}", customer.id))
        .await;
    assert_eq!(
        (waiting["state"].as_str(), waiting["owner"].as_str()),
        (Some("queued"), None),
        "{waiting}"
    );
    let bob = ready_agent(
        &admin,
        "bob",
        json!([{"name": "support", "level": 1}, {"name": "billing", "level": 2}]),
    )
    .await;
    let offered = bob.wait_state(&customer.id, "offered").await;
    assert_eq!(offered["owner"], "bob");
    assert_eq!(text_of(&offered, "field.order-number"), "AB123456");
    let (_, totals) = admin.get("/v1/stats/totals").await;
    assert_eq!(totals["router-failures"], 0, "{totals}");
}

/// The probes' outcomes, from the attributes the probe router set.
async fn probed(admin: &Client, id: &str, probes: &[String]) -> Vec<String> {
    let probed = admin
        .wait_for(id, "probed", |i| {
            probes.iter().all(|p| attribute(i, p).is_some())
        })
        .await;
    probes
        .iter()
        .map(|p| text_of(&probed, p).to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_granted_screeners_and_the_calls_own_interactions_are_screened() {
    let processes = PROCESSES.replace("triage-router", "probe");
    // The probe imports every host interface: the operator lets it be
    // granted a secret and an origin it does not use here.
    let options = Options {
        processes: Some(processes),
        settings: "[limits]\ngrantable-http = [\"http://127.0.0.1:9\"]\n\
                   [secrets.probe-token]\nvalue = \"unused\"\nplugins = [\"probe\"]\n"
            .into(),
        ..Options::default()
    };
    let server = TestServer::start_with(options, |plugins| {
        write_plugin(
            plugins,
            "probe",
            "router",
            guests::PROBE_ROUTER,
            "[limits]\ndeadline-ms = 250\n[capabilities]\nkv = true\ncalls = [\"rules-screener\"]\n\
             secrets = [\"probe-token\"]\nhttp = [\"http://127.0.0.1:9\"]",
        );
    })
    .await;
    let admin = server.admin();
    let other = admin
        .submit(json!({"tenant": "acme", "media-type": "workitem"}))
        .await;
    let probes = vec![
        "screen-interaction:rules-screener".to_string(),
        format!(
            "screen-interaction:rules-screener:{}",
            other["id"].as_str().unwrap()
        ),
        "screen-interaction:other-screener".to_string(),
    ];
    let submitted = admin
        .submit(json!({
            "tenant": "acme", "media-type": "workitem", "queue": "triage",
            "attached": [
                {"key": "subject", "value": {"text": "I want a refund for order AB123456"}},
                {"key": "probe", "value": {"texts": probes}},
            ],
        }))
        .await;
    let outcomes = probed(&admin, submitted["id"].as_str().unwrap(), &probes).await;
    assert_eq!(
        outcomes[0], "billing=0.9,orders=0.7,field:order-number=AB123456",
        "a work item is screened on its subject and attached data"
    );
    assert_eq!(
        outcomes[1],
        format!(
            "error: ErrorKind::Denied: interaction `{}` is not one this call was given",
            other["id"].as_str().unwrap()
        )
    );
    assert_eq!(
        outcomes[2],
        "error: ErrorKind::Denied: the manifest does not grant calls to `other-screener`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_or_trapping_screener_leaves_the_router_routing() {
    let processes =
        format!("{PROCESSES}\n[[process.queue]]\nname = \"triage-2\"\nrouter = \"trap-triage\"\n");
    let options = Options {
        processes: Some(processes),
        ..Options::default()
    };
    let server = TestServer::start_with(options, |plugins| {
        for (name, behavior, deadline) in [("looping", "loop", 1000), ("trapping", "trap", 100)] {
            write_plugin(
                plugins,
                &format!("{name}-screener"),
                "screener",
                guests::TEST_SCREENER,
                &format!("[limits]\ndeadline-ms = {deadline}\n[config]\nbehavior = \"{behavior}\""),
            );
        }
        triage_router(plugins, "triage-router", "looping-screener");
        triage_router(plugins, "trap-triage", "trapping-screener");
    })
    .await;
    let admin = server.admin();
    ready_agent(&admin, "ann", json!([{"name": "support", "level": 1}])).await;
    ready_agent(&admin, "bob", json!([{"name": "support", "level": 1}])).await;
    let started = Instant::now();
    let mut offered = Vec::new();
    for queue in ["triage", "triage-2"] {
        let submitted = admin
            .submit(json!({"tenant": "acme", "media-type": "workitem", "queue": queue}))
            .await;
        offered.push(
            admin
                .wait_state(submitted["id"].as_str().unwrap(), "offered")
                .await,
        );
    }
    assert!(started.elapsed() < PATIENCE);
    // The looping screener was cut at half of the router's deadline; the
    // router routed without screening and recorded why.
    let looped = text_of(&offered[0], "screening-error");
    assert!(looped.starts_with("timeout: no answer within "), "{looped}");
    assert!(attribute(&offered[0], "category").is_none());
    let trapped = text_of(&offered[1], "screening-error");
    assert!(
        trapped.starts_with("internal: plugin `trapping-screener`") && trapped.contains("(trap)"),
        "{trapped}"
    );
    // No router failed, and the host serves on.
    let (_, totals) = admin.get("/v1/stats/totals").await;
    assert_eq!(totals["router-failures"], 0, "{totals}");
    let (status, _) = admin.get("/health").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screener_gets_the_customers_text_up_to_64_kib() {
    let settings = "[chat]\nqueue = \"lobby\"\nmax-message-chars = 70000\n";
    let server = server(None, settings, |plugins| {
        write_plugin(
            plugins,
            "counting-screener",
            "screener",
            guests::TEST_SCREENER,
            "",
        );
        triage_router(plugins, "triage-router", "counting-screener");
    })
    .await;
    let admin = server.admin();
    let customer = chat::start(&server.url(""), json!({"nickname": "Ada"})).await;
    admin.wait_waiting(&customer.id).await;
    for text in ["a".repeat(100), "b".repeat(70_000), "c".repeat(100)] {
        let (status, said) = customer.say(&text).await;
        assert_eq!(status, 201, "{said}");
    }
    admin
        .ok_post(
            &format!("/v1/interactions/{}/move", customer.id),
            json!({"queue": "triage"}),
        )
        .await;
    let screened = wait_attribute(&admin, &customer.id, "triage", "field.length").await;
    assert_eq!(text_of(&screened, "field.length"), (64 * 1024).to_string());
    assert_eq!(text_of(&screened, "category"), "test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_is_screened_on_its_body() {
    let dovecot = Dovecot::start();
    let settings = format!(
        "[email]\nqueue = \"triage\"\n{}",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", "")
    );
    let server = server(None, &settings, |plugins| {
        triage_router(plugins, "triage-router", "rules-screener")
    })
    .await;
    let admin = server.admin();
    // Nothing in the subject or the sender says what it is about.
    dovecot.deliver(
        b"From: Ada <ada@example.com>\r\nTo: support@shop.example\r\nSubject: A question\r\n\
          Message-ID: <screen-1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
          Hello,\r\nI would like my money back for order AB123456.\r\n",
    );
    let start = Instant::now();
    let id = loop {
        let (_, list) = admin.get("/v1/interactions?queue=triage&limit=10").await;
        if let Some(first) = list.as_array().and_then(|l| l.first()) {
            break first["id"].as_str().unwrap().to_string();
        }
        assert!(start.elapsed() < PATIENCE, "the e-mail was not taken in");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let screened = wait_attribute(&admin, &id, "triage", "category").await;
    assert_eq!(screened["media-type"], "email");
    assert_eq!(text_of(&screened, "category"), "billing", "{screened}");
    assert_eq!(
        attribute(&screened, "categories"),
        Some(&json!({"texts": ["billing", "orders"]}))
    );
    assert_eq!(text_of(&screened, "field.order-number"), "AB123456");
}

on_both_backends!(a_chat_is_screened_and_offered_to_the_matching_skill);
