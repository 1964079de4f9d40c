//! Instance policies: fresh instances share nothing between calls; warm
//! instances are reused (so work cached in the instance is done once),
//! retired after `max-calls`, and discarded after any failure.

use parley_plugin::bindings::types::{Content, ScreenRequest};
use parley_tests::{
    bundled_plugin, candidates, engine, guests, interaction, prepare, write_plugin,
};

fn request(text: &str) -> ScreenRequest {
    ScreenRequest {
        media_type: "email".into(),
        subject: None,
        content: Content {
            content_type: "text/plain".into(),
            text: text.into(),
        },
        attached: Vec::new(),
        language: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_instances_are_reused() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let screener = prepare(&engine, &bundled_plugin(dir.path(), "rules-screener")).await;
    let first = screener.screen(&request("I want a refund")).await.unwrap();
    assert_eq!(screener.idle_instances(), 1);
    let second = screener
        .screen(&request("Where is my invoice?"))
        .await
        .unwrap();
    assert_eq!(second.value.categories[0].name, "billing");
    // The second call finds the rules compiled by the first in the reused
    // instance: a small fraction of the instructions.
    assert!(
        second.fuel * 20 < first.fuel,
        "first call {} instructions, second {}",
        first.fuel,
        second.fuel
    );
    assert_eq!(screener.idle_instances(), 1);
    screener.retire();
    assert_eq!(screener.idle_instances(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_instances_share_nothing() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let router = prepare(&engine, &bundled_plugin(dir.path(), "skills-router")).await;
    let agents = candidates(50);
    let first = router
        .pick_agent(&interaction("i1"), &agents)
        .await
        .unwrap();
    let second = router
        .pick_agent(&interaction("i1"), &agents)
        .await
        .unwrap();
    assert_eq!(first.value, second.value);
    assert_eq!(
        (first.plugin.as_str(), first.version.as_str()),
        ("skills-router", router.short_id())
    );
    assert_eq!(
        first.fuel, second.fuel,
        "identical calls on fresh instances cost the same"
    );
    assert_eq!(router.idle_instances(), 0);
    assert_eq!(engine.free_slots(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_instances_retire_after_max_calls() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let plugin = write_plugin(
        dir.path(),
        "warm",
        "router",
        guests::TEST_ROUTER,
        "[instances]\nmode = \"warm\"\nmax-calls = 2",
    );
    let router = prepare(&engine, &plugin).await;
    router.on_queued(&interaction("1")).await.unwrap();
    assert_eq!(router.idle_instances(), 1);
    router.on_queued(&interaction("2")).await.unwrap();
    assert_eq!(router.idle_instances(), 0, "retired after its second call");
    assert_eq!(engine.free_slots(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_discards_the_warm_instance() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let plugin = write_plugin(
        dir.path(),
        "warm-trap",
        "router",
        guests::TEST_ROUTER,
        "[instances]\nmode = \"warm\"\n[config]\nbehavior = \"trap\"",
    );
    let router = prepare(&engine, &plugin).await;
    assert!(router.on_queued(&interaction("1")).await.is_err());
    assert_eq!(router.idle_instances(), 0);
    assert_eq!(engine.free_slots(), 64);
}
