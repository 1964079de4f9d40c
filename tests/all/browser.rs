//! The web chat in a real browser: a customer on a shop page of another
//! origin chats through the widget with an agent on the agent desktop, who
//! transfers the chat to a second agent, who ends it with a disposition
//! (`tests/browser/chat.mjs`, Debian's Chromium driven by playwright-core;
//! `scripts/browser.sh` installs both). Then the API must show the chat
//! completed in the contact's history, with everyone's messages.
//! Screenshots of each step go to `target/artifacts/chat-e2e/` (or
//! `$PARLEY_ARTIFACTS`).

use parley_tests::TestServer;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const AGENTS: [(&str, &str); 2] = [("alice", "Alice Martin"), ("bob", "Bob Keller")];

/// How long the whole browser run may take.
const BROWSER_PATIENCE: Duration = Duration::from_secs(240);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Where the screenshots go, emptied of an earlier run's.
fn artifacts_dir(root: &Path) -> PathBuf {
    let dir = std::env::var_os("PARLEY_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/artifacts/chat-e2e"));
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.filter_map(Result::ok) {
            if entry.path().extension().is_some_and(|e| e == "png") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    std::fs::create_dir_all(&dir).expect("artifacts directory");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_chats_with_two_agents_in_chromium() {
    let root = workspace();
    let browser_dir = root.join("tests/browser");
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "/usr/bin/chromium is missing: `source scripts/browser.sh` installs it"
    );
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: `source scripts/browser.sh` installs it"
    );
    let artifacts = artifacts_dir(&root);

    let server = TestServer::start(|_| {}).await;
    let admin = server.admin();
    for (id, name) in AGENTS {
        admin
            .create_agent(json!({
                "id": id,
                "name": name,
                "password": format!("password-{id}"),
                // The demo process's skills router asks for `support` 1+.
                "skills": [{"name": "support", "level": 3}],
                "groups": ["tier1"],
                "capacity": {"limits": {"chat": 2}},
            }))
            .await;
    }
    let email = format!("ada-{}@example.com", uuid::Uuid::now_v7().simple());

    eprintln!(
        "browser test: screenshots in {} (server {})",
        artifacts.display(),
        server.url("")
    );
    let run = tokio::process::Command::new("node")
        .arg(browser_dir.join("chat.mjs"))
        .current_dir(&browser_dir)
        .env("PARLEY_URL", server.url(""))
        .env("PARLEY_AGENT1_ID", AGENTS[0].0)
        .env(
            "PARLEY_AGENT1_PASSWORD",
            format!("password-{}", AGENTS[0].0),
        )
        .env("PARLEY_AGENT2_ID", AGENTS[1].0)
        .env(
            "PARLEY_AGENT2_PASSWORD",
            format!("password-{}", AGENTS[1].0),
        )
        .env("PARLEY_ARTIFACTS", &artifacts)
        .env("PARLEY_CUSTOMER_EMAIL", &email)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(BROWSER_PATIENCE, run)
        .await
        .expect("the browser test did not finish in time")
        .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or(Value::Null);
    assert!(
        output.status.success(),
        "the browser test failed ({}), screenshots in {}:\n{stderr}\n{stdout}",
        output.status,
        artifacts.display()
    );
    eprintln!("browser test summary: {summary}");
    assert_eq!(summary["ok"], true, "{summary}");
    let id = summary["interaction"]
        .as_str()
        .expect("the summary names the interaction");

    // The interaction: completed by the second agent with the disposition.
    let (status, interaction) = admin.get(&format!("/v1/interactions/{id}")).await;
    assert_eq!(status, 200, "{interaction}");
    assert_eq!(interaction["state"], "completed", "{interaction}");
    assert_eq!(interaction["media-type"], "chat", "{interaction}");
    // Its contact is the one the customer's e-mail address identifies.
    let (status, contact) = admin.get(&format!("/v1/contacts/email:{email}")).await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(interaction["contact-id"], contact["id"], "{interaction}");
    if let Some(disposition) = summary["disposition"].as_str() {
        assert_eq!(interaction["disposition"], disposition, "{interaction}");
    }

    // The contact's history holds it (`[{interaction, transcript}]`, newest
    // first), with everyone's messages.
    let (status, history) = admin
        .get(&format!("/v1/contacts/email:{email}/history"))
        .await;
    assert_eq!(status, 200, "{history}");
    let entries = history
        .as_array()
        .unwrap_or_else(|| panic!("a list of interactions: {history}"));
    let entry = entries
        .iter()
        .find(|e| e["interaction"]["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the history: {history}"));
    assert_eq!(entry["interaction"]["state"], "completed", "{entry}");
    assert_eq!(entry["interaction"]["owner"], AGENTS[1].0, "{entry}");
    let messages = entry["transcript"]
        .as_array()
        .unwrap_or_else(|| panic!("a transcript: {entry}"));
    let sent_by = |who: &str| -> Vec<&str> {
        summary["messages"][who]
            .as_array()
            .unwrap_or_else(|| panic!("the summary lists {who}'s messages: {summary}"))
            .iter()
            .filter_map(Value::as_str)
            .collect()
    };
    let mut checked = 0;
    for (who, role, account) in [
        ("customer", "customer", None),
        (AGENTS[0].0, "agent", Some(AGENTS[0].0)),
        (AGENTS[1].0, "agent", Some(AGENTS[1].0)),
    ] {
        for text in sent_by(who) {
            let found = messages
                .iter()
                .find(|m| m["text"] == text)
                .unwrap_or_else(|| panic!("{who}'s message {text:?} is not in {entry}"));
            assert_eq!(found["from"]["role"], role, "{found}");
            if let Some(account) = account {
                assert_eq!(found["from"]["id"], account, "{found}");
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 6,
        "only {checked} messages were checked: {summary}"
    );
    let seqs: Vec<i64> = messages.iter().filter_map(|m| m["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "the transcript is in seq order: {seqs:?}"
    );
    eprintln!(
        "browser test: passed in {} ms, {} screenshots in {}",
        summary["ms"],
        summary["screenshots"].as_array().map_or(0, Vec::len),
        artifacts.display()
    );
}
