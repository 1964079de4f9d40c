//! The interaction store, on SQLite and on PostgreSQL alike: durable
//! submission with idempotent ids, the lifecycle rules, the event log read
//! from a cursor without gaps, concurrent writers, and reopening.

use parley_store::{Event, NewInteraction, State, Store, StoreError, Transition};
use parley_tests::database::TestDb;
use serde_json::json;
use sqlx::Connection;
use std::collections::BTreeSet;

fn chat(id: Option<&str>, queue: Option<&str>) -> NewInteraction {
    NewInteraction {
        id: id.map(String::from),
        tenant: "acme".into(),
        media_type: "chat".into(),
        queue: queue.map(String::from),
        priority: 0,
        attached: json!([{"key": "order", "value": {"text": "AB123456"}}]),
        contact_id: None,
        parent_id: None,
    }
}

fn to(id: &str, state: State) -> Transition {
    Transition::to(id, state)
}

/// The whole event log, read page by page from cursor 0.
async fn read_all(store: &Store, page: i64) -> Vec<Event> {
    let mut events = Vec::new();
    let mut cursor = 0;
    loop {
        let next = store.events_after(cursor, page, None).await.unwrap();
        let Some(last) = next.last() else {
            return events;
        };
        cursor = last.seq;
        events.extend(next);
    }
}

async fn submitted_interactions_are_stored_with_their_events(db: &TestDb) {
    let store = db.open().await;
    let stored = store.submit(chat(None, Some("inbound"))).await.unwrap();
    assert_eq!(stored.state, State::Queued);
    assert_eq!(stored.queue.as_deref(), Some("inbound"));
    assert!(stored.queued_at.is_some());
    assert_eq!(store.get(&stored.id).await.unwrap(), stored);
    let events = store.events_after(0, 100, None).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["submitted", "queued"]);
    assert!(
        events
            .iter()
            .all(|e| e.interaction_id.as_deref() == Some(stored.id.as_str()))
    );
    assert_eq!(events[0].data["attached"][0]["value"]["text"], "AB123456");
    // Generated ids are time-ordered.
    let later = store.submit(chat(None, None)).await.unwrap();
    assert!(later.id > stored.id, "{} then {}", stored.id, later.id);
    assert_eq!(later.state, State::Submitted);
}

async fn duplicate_ids_are_refused(db: &TestDb) {
    let store = db.open().await;
    let first = store
        .submit(chat(Some("client-42"), Some("inbound")))
        .await
        .unwrap();
    let again = store.submit(chat(Some("client-42"), Some("other"))).await;
    assert!(
        matches!(again, Err(StoreError::Duplicate { ref id, .. }) if id == "client-42"),
        "{again:?}"
    );
    assert_eq!(store.get("client-42").await.unwrap(), first);
    assert_eq!(store.events_after(0, 100, None).await.unwrap().len(), 2);
}

async fn the_lifecycle_is_enforced(db: &TestDb) {
    let store = db.open().await;
    let id = store.submit(chat(None, Some("inbound"))).await.unwrap().id;
    store.transition(to(&id, State::Routing)).await.unwrap();
    let offered = Transition {
        owner: Some("ann".into()),
        ..to(&id, State::Offered)
    };
    assert_eq!(
        store.transition(offered).await.unwrap().owner.as_deref(),
        Some("ann")
    );
    // Rejected: back to its queue, without an owner.
    let back = store.transition(to(&id, State::Queued)).await.unwrap();
    assert_eq!((back.queue.as_deref(), back.owner), (Some("inbound"), None));
    // Compare-and-set: only from the expected state.
    let wrong = Transition {
        expect: Some(State::Routing),
        ..to(&id, State::Offered)
    };
    assert!(matches!(
        store.transition(wrong).await,
        Err(StoreError::InvalidTransition { .. })
    ));
    store.transition(to(&id, State::Routing)).await.unwrap();
    let offered = Transition {
        owner: Some("bob".into()),
        ..to(&id, State::Offered)
    };
    store.transition(offered).await.unwrap();
    store.transition(to(&id, State::Accepted)).await.unwrap();
    let done = Transition {
        reason: Some("resolved".into()),
        ..to(&id, State::Completed)
    };
    let done = store.transition(done).await.unwrap();
    assert_eq!(
        (done.state, done.owner.as_deref(), done.queue),
        (State::Completed, Some("bob"), None)
    );
    let err = store.transition(to(&id, State::Queued)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("interaction `{id}` is completed; it cannot become queued")
    );
    let missing = store
        .transition(to("nope", State::Queued))
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        StoreError::NotFound {
            what: "interaction",
            ..
        }
    ));
    let kinds: Vec<&str> = store
        .events_after(0, 100, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "queued",
            "routing",
            "offered",
            "queued",
            "routing",
            "offered",
            "accepted",
            "completed"
        ]
    );
    let last = store
        .events_after(0, 100, None)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.data["reason"], "resolved");
}

async fn a_cursor_resumes_without_gaps(db: &TestDb) {
    let store = db.open().await;
    for _ in 0..5 {
        store.submit(chat(None, Some("inbound"))).await.unwrap();
    }
    let seen = read_all(&store, 3).await;
    assert_eq!(seen.len(), 10);
    assert!(seen.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(seen, store.events_after(0, 1000, None).await.unwrap());
}

async fn concurrent_writes_are_all_acknowledged_durably(db: &TestDb) {
    let store = db.open().await;
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .submit(chat(Some(&format!("c-{i:03}")), Some("inbound")))
                    .await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap().unwrap().id);
    }
    assert_eq!(ids.len(), 300);
    let events = read_all(&store, 1000).await;
    assert_eq!(events.len(), 600);
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    let evented: BTreeSet<String> = events
        .into_iter()
        .filter_map(|e| e.interaction_id)
        .collect();
    assert_eq!(evented, ids);
}

async fn bad_input_is_refused_before_anything_is_written(db: &TestDb) {
    let store = db.open().await;
    let no_tenant = NewInteraction {
        tenant: " ".into(),
        ..chat(None, None)
    };
    assert!(matches!(
        store.submit(no_tenant).await,
        Err(StoreError::Invalid(_))
    ));
    let bad_data = NewInteraction {
        attached: json!({"not": "a list"}),
        ..chat(None, None)
    };
    assert!(matches!(
        store.submit(bad_data).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.events_after(0, 10, None).await.unwrap().is_empty());
}

async fn one_server_holds_a_database(db: &TestDb) {
    let store = db.open().await;
    let second = Store::open(&db.url()).await;
    let Err(StoreError::Config(message)) = second else {
        panic!("a second store opened the same database");
    };
    assert!(
        message.contains("in use by another Parley server"),
        "{message}"
    );
    drop(store);
    // Released with the store.
    db.open().await.submit(chat(None, None)).await.unwrap();
}

/// Attached data is kept once, with its interaction: the log's rows do
/// not copy it, and events read from the log show it as it is now.
async fn attached_data_is_kept_once(db: &TestDb) {
    let store = db.open().await;
    let marker = "kept-once-7f3a";
    let mut new = chat(None, Some("inbound"));
    new.attached = json!([{"key": "note", "value": {"text": marker}}]);
    let id = store.submit(new).await.unwrap().id;
    store.transition(to(&id, State::Routing)).await.unwrap();
    store.transition(to(&id, State::Queued)).await.unwrap();
    store.transition(to(&id, State::Stopped)).await.unwrap();

    sqlx::any::install_default_drivers();
    let mut raw = sqlx::AnyConnection::connect(&db.url()).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM events")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert_eq!(rows.len(), 5, "submitted, queued and three transitions");
    assert!(rows.iter().all(|data| !data.contains(marker)), "{rows:?}");
    let kept: Vec<String> = sqlx::query_scalar("SELECT attached FROM interactions")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert_eq!(kept.iter().filter(|a| a.contains(marker)).count(), 1);

    let events = store.events_after(0, 100, None).await.unwrap();
    let shown: Vec<&serde_json::Value> = events
        .iter()
        .filter_map(|e| match e.kind.as_str() {
            "submitted" => Some(&e.data["attached"]),
            _ => e.data.get("interaction").map(|i| &i["attached"]),
        })
        .collect();
    assert_eq!(shown.len(), 4);
    assert!(
        shown.iter().all(|a| a[0]["value"]["text"] == marker),
        "{shown:?}"
    );
}

on_both_backends!(
    one_server_holds_a_database,
    attached_data_is_kept_once,
    submitted_interactions_are_stored_with_their_events,
    duplicate_ids_are_refused,
    the_lifecycle_is_enforced,
    a_cursor_resumes_without_gaps,
    concurrent_writes_are_all_acknowledged_durably,
    bad_input_is_refused_before_anything_is_written,
    what_is_acknowledged_survives_reopening,
);

async fn what_is_acknowledged_survives_reopening(db: &TestDb) {
    let store = db.open().await;
    let id = store.submit(chat(None, Some("inbound"))).await.unwrap().id;
    let accepted = Transition {
        owner: Some("ann".into()),
        ..to(&id, State::Accepted)
    };
    let acknowledged = store.transition(accepted).await.unwrap();
    drop(store);
    let reopened = db.open().await;
    assert_eq!(reopened.get(&id).await.unwrap(), acknowledged);
    assert_eq!(reopened.events_after(0, 100, None).await.unwrap().len(), 3);
    // Migrations ran once; reopening applies none again and writes work.
    reopened.submit(chat(None, None)).await.unwrap();
}
