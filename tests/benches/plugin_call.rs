//! One routing decision (`pick-agent` over 50, and 5, candidates) by the
//! reference skills router: as a Wasm plugin on a fresh pooled instance per
//! call (the default), on a reused warm instance, and the same strategy
//! code compiled natively (parsing the policy on every call, as a fresh
//! instance does, and once, as a warm instance does); plus instantiation
//! alone. The Wasm runs are measured twice: built against contract 0.2.0
//! (candidates as one flat `candidate-set`) and against the frozen 0.1.0
//! (a `list<agent-candidate>`).
//!
//! `cargo bench -p parley-tests --bench plugin_call`

use criterion::{Criterion, criterion_group, criterion_main};
use parley_plugin::Manifest;
use parley_tests::{
    AgentSpec, agent_specs, bundled_plugin, candidates, engine, guests, interaction, prepare,
    write_plugin,
};
use std::path::Path;

/// Its screening logic, which the strategy uses.
#[path = "../../plugins/skills-router/src/screening.rs"]
#[allow(dead_code)]
mod screening;
/// The reference router's decision logic, compiled natively.
#[path = "../../plugins/skills-router/src/strategy.rs"]
#[allow(dead_code)]
mod strategy;

/// Candidate counts: the 50, and a typical host-filtered few.
const CANDIDATES: [usize; 2] = [5, 50];

fn sdk_candidate(spec: AgentSpec) -> parley_sdk::AgentCandidate {
    parley_sdk::AgentCandidate {
        id: spec.id,
        skills: spec
            .skills
            .into_iter()
            .map(|(name, level)| parley_sdk::SkillLevel { name, level })
            .collect(),
        groups: vec!["support".into()],
        load: vec![parley_sdk::MediaLoad {
            media_type: "chat".into(),
            active: spec.active,
            capacity: spec.capacity,
        }],
        idle_ms: spec.idle_ms,
    }
}

fn sdk_interaction(id: &str) -> parley_sdk::Interaction {
    let host = interaction(id);
    parley_sdk::Interaction {
        id: host.id,
        tenant: host.tenant,
        media_type: host.media_type,
        queue: host.queue,
        priority: host.priority,
        age_ms: host.age_ms,
        queue_age_ms: host.queue_age_ms,
        subject: host.subject,
        attached: Vec::new(),
        contact: None,
        thread_id: None,
    }
}

fn bench_pick_agent(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let fresh_dir = bundled_plugin(dir.path(), "skills-router");
    let manifest_text = std::fs::read_to_string(fresh_dir.join("plugin.toml")).unwrap();
    let manifest = Manifest::parse(&manifest_text, Path::new("plugin.toml")).unwrap();
    // The manifest from its limits on (the component is `plugin.wasm`).
    let limits_and_config = manifest_text
        .lines()
        .skip_while(|l| !l.starts_with("[limits]"))
        .collect::<Vec<_>>()
        .join("\n");
    let warm_config = limits_and_config.replace(
        "[config]",
        "[instances]\nmode = \"warm\"\nmax-calls = 1000\n\n[config]",
    );
    let latest_wasm = fresh_dir.join("skills_router.wasm");
    let latest_wasm = latest_wasm.to_str().unwrap();
    // A version of `wasm` under `name` with the manifest's `extra` TOML.
    let version = |name: &str, wasm: &str, extra: &str| {
        let plugin_dir = write_plugin(&dir.path().join(name), name, "router", wasm, extra);
        rt.block_on(prepare(&engine, &plugin_dir))
    };
    let fresh = rt.block_on(prepare(&engine, &fresh_dir));
    let warm = version("skills-router-warm", latest_wasm, &warm_config);
    let old_fresh = version(
        "skills-router-v0-1",
        guests::SKILLS_ROUTER_V0_1,
        &limits_and_config,
    );
    let old_warm = version(
        "skills-router-v0-1-warm",
        guests::SKILLS_ROUTER_V0_1,
        &warm_config,
    );
    let ix = interaction("i1");
    let entries: Vec<(String, String)> = manifest.config_entries().into_iter().collect();
    let native_ix = sdk_interaction("i1");
    for n in CANDIDATES {
        let agents = candidates(n);
        let expected = rt.block_on(fresh.pick_agent(&ix, &agents)).unwrap().value;
        for other in [&warm, &old_fresh, &old_warm] {
            assert_eq!(
                rt.block_on(other.pick_agent(&ix, &agents)).unwrap().value,
                expected
            );
        }
        let native_agents: Vec<_> = agent_specs(n).into_iter().map(sdk_candidate).collect();
        let native = || {
            strategy::Policy::from_entries(&entries)
                .unwrap()
                .pick_agent(&native_ix, &native_agents)
                .unwrap()
        };
        assert_eq!(native(), expected, "native and Wasm decide alike");
        // As a warm instance of the plugin runs it: the policy parsed once.
        let policy = strategy::Policy::from_entries(&entries).unwrap();
        let native_parsed_once = || policy.pick_agent(&native_ix, &native_agents).unwrap();

        let mut group = c.benchmark_group(format!("pick-agent-{n}"));
        group.bench_function("wasm-fresh-instance", |b| {
            b.to_async(&rt).iter(|| fresh.pick_agent(&ix, &agents))
        });
        group.bench_function("wasm-warm-instance", |b| {
            b.to_async(&rt).iter(|| warm.pick_agent(&ix, &agents))
        });
        group.bench_function("wasm-fresh-instance-contract-0.1", |b| {
            b.to_async(&rt).iter(|| old_fresh.pick_agent(&ix, &agents))
        });
        group.bench_function("wasm-warm-instance-contract-0.1", |b| {
            b.to_async(&rt).iter(|| old_warm.pick_agent(&ix, &agents))
        });
        group.bench_function("native", |b| b.iter(native));
        group.bench_function("native-policy-parsed-once", |b| b.iter(native_parsed_once));
        group.finish();
    }

    c.bench_function("instantiate-pooled", |b| {
        b.to_async(&rt)
            .iter(|| async { drop(fresh.lease().await.unwrap()) })
    });
}

criterion_group!(benches, bench_pick_agent);
criterion_main!(benches);
