//! The web chat channel through its API: a whole chat on SQLite and
//! PostgreSQL (routing, live delivery both ways, typing, transfer, end,
//! history), resuming after a disconnect with nothing missed, file limits,
//! privacy masking, supervision (monitor, coach, barge), strategies'
//! messages, customers who stay away, and bad input.

use parley_tests::TestServer;
use parley_tests::chat::{self, Customer, agent_socket, texts};
use parley_tests::client::Client;
use parley_tests::database::TestDb;
use serde_json::{Value, json};
use std::time::Duration;

fn base(admin: &Client) -> String {
    admin.url("")
}

async fn start_chat(admin: &Client, email: &str) -> Customer {
    chat::start(
        &base(admin),
        json!({"nickname": "Ada", "email": email, "subject": "Billing question"}),
    )
    .await
}

/// Waits for the offer of `customer`'s chat to `agent`, and accepts it.
async fn accept(admin: &Client, agent: &Client, id: &str, customer: &Customer) {
    admin
        .wait_for(&customer.id, &format!("offered to {id}"), |i| {
            i["state"] == "offered" && i["owner"] == id
        })
        .await;
    agent
        .ok_post(
            &format!("/v1/interactions/{}/accept", customer.id),
            json!({}),
        )
        .await;
}

async fn a_whole_chat_goes_from_customer_to_agents_and_into_history(db: &TestDb) {
    let (_server, admin) = TestServer::with_admin(Some(db), "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let customer = start_chat(&admin, "Ada@Example.com").await;
    let mut ann_socket = agent_socket(&ann).await;
    let mut ada = customer.socket(0).await;
    accept(&admin, &ann, "ann", &customer).await;
    ada.message("Agent ann joined the chat").await;

    // Customer to agent over the sockets, acknowledged once stored.
    ada.send(json!({"type": "message", "text": "Hello, my invoice is wrong", "ref": "c1"}))
        .await;
    let acked = ada.until("the ack", |f| f["type"] == "ack").await;
    let ack = acked.last().unwrap();
    assert_eq!(ack["ref"], "c1");
    let stored_seq = ack["message"]["seq"].as_i64().unwrap();
    let received = ann_socket.message("Hello, my invoice is wrong").await;
    assert_eq!(received["seq"].as_i64(), Some(stored_seq));
    assert_eq!(received["from"]["role"], "customer");
    assert_eq!(received["session"], customer.id);

    // Typing both ways.
    ada.send(json!({"type": "typing", "typing": true})).await;
    let typing = ann_socket
        .until("customer typing", |f| f["type"] == "typing")
        .await;
    assert_eq!(typing.last().unwrap()["from"]["name"], "Ada");
    assert_eq!(typing.last().unwrap()["typing"], true);
    ann_socket
        .send(json!({"type": "typing", "session": customer.id, "typing": true}))
        .await;
    let typing = ada
        .until("agent typing", |f| {
            f["type"] == "typing" && f["from"]["role"] == "agent"
        })
        .await;
    assert_eq!(typing.last().unwrap()["from"]["name"], "Agent ann");

    // Agent to customer over REST.
    let (status, sent) = ann
        .post(
            &format!("/v1/chats/{}/messages", customer.id),
            json!({"text": "Let me check that for you"}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let got = ada.message("Let me check that for you").await;
    assert_eq!(got["from"]["id"], "ann");

    // Transfer to Bob: Ann leaves, Bob joins and reads what was said.
    let bob = admin.ready_agent("bob", "agent").await;
    let mut bob_socket = agent_socket(&bob).await;
    ann.ok_post(
        &format!("/v1/interactions/{}/transfer", customer.id),
        json!({"agent": "bob"}),
    )
    .await;
    accept(&admin, &bob, "bob", &customer).await;
    ada.message("Agent ann transferred the chat").await;
    let left = ann_socket
        .until("ann told she left", |f| f["type"] == "left")
        .await;
    let left = left.last().unwrap();
    assert_eq!(left["session"], customer.id);
    assert_eq!(left["interaction"]["owner"], "bob");
    ada.message("Agent bob joined the chat").await;
    let (_, seen_by_bob) = bob.get(&format!("/v1/chats/{}", customer.id)).await;
    let transcript: Vec<&str> = seen_by_bob["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(
        transcript.contains(&"Hello, my invoice is wrong")
            && transcript.contains(&"Let me check that for you"),
        "{transcript:?}"
    );
    // Ann is out: she can no longer write.
    let (status, refused) = ann
        .post(
            &format!("/v1/chats/{}/messages", customer.id),
            json!({"text": "still here?"}),
        )
        .await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")));
    // She still reads the chat she wrote in.
    let (status, _) = ann.get(&format!("/v1/chats/{}", customer.id)).await;
    assert_eq!(status, 200);
    ada.send(json!({"type": "message", "text": "Thanks Bob", "ref": "c2"}))
        .await;
    bob_socket.message("Thanks Bob").await;

    // Bob ends it with a disposition; the customer is told and let go.
    bob.ok_post(
        &format!("/v1/interactions/{}/complete", customer.id),
        json!({"disposition": "resolved"}),
    )
    .await;
    let end = ada.until("the end", |f| f["type"] == "ended").await;
    assert!(
        texts(&end).contains(&"Agent bob ended the chat".to_string()),
        "{end:?}"
    );
    assert!(
        ada.next().await.is_none(),
        "the socket closes after the end"
    );
    let (status, gone) = customer.say("hello?").await;
    assert_eq!(
        (status, gone["code"].as_str()),
        (410, Some("session-ended"))
    );

    // The contact's history holds the completed chat with its transcript.
    let (status, history) = bob.get("/v1/contacts/email:ada@example.com/history").await;
    assert_eq!(status, 200, "{history}");
    let entry = &history[0];
    assert_eq!(entry["interaction"]["id"], customer.id);
    assert_eq!(entry["interaction"]["state"], "completed");
    assert_eq!(entry["interaction"]["disposition"], "resolved");
    let said: Vec<(String, String)> = entry["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "text")
        .map(|m| {
            (
                m["from"]["name"].as_str().unwrap().to_string(),
                m["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("Ada", "Hello, my invoice is wrong"),
            ("Agent ann", "Let me check that for you"),
            ("Ada", "Thanks Bob"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let seqs: Vec<i64> = entry["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

on_both_backends!(a_whole_chat_goes_from_customer_to_agents_and_into_history);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_resumes_after_a_disconnect_and_misses_nothing() {
    let (_server, admin) = TestServer::with_admin(None, "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let customer = start_chat(&admin, "grace@example.com").await;
    accept(&admin, &ann, "ann", &customer).await;
    let mut ada = customer.socket(0).await;
    let first = ada.message("Agent ann joined the chat").await;
    let mut last_seen = first["seq"].as_i64().unwrap();
    ada.send(json!({"type": "message", "text": "are you there?", "ref": "x"}))
        .await;
    let read = ada.message("are you there?").await;
    last_seen = last_seen.max(read["seq"].as_i64().unwrap());
    ada.close().await;

    // While the customer is away the agent writes; other chats go on too.
    let other = start_chat(&admin, "other@example.com").await;
    let mut missed = Vec::new();
    for i in 0..5 {
        let text = format!("reply {i}");
        ann.ok_post(
            &format!("/v1/chats/{}/messages", customer.id),
            json!({"text": text}),
        )
        .await;
        other.say(&format!("noise {i}")).await;
        missed.push(text);
    }

    // Reconnecting from the last message seen delivers exactly what was
    // missed, in order, and then live messages.
    let mut again = customer.socket(last_seen).await;
    let mut got = Vec::new();
    let mut seqs = Vec::new();
    while got.len() < 5 {
        let frame = again.next().await.expect("the socket stays open");
        if frame["type"] == "message" {
            assert_eq!(frame["message"]["session"], customer.id);
            seqs.push(frame["message"]["seq"].as_i64().unwrap());
            got.push(frame["message"]["text"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(got, missed);
    assert!(seqs.iter().all(|s| *s > last_seen));
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    ann.ok_post(
        &format!("/v1/chats/{}/messages", customer.id),
        json!({"text": "live again"}),
    )
    .await;
    again.message("live again").await;

    // The long poll gives the same from the same cursor, and waits when
    // there is nothing new.
    let polled = customer.poll(last_seen, 0).await;
    let polled: Vec<&str> = polled["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        polled[..5],
        missed.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert_eq!(polled[5], "live again");
    let newest = customer.poll(0, 0).await["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["seq"]
        .as_i64()
        .unwrap();
    let waiter = {
        let customer = customer.clone();
        tokio::spawn(async move { customer.poll(newest, 20).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the long poll waits for a message");
    ann.ok_post(
        &format!("/v1/chats/{}/messages", customer.id),
        json!({"text": "woken"}),
    )
    .await;
    let woken = waiter.await.unwrap();
    assert_eq!(woken["messages"][0]["text"], "woken");
}

/// A 1x1 PNG.
fn png() -> Vec<u8> {
    let mut bytes =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    bytes.extend_from_slice(b"\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82");
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_checked_for_size_and_type_and_kept_with_the_transcript() {
    let settings = "[chat]\nmax-file-bytes = 2048\nfile-types = [\"image/png\", \"text/plain\"]\n";
    let (_server, admin) = TestServer::with_admin(None, settings).await;
    let ann = admin.ready_agent("ann", "agent").await;
    let customer = start_chat(&admin, "files@example.com").await;
    accept(&admin, &ann, "ann", &customer).await;

    let (status, sent) = customer.upload("../photo.png", "image/png", png()).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["kind"], "file");
    assert_eq!(sent["file"]["name"], "photo.png");
    assert_eq!(sent["file"]["size"], png().len());
    let file_id = sent["file"]["id"].as_str().unwrap().to_string();

    let (status, refused) = customer
        .upload("big.txt", "text/plain", vec![b'a'; 2049])
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (413, Some("file-too-large"))
    );
    let (status, refused) = customer
        .upload("a.pdf", "application/pdf", b"%PDF-1.4".to_vec())
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (415, Some("file-type-refused"))
    );
    let (status, refused) = customer.upload("fake.txt", "text/plain", png()).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (415, Some("file-type-refused"))
    );
    assert!(
        refused["message"].as_str().unwrap().contains("image/png"),
        "{refused}"
    );
    let (status, refused) = customer.upload("", "text/plain", b"hi".to_vec()).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad-request"))
    );

    // The agent sends one too; both download what was stored, as files.
    let http = reqwest::Client::new();
    let response = http
        .post(ann.url(&format!("/v1/chats/{}/files?name=notes.txt", customer.id)))
        .bearer_auth(&ann.token)
        .header("content-type", "text/plain")
        .body("your reference is 42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let download = http
        .get(customer.url(&format!("/files/{file_id}?key={}", customer.key)))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), png());
    let by_agent = http
        .get(ann.url(&format!("/v1/chats/{}/files/{file_id}", customer.id)))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_agent.bytes().await.unwrap().to_vec(), png());
    // Without the key, nothing.
    let (status, _) = customer
        .with_key("ck_wrong")
        .get(&format!("/files/{file_id}"))
        .await;
    assert_eq!(status, 403);

    // The transcript keeps only what was accepted.
    let (_, transcript) = ann.get(&format!("/v1/chats/{}", customer.id)).await;
    let files: Vec<&str> = transcript["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "file")
        .map(|m| m["file"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["photo.png", "notes.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_rules_mask_or_drop_before_anything_is_stored() {
    let settings = r#"
[[chat.masking]]
name = "card-number"
pattern = '\b(?:\d[ -]?){12,18}\d\b'
action = "mask"
keep-last = 4
[[chat.masking]]
name = "password"
pattern = '(?i)\bpassword\s*[:=]'
action = "drop"
"#;
    let (_server, admin) = TestServer::with_admin(None, settings).await;
    let ann = admin.ready_agent("ann", "agent").await;
    let customer = start_chat(&admin, "mask@example.com").await;
    accept(&admin, &ann, "ann", &customer).await;
    let mut ann_socket = agent_socket(&ann).await;

    let (status, stored) = customer.say("my card is 4111 1111 1111 1234").await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["text"], "my card is **** **** **** 1234");
    let seen = ann_socket.message("my card is **** **** **** 1234").await;
    assert_eq!(seen["seq"], stored["seq"]);

    let (status, refused) = customer.say("my password: hunter2").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("message-withheld"))
    );
    assert!(
        refused["message"].as_str().unwrap().contains("password"),
        "{refused}"
    );

    // Agents are masked too; nothing unmasked is anywhere in the store.
    ann.ok_post(
        &format!("/v1/chats/{}/messages", customer.id),
        json!({"text": "is it 5500-0000-0000-0004?"}),
    )
    .await;
    let (_, transcript) = ann.get(&format!("/v1/chats/{}", customer.id)).await;
    let all = transcript.to_string();
    assert!(
        !all.contains("4111 1111") && !all.contains("5500-0000") && !all.contains("hunter2"),
        "{all}"
    );
    assert!(all.contains("****-****-****-0004"), "{all}");

    // What a customer types when starting a chat, and file names, too.
    let started = chat::start(
        &admin.url(""),
        json!({
            "nickname": "Ada 4111 1111 1111 1234",
            "subject": "card 4111-1111-1111-1234",
        }),
    )
    .await;
    let (_, chat) = admin.get(&format!("/v1/chats/{}", started.id)).await;
    let (status, file) = started
        .upload("4111111111111234.txt", "text/plain", b"x".to_vec())
        .await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["file"]["name"], "************1234.txt");
    let (status, refused) = admin
        .with_token("")
        .post(
            "/v1/chat/sessions",
            json!({"nickname": "Ada", "subject": "password: hunter2"}),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("message-withheld"))
    );
    let all = format!("{chat}");
    assert!(
        !all.contains("4111 1111") && !all.contains("4111-1111"),
        "{all}"
    );
    assert!(all.contains("**** **** **** 1234"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_monitor_silently_coach_the_agent_and_barge_in() {
    let (_server, admin) = TestServer::with_admin(None, "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let sue = admin.ready_agent("sue", "supervisor").await;
    sue.presence("sue", &["chat"], "not-ready").await;
    let customer = start_chat(&admin, "coach@example.com").await;
    accept(&admin, &ann, "ann", &customer).await;
    let mut ann_socket = agent_socket(&ann).await;
    let mut sue_socket = agent_socket(&sue).await;
    let mut ada = customer.socket(0).await;
    ada.message("Agent ann joined the chat").await;

    // The live chats list shows it.
    let (status, live) = sue.get("/v1/chats").await;
    assert_eq!(status, 200, "{live}");
    assert!(
        live.as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == customer.id && c["owner"] == "ann")
    );
    let (status, _) = ann.get("/v1/chats").await;
    assert_eq!(status, 403, "agents do not see everyone's chats");

    // Monitoring: Sue reads along, nobody is told, she cannot write.
    let supervision = format!("/v1/chats/{}/supervision", customer.id);
    let (status, body) = sue.put(&supervision, json!({"mode": "monitor"})).await;
    assert_eq!(status, 200, "{body}");
    customer.say("I want a refund").await;
    sue_socket.message("I want a refund").await;
    let (status, refused) = sue
        .post(
            &format!("/v1/chats/{}/messages", customer.id),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("monitoring-silently"))
    );

    // Coaching: the agent reads it, the customer never does.
    sue.put(&supervision, json!({"mode": "coach"})).await;
    let (status, coached) = sue
        .post(
            &format!("/v1/chats/{}/messages", customer.id),
            json!({"text": "Offer the 10% voucher"}),
        )
        .await;
    assert_eq!(status, 201, "{coached}");
    assert_eq!(coached["visibility"], "agents");
    let seen = ann_socket.message("Offer the 10% voucher").await;
    assert_eq!(seen["from"]["role"], "supervisor");

    // Barging in: everyone is told and reads her.
    sue.put(&supervision, json!({"mode": "barge"})).await;
    sue.ok_post(
        &format!("/v1/chats/{}/messages", customer.id),
        json!({"text": "I am the team lead, I can help"}),
    )
    .await;
    let read = ada
        .until("the supervisor's message", |f| {
            f["type"] == "message" && f["message"]["text"] == "I am the team lead, I can help"
        })
        .await;
    let customer_saw = texts(&read);
    assert!(
        customer_saw.contains(&"Agent sue joined the chat".to_string()),
        "{customer_saw:?}"
    );
    assert!(
        !customer_saw
            .iter()
            .any(|t| t.contains("voucher") || t.contains("coaching")),
        "{customer_saw:?}"
    );
    // Nor does the customer's transcript or long poll have the coaching.
    let polled = customer.poll(0, 0).await.to_string();
    assert!(
        !polled.contains("voucher") && polled.contains("team lead"),
        "{polled}"
    );
    // Agents cannot supervise, nor read chats they have nothing to do with.
    let (status, _) = ann.put(&supervision, json!({"mode": "coach"})).await;
    assert_eq!(status, 403);
    let zed = admin.ready_agent("zed", "agent").await;
    let (status, _) = zed.get(&format!("/v1/chats/{}", customer.id)).await;
    assert_eq!(status, 403);
    let (status, _) = ann.get(&format!("/v1/chats/{}", customer.id)).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_tells_the_waiting_customer_where_they_stand() {
    let (_server, admin) = TestServer::with_admin(None, "").await;
    // No agent is ready: the chat waits, and the reference router's
    // message reaches the customer with the host's figures filled in.
    let customer = start_chat(&admin, "wait@example.com").await;
    let mut got = Vec::new();
    for _ in 0..100 {
        let polled = customer.poll(0, 1).await;
        got = texts(
            &polled["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| json!({"type": "message", "message": m}))
                .collect::<Vec<_>>(),
        );
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(
        got,
        ["Thanks for waiting. You are number 1 in the queue; the estimated wait is not known yet."]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_who_stays_away_past_the_resume_window_has_left() {
    let (_server, admin) = TestServer::with_admin(None, "[chat]\nresume-window-s = 1\n").await;
    let customer = start_chat(&admin, "gone@example.com").await;
    let ada = customer.socket(0).await;
    ada.close().await;
    let stopped = admin.wait_state(&customer.id, "stopped").await;
    assert_eq!(stopped["queue"], Value::Null);
    let (status, gone) = customer.say("back!").await;
    assert_eq!(
        (status, gone["code"].as_str()),
        (410, Some("session-ended"))
    );
    let polled = customer.poll(0, 0).await;
    assert_eq!(polled["ended"], true);
    assert!(
        polled.to_string().contains("Ada lost the connection"),
        "{polled}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error() {
    let (_server, admin) = TestServer::with_admin(None, "[chat]\nmax-message-chars = 10\n").await;
    let base = base(&admin);
    let http = reqwest::Client::new();
    let start = |body: Value| {
        let http = http.clone();
        let url = format!("{base}/v1/chat/sessions");
        async move {
            let response = http.post(url).json(&body).send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    for (body, code) in [
        (json!({"nickname": " "}), "bad-request"),
        (
            json!({"nickname": "Ada", "email": "not an address"}),
            "bad-request",
        ),
        (
            json!({"nickname": "Ada", "queue": "nowhere"}),
            "bad-request",
        ),
        (json!({"nickname": "Ada", "colour": "red"}), "bad-request"),
    ] {
        let (status, error) = start(body.clone()).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (400, Some(code)),
            "{body}: {error}"
        );
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let customer = start_chat(&admin, "bad@example.com").await;

    let unknown = customer.with_id("no-such-session");
    let (status, error) = unknown.say("hi").await;
    assert_eq!(
        (status, error["code"].as_str()),
        (404, Some("session-not-found"))
    );
    let (status, error) = customer.with_key("ck_guess").say("hi").await;
    assert_eq!((status, error["code"].as_str()), (403, Some("wrong-key")));
    let response = http
        .post(customer.url("/messages"))
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let (status, error) = customer.say("eleven chars").await;
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("message-too-long"))
    );
    assert!(
        error["message"].as_str().unwrap().contains("limit is 10"),
        "{error}"
    );
    let (status, error) = customer.say("   ").await;
    assert_eq!((status, error["code"].as_str()), (400, Some("bad-request")));
    let (status, error) = customer.post("/url", json!({"url": "ftp://x"})).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("bad-request")));
    let (status, error) = customer.post("/messages", json!({"txt": "typo"})).await;
    assert_eq!(status, 400, "{error}");
    // Over the socket, errors come back tagged with the client's ref.
    let mut socket = customer.socket(0).await;
    socket
        .send(json!({"type": "message", "text": "far too long", "ref": "m9"}))
        .await;
    let read = socket.until("the error", |f| f["type"] == "error").await;
    let error = read.last().unwrap();
    assert_eq!(
        (error["ref"].as_str(), error["code"].as_str()),
        (Some("m9"), Some("message-too-long"))
    );
    socket.send(json!({"type": "dance"})).await;
    let read = socket.until("the error", |f| f["type"] == "error").await;
    assert_eq!(read.last().unwrap()["code"], "bad-request");
    // Nothing refused was stored.
    assert_eq!(
        customer.poll(0, 0).await["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["from"]["role"] == "customer")
            .count(),
        0
    );

    // After leaving, the session is gone for good.
    let (status, _) = customer.post("/leave", json!({})).await;
    assert_eq!(status, 200);
    let stopped = admin.wait_state(&customer.id, "stopped").await;
    assert_eq!(stopped["media-type"], "chat");
    let (status, error) = customer.say("hello?").await;
    assert_eq!(
        (status, error["code"].as_str()),
        (410, Some("session-ended"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_crash() {
    use parley_tests::process::{ServerProcess, free_port};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("parley.toml");
    let data = dir.path().join("data").display().to_string();
    std::fs::write(
        &config,
        // A load, not a customer: no message rate.
        format!(
            "data-dir = {data:?}\nadmin-token = \"test-admin-token-0123\"\n\
             [chat]\ncustomer-messages = {{ per-minute = 0, burst = 0 }}\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = ServerProcess::with_config(&listen, &config);
    let customer = chat::start(&server.url(), json!({"nickname": "Ada"})).await;

    // Four writers send until the server dies; what was acknowledged is
    // recorded.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let url = customer.url("/messages");
            let key = customer.key.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut acked = Vec::new();
                for i in 0.. {
                    let text = format!("w{w} m{i}");
                    let sent = http
                        .post(&url)
                        .header("x-chat-key", &key)
                        .json(&json!({"text": text}))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status().as_u16() == 201 => acked.push(text),
                        _ => return acked,
                    }
                }
                acked
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.kill();
    let mut acked = Vec::new();
    for writer in writers {
        acked.extend(writer.await.unwrap());
    }
    assert!(acked.len() > 20, "the load ran: {}", acked.len());

    // After the restart the session resumes with every acknowledged
    // message, each once, in each writer's order.
    let server = ServerProcess::with_config(&listen, &config);
    let customer = customer.with_base(&server.url());
    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page = customer.poll(after, 0).await;
        let messages = page["messages"].as_array().unwrap().clone();
        let Some(last) = messages.last() else { break };
        after = last["seq"].as_i64().unwrap();
        stored.extend(
            messages
                .iter()
                .filter(|m| m["from"]["role"] == "customer")
                .map(|m| m["text"].as_str().unwrap().to_string()),
        );
    }
    for text in &acked {
        assert_eq!(
            stored.iter().filter(|s| *s == text).count(),
            1,
            "{text} once"
        );
    }
    for w in 0..4 {
        let prefix = format!("w{w} ");
        let order: Vec<u64> = stored
            .iter()
            .filter_map(|s| s.strip_prefix(&prefix))
            .map(|m| m[1..].parse().unwrap())
            .collect();
        assert!(order.windows(2).all(|p| p[0] < p[1]), "{order:?}");
    }
    let (status, _) = customer.say("still here").await;
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conferenced_agent_joins_the_conversation_and_leaves_it() {
    let (_server, admin) = TestServer::with_admin(None, "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let customer = start_chat(&admin, "conf@example.com").await;
    accept(&admin, &ann, "ann", &customer).await;
    customer.say("first, before Bob").await;
    let bob = admin.ready_agent("bob", "agent").await;
    let mut bob_socket = agent_socket(&bob).await;
    let mut ada = customer.socket(0).await;
    ann.ok_post(
        &format!("/v1/interactions/{}/conference", customer.id),
        json!({"agent": "bob"}),
    )
    .await;
    ada.message("Agent bob joined the chat").await;
    // Bob reads what was said before he came, and what is said now.
    let (status, transcript) = bob.get(&format!("/v1/chats/{}", customer.id)).await;
    assert_eq!(status, 200);
    assert!(transcript.to_string().contains("first, before Bob"));
    customer.say("hello both").await;
    bob_socket.message("hello both").await;
    bob.ok_post(
        &format!("/v1/chats/{}/messages", customer.id),
        json!({"text": "Bob here"}),
    )
    .await;
    ada.message("Bob here").await;
    // Bob leaves; Ann keeps the chat.
    bob.ok_post(
        &format!("/v1/interactions/{}/leave", customer.id),
        json!({}),
    )
    .await;
    ada.message("Agent bob left the chat").await;
    let (status, _) = bob
        .post(
            &format!("/v1/chats/{}/messages", customer.id),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    ann.ok_post(
        &format!("/v1/chats/{}/messages", customer.id),
        json!({"text": "Ann still here"}),
    )
    .await;
    ada.message("Ann still here").await;
}
