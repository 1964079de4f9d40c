//! Retention on SQLite and PostgreSQL: finished interactions past the
//! archive age are written with all their content to an archive file
//! (synced before anything is deleted), those past the deletion age are
//! deleted with all their content, live ones are never touched, and event
//! and message numbers never go back. Time passing is simulated by moving
//! interactions' finishing time back in the database.

use base64::Engine as _;
use parley_store::chat::{Content, Kind, NewMessage, NewSession, Party, Role, Visibility};
use parley_store::{NewInteraction, State, Transition, now_ms};
use parley_tests::TestServer;
use parley_tests::chat;
use parley_tests::client::Client;
use parley_tests::database::TestDb;
use serde_json::{Value, json};
use sqlx::Connection;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const POLICY: &str = "[retention]\narchive-after-days = 30\ndelete-after-days = 90\n";

/// Makes interactions look finished `days` ago.
async fn finished_days_ago(db: &TestDb, ids: &[&str], days: i64) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db.url()).await.unwrap();
    for id in ids {
        sqlx::query("UPDATE interactions SET updated_at = $1 WHERE id = $2")
            .bind(now_ms() - days * DAY_MS)
            .bind(*id)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Rows of `table` whose `column` is `id`.
async fn rows(db: &TestDb, table: &str, column: &str, id: &str) -> i64 {
    let mut conn = sqlx::AnyConnection::connect(&db.url()).await.unwrap();
    // Names from the test itself.
    let query = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(query))
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

async fn sweep(admin: &Client) -> Value {
    let (status, report) = admin.post("/v1/retention/run", json!({})).await;
    assert_eq!(status, 200, "{report}");
    report
}

fn email(contact: Option<&str>, subject: &str) -> Value {
    json!({"tenant": "acme", "media-type": "email", "contact-id": contact,
           "attached": [{"key": "subject", "value": {"text": subject}}]})
}

async fn stop(admin: &Client, id: &str) {
    admin
        .ok_post(
            &format!("/v1/interactions/{id}/stop"),
            json!({"reason": "spam"}),
        )
        .await;
}

fn id(interaction: &Value) -> String {
    interaction["id"].as_str().unwrap().to_string()
}

async fn finished_interactions_are_archived_then_deleted(db: &TestDb) {
    let (server, admin) = TestServer::with_admin(Some(db), POLICY).await;
    let ann = admin.ready_agent("ann", "agent").await;
    let ada = Some("email:ada@example.com");
    let live = id(&admin.submit(email(ada, "Still open")).await);
    let recent = id(&admin.submit(email(None, "Just stopped")).await);
    stop(&admin, &recent).await;
    // A chat an agent completed, with a file; an interaction stopped.
    let customer = chat::start(
        &admin.url(""),
        json!({"nickname": "Ada", "email": "ada@example.com", "subject": "Old invoice"}),
    )
    .await;
    admin
        .wait_for(&customer.id, "offered", |i| i["state"] == "offered")
        .await;
    ann.ok_post(
        &format!("/v1/interactions/{}/accept", customer.id),
        json!({}),
    )
    .await;
    assert_eq!(customer.say("My old invoice is wrong").await.0, 201);
    let (status, file) = customer
        .upload("note.txt", "text/plain", b"kept in the archive".to_vec())
        .await;
    assert_eq!(status, 201, "{file}");
    ann.ok_post(
        &format!("/v1/interactions/{}/complete", customer.id),
        json!({"disposition": "resolved"}),
    )
    .await;
    let stopped = id(&admin.submit(email(ada, "Old complaint")).await);
    stop(&admin, &stopped).await;
    let done = customer.id.as_str();

    // Past the archive age: the finished ones are archived, not the live.
    finished_days_ago(db, &[done, &stopped, &live], 40).await;
    let report = sweep(&admin).await;
    assert_eq!(
        (&report["archived"], &report["deleted"]),
        (&json!(2), &json!(0))
    );
    let path = std::path::PathBuf::from(report["archive-file"].as_str().unwrap());
    assert!(
        path.starts_with(server.data_dir.join("archive")),
        "{path:?}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{text}");
    let record = |id: &str| {
        records
            .iter()
            .find(|r| r["interaction"]["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not archived: {text}"))
    };
    let archived = record(done);
    assert_eq!(archived["interaction"]["state"], "completed");
    assert_eq!(archived["interaction"]["disposition"], "resolved");
    let kinds: Vec<&str> = archived["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.first() == Some(&"submitted") && kinds.contains(&"completed"),
        "{kinds:?}"
    );
    let content = &archived["content"];
    assert_eq!(content["chat_sessions"][0]["nickname"], "Ada");
    assert_eq!(content["chat_sessions"][0]["subject"], "Old invoice");
    let said: Vec<String> = content["chat_messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(m["body"].as_str()?).ok())
        .filter_map(|body| body["text"].as_str().map(String::from))
        .collect();
    assert!(
        said.contains(&"My old invoice is wrong".to_string()),
        "{said:?}"
    );
    let archived_file = &content["chat_files"][0];
    assert_eq!(archived_file["name"], "note.txt");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(archived_file["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, b"kept in the archive");
    assert_eq!(record(&stopped)["interaction"]["state"], "stopped");
    assert_eq!(
        record(&stopped)["interaction"]["attached"][0]["value"]["text"],
        "Old complaint"
    );
    // Archived, still there; archived once.
    assert_eq!(admin.get(&format!("/v1/interactions/{done}")).await.0, 200);
    let again = sweep(&admin).await;
    assert_eq!(
        again,
        json!({"archived": 0, "deleted": 0, "archive-file": null})
    );

    // Past the deletion age: deleted with all their content.
    finished_days_ago(db, &[done, &stopped, &live], 100).await;
    let report = sweep(&admin).await;
    assert_eq!(
        (&report["archived"], &report["deleted"]),
        (&json!(0), &json!(2))
    );
    for gone in [done, stopped.as_str()] {
        let (status, body) = admin.get(&format!("/v1/interactions/{gone}")).await;
        assert_eq!(status, 404, "{body}");
        for (table, column) in [
            ("events", "interaction_id"),
            ("search_documents", "interaction_id"),
            ("archived_interactions", "interaction_id"),
            ("chat_sessions", "id"),
            ("chat_messages", "session_id"),
            ("chat_files", "session_id"),
        ] {
            assert_eq!(rows(db, table, column, gone).await, 0, "{table} of {gone}");
        }
    }
    assert_eq!(
        admin.get(&format!("/v1/interactions/{live}")).await.1["state"],
        "submitted"
    );
    assert_eq!(
        admin.get(&format!("/v1/interactions/{recent}")).await.1["state"],
        "stopped"
    );
    let (_, history) = admin
        .get("/v1/contacts/email:ada@example.com/history")
        .await;
    let kept: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["interaction"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, [live.as_str()]);
    let (_, found) = admin.get("/v1/search?q=invoice").await;
    assert_eq!(found["results"], json!([]));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the archive stays"
    );

    // Only administrators run it.
    assert_eq!(ann.post("/v1/retention/run", json!({})).await.0, 403);
}

fn message(session: &str, text: &str) -> NewMessage {
    NewMessage {
        session: session.to_string(),
        kind: Kind::Text,
        from: Party {
            role: Role::Customer,
            id: None,
            name: "Ada".into(),
        },
        visibility: Visibility::All,
        content: Content {
            text: Some(text.into()),
            ..Content::default()
        },
    }
}

fn new_chat() -> NewInteraction {
    NewInteraction {
        tenant: "acme".into(),
        media_type: "chat".into(),
        queue: Some("inbound".into()),
        // A list, as submissions through the API have by default.
        attached: json!([]),
        ..NewInteraction::default()
    }
}

fn session() -> NewSession {
    NewSession {
        key_hash: "digest".into(),
        nickname: "Ada".into(),
        email: None,
        subject: None,
    }
}

async fn numbers_never_go_back_after_a_deletion(db: &TestDb) {
    let store = db.open().await;
    let live = store.submit(new_chat()).await.unwrap();
    let chat = store.start_chat(new_chat(), session()).await.unwrap();
    store
        .post_message(message(&chat.id, "hello"))
        .await
        .unwrap();
    let last_message = store
        .post_message(message(&chat.id, "bye"))
        .await
        .unwrap()
        .seq;
    store.end_chat(&chat.id, "left", None).await.unwrap();
    let stop = Transition::to(&chat.id, State::Stopped).reason("left");
    store.transition(stop).await.unwrap();
    let last_event = store.last_seq().await.unwrap();
    // The newest event and message are the deleted chat's.
    let newest = store.events_after(last_event - 1, 1, None).await.unwrap();
    assert_eq!(newest[0].interaction_id.as_deref(), Some(chat.id.as_str()));

    // Not archived, or not finished: not deleted.
    assert_eq!(
        store
            .delete_finished(vec![chat.id.clone()], true)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_finished(vec![live.id.clone()], false)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_finished(vec![chat.id.clone()], false)
            .await
            .unwrap(),
        1
    );
    assert!(store.get(&chat.id).await.is_err());
    assert_eq!(store.get(&live.id).await.unwrap(), live);
    drop(store);

    let store = db.open().await;
    assert_eq!(store.last_seq().await.unwrap(), last_event);
    assert_eq!(store.last_message_seq().await.unwrap(), last_message);
    let next = store.submit(new_chat()).await.unwrap();
    let events = store.events_after(last_event, 10, None).await.unwrap();
    assert!(
        events
            .iter()
            .all(|e| e.interaction_id.as_deref() == Some(next.id.as_str())),
        "{events:?}"
    );
    assert!(!events.is_empty());
    let chat = store.start_chat(new_chat(), session()).await.unwrap();
    let said = store
        .post_message(message(&chat.id, "again"))
        .await
        .unwrap();
    assert!(said.seq > last_message, "{} after {last_message}", said.seq);
}

on_both_backends!(
    finished_interactions_are_archived_then_deleted,
    numbers_never_go_back_after_a_deletion,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_is_off_until_configured() {
    let (_server, admin) = TestServer::with_admin(None, "").await;
    let (status, body) = admin.post("/v1/retention/run", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("retention-off"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_archiving_finished_interactions_are_only_deleted() {
    let db = TestDb::sqlite();
    let (server, admin) =
        TestServer::with_admin(Some(&db), "[retention]\ndelete-after-days = 7\n").await;
    let old = id(&admin.submit(email(None, "Old")).await);
    stop(&admin, &old).await;
    let young = id(&admin.submit(email(None, "Young")).await);
    stop(&admin, &young).await;
    finished_days_ago(&db, &[&old], 8).await;
    assert_eq!(
        sweep(&admin).await,
        json!({"archived": 0, "deleted": 1, "archive-file": null})
    );
    assert_eq!(admin.get(&format!("/v1/interactions/{old}")).await.0, 404);
    assert_eq!(admin.get(&format!("/v1/interactions/{young}")).await.0, 200);
    assert!(!server.data_dir.join("archive").exists());
}
