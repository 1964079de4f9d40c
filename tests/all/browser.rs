//! The desktops in a real browser (Debian's Chromium driven by
//! playwright-core; `scripts/browser.sh` installs both):
//!
//! - chat (`tests/browser/chat.mjs`): a customer on a shop page of another
//!   origin chats through the widget with an agent on the agent desktop,
//!   who transfers the chat to a second agent, who ends it with a
//!   disposition. Then the API must show the chat completed in the
//!   contact's history, with everyone's messages.
//! - e-mail (`tests/browser/email.mjs`): an agent answers an e-mail taken
//!   in from Dovecot, with a standard response and a file; the supervisor
//!   returns the reply, then approves the revised one with an edit. Then
//!   the SMTP server must have received exactly that one message.
//!
//! Screenshots of each step go to `target/artifacts/{chat,email}-e2e/` (or
//! `$PARLEY_ARTIFACTS/{chat,email}`).

use parley_tests::TestServer;
use parley_tests::mail::{Dovecot, SmtpServer};
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

/// Where the screenshots of run `name` go, emptied of an earlier run's.
fn artifacts_dir(root: &Path, name: &str) -> PathBuf {
    let dir = std::env::var_os("PARLEY_ARTIFACTS")
        .map(|dir| PathBuf::from(dir).join(name))
        .unwrap_or_else(|| root.join(format!("target/artifacts/{name}-e2e")));
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

/// Runs browser script `script` of `tests/browser/` against `server` with
/// `env`; answers its JSON summary once it has passed.
async fn run_script(
    server: &TestServer,
    script: &str,
    name: &str,
    env: &[(&str, String)],
) -> Value {
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
    let artifacts = artifacts_dir(&root, name);
    eprintln!(
        "browser test {script}: screenshots in {} (server {})",
        artifacts.display(),
        server.url("")
    );
    let run = tokio::process::Command::new("node")
        .arg(browser_dir.join(script))
        .current_dir(&browser_dir)
        .env("PARLEY_URL", server.url(""))
        .env("PARLEY_ARTIFACTS", &artifacts)
        .envs(env.iter().map(|(k, v)| (k, v)))
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
    eprintln!(
        "browser test {script}: passed in {} ms, {} screenshots in {}",
        summary["ms"],
        summary["screenshots"].as_array().map_or(0, Vec::len),
        artifacts.display()
    );
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_chats_with_two_agents_in_chromium() {
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
    let env = [
        ("PARLEY_AGENT1_ID", AGENTS[0].0.to_string()),
        (
            "PARLEY_AGENT1_PASSWORD",
            format!("password-{}", AGENTS[0].0),
        ),
        ("PARLEY_AGENT2_ID", AGENTS[1].0.to_string()),
        (
            "PARLEY_AGENT2_PASSWORD",
            format!("password-{}", AGENTS[1].0),
        ),
        ("PARLEY_CUSTOMER_EMAIL", email.clone()),
    ];
    let summary = run_script(&server, "chat.mjs", "chat", &env).await;
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
}

/// A customer's e-mail with a text attachment, as a mail client sends it.
fn customer_email(from: &str, subject: &str, line: &str, attachment: (&str, &str)) -> Vec<u8> {
    format!(
        "From: Marie Curie <{from}>\r\nTo: support@shop.example\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@example.org>\r\nDate: Sat, 21 Nov 2026 09:30:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\n{line}\r\n\r\nMarie\r\n\
         --b1\r\nContent-Type: text/plain; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\r\n\
         {data}\r\n--b1--\r\n",
        id = uuid::Uuid::now_v7().simple(),
        name = attachment.0,
        data = attachment.1,
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_an_email_through_review_in_chromium() {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(&[], 0);
    let settings = format!(
        "[email]\naddress = \"support@shop.example\"\nname = \"Shop Support\"\nreview-group = \"trainees\"\n{}{}",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", ""),
        smtp.settings("starttls"),
    );
    let options = parley_tests::Options {
        settings,
        ..Default::default()
    };
    let server = TestServer::start_with(options, |_| {}).await;
    let admin = server.admin();
    admin
        .create_agent(json!({
            "id": "erin", "name": "Erin Walsh", "password": "password-erin",
            "skills": [{"name": "support", "level": 3}, {"name": "email", "level": 3}],
            "groups": ["tier1", "trainees"],
            "capacity": {"limits": {"chat": 1, "email": 2}},
        }))
        .await;
    admin
        .create_agent(json!({"id": "sam", "name": "Sam Reyes", "password": "password-sam", "role": "supervisor"}))
        .await;
    admin
        .ok_post(
            "/v1/responses",
            json!({"id": "late-parcel", "name": "Late parcel", "text": "Dear {contact.name}, thank you for your patience."}),
        )
        .await;

    let run = uuid::Uuid::now_v7().simple().to_string();
    let from = format!("marie-{run}@example.org");
    let subject = format!("Parcel {run} not delivered");
    let line = format!("My parcel {run} has not come yet.");
    let attachment = ("delivery-note.txt", "Delivery note 7781, sent 2026-11-18");
    dovecot.deliver(&customer_email(&from, &subject, &line, attachment));
    let upload_dir = tempfile::tempdir().unwrap();
    let upload = upload_dir.path().join("tracking.txt");
    std::fs::write(&upload, format!("Tracking {run}\n")).unwrap();

    let env = [
        ("PARLEY_AGENT_ID", "erin".to_string()),
        ("PARLEY_AGENT_PASSWORD", "password-erin".to_string()),
        ("PARLEY_SUPERVISOR_ID", "sam".to_string()),
        ("PARLEY_SUPERVISOR_PASSWORD", "password-sam".to_string()),
        ("PARLEY_EMAIL_SUBJECT", subject.clone()),
        ("PARLEY_EMAIL_FROM", from.clone()),
        ("PARLEY_EMAIL_LINE", line.clone()),
        ("PARLEY_ATTACHMENT_NAME", attachment.0.to_string()),
        ("PARLEY_ATTACHMENT_TEXT", attachment.1.to_string()),
        ("PARLEY_RESPONSE_NAME", "Late parcel".to_string()),
        (
            "PARLEY_RESPONSE_TEXT",
            "Dear Marie Curie, thank you for your patience.".to_string(),
        ),
        ("PARLEY_UPLOAD", upload.display().to_string()),
    ];
    let summary = run_script(&server, "email.mjs", "email", &env).await;
    let id = summary["interaction"].as_str().expect("the interaction");
    let message = summary["message"].as_str().expect("the reply's id");
    let texts = &summary["texts"];

    // The interaction is completed; the reply was approved by the supervisor.
    let (_, interaction) = admin.get(&format!("/v1/interactions/{id}")).await;
    assert_eq!(interaction["state"], "completed", "{interaction}");
    let (_, reply) = admin.get(&format!("/v1/email/messages/{message}")).await;
    assert_eq!(reply["status"], "sent", "{reply}");
    assert_eq!(reply["reviewer"], "sam", "{reply}");
    assert_eq!(reply["author"], "erin", "{reply}");

    // Exactly one message went out: the revised reply with the
    // supervisor's line, the standard response, the quote and the file.
    let received = smtp.received();
    assert_eq!(received.len(), 1, "only the approved version is sent");
    let (raw, envelope) = &received[0];
    assert_eq!(envelope["rcpt_tos"], json!([from]));
    let parsed = parley_email::parse::parse(raw, &Default::default()).unwrap();
    assert_eq!(parsed.subject.as_deref(), Some(&*format!("Re: {subject}")));
    let text = parsed.text.unwrap_or_default();
    for wanted in [
        texts["revised"].as_str().unwrap(),
        texts["supervisor"].as_str().unwrap(),
        "Dear Marie Curie, thank you for your patience.",
        &format!("> {line}"),
    ] {
        assert!(text.contains(wanted), "{wanted:?} is not in {text:?}");
    }
    assert!(
        !text.contains(texts["draft"].as_str().unwrap()),
        "the returned draft went out: {text:?}"
    );
    assert_eq!(parsed.attachments.len(), 1, "{:?}", parsed.attachments);
    assert_eq!(parsed.attachments[0].name.as_deref(), Some("tracking.txt"));
    assert_eq!(
        parsed.attachments[0].data,
        format!("Tracking {run}\n").as_bytes()
    );
    let (_, messages) = admin.get(&format!("/v1/emails/{id}")).await;
    let original = messages
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["direction"] == "inbound")
        .unwrap_or_else(|| panic!("no inbound message: {messages}"));
    assert_eq!(
        parsed.in_reply_to.first().map(String::as_str),
        original["message-id"].as_str(),
        "the reply is threaded to the customer's message"
    );
}
