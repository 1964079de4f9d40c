//! Fault containment: a plugin that loops, traps, exhausts memory or fuel,
//! returns garbage or does not match its world is stopped within its
//! deadline with a typed error, and the host keeps serving.

use parley_plugin::cases::{load_cases, run_cases};
use parley_plugin::sandbox::FUEL_FLUSH_INTERVAL;
use parley_plugin::{FailureKind, LoadError, PluginRuntime, PluginVersion};
use parley_tests::{candidates, engine, guests, interaction, prepare, write_plugin};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Allowed lateness of a stopped call past its deadline.
const SLACK: Duration = Duration::from_millis(50);

async fn test_router(engine: &Arc<PluginRuntime>, behavior: &str, limits: &str) -> PluginVersion {
    let dir = tempfile::tempdir().unwrap();
    let plugin = write_plugin(
        dir.path(),
        &format!("fault-{behavior}"),
        "router",
        guests::TEST_ROUTER,
        &format!("[limits]\n{limits}\n[config]\nbehavior = \"{behavior}\"\nagent = \"agent-000\""),
    );
    prepare(engine, &plugin).await
}

/// After a fault, a well-behaved plugin on the same engine still answers
/// and every instance slot has been given back.
async fn host_still_serves(engine: &Arc<PluginRuntime>) {
    let healthy = test_router(engine, "constant", "").await;
    let decision = healthy
        .pick_agent(&interaction("after"), &candidates(3))
        .await
        .unwrap();
    assert_eq!(decision.value.as_deref(), Some("agent-000"));
    assert_eq!(
        engine.free_slots(),
        engine.settings().max_instances as usize
    );
}

/// Loads the plugin in `dir`, which must be refused.
async fn refused(engine: &Arc<PluginRuntime>, dir: &std::path::Path) -> LoadError {
    let source = parley_plugin::source::read_plugin_dir(dir, "test").unwrap();
    PluginVersion::prepare(engine, &Default::default(), &Default::default(), source)
        .await
        .err()
        .expect("refused")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_at_its_deadline() {
    let engine = engine();
    let looping = test_router(&engine, "loop", "deadline-ms = 100").await;
    let started = Instant::now();
    let err = looping.on_queued(&interaction("i1")).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind, FailureKind::Timeout, "{err}");
    assert!(
        elapsed < Duration::from_millis(100) + SLACK,
        "stopped after {elapsed:?}"
    );
    assert_eq!(err.plugin, "fault-loop");
    assert_eq!(err.version.as_deref(), Some(looping.short_id()));
    assert_eq!(looping.stats().failures, vec![(FailureKind::Timeout, 1)]);
    host_still_serves(&engine).await;
}

/// A fixture case stopped at its deadline reports the instructions the
/// guest ran until then, not only those before its loop: compiled code
/// writes its count back every `FUEL_FLUSH_INTERVAL` instructions, and a
/// second of looping runs many times that on any machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_stopped_at_its_deadline_counts_the_instructions_it_ran() {
    let engine = engine();
    let looping = test_router(&engine, "loop", "deadline-ms = 1000").await;
    let cases_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        cases_dir.path().join("loops.json"),
        serde_json::json!({
            "function": "on-queued",
            "input": {"interaction": {
                "id": "c1", "tenant": "acme", "media-type": "chat", "queue": "inbound",
                "priority": 0, "age-ms": 0, "queue-age-ms": 0, "attached": []
            }},
            "expect-failure": "timeout"
        })
        .to_string(),
    )
    .unwrap();
    let cases = load_cases(cases_dir.path()).unwrap();
    let reports = run_cases(&looping, &cases).await.unwrap();
    assert!(reports[0].passed(), "{:?}", reports[0]);
    assert!(
        reports[0].fuel >= FUEL_FLUSH_INTERVAL,
        "{} instructions counted in a second of looping",
        reports[0].fuel
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_trap_with_its_message() {
    let engine = engine();
    let trapping = test_router(&engine, "trap", "deadline-ms = 100").await;
    let started = Instant::now();
    let err = trapping.on_queued(&interaction("i1")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(100) + SLACK);
    assert_eq!(err.kind, FailureKind::Trap, "{err}");
    assert!(
        err.message.contains("deliberate panic in test-router"),
        "{err}"
    );
    host_still_serves(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_allocation_hits_the_memory_limit() {
    let engine = engine();
    let hungry = test_router(&engine, "alloc", "deadline-ms = 100\nmemory-mb = 16").await;
    let started = Instant::now();
    let err = hungry.on_queued(&interaction("i1")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(100) + SLACK);
    assert_eq!(err.kind, FailureKind::MemoryLimit, "{err}");
    assert!(err.message.contains("16 MiB limit"), "{err}");
    host_still_serves(&engine).await;
}

/// The memory limit holds for all of a component's memories together: two
/// core modules of 640 KiB each do not fit in 1 MiB, though either alone
/// would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_limit_counts_every_memory_of_a_component() {
    use parley_plugin::manifest::{Capabilities, Limits};
    use parley_plugin::sandbox::{self, PluginContext};
    use wasmtime::component::Component;

    let engine = engine();
    let two_memories = wat::parse_str(
        r#"(component
            (core module $a (memory 10))
            (core module $b (memory 10))
            (core instance (instantiate $a))
            (core instance (instantiate $b)))"#,
    )
    .unwrap();
    let component = Component::new(engine.engine(), &two_memories).unwrap();
    let instantiate = async |memory_bytes: u64| {
        let ctx = PluginContext {
            name: "two-memories".into(),
            version: "test".into(),
            config: Default::default(),
            grants: Capabilities::default(),
            directories: Vec::new(),
            limits: Limits {
                memory_bytes,
                deadline: Duration::from_secs(5),
                fuel: None,
            },
            kv: None,
            peers: None,
            secrets: Default::default(),
            http: None,
        };
        let mut store = sandbox::new_store(&engine, Arc::new(ctx), None).unwrap();
        sandbox::arm(&mut store).unwrap();
        engine
            .linker()
            .instantiate_async(&mut store, &component)
            .await
            .map(drop)
            .map_err(|e| sandbox::classify(&e, &store))
    };
    instantiate(2 << 20).await.unwrap();
    let err = instantiate(1 << 20).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::MemoryLimit, "{err}");
    assert!(
        err.message
            .contains("tried to grow its memories to 1.25 MiB in all, over its 1 MiB limit"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuel_bounds_the_instructions_of_a_call() {
    let engine = engine();
    let spinning = test_router(&engine, "loop", "deadline-ms = 5000\nfuel = 2000000").await;
    let started = Instant::now();
    let err = spinning.on_queued(&interaction("i1")).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::FuelExhausted, "{err}");
    assert!(err.message.contains("2000000 instructions"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(5000) + SLACK);
    host_still_serves(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_output_is_refused() {
    let engine = engine();
    let garbage = test_router(&engine, "garbage", "").await;
    let err = garbage.on_queued(&interaction("i1")).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::InvalidOutput, "{err}");
    assert!(err.message.contains("empty agent id"), "{err}");
    let err = garbage
        .pick_agent(&interaction("i1"), &candidates(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::InvalidOutput, "{err}");
    assert!(
        err.message
            .contains("picked agent `nobody`, which is not among the 5 offered"),
        "{err}"
    );
    host_still_serves(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_of_the_wrong_world_is_refused_at_load() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let screener = parley_tests::bundled_plugin(dir.path(), "rules-screener");
    let wasm = screener.join("rules_screener.wasm");
    let plugin = write_plugin(
        dir.path(),
        "mislabelled",
        "router",
        wasm.to_str().unwrap(),
        "",
    );
    let err = refused(&engine, &plugin).await;
    assert_eq!(err.plugin, "mislabelled");
    assert!(
        err.message
            .contains("does not export `parley:plugin/routing` of a version this host implements"),
        "{err}"
    );
    assert!(
        err.message
            .contains("it exports: parley:plugin/screening@0.2.0"),
        "{err}"
    );
    host_still_serves(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_not_a_component_are_refused_at_load() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm but not really").unwrap();
    let plugin = write_plugin(dir.path(), "junk", "router", junk.to_str().unwrap(), "");
    let err = refused(&engine, &plugin).await;
    assert!(
        err.message
            .contains("`plugin.wasm` is not a valid component"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_makes_calls_wait_then_fail_clearly() {
    let engine = PluginRuntime::new(parley_plugin::RuntimeSettings {
        max_instances: 1,
        ..Default::default()
    })
    .unwrap();
    let looping = Arc::new(test_router(&engine, "loop", "deadline-ms = 400").await);
    let quick = test_router(&engine, "constant", "deadline-ms = 50").await;
    let hog = {
        let looping = looping.clone();
        tokio::spawn(async move { looping.on_queued(&interaction("hog")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = quick.on_queued(&interaction("waits")).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Overloaded, "{err}");
    assert!(
        err.message
            .contains("all 1 instance slots stayed busy for 50 ms"),
        "{err}"
    );
    assert_eq!(hog.await.unwrap().unwrap_err().kind, FailureKind::Timeout);
    let decision = quick.on_queued(&interaction("after")).await.unwrap();
    assert_eq!(engine.free_slots(), 1);
    assert!(matches!(
        decision.value.action,
        parley_plugin::bindings::routing::Action::Route(_)
    ));
}
