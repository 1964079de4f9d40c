//! The reference router in Rust, Python and JavaScript: how long a version
//! takes to load (compiled from scratch, and from the compile cache, as on
//! a restart), its first call (instantiation included), and a routing
//! decision (`pick-agent` among 5 candidates) on a warm instance.
//!
//! `cargo bench -p parley-tests --bench polyglot` (the Python and
//! JavaScript plugins are built first, as the tests build them: `source
//! scripts/polyglot.sh` installs the tools; under `cargo test` it runs
//! once, small, as a smoke test).

use parley_plugin::{PluginRuntime, PluginVersion, RuntimeSettings};
use parley_tests::{bundled_plugin, candidates, interaction, prepare};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn build(script: &str) {
    let status = std::process::Command::new(workspace().join(script))
        .status()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    assert!(
        status.success(),
        "{script} failed (is `scripts/polyglot.sh` sourced?)"
    );
}

/// An engine compiling into (and reading from) `cache`.
fn engine(cache: &Path) -> Arc<PluginRuntime> {
    PluginRuntime::new(RuntimeSettings {
        max_instances: 16,
        cache_dir: Some(cache.to_path_buf()),
        ..RuntimeSettings::default()
    })
    .expect("engine")
}

async fn timed_prepare(cache: &Path, dir: &Path) -> (PluginVersion, Duration) {
    let engine = engine(cache);
    let started = Instant::now();
    let version = prepare(&engine, dir).await;
    (version, started.elapsed())
}

fn median_us(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

struct Measured {
    cold: Duration,
    cached: Duration,
    first_call: Duration,
    warm_us: f64,
}

async fn measure(dir: &Path, calls: usize) -> Measured {
    let cache = tempfile::tempdir().unwrap();
    let (_, cold) = timed_prepare(cache.path(), dir).await;
    let (version, cached) = timed_prepare(cache.path(), dir).await;
    let ix = interaction("i1");
    let agents = candidates(5);
    let started = Instant::now();
    let first = version
        .pick_agent(&ix, &agents)
        .await
        .expect("a decision")
        .value;
    let first_call = started.elapsed();
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let picked = version
            .pick_agent(&ix, &agents)
            .await
            .expect("a decision")
            .value;
        samples.push(started.elapsed());
        assert_eq!(picked, first, "the same decision every time");
    }
    Measured {
        cold,
        cached,
        first_call,
        warm_us: median_us(samples),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let calls = if full { 2_000 } else { 20 };
    build("plugins/python/build.sh");
    build("plugins/js/build.sh");
    let tmp = tempfile::tempdir().unwrap();
    // The Rust router on warm instances too, as the other two run.
    let rust = bundled_plugin(tmp.path(), "skills-router");
    let manifest = std::fs::read_to_string(rust.join("plugin.toml")).unwrap();
    std::fs::write(
        rust.join("plugin.toml"),
        format!("{manifest}\n[instances]\nmode = \"warm\"\n"),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut rust_us = None;
        for (language, dir) in [
            ("Rust", rust.clone()),
            ("Python", workspace().join("plugins/python/skills-router")),
            ("JavaScript", workspace().join("plugins/js/skills-router")),
        ] {
            let size = std::fs::metadata(dir.join(if language == "Rust" {
                "skills_router.wasm"
            } else {
                "plugin.wasm"
            }))
            .map_or(0, |m| m.len());
            let m = measure(&dir, calls).await;
            let base = *rust_us.get_or_insert(m.warm_us);
            println!(
                "{language}: component {:.1} MB; load {:.2} s compiled, {:.1} ms from the cache; \
                 first call {:.2} ms; warm pick-agent median {:.1} µs ({:.1}x Rust)",
                size as f64 / 1e6,
                m.cold.as_secs_f64(),
                m.cached.as_secs_f64() * 1e3,
                m.first_call.as_secs_f64() * 1e3,
                m.warm_us,
                m.warm_us / base
            );
        }
    });
}
