//! MIME transformers: the typed `transform_mime` call against the bundled
//! `mime-normalizer`, the host's checks on what a transformer returns, and
//! containment of one that loops, traps or exhausts its memory.

use parley_plugin::{
    Direction, FailureAction, FailureKind, MimeOutcome, PluginRuntime, PluginVersion,
};
use parley_tests::{bundled_plugin, engine, guests, interaction, prepare, write_plugin};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Allowed lateness of a stopped call past its deadline.
const SLACK: Duration = Duration::from_millis(50);

/// A bare forward as a mail rule writes it: no text of its own, the
/// customer's message attached.
const FORWARD: &str = "From: Rule <rules@shop.example>\r\n\
To: support@shop.example\r\n\
Subject: Fwd: Refund\r\n\
Message-ID: <fwd-1@shop.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"xx\"\r\n\
\r\n\
--xx\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: Ann <ann@example.com>\r\n\
Subject: Refund\r\n\
X-Spam-Score: 2.5\r\n\
\r\n\
Please refund order AB123456.\r\n\
--xx--\r\n";

const PLAIN: &str = "From: Ann <ann@example.com>\r\nSubject: Hello\r\n\r\nHi there\r\n";

async fn normalizer(engine: &Arc<PluginRuntime>) -> PluginVersion {
    let dir = tempfile::tempdir().unwrap();
    prepare(engine, &bundled_plugin(dir.path(), "mime-normalizer")).await
}

async fn test_transformer(
    engine: &Arc<PluginRuntime>,
    behavior: &str,
    extra: &str,
) -> PluginVersion {
    let dir = tempfile::tempdir().unwrap();
    let plugin = write_plugin(
        dir.path(),
        &format!("transformer-{behavior}"),
        "mime-transformer",
        guests::TEST_TRANSFORMER,
        &format!("{extra}\n[config]\nbehavior = \"{behavior}\"\naction = \"retry\""),
    );
    prepare(engine, &plugin).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_normalizer_unwraps_forwards_and_sets_headers() {
    let engine = engine();
    let version = normalizer(&engine).await;

    // The line break before a boundary belongs to the boundary: the
    // attached message ends without one, as it did inside the forward.
    let unwrapped = version
        .transform_mime(Direction::Inbound, FORWARD.as_bytes())
        .await
        .unwrap();
    assert_eq!(unwrapped.plugin, "mime-normalizer");
    assert_eq!(
        unwrapped.value,
        MimeOutcome::Transformed(
            b"From: Rule <rules@shop.example>\r\n\
X-Original-From: Ann <ann@example.com>\r\n\
X-Forwarded-Message-Id: <fwd-1@shop.example>\r\n\
Subject: Refund\r\n\
\r\n\
Please refund order AB123456."
                .to_vec()
        )
    );

    let plain = version
        .transform_mime(Direction::Inbound, PLAIN.as_bytes())
        .await
        .unwrap();
    assert_eq!(plain.value, MimeOutcome::Unchanged);

    let sent = version
        .transform_mime(Direction::Outbound, PLAIN.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        sent.value,
        MimeOutcome::Transformed(
            b"From: Ann <ann@example.com>\r\nSubject: Hello\r\nOrganization: Example Corp\r\n\r\nHi there\r\n"
                .to_vec()
        )
    );

    let garbage = version
        .transform_mime(Direction::Inbound, b"\x00\x01 not mail at all")
        .await
        .unwrap();
    assert_eq!(
        garbage.value,
        MimeOutcome::Failed {
            reason: "not a MIME message: it does not start with a header field".into(),
            action: FailureAction::BadFormat,
        }
    );
    // Warm instances: the calls above reused one instance.
    assert_eq!(version.idle_instances(), 1);
    assert_eq!(version.stats().calls, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_keep_their_action_and_directions_reach_their_export() {
    let engine = engine();
    let failing = test_transformer(&engine, "fail", "").await;
    let failed = failing
        .transform_mime(Direction::Inbound, PLAIN.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        failed.value,
        MimeOutcome::Failed {
            reason: "inbound failed as configured".into(),
            action: FailureAction::Retry,
        }
    );
    let tagging = test_transformer(&engine, "tag", "").await;
    for (direction, tag) in [
        (Direction::Inbound, "X-Tagged: inbound\r\n"),
        (Direction::Outbound, "X-Tagged: outbound\r\n"),
    ] {
        let called = tagging
            .transform_mime(direction, PLAIN.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            called.value,
            MimeOutcome::Transformed(format!("{tag}{PLAIN}").into_bytes())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_the_host_cannot_use_is_invalid_output() {
    let engine = engine();
    for (behavior, message) in [
        ("empty", "returned an empty transformed message"),
        (
            "oversized",
            "returned a transformed message of 67108864 bytes (at most 26214400",
        ),
    ] {
        // Writing 64 MiB takes a while on a loaded machine: the deadline is
        // not what this test is about.
        let limits = "[limits]\nmemory-mb = 256\ndeadline-ms = 5000";
        let version = test_transformer(&engine, behavior, limits).await;
        let err = version
            .transform_mime(Direction::Inbound, PLAIN.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err.kind, FailureKind::InvalidOutput, "{err}");
        assert!(err.message.contains(message), "{err}");
    }
    host_still_serves(&engine).await;
}

/// After a fault, a well-behaved transformer on the same engine still
/// answers and every instance slot has been given back.
async fn host_still_serves(engine: &Arc<PluginRuntime>) {
    let healthy = test_transformer(engine, "tag", "").await;
    let called = healthy
        .transform_mime(Direction::Outbound, PLAIN.as_bytes())
        .await
        .unwrap();
    assert!(matches!(called.value, MimeOutcome::Transformed(_)));
    assert_eq!(
        engine.free_slots(),
        engine.settings().max_instances as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_trapping_or_greedy_transformer_is_contained() {
    let engine = engine();
    let looping = test_transformer(&engine, "loop", "[limits]\ndeadline-ms = 100").await;
    let started = Instant::now();
    let err = looping
        .transform_mime(Direction::Inbound, FORWARD.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(100) + SLACK,
        "stopped after {:?}",
        started.elapsed()
    );
    for (behavior, kind) in [
        ("trap", FailureKind::Trap),
        ("alloc", FailureKind::MemoryLimit),
    ] {
        let version = test_transformer(&engine, behavior, "[limits]\nmemory-mb = 32").await;
        let err = version
            .transform_mime(Direction::Outbound, PLAIN.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert_eq!(err.plugin, format!("transformer-{behavior}"));
        // The version keeps answering (with the same failure), each call
        // on a fresh instance.
        let again = version
            .transform_mime(Direction::Outbound, PLAIN.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(again.kind, kind, "{again}");
    }
    host_still_serves(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_of_another_world_are_refused_by_name() {
    let engine = engine();
    let transformer = test_transformer(&engine, "tag", "").await;
    let err = transformer.on_queued(&interaction("i1")).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::NotFound);
    assert!(
        err.message.contains("is a mime-transformer, not a router"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let router = prepare(&engine, &bundled_plugin(dir.path(), "skills-router")).await;
    let err = router
        .transform_mime(Direction::Inbound, PLAIN.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::NotFound);
    assert!(
        err.message.contains("is a router, not a mime-transformer"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_declaring_the_world_without_its_export_is_refused_at_load() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let plugin = write_plugin(
        dir.path(),
        "not-a-transformer",
        "mime-transformer",
        guests::TEST_ROUTER,
        "",
    );
    let registry = parley_plugin::Registry::new(
        engine.clone(),
        Default::default(),
        parley_plugin::versions::VersionStore::new(dir.path().join("versions")),
    );
    let err = registry
        .load_dir(&plugin, "test")
        .await
        .map(drop)
        .unwrap_err();
    assert!(
        err.message
            .contains("declares world `mime-transformer` but does not export `parley:plugin/mime-transform` of a version"),
        "{err}"
    );
    assert!(
        err.message
            .contains("it exports: parley:plugin/routing@0.2.0"),
        "{err}"
    );
    assert!(registry.get("not-a-transformer").is_err(), "nothing loaded");
}
