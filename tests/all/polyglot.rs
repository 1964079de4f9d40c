//! Plugins in Python and JavaScript: the reference router and screener
//! ported to both, built from source here (componentize-py from PyPI,
//! ComponentizeJS from npm; `scripts/polyglot.sh` installs them), pass the
//! Rust plugins' own fixture cases with `parley plugin test`; `parley
//! plugin new` makes a router, a screener and a MIME transformer that
//! build and pass their cases in each language; and a Python router replaces the Rust one under load without
//! a failed call.

use parley_tests::client::agent_spec;
use parley_tests::{Options, TestServer, parley_bin};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn tool(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: `source scripts/polyglot.sh` installs the tool and sets it")
    })
}

fn run(command: &mut Command, what: &str) -> Output {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Builds the Python and JavaScript plugins of this repository (skipped
/// when up to date), once for all the tests here.
fn build_ported_plugins() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_all);
}

fn build_all() {
    let root = workspace();
    run(
        Command::new(root.join("plugins/python/build.sh"))
            .env("PARLEY_COMPONENTIZE_PY", tool("PARLEY_COMPONENTIZE_PY")),
        "plugins/python/build.sh",
    );
    run(
        &mut Command::new(root.join("plugins/js/build.sh")),
        "plugins/js/build.sh",
    );
}

fn plugin_test(dir: &Path) -> String {
    let out = run(
        Command::new(parley_bin())
            .args(["plugin", "test"])
            .arg(dir)
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("parley-cli-tests"),
            ),
        &format!("parley plugin test {}", dir.display()),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn python_and_javascript_plugins_pass_the_rust_plugins_cases() {
    build_ported_plugins();
    let root = workspace();
    for (dir, cases) in [
        ("plugins/python/skills-router", 16),
        ("plugins/python/rules-screener", 10),
        ("plugins/js/skills-router", 16),
        ("plugins/js/rules-screener", 10),
    ] {
        let report = plugin_test(&root.join(dir));
        assert!(
            report.contains(&format!("{cases} passed, 0 failed")),
            "{dir}: {report}"
        );
    }
}

#[test]
fn a_new_plugin_of_every_world_builds_and_passes_its_cases_in_every_language() {
    let tmp = tempfile::tempdir().unwrap();
    for (world, export_wit, cases) in [
        ("router", "routing.wit", 2),
        ("screener", "screening.wit", 3),
        ("mime-transformer", "mime.wit", 3),
    ] {
        for lang in ["rust", "python", "js"] {
            let dir = tmp.path().join(format!("{world}-{lang}"));
            run(
                Command::new(parley_bin())
                    .args(["plugin", "new", "--world", world, "--lang", lang])
                    .arg(format!("my-{world}"))
                    .arg("--dir")
                    .arg(&dir),
                &format!("parley plugin new --world {world} --lang {lang}"),
            );
            assert!(dir.join("wit").join(export_wit).is_file());
            run(
                Command::new(dir.join("build.sh"))
                    // Not the target directory of the running tests, which cargo holds.
                    .env(
                        "CARGO_TARGET_DIR",
                        std::env::temp_dir().join("parley-plugin-target"),
                    )
                    .env("PARLEY_COMPONENTIZE_PY", tool("PARLEY_COMPONENTIZE_PY"))
                    .env("PARLEY_COMPONENTIZE_JS", tool("PARLEY_COMPONENTIZE_JS")),
                &format!("build.sh of the {lang} {world}"),
            );
            let report = plugin_test(&dir);
            assert!(
                report.contains(&format!("{cases} passed, 0 failed")),
                "{world} in {lang}: {report}"
            );
        }
    }
    // A name that is not a plugin name is refused, and nothing is written.
    let out = Command::new(parley_bin())
        .args(["plugin", "new", "My Router", "--dir"])
        .arg(tmp.path().join("bad"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!tmp.path().join("bad").exists());
    // So is a world the scaffold does not know, naming those it does.
    let out = Command::new(parley_bin())
        .args([
            "plugin",
            "new",
            "--world",
            "sms-driver",
            "my-driver",
            "--dir",
        ])
        .arg(tmp.path().join("driver"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("router, screener, mime-transformer"),
        "{stderr}"
    );
    assert!(!tmp.path().join("driver").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_router_replaces_the_rust_one_under_load_without_a_failed_call() {
    build_ported_plugins();
    let dir = workspace().join("plugins/python/skills-router");
    let manifest = std::fs::read_to_string(dir.join("plugin.toml"))
        .unwrap()
        .replace("name = \"skills-router-py\"", "name = \"skills-router\"")
        .replace("cases = \"../../skills-router/cases\"\n", "");
    let component = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        std::fs::read(dir.join("plugin.wasm")).unwrap(),
    );

    // Nobody answers the offers here, and the chats offered before the
    // swap must still be offered when they are checked at the end: with
    // the default 30 s offer timeout, a slow load of the Python component
    // (compiled cold, on a busy machine) let early offers time out, which
    // makes their agents not ready, until no agent was left for the chats
    // still queued.
    let options = Options {
        settings: "[routing]\noffer-timeout-ms = 86400000\n".into(),
        ..Options::default()
    };
    let server = TestServer::start_with(options, |_| {}).await;
    let admin = server.admin();
    let rust_version = server
        .server
        .registry
        .get("skills-router")
        .unwrap()
        .id
        .clone();
    // Chats are submitted until the Python router has made 40 calls, so
    // how many depends on how long its cold load takes on this machine;
    // nobody answers them, so they all must fit in the agents' capacity
    // (1,000 chats each, the most one agent may have): 8,000 chats at
    // about 80 a second leave well over a minute for the load.
    const AGENTS: [&str; 8] = ["ann", "bob", "cid", "dan", "eve", "fay", "gus", "hal"];
    for agent in AGENTS {
        admin
            .create_agent(agent_spec(agent, json!({"chat": 1000})))
            .await;
        let client = admin.login(agent, &format!("password-{agent}")).await;
        client.presence(agent, &["chat"], "ready").await;
    }

    // Chats keep coming from four submitters while the router is replaced.
    let stop = Arc::new(AtomicBool::new(false));
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let admin = admin.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let submitted = admin
                        .submit(json!({"tenant": "acme", "media-type": "chat", "queue": "inbound", "attached": []}))
                        .await;
                    ids.push(submitted["id"].as_str().unwrap().to_string());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ids
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, loaded) = admin
        .post(
            "/v1/plugins",
            json!({"manifest": manifest, "component": component}),
        )
        .await;
    assert_eq!(status, 200, "{loaded}");
    assert_ne!(loaded["version"], json!(rust_version));
    // Decisions from the Python version for a while.
    let start = Instant::now();
    loop {
        let (_, plugin) = admin.get("/v1/plugins/skills-router").await;
        if plugin["live"]["stats"]["calls"].as_u64().unwrap_or(0) >= 40 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{plugin}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut ids = Vec::new();
    for submitter in submitters {
        ids.extend(submitter.await.unwrap());
    }
    assert!(ids.len() > 40, "{} chats", ids.len());
    assert!(
        ids.len() < AGENTS.len() * 1000,
        "{} chats: more than the agents can be offered",
        ids.len()
    );
    let offered = format!("offered (one of {} chats)", ids.len());
    for id in &ids {
        admin
            .wait_for(id, &offered, |i| i["state"] == "offered")
            .await;
    }
    let (_, totals) = admin.get("/v1/stats/totals").await;
    assert_eq!(totals["router-failures"], 0, "{totals}");
    let (_, plugin) = admin.get("/v1/plugins/skills-router").await;
    assert_eq!(plugin["live"]["id"], loaded["version"], "{plugin}");
    // `[[kind, count], ...]`.
    let failures: u64 = plugin["live"]["stats"]["failures"]
        .as_array()
        .map_or(0, |f| f.iter().filter_map(|pair| pair[1].as_u64()).sum());
    assert_eq!(failures, 0, "{plugin}");
}
