//! Contacts and their history, on SQLite and PostgreSQL: identification
//! with normalised identities, a chat finding or creating its contact,
//! history on every channel, merging (history moves, tombstones answer
//! with the survivor, a refused merge changes nothing), deletion, roles,
//! and full-text search over the history (what customers and agents wrote,
//! never coaching; any query is safe).

use parley_store::{Identity, NewContact, StoreError};
use parley_tests::TestServer;
use parley_tests::chat::{self, Customer};
use parley_tests::client::Client;
use parley_tests::database::TestDb;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn identity(emails: &[&str], phones: &[&str], name: Option<&str>) -> Identity {
    Identity {
        emails: emails.iter().map(|e| e.to_string()).collect(),
        phones: phones.iter().map(|p| p.to_string()).collect(),
        name: name.map(String::from),
    }
}

async fn identification_normalises_and_finds_or_creates(db: &TestDb) {
    let store = db.open().await;
    let ada = store
        .identify(identity(&[" Ada@Example.COM "], &[], Some(" Ada ")))
        .await
        .unwrap();
    assert_eq!(ada.emails, ["ada@example.com"]);
    assert_eq!(ada.name.as_deref(), Some("Ada"));
    assert!(ada.phones.is_empty());
    assert_eq!(uuid::Uuid::parse_str(&ada.id).unwrap().get_version_num(), 7);

    // The same person with another identity: found, the identity added,
    // the name kept.
    let again = store
        .identify(identity(
            &["ada@example.com"],
            &["+44 20 7946-0958"],
            Some("A. Lovelace"),
        ))
        .await
        .unwrap();
    assert_eq!(again.id, ada.id);
    assert_eq!(again.phones, ["+442079460958"]);
    assert_eq!(again.name.as_deref(), Some("Ada"));
    let by_phone = store
        .identify(identity(&[], &["0044 (20) 7946 0958"], None))
        .await
        .unwrap();
    assert_eq!(by_phone.id, ada.id);
    for reference in ["email:ADA@example.com", "phone:+44 20 7946 0958", &ada.id] {
        assert_eq!(store.contact(reference).await.unwrap().id, ada.id);
    }

    // Malformed identities are refused and nothing is written.
    for bad in [
        identity(&["not-an-address"], &[], None),
        identity(&["ada@example.com"], &["020 7946 0958"], None),
        identity(&[], &[], Some("Nobody")),
    ] {
        let refused = store.identify(bad).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
    }
    assert_eq!(store.contacts("", 100, 0).await.unwrap().len(), 1);

    // Identities owned by several contacts: the owner of the first is
    // taken, the others keep theirs, the unowned ones are added.
    let bob = store
        .create_contact(NewContact {
            name: Some("Bob".into()),
            emails: vec!["bob@example.org".into()],
            ..NewContact::default()
        })
        .await
        .unwrap();
    let found = store
        .identify(identity(
            &["bob@example.org", "ada@example.com"],
            &["+1 555 0100 123"],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(found.id, bob.id);
    assert_eq!(found.emails, ["bob@example.org"]);
    assert_eq!(found.phones, ["+15550100123"]);
    assert_eq!(
        store.contact("email:ada@example.com").await.unwrap().id,
        ada.id
    );

    // Identifications of a new address at once make one contact.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .identify(identity(&["new@example.net"], &[], None))
                    .await
                    .unwrap()
                    .id
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(store.contacts("", 100, 0).await.unwrap().len(), 3);
}

fn base(admin: &Client) -> String {
    admin.url("")
}

/// The interaction `id` as the admin reads it.
async fn interaction(admin: &Client, id: &str) -> Value {
    let (status, interaction) = admin.get(&format!("/v1/interactions/{id}")).await;
    assert_eq!(status, 200, "{interaction}");
    interaction
}

fn ids_of(entries: &Value) -> Vec<&str> {
    entries
        .as_array()
        .unwrap_or_else(|| panic!("a list: {entries}"))
        .iter()
        .map(|e| e["interaction"]["id"].as_str().unwrap())
        .collect()
}

async fn a_chat_finds_or_creates_its_contact(db: &TestDb) {
    let (_server, admin) = TestServer::with_admin(Some(db), "").await;
    let first = chat::start(
        &base(&admin),
        json!({"nickname": "Ada", "email": "Ada@Example.com", "subject": "Invoice"}),
    )
    .await;
    let (status, contact) = admin.get("/v1/contacts/email:ada@example.com").await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["name"], "Ada");
    assert_eq!(contact["emails"], json!(["ada@example.com"]));
    let id = contact["id"].as_str().unwrap().to_string();
    assert_eq!(interaction(&admin, &first.id).await["contact-id"], id);

    // Typing an address someone owns proves nothing: the second chat gets
    // a contact of its own claiming the address unverified, and does not
    // enter the owner's history until staff merge the two.
    let second = chat::start(
        &base(&admin),
        json!({"nickname": "Ada L.", "email": " ada@example.COM"}),
    )
    .await;
    let claimant = interaction(&admin, &second.id).await["contact-id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(claimant, id);
    let (_, claim) = admin.get(&format!("/v1/contacts/{claimant}")).await;
    assert_eq!(claim["name"], "Ada L.");
    assert_eq!(claim["emails"], json!([]));
    assert_eq!(claim["attributes"]["unverified-email"], "ada@example.com");
    let (_, owner_history) = admin.get(&format!("/v1/contacts/{id}/history")).await;
    assert_eq!(ids_of(&owner_history), [first.id.as_str()]);
    // Staff who know it is Ada merge the claim in; the name stays.
    let (status, merged) = admin
        .post(
            &format!("/v1/contacts/{id}/merge"),
            json!({"contacts": [claimant]}),
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["name"], "Ada");
    // Without an e-mail address there is no contact.
    let anonymous = chat::start(&base(&admin), json!({"nickname": "Anon"})).await;
    assert!(interaction(&admin, &anonymous.id).await["contact-id"].is_null());

    let (status, said) = first.say("My invoice is wrong").await;
    assert_eq!(status, 201, "{said}");
    let (status, sent) = first
        .upload("receipt.txt", "text/plain", b"total 42".to_vec())
        .await;
    assert_eq!(status, 201, "{sent}");

    // The history: both chats, newest first, with what each stored; the
    // same by id or by address.
    let (status, history) = admin.get(&format!("/v1/contacts/{id}/history")).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(ids_of(&history), [second.id.as_str(), first.id.as_str()]);
    let entry = &history[1];
    assert_eq!(entry["subject"], "Invoice");
    assert_eq!(entry["customer-name"], "Ada");
    let texts: Vec<&str> = entry["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(texts.contains(&"My invoice is wrong"), "{texts:?}");
    let attachment = &entry["attachments"][0];
    assert_eq!(
        (
            &attachment["name"],
            &attachment["content-type"],
            &attachment["size"]
        ),
        (&json!("receipt.txt"), &json!("text/plain"), &json!(8))
    );
    let download = admin.get_bytes(attachment["url"].as_str().unwrap()).await;
    assert_eq!(download, b"total 42");
    let (_, by_address) = admin
        .get("/v1/contacts/email:ADA@example.com/history")
        .await;
    assert_eq!(by_address, history);
    let (status, page) = admin
        .get(&format!("/v1/contacts/{id}/history?limit=1&offset=1"))
        .await;
    assert_eq!((status, ids_of(&page)), (200, vec![first.id.as_str()]));
    let (status, unknown) = admin
        .get("/v1/contacts/email:nobody@example.com/history")
        .await;
    assert_eq!(
        (status, unknown["code"].as_str()),
        (404, Some("contact-not-found"))
    );

    // Interactions submitted through the API name their contact by an
    // identity or an id; an unknown id is refused.
    let submitted = admin
        .submit(
            json!({"tenant": "acme", "media-type": "email", "contact-id": "email:ADA@example.com"}),
        )
        .await;
    assert_eq!(submitted["contact-id"], id);
    let (status, refused) = admin
        .post(
            "/v1/interactions",
            json!({"tenant": "acme", "media-type": "email", "contact-id": "no-such-contact"}),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad-request"))
    );

    // Contacts are found by name, address or phone number.
    let (status, changed) = admin
        .patch(
            &format!("/v1/contacts/{id}"),
            json!({"last-name": "Lovelace", "phones": ["+44 20 7946 0958"], "attributes": {"segment": "gold"}}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["phones"], json!(["+442079460958"]));
    assert_eq!(changed["attributes"], json!({"segment": "gold"}));
    for q in ["ada", "EXAMPLE.com", "7946%200958", "lovelace"] {
        let (status, found) = admin.get(&format!("/v1/contacts?q={q}")).await;
        assert_eq!(status, 200, "{found}");
        let found: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(found, [id.as_str()], "q={q}");
    }
    // Wildcards are plain text.
    for q in ["%25", "_"] {
        let (_, none) = admin.get(&format!("/v1/contacts?q={q}")).await;
        assert_eq!(none, json!([]), "q={q}");
    }
}

async fn create(admin: &Client, body: Value) -> String {
    admin.ok_post("/v1/contacts", body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Submits an interaction of `contact`; its id.
async fn submit_for(admin: &Client, contact: &str) -> String {
    admin
        .submit(json!({"tenant": "acme", "media-type": "email", "contact-id": contact}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn merging_moves_the_history_and_leaves_tombstones(db: &TestDb) {
    let (_server, admin) = TestServer::with_admin(Some(db), "").await;
    let a = create(
        &admin,
        json!({"name": "Ada Lovelace", "emails": ["ada@example.com"], "attributes": {"segment": "gold"}}),
    )
    .await;
    let b = create(
        &admin,
        json!({"first-name": "Ada", "emails": ["ada.l@work.example"], "phones": ["+44 20 7946 0958"],
               "attributes": {"segment": "silver", "vip": true}}),
    )
    .await;
    let c = create(&admin, json!({"emails": ["al@home.example"]})).await;
    let mut submitted = Vec::new();
    for contact in [&a, &b, &b, &c] {
        submitted.push(submit_for(&admin, contact).await);
    }
    let (status, taken) = admin
        .post("/v1/contacts", json!({"emails": ["ADA@example.com"]}))
        .await;
    assert_eq!((status, taken["code"].as_str()), (409, Some("conflict")));

    // Agents read contacts; only supervisors change and merge them.
    let ann = admin.ready_agent("ann", "agent").await;
    assert_eq!(ann.get(&format!("/v1/contacts/{a}")).await.0, 200);
    let merge = format!("/v1/contacts/{a}/merge");
    let (status, _) = ann.post(&merge, json!({"contacts": [b]})).await;
    assert_eq!(status, 403);
    let (status, _) = ann
        .patch(&format!("/v1/contacts/{a}"), json!({"name": "X"}))
        .await;
    assert_eq!(status, 403);

    // A merge naming a contact that does not exist changes nothing.
    let missing = uuid::Uuid::now_v7().to_string();
    let (status, refused) = admin.post(&merge, json!({"contacts": [b, missing]})).await;
    assert_eq!(status, 404, "{refused}");
    let (_, still_b) = admin.get(&format!("/v1/contacts/{b}")).await;
    assert_eq!(still_b["id"], b.as_str());
    assert_eq!(still_b["emails"], json!(["ada.l@work.example"]));
    let (_, b_history) = admin.get(&format!("/v1/contacts/{b}/history")).await;
    assert_eq!(ids_of(&b_history).len(), 2);
    let (status, _) = admin.post(&merge, json!({"contacts": [a]})).await;
    assert_eq!(status, 400, "a contact cannot be merged into itself");

    // B, and C by its address, merged into A.
    let merged = admin
        .ok_post(&merge, json!({"contacts": [b, "email:al@home.example"]}))
        .await;
    assert_eq!(merged["id"], a.as_str());
    let emails: BTreeSet<&str> = merged["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        BTreeSet::from(["ada@example.com", "ada.l@work.example", "al@home.example"])
    );
    assert_eq!(merged["phones"], json!(["+442079460958"]));
    assert_eq!(
        merged["attributes"],
        json!({"segment": "gold", "vip": true})
    );
    assert_eq!(
        (&merged["name"], &merged["first-name"]),
        (&json!("Ada Lovelace"), &json!("Ada"))
    );

    // A's history holds every interaction, newest first; B and C answer
    // with A.
    let (_, history) = admin.get(&format!("/v1/contacts/{a}/history")).await;
    let newest_first: Vec<&str> = submitted.iter().rev().map(String::as_str).collect();
    assert_eq!(ids_of(&history), newest_first);
    for reference in [&b, &c, &"email:ada.l@work.example".to_string()] {
        let (status, read) = admin.get(&format!("/v1/contacts/{reference}")).await;
        assert_eq!((status, &read["id"]), (200, &json!(a)), "{reference}");
        let (_, through) = admin
            .get(&format!("/v1/contacts/{reference}/history"))
            .await;
        assert_eq!(through, history);
    }
    assert_eq!(
        interaction(&admin, &submitted[1]).await["contact-id"],
        a.as_str()
    );
    // A change through a tombstone changes the survivor.
    let (status, _) = admin
        .patch(
            &format!("/v1/contacts/{b}"),
            json!({"last-name": "Lovelace"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        admin.get(&format!("/v1/contacts/{a}")).await.1["last-name"],
        "Lovelace"
    );
    // Merged in turn, A takes its tombstones along.
    let d = create(&admin, json!({"name": "D"})).await;
    admin
        .ok_post(&format!("/v1/contacts/{d}/merge"), json!({"contacts": [a]}))
        .await;
    assert_eq!(
        admin.get(&format!("/v1/contacts/{b}")).await.1["id"],
        d.as_str()
    );
    let (_, listed) = admin.get("/v1/contacts").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "tombstones are not listed: {listed}"
    );

    // Deletion: not with interactions, not a tombstone; an empty contact
    // goes, freeing its identities.
    let (status, body) = admin.delete(&format!("/v1/contacts/{d}")).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
    assert_eq!(admin.delete(&format!("/v1/contacts/{b}")).await.0, 409);
    let e = create(&admin, json!({"emails": ["temp@example.com"]})).await;
    assert_eq!(ann.delete(&format!("/v1/contacts/{e}")).await.0, 403);
    assert_eq!(admin.delete(&format!("/v1/contacts/{e}")).await.0, 204);
    assert_eq!(admin.get(&format!("/v1/contacts/{e}")).await.0, 404);
    create(&admin, json!({"emails": ["temp@example.com"]})).await;
}

/// `/v1/search` with `q` and extra query parameters; status and body.
async fn search(client: &Client, q: &str, extra: &str) -> (u16, Value) {
    let mut url = reqwest::Url::parse("http://x/v1/search").unwrap();
    url.query_pairs_mut().append_pair("q", q);
    client
        .get(&format!("/v1/search?{}{extra}", url.query().unwrap()))
        .await
}

fn found(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results: {body}"))
        .iter()
        .map(|r| r["interaction"]["id"].as_str().unwrap())
        .collect()
}

async fn start(admin: &Client, body: Value) -> Customer {
    chat::start(&base(admin), body).await
}

async fn search_finds_what_customers_and_agents_wrote_never_coaching(db: &TestDb) {
    let (_server, admin) = TestServer::with_admin(Some(db), "").await;
    let ann = admin.ready_agent("ann", "agent").await;
    let sue = admin.ready_agent("sue", "supervisor").await;
    sue.presence("sue", &["chat"], "not-ready").await;
    let ada = start(
        &admin,
        json!({"nickname": "Ada", "email": "ada@example.com", "subject": "Refund for order AB123"}),
    )
    .await;
    admin
        .wait_for(&ada.id, "offered to ann", |i| i["state"] == "offered")
        .await;
    ann.ok_post(&format!("/v1/interactions/{}/accept", ada.id), json!({}))
        .await;
    assert_eq!(ada.say("My invoice shows the wrong amount").await.0, 201);
    let messages = format!("/v1/chats/{}/messages", ada.id);
    ann.ok_post(
        &messages,
        json!({"text": "I will correct the invoice today"}),
    )
    .await;
    let supervision = format!("/v1/chats/{}/supervision", ada.id);
    let (status, body) = sue.put(&supervision, json!({"mode": "coach"})).await;
    assert_eq!(status, 200, "{body}");
    let coached = sue
        .ok_post(&messages, json!({"text": "Offer the zebracoupon voucher"}))
        .await;
    assert_eq!(coached["visibility"], "agents");
    ann.presence("ann", &["chat"], "not-ready").await;
    let bob = start(
        &admin,
        json!({"nickname": "Bob", "email": "bob@example.com", "subject": "Invoice copy"}),
    )
    .await;
    assert_eq!(bob.say("Please send my invoice again").await.0, 201);

    // What customers and agents wrote, and subjects, newest first (a
    // supervisor finds every chat; an agent only those it may read).
    let (status, body) = search(&sue, "invoice", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(found(&body), [bob.id.as_str(), ada.id.as_str()]);
    let snippet = body["results"][1]["snippet"].as_str().unwrap();
    assert!(snippet.contains("**invoice**"), "{snippet}");
    assert_eq!(body["results"][1]["channel"], "chat");
    assert_eq!(
        found(&search(&sue, "WRONG amount", "").await.1),
        [ada.id.as_str()]
    );
    assert_eq!(found(&search(&sue, "ab123", "").await.1), [ada.id.as_str()]);
    assert_eq!(
        found(&search(&sue, "correct today", "").await.1),
        [ada.id.as_str()]
    );
    assert_eq!(
        found(&search(&ann, "invoice", "").await.1),
        [ada.id.as_str()]
    );
    // Never what only agents saw.
    assert_eq!(
        found(&search(&admin, "zebracoupon", "").await.1),
        Vec::<&str>::new()
    );
    // One contact's; pages.
    let (_, bobs) = search(&sue, "invoice", "&contact=email:bob@example.com").await;
    assert_eq!(found(&bobs), [bob.id.as_str()]);
    let (_, first) = search(&sue, "invoice", "&limit=1").await;
    assert_eq!(
        (found(&first), &first["next-offset"]),
        (vec![bob.id.as_str()], &json!(1))
    );
    let (_, second) = search(&sue, "invoice", "&limit=1&offset=1").await;
    assert_eq!(
        (found(&second), &second["next-offset"]),
        (vec![ada.id.as_str()], &Value::Null)
    );

    // Any query is safe: syntax of either database is only text.
    let long = "invoice ".repeat(500);
    for q in [
        "\"",
        "'",
        "*",
        "invoice\"",
        "\"invoice",
        "NEAR(invoice",
        "invoice OR",
        "-invoice",
        "invoice:",
        "text:invoice",
        "a AND",
        "(",
        ")",
        "^",
        "💥",
        "%",
        "_",
        "\\",
        "invoice\u{0}",
        "'; DROP TABLE interactions;--",
        "&|!<->",
        long.as_str(),
    ] {
        let (status, body) = search(&ann, q, "").await;
        assert_eq!(status, 200, "{q:?}: {body}");
        assert!(body["results"].is_array(), "{q:?}: {body}");
    }
    assert_eq!(found(&search(&sue, "\"invoice", "").await.1).len(), 2);
    assert_eq!(search(&ann, "  ", "").await.0, 400);
    let (status, body) = search(&ann, "invoice", "&contact=email:nobody@example.com").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("contact-not-found"))
    );
    assert_eq!(search(&ann.with_token(""), "invoice", "").await.0, 401);
}

on_both_backends!(
    identification_normalises_and_finds_or_creates,
    a_chat_finds_or_creates_its_contact,
    merging_moves_the_history_and_leaves_tombstones,
    search_finds_what_customers_and_agents_wrote_never_coaching,
);
