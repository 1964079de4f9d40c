//! Who reads what of a contact: the history and search hits an agent gets
//! are those of the interactions it may read (as `/v1/chats/{id}` and
//! `/v1/emails/{id}` decide), coaching reaches only the agent it was
//! written for, supervisors read everything, and credentials of no
//! account below supervisor read nothing.

use parley_tests::TestServer;
use parley_tests::chat::{self, agent_socket};
use parley_tests::client::{Client, agent_spec};
use parley_tests::database::TestDb;
use serde_json::{Value, json};

/// The interaction ids of a history or of a page of search results.
fn ids(list: &Value) -> Vec<String> {
    let items = list
        .get("results")
        .unwrap_or(list)
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"));
    items
        .iter()
        .map(|item| item["interaction"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// The texts of a transcript.
fn said(transcript: &Value) -> Vec<String> {
    transcript
        .as_array()
        .unwrap_or_else(|| panic!("a transcript: {transcript}"))
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn history(client: &Client, query: &str) -> Value {
    let (status, history) = client
        .get(&format!(
            "/v1/contacts/email:ada@example.com/history{query}"
        ))
        .await;
    assert_eq!(status, 200, "{history}");
    history
}

async fn search(client: &Client, words: &str) -> Value {
    let (status, found) = client.get(&format!("/v1/search?q={words}")).await;
    assert_eq!(status, 200, "{found}");
    found
}

async fn history_and_search_show_each_reader_what_it_may_read(db: &TestDb) {
    let (server, admin) = TestServer::with_admin(Some(db), "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let sue = admin.ready_agent("sue", "supervisor").await;
    sue.presence("sue", &["chat"], "not-ready").await;

    // A chat of Ada's: Ann takes it, Sue coaches her.
    let customer = chat::start(
        &server.url(""),
        json!({"nickname": "Ada", "email": "ada@example.com", "subject": "Delivery"}),
    )
    .await;
    let chat = customer.id.clone();
    admin.accept_when_offered(&ann, "ann", &chat).await;
    let (status, _) = customer.say("My parcel is late").await;
    assert_eq!(status, 201);
    ann.ok_post(
        &format!("/v1/chats/{chat}/messages"),
        json!({"text": "Let me look"}),
    )
    .await;
    let supervision = format!("/v1/chats/{chat}/supervision");
    let (status, body) = sue.put(&supervision, json!({"mode": "coach"})).await;
    assert_eq!(status, 200, "{body}");
    let coached = sue
        .ok_post(
            &format!("/v1/chats/{chat}/messages"),
            json!({"text": "Offer the voucher"}),
        )
        .await;
    assert_eq!(coached["audience"], json!(["ann"]), "{coached}");

    // Ann hands it to Bob; Sue coaches Bob, whose desktop gets it live.
    let bob = admin.ready_agent("bob", "agent").await;
    let mut bob_socket = agent_socket(&bob).await;
    ann.ok_post(
        &format!("/v1/interactions/{chat}/transfer"),
        json!({"agent": "bob"}),
    )
    .await;
    admin.accept_when_offered(&bob, "bob", &chat).await;
    let (status, body) = sue.put(&supervision, json!({"mode": "coach"})).await;
    assert_eq!(status, 200, "{body}");
    sue.ok_post(
        &format!("/v1/chats/{chat}/messages"),
        json!({"text": "Escalate to billing"}),
    )
    .await;
    let live = bob_socket.message("Escalate to billing").await;
    assert_eq!(live["audience"], json!(["bob"]), "{live}");

    // The chat as each reads it: coaching only for whom it was written.
    let (_, seen) = bob.get(&format!("/v1/chats/{chat}")).await;
    let seen = said(&seen["messages"]);
    assert!(
        seen.contains(&"My parcel is late".to_string())
            && seen.contains(&"Escalate to billing".to_string()),
        "{seen:?}"
    );
    assert!(!seen.contains(&"Offer the voucher".to_string()), "{seen:?}");
    let (status, seen) = ann.get(&format!("/v1/chats/{chat}")).await;
    assert_eq!(status, 200, "Ann wrote in it: {seen}");
    let seen = said(&seen["messages"]);
    assert!(seen.contains(&"Offer the voucher".to_string()), "{seen:?}");
    assert!(
        !seen.contains(&"Escalate to billing".to_string()),
        "{seen:?}"
    );

    // An e-mail of Ada's through the web form, taken by Cid.
    let mut spec = agent_spec("cid", json!({"email": 1}));
    spec["name"] = json!("Agent cid");
    admin.create_agent(spec).await;
    let cid = admin.login("cid", "password-cid").await;
    cid.presence("cid", &["email"], "ready").await;
    let (status, form) = admin
        .post(
            "/v1/email/forms/contact",
            json!({"email": "ada@example.com", "name": "Ada Lovelace",
                   "subject": "Parcel", "message": "Where is my parcel?"}),
        )
        .await;
    assert_eq!(status, 201, "{form}");
    let email = form["interaction"].as_str().unwrap().to_string();
    admin.accept_when_offered(&cid, "cid", &email).await;

    // Zed is an agent with nothing of Ada's; a CRM holds an agent-role key.
    let zed = admin.ready_agent("zed", "agent").await;
    let key = admin
        .ok_post("/v1/api-keys", json!({"name": "crm", "role": "agent"}))
        .await;
    let crm = admin.with_token(key["key"].as_str().unwrap());

    let both = vec![email.clone(), chat.clone()];
    let only_chat = vec![chat.clone()];
    let only_email = vec![email.clone()];
    let nothing: Vec<String> = Vec::new();
    for (who, reader, expected) in [
        ("sue", &sue, &both),
        ("admin", &admin, &both),
        ("ann", &ann, &only_chat),
        ("bob", &bob, &only_chat),
        ("cid", &cid, &only_email),
        ("zed", &zed, &nothing),
        ("the agent-role key", &crm, &nothing),
    ] {
        assert_eq!(
            &ids(&history(reader, "").await),
            expected,
            "{who}'s history"
        );
        assert_eq!(
            &ids(&search(reader, "parcel").await),
            expected,
            "{who}'s search"
        );
    }
    // A page counts only what the reader may read.
    assert_eq!(ids(&history(&ann, "?limit=1").await), only_chat);
    assert_eq!(ids(&history(&sue, "?limit=1").await), only_email);
    let found = search(&ann, "parcel&limit=1").await;
    assert_eq!(ids(&found), only_chat);
    assert_eq!(found["next-offset"], Value::Null, "{found}");

    // Transcripts in the history: each agent's coaching, all for Sue.
    let transcript = |history: &Value| said(&history[0]["transcript"]);
    let anns = transcript(&history(&ann, "").await);
    assert!(anns.contains(&"Offer the voucher".to_string()), "{anns:?}");
    assert!(
        !anns.contains(&"Escalate to billing".to_string()),
        "{anns:?}"
    );
    let bobs = transcript(&history(&bob, "").await);
    assert!(
        bobs.contains(&"Escalate to billing".to_string()),
        "{bobs:?}"
    );
    assert!(!bobs.contains(&"Offer the voucher".to_string()), "{bobs:?}");
    let sues = history(&sue, "").await;
    let sues_chat = said(&sues[1]["transcript"]);
    assert!(
        sues_chat.contains(&"Offer the voucher".to_string())
            && sues_chat.contains(&"Escalate to billing".to_string()),
        "{sues_chat:?}"
    );

    // The e-mail entry carries its body and the customer's name.
    let entry = &history(&cid, "").await[0];
    assert_eq!(entry["body"], "Where is my parcel?", "{entry}");
    assert_eq!(entry["customer-name"], "Ada Lovelace", "{entry}");
    assert_eq!(entry["subject"], "Parcel", "{entry}");
    assert_eq!(entry["attachments"], json!([]), "{entry}");
}

on_both_backends!(history_and_search_show_each_reader_what_it_may_read);
