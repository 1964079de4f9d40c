//! The `parley` command line, run as a separate process: fixture tests,
//! checks, a server managed with `plugin list | load | rollback`, and its
//! standard responses moved with `responses export | import`.

use parley_tests::process::{ServerProcess, free_port};
use parley_tests::{bundled_plugin, guests, parley_bin, write_plugin};
use std::path::Path;
use std::process::{Command, Output};

fn parley(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(parley_bin());
    command.args(args).env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("parley-cli-tests"),
    );
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("parley runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn plugin_test_passes_the_reference_fixtures() {
    for (name, cases) in [
        ("skills-router", 16),
        ("rules-screener", 10),
        ("mime-normalizer", 17),
    ] {
        let out = parley(&["plugin", "test", name], &[]);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("{cases} passed, 0 failed")),
            "{stdout}"
        );
        assert!(stdout.contains("instructions"), "{stdout}");
    }
}

#[test]
fn plugin_test_fails_a_wrong_expectation_with_a_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundled_plugin(tmp.path(), "skills-router");
    let case = dir.join("cases/pick-agent-longest-idle-with-capacity.json");
    let text_before = std::fs::read_to_string(&case).unwrap();
    std::fs::write(
        &case,
        text_before.replace("\"ok\": \"cat\"", "\"ok\": \"ann\""),
    )
    .unwrap();
    let out = parley(&["plugin", "test", dir.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  pick-agent-longest-idle-with-capacity"),
        "{stdout}"
    );
    assert!(stdout.contains("-  \"ok\": \"ann\""), "{stdout}");
    assert!(stdout.contains("+  \"ok\": \"cat\""), "{stdout}");
    assert!(stdout.contains("15 passed, 1 failed"), "{stdout}");
}

#[test]
fn plugin_test_names_a_failed_mime_check_and_shows_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundled_plugin(tmp.path(), "mime-normalizer");
    let case = dir.join("cases/inbound-forward-as-attachment-outlook.json");
    let text_before = std::fs::read_to_string(&case).unwrap();
    let text_after = text_before.replace(
        "\"Subject\": \"Refund request\"",
        "\"Subject\": \"FW: Refund request\"",
    );
    assert_ne!(text_before, text_after);
    std::fs::write(&case, text_after).unwrap();
    let out = parley(&["plugin", "test", dir.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  inbound-forward-as-attachment-outlook"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "header `Subject`: expected \"FW: Refund request\", found \"Refund request\""
        ),
        "{stdout}"
    );
    assert!(stdout.contains("the transformed message:"), "{stdout}");
    assert!(
        stdout.contains("X-Original-From: Erik Customer <erik@example.org>"),
        "{stdout}"
    );
    assert!(stdout.contains("16 passed, 1 failed"), "{stdout}");
}

#[test]
fn plugin_test_runs_one_case_and_never_passes_without_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundled_plugin(tmp.path(), "skills-router");
    let plugin = dir.to_str().unwrap();
    let case = dir.join("cases/pick-agent-least-loaded-first.json");
    let one = parley(&["plugin", "test", plugin, case.to_str().unwrap()], &[]);
    let stdout = text(&one.stdout);
    assert!(one.status.success(), "{stdout}{}", text(&one.stderr));
    assert!(
        stdout.contains("PASS  pick-agent-least-loaded-first"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");

    let missing = dir.join("no-such-cases");
    let out = parley(&["plugin", "test", plugin, missing.to_str().unwrap()], &[]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("no-such-cases: no case file or directory there"),
        "{}",
        text(&out.stderr)
    );

    std::fs::remove_dir_all(dir.join("cases")).unwrap();
    let out = parley(&["plugin", "test", plugin], &[]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("no fixture cases"),
        "{}",
        text(&out.stderr)
    );
    let check = parley(&["plugin", "check", plugin], &[]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(
        text(&check.stderr).contains("warning: no fixture cases"),
        "{}",
        text(&check.stderr)
    );
}

#[test]
fn plugin_check_names_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let good = parley(&["plugin", "check", "rules-screener"], &[]);
    assert!(good.status.success(), "{}", text(&good.stderr));
    assert!(text(&good.stdout).contains("rules-screener (screener)"));
    let probe = write_plugin(tmp.path(), "probe", "router", guests::PROBE_ROUTER, "");
    let bad = parley(&["plugin", "check", probe.to_str().unwrap()], &[]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = text(&bad.stderr);
    assert!(stderr.contains("plugin `probe`: imports `"), "{stderr}");
    assert!(
        stderr.contains("imports `parley:plugin/kv@0.2.0` but its manifest does not grant it"),
        "{stderr}"
    );
}

#[test]
fn a_served_plugin_is_listed_loaded_and_rolled_back_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = ServerProcess::start(&listen, &["--data-dir", data.to_str().unwrap()]);
    let url = server.url();
    let client = [
        "--server",
        url.as_str(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(client.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = parley(&args, &[]);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    };

    let listed = run(with(&["plugin", "list"]));
    assert!(listed.contains("skills-router (router): live"), "{listed}");
    assert!(
        listed.contains("rules-screener (screener): live"),
        "{listed}"
    );

    let new_version = bundled_plugin(&tmp.path().join("upload"), "skills-router");
    let manifest = new_version.join("plugin.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text_before.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    let loaded = run(with(&["plugin", "load", new_version.to_str().unwrap()]));
    assert!(
        loaded.contains("skills-router: version") && loaded.contains("is live (was"),
        "{loaded}"
    );

    let listed = run(with(&["plugin", "list"]));
    assert!(listed.contains("0.2.0"), "{listed}");
    let rolled = run(with(&["plugin", "rollback", "skills-router"]));
    assert!(rolled.contains("is live (was"), "{rolled}");
    let listed = run(with(&["plugin", "list", "--json"]));
    let plugins: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let router = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "skills-router")
        .unwrap();
    assert_eq!(router["versions"].as_array().unwrap().len(), 2);
    assert_eq!(router["live"]["author-version"], "0.1.0");
    drop(server);
}

#[test]
fn the_library_of_responses_is_exported_and_imported_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = ServerProcess::start(
        &format!("127.0.0.1:{}", free_port()),
        &["--data-dir", data.to_str().unwrap()],
    );
    let url = server.url();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", &url, "--data-dir", data.to_str().unwrap()]);
        parley(&all, &[])
    };
    let file = tmp.path().join("library.json");
    let exported = run(&["responses", "export", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let mut library: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(library["format"], "parley-responses");
    assert_eq!(library["responses"].as_array().unwrap().len(), 4);

    // One response changed, one added; merged into the server.
    library["responses"][0]["text"] = "Anything else, {contact.first-name}?".into();
    library["responses"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": "wait", "name": "Wait", "category": "greetings", "text": "Please wait."}));
    std::fs::write(&file, library.to_string()).unwrap();
    let imported = run(&["responses", "import", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        text(&imported.stdout).contains("imported 3 categories and 5 responses (merge)"),
        "{}",
        text(&imported.stdout)
    );
    let again = tmp.path().join("again.json");
    assert!(
        run(&["responses", "export", again.to_str().unwrap()])
            .status
            .success()
    );
    let round: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    assert_eq!(round["responses"], library["responses"]);

    // A file the server refuses fails the command and changes nothing.
    library["version"] = 9.into();
    std::fs::write(&file, library.to_string()).unwrap();
    let refused = run(&["responses", "import", "--replace", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("bad-request (400 Bad Request): library files of version 9"),
        "{}",
        text(&refused.stderr)
    );
    let after = run(&["responses", "export", "-"]);
    let now: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(now, round);
    drop(server);
}

/// `parley serve` with `env` (and `--data-dir data`): its exit status and
/// error output. A server that starts instead is killed after 60 s, and
/// the test fails on it.
async fn serve_refused(data: &Path, env: &[(&str, &str)]) -> String {
    let mut command = tokio::process::Command::new(parley_bin());
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env_remove("PARLEY_ADMIN_TOKEN")
        .env_remove("PARLEY_ADMIN_TOKEN_FILE")
        .envs(env.iter().copied())
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .expect("the server refuses to start instead of serving")
        .unwrap();
    assert!(!out.status.success());
    text(&out.stderr)
}

#[tokio::test]
async fn an_empty_admin_token_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let error = serve_refused(&data, &[("PARLEY_ADMIN_TOKEN", " ")]).await;
    assert!(
        error.contains("admin token in PARLEY_ADMIN_TOKEN is empty"),
        "{error}"
    );
    std::fs::write(data.join("admin-token"), "\n").unwrap();
    let error = serve_refused(&data, &[]).await;
    assert!(error.contains("admin-token is empty"), "{error}");
    let error = serve_refused(&data, &[("PARLEY_ADMIN_TOKEN", "letmein")]).await;
    assert!(error.contains("shorter than 16 characters"), "{error}");
    let file = tmp.path().join("token");
    std::fs::write(&file, "short\n").unwrap();
    let error = serve_refused(
        &data,
        &[("PARLEY_ADMIN_TOKEN_FILE", file.to_str().unwrap())],
    )
    .await;
    assert!(error.contains("shorter than 16 characters"), "{error}");
}

#[tokio::test]
async fn a_generated_admin_token_is_the_servers_alone() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let settings: parley::settings::Settings = toml::from_str(&format!(
        "listen = \"127.0.0.1:0\"\ndata-dir = {:?}\n",
        data.display().to_string()
    ))
    .unwrap();
    assert!(std::env::var_os("PARLEY_ADMIN_TOKEN").is_none());
    let server = parley::app::start(settings).await.unwrap();
    let token = data.join("admin-token");
    let mode = std::fs::metadata(&token).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&token).unwrap(), server.admin_token);
    assert!(server.admin_token.len() >= 16);
}
