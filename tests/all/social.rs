//! The `social-driver` world (contract 0.2.1): a driver loads beside
//! plugins built against 0.2.0 and 0.1.0, its calls come back typed and
//! checked, its own errors reach the caller as values, and what the host
//! cannot act on is a failed call.

use parley_plugin::bindings::social::{
    Account, DriverError, ItemKind, MediaRef, Reply, WebhookRequest,
};
use parley_plugin::{FailureKind, PluginRuntime, PluginVersion};
use parley_tests::{engine, guests, prepare, write_plugin};
use std::sync::Arc;

/// The test driver with `behavior` (none: it behaves).
async fn test_driver(engine: &Arc<PluginRuntime>, behavior: Option<&str>) -> PluginVersion {
    let dir = tempfile::tempdir().unwrap();
    let config = behavior.map_or(String::new(), |b| format!("[config]\nbehavior = \"{b}\""));
    let plugin = write_plugin(
        dir.path(),
        "test-driver",
        "social-driver",
        guests::TEST_DRIVER,
        &config,
    );
    prepare(engine, &plugin).await
}

fn account(batch: &str) -> Account {
    Account {
        name: "brand".into(),
        settings: vec![
            ("batch".into(), batch.into()),
            ("thread".into(), "room-7".into()),
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_built_against_0_2_1_polls_sends_and_answers_webhooks() {
    let engine = engine();
    let driver = test_driver(&engine, None).await;
    assert_eq!(driver.export_name(), "parley:plugin/social@0.2.1");

    let capabilities = driver.describe_driver().await.unwrap().value;
    assert!(capabilities.replies && capabilities.webhooks);

    let first = driver
        .poll(&account("3"), None)
        .await
        .unwrap()
        .value
        .unwrap();
    let ids: Vec<&str> = first.items.iter().map(|i| i.remote_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert!(first.items.iter().all(|i| i.thread_id == "room-7"));
    assert!(matches!(first.items[0].kind, ItemKind::PublicPost));
    assert_eq!(first.items[0].author.display_name.as_deref(), Some("Alice"));
    assert_eq!(first.next_cursor.as_deref(), Some("3"));
    assert_eq!(first.suggested_delay_ms, Some(1000));
    let next = driver
        .poll(&account("3"), first.next_cursor.as_deref())
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(next.items[0].remote_id, "m4");

    let request = WebhookRequest {
        method: "POST".into(),
        path_and_query: "/?challenge=1".into(),
        headers: vec![("x-item-id".into(), "pushed-1".into())],
        body: b"ping".to_vec(),
    };
    let answered = driver
        .on_webhook(&account("1"), &request)
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(
        (answered.status, answered.body.as_slice()),
        (200, &b"ping"[..])
    );
    assert_eq!(answered.items[0].remote_id, "pushed-1");

    let reply = Reply {
        thread_id: "room-7".into(),
        in_reply_to: Some("m2".into()),
        kind: ItemKind::PublicPost,
        recipient: None,
        text: "Hello Alice".into(),
    };
    let sent = driver
        .send_reply(&account("1"), &reply)
        .await
        .unwrap()
        .value;
    assert_eq!(sent.unwrap(), "sent-room-7-11");
    let empty = Reply {
        text: String::new(),
        ..reply
    };
    let refused = driver
        .send_reply(&account("1"), &empty)
        .await
        .unwrap()
        .value;
    assert!(
        matches!(&refused, Err(DriverError::Permanent(m)) if m == "an empty reply"),
        "{refused:?}"
    );

    let media = MediaRef {
        id: "mxc://example.org/abc".into(),
        content_type: Some("image/png".into()),
        file_name: None,
        size: None,
    };
    let fetched = driver
        .fetch_media(&account("1"), &media)
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(fetched.content_type, "image/png");
    assert_eq!(fetched.data, b"mxc://example.org/abc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drivers_own_errors_are_values_for_the_host_to_act_on() {
    let engine = engine();
    let limited = test_driver(&engine, Some("rate-limited")).await;
    let polled = limited.poll(&account("2"), None).await.unwrap().value;
    assert!(
        matches!(polled, Err(DriverError::RateLimited(30_000))),
        "{polled:?}"
    );
    let refused = test_driver(&engine, Some("auth-failed")).await;
    let polled = refused.poll(&account("2"), None).await.unwrap().value;
    assert!(
        matches!(&polled, Err(DriverError::AuthFailed(m)) if m == "token refused"),
        "{polled:?}"
    );
    // A driver error is the driver working as designed, not a failure.
    assert!(limited.stats().failures.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_traps_from_a_driver_are_failed_calls() {
    let engine = engine();
    let garbage = test_driver(&engine, Some("garbage")).await;
    let err = garbage.poll(&account("2"), None).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::InvalidOutput, "{err}");
    assert!(err.to_string().contains("empty remote id"), "{err}");

    let trapping = test_driver(&engine, Some("trap")).await;
    let err = trapping.poll(&account("2"), None).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Trap, "{err}");
    assert!(err.to_string().contains("deliberate panic"), "{err}");

    // The same engine still serves a driver that behaves.
    let healthy = test_driver(&engine, None).await;
    assert!(
        healthy
            .poll(&account("1"), None)
            .await
            .unwrap()
            .value
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_is_not_a_driver() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let router = write_plugin(
        dir.path(),
        "router",
        "router",
        guests::TEST_ROUTER,
        "[config]\nbehavior = \"constant\"",
    );
    let router = prepare(&engine, &router).await;
    let err = router.poll(&account("1"), None).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::NotFound, "{err}");
    assert!(err.to_string().contains("not a social-driver"), "{err}");
}
