//! The five-minute tutorial of `docs/plugins.md`, run as written: every
//! `sh tutorial` block, in order, in one shell, against a running server
//! (found through `PARLEY_SERVER` and `PARLEY_ADMIN_TOKEN`), with `parley`
//! on the `PATH`. If the tutorial stops working, this fails.

use parley_tests::{TestServer, parley_bin};
use std::path::Path;

/// The `sh tutorial` blocks of a Markdown text, joined.
fn tutorial_script(markdown: &str) -> String {
    let mut script = String::new();
    let mut inside = false;
    for line in markdown.lines() {
        if inside {
            if line.trim_start().starts_with("```") {
                inside = false;
            } else {
                script.push_str(line);
                script.push('\n');
            }
        } else if line.trim() == "```sh tutorial" {
            inside = true;
        }
    }
    script
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_tutorial_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let markdown = std::fs::read_to_string(root.join("docs/plugins.md")).unwrap();
    let script = tutorial_script(&markdown);
    assert!(script.contains("parley plugin new"), "{script}");
    assert!(script.contains("parley plugin load"), "{script}");

    let server = TestServer::start(|_| {}).await;
    let work = tempfile::tempdir().unwrap();
    let bin_dir = parley_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(work.path())
        .env("PATH", path)
        .env("PARLEY_SERVER", server.url(""))
        .env("PARLEY_ADMIN_TOKEN", "test-admin-token-0123")
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("parley-cli-tests"),
        )
        // Not the target directory of the running tests, which cargo holds.
        .env(
            "CARGO_TARGET_DIR",
            std::env::temp_dir().join("parley-plugin-target"),
        )
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the tutorial failed:\n{script}\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the reader is told to expect.
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("my-router: version"), "{stdout}");
    let live = server
        .server
        .registry
        .get("my-router")
        .expect("my-router is live");
    assert!(live.manifest_text.contains("skill = \"billing\""));
}
