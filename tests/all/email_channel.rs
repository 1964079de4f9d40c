//! The e-mail channel against real servers: Dovecot over IMAP and POP3
//! (implicit TLS and STARTTLS) for intake, aiosmtpd for sending (STARTTLS
//! and implicit TLS, AUTH). Covers the corpus taken in once and the
//! mailbox emptied, leaving mail on the server, threading, malformed mail
//! kept for inspection without stopping the mailbox, the reply with its
//! quote and attachments, review, retries, bounces, web forms and the
//! automatic acknowledgement (limited for forms), and a send interrupted
//! by a stop never repeated on its own.

use parley_tests::TestServer;
use parley_tests::client::{Client, agent_spec};
use parley_tests::mail::{Dovecot, SMTP_USER, SmtpServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn corpus(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/email")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const PATIENCE: Duration = Duration::from_secs(30);

async fn server(settings: String) -> (TestServer, Client) {
    let options = parley_tests::Options {
        settings,
        ..Default::default()
    };
    let server = TestServer::start_with(options, |_| {}).await;
    let admin = server.admin();
    (server, admin)
}

/// Waits until `list` (a GET path answering a JSON array) has `n` items;
/// returns them.
async fn wait_list(admin: &Client, path: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let (status, list) = admin.get(path).await;
        assert_eq!(status, 200, "{path}: {list}");
        let list = list.as_array().cloned().unwrap_or_default();
        if list.len() >= n {
            assert_eq!(list.len(), n, "{path} has more than {n}: {list:?}");
            return list;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{path} has {} of {n}",
            list.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The e-mail interactions waiting in queue `inbound`.
async fn wait_emails(admin: &Client, n: usize) -> Vec<Value> {
    wait_list(admin, "/v1/interactions?queue=inbound&limit=1000", n).await
}

/// The messages of interaction `id`.
async fn messages(admin: &Client, id: &str) -> Vec<Value> {
    let (status, list) = admin.get(&format!("/v1/emails/{id}")).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap()
}

fn attached<'a>(interaction: &'a Value, key: &str) -> Option<&'a str> {
    interaction["attached"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?["value"]["text"]
        .as_str()
}

/// The bytes of a download at `path`, with `admin`'s credential.
async fn download(admin: &Client, path: &str) -> Vec<u8> {
    let response = admin
        .http()
        .get(admin.url(path))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.bytes().await.unwrap().to_vec()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until outbound message `id` has `status`; returns it.
async fn wait_status(admin: &Client, id: &str, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, message) = admin.get(&format!("/v1/email/messages/{id}")).await;
        if message["status"] == status {
            return message;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "message {id} never became {status}: {message}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Dovecot, an SMTP server, and a server reading the one and sending
/// through the other that acknowledges new mail with `text`.
async fn acknowledging(text: &str) -> (Dovecot, SmtpServer, TestServer, Client) {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(&[], 0);
    let settings = format!(
        "[email]\nacknowledge-with = \"email-ack\"\nname = \"Shop Support\"\n{}{}",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", ""),
        smtp.settings("tls"),
    );
    let (server, admin) = server(settings).await;
    acknowledgement_response(&admin, text).await;
    (dovecot, smtp, server, admin)
}

/// Stores the standard response `email-ack`, which `acknowledge-with`
/// names in these tests.
async fn acknowledgement_response(admin: &Client, text: &str) {
    admin
        .ok_post(
            "/v1/responses",
            json!({"id": "email-ack", "name": "E-mail acknowledgement", "text": text}),
        )
        .await;
}

const CORPUS: [&str; 6] = [
    "alternative.eml",
    "latin1.eml",
    "shift_jis.eml",
    "forwarded.eml",
    "inline-reply.eml",
    "broken.eml",
];

/// Checks what the corpus became, by subject.
async fn check_corpus(admin: &Client, interactions: &[Value]) {
    let mut by_subject = std::collections::BTreeMap::new();
    for interaction in interactions {
        let id = interaction["id"].as_str().unwrap();
        assert_eq!(interaction["media-type"], "email");
        let list = messages(admin, id).await;
        assert_eq!(list.len(), 1, "one message per interaction: {list:?}");
        by_subject.insert(
            attached(interaction, "subject").unwrap_or("").to_string(),
            (interaction.clone(), list[0].clone()),
        );
    }
    let (alternative, message) = &by_subject["Order 1234 – where is it?"];
    assert_eq!(message["from"], "ada@example.com");
    assert_eq!(message["from-name"], "Ada Lovelace");
    assert_eq!(message["status"], "received");
    assert!(message["text"].as_str().unwrap().contains("café au lait"));
    assert!(message["html"].as_str().unwrap().contains("<b>1234</b>"));
    assert_eq!(attached(alternative, "from"), Some("ada@example.com"));
    let (_, latin) = &by_subject["Réclamation"];
    assert_eq!(latin["from-name"], "André Müller");
    assert!(
        by_subject.keys().any(|s| s.contains("注文")),
        "{by_subject:?}"
    );
    let (reply, message) = &by_subject["Re: Order 1234"];
    // Threaded by References to the first message's interaction and contact.
    assert_eq!(reply["parent-id"], alternative["id"]);
    assert_eq!(reply["contact-id"], alternative["contact-id"]);
    let image = &message["attachments"][0];
    assert_eq!(
        (
            &image["content-type"],
            &image["content-id"],
            &image["inline"]
        ),
        (&json!("image/png"), &json!("label@ex"), &json!(true))
    );
    let png = download(
        admin,
        &format!("/v1/email/attachments/{}", image["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(&png[..4], b"\x89PNG");
    // The contact's history carries the e-mail's body, sender and files.
    let (status, history) = admin
        .get("/v1/contacts/email:ada@example.com/history")
        .await;
    assert_eq!(status, 200, "{history}");
    let entry = history
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["interaction"]["id"] == reply["id"])
        .unwrap_or_else(|| panic!("the reply is in the history: {history}"));
    assert_eq!(entry["body"], message["text"], "{entry}");
    assert!(!message["text"].as_str().unwrap().is_empty(), "{message}");
    assert_eq!(entry["customer-name"], message["from-name"], "{entry}");
    assert_eq!(entry["attachments"][0]["id"], image["id"], "{entry}");
    assert_eq!(
        entry["attachments"][0]["url"],
        format!("/v1/email/attachments/{}", image["id"].as_str().unwrap()),
    );
    let forwarded = by_subject
        .values()
        .find(|(_, m)| m["attachments"][0]["content-type"] == "message/rfc822")
        .expect("the forwarded message is an attachment");
    assert_eq!(forwarded.1["status"], "received");
}

#[tokio::test]
async fn imap_takes_in_the_corpus_once_over_tls_and_starttls() {
    for (security, implicit) in [("tls", true), ("starttls", false)] {
        let dovecot = Dovecot::start();
        for name in CORPUS {
            dovecot.deliver(&corpus(name));
        }
        let port = if implicit {
            dovecot.imaps
        } else {
            dovecot.imap
        };
        let (_server, admin) = server(dovecot.mailbox("support", "imap", port, security, "")).await;
        let interactions = wait_emails(&admin, CORPUS.len()).await;
        check_corpus(&admin, &interactions).await;
        wait_until("the mailbox is emptied", || dovecot.count() == 0).await;
        // New mail is pushed (IDLE) and taken in; nothing twice.
        dovecot.deliver(&corpus("alternative.eml").replace_id("alt-1", "alt-2"));
        wait_emails(&admin, CORPUS.len() + 1).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        wait_emails(&admin, CORPUS.len() + 1).await;
        let (_, status) = admin.get("/v1/email/mailboxes").await;
        let mailbox = &status["mailboxes"][0];
        assert_eq!(mailbox["connected"], true, "{status}");
        assert_eq!(mailbox["taken"], CORPUS.len() + 1, "{status}");
    }
}

#[tokio::test]
async fn pop3_takes_in_the_corpus_once_over_tls_and_stls() {
    for (security, implicit) in [("tls", true), ("starttls", false)] {
        let dovecot = Dovecot::start();
        for name in CORPUS {
            dovecot.deliver(&corpus(name));
        }
        let port = if implicit {
            dovecot.pop3s
        } else {
            dovecot.pop3
        };
        let (_server, admin) = server(dovecot.mailbox("support", "pop3", port, security, "")).await;
        let interactions = wait_emails(&admin, CORPUS.len()).await;
        check_corpus(&admin, &interactions).await;
        wait_until("the mailbox is emptied", || dovecot.count() == 0).await;
        dovecot.deliver(&corpus("latin1.eml").replace_id("latin-1", "latin-2"));
        wait_emails(&admin, CORPUS.len() + 1).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        wait_emails(&admin, CORPUS.len() + 1).await;
    }
}

#[tokio::test]
async fn leaving_mail_on_the_server_takes_it_in_once() {
    let dovecot = Dovecot::start();
    for name in ["alternative.eml", "latin1.eml"] {
        dovecot.deliver(&corpus(name));
    }
    let mailbox = dovecot.mailbox(
        "support",
        "imap",
        dovecot.imap,
        "starttls",
        "leave-on-server = true",
    );
    let (_server, admin) = server(mailbox).await;
    wait_emails(&admin, 2).await;
    dovecot.deliver(&corpus("shift_jis.eml"));
    wait_emails(&admin, 3).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    wait_emails(&admin, 3).await;
    assert_eq!(dovecot.count(), 3, "the messages stay on the server");
}

/// A message with `headers` and a body of `body_bytes` bytes.
fn message_of_size(subject: &str, header_bytes: usize, body_bytes: usize) -> Vec<u8> {
    let mut raw = format!(
        "From: big@example.com\r\nTo: support@shop.example\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.com>\r\n"
    )
    .into_bytes();
    let mut written = 0;
    while written < header_bytes {
        raw.extend_from_slice(
            b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        );
        written += 74;
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend(std::iter::repeat_n(b'x', body_bytes));
    raw.extend_from_slice(b"\r\n");
    raw
}

#[tokio::test]
async fn malformed_mail_is_kept_for_inspection_and_the_mailbox_goes_on() {
    let dovecot = Dovecot::start();
    let too_large = message_of_size("too-large", 0, 3 << 20);
    let huge_headers = message_of_size("huge-headers", 300 << 10, 10);
    // Binary without line breaks or NULs (IMAP servers turn bare line
    // breaks into CRLF and NULs into 0x80).
    let not_mail: Vec<u8> = (0..4096u32)
        .map(|i| (i * 7 % 251) as u8)
        .filter(|b| ![0, b'\r', b'\n'].contains(b))
        .collect();
    for raw in [&too_large, &huge_headers, &not_mail] {
        dovecot.deliver(raw);
    }
    dovecot.deliver(&corpus("alternative.eml"));
    let settings = format!(
        "[email]\nmax-message-bytes = 2097152\n{}",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", "")
    );
    let (_server, admin) = server(settings).await;
    // The good message behind the bad ones is taken in and routed.
    wait_emails(&admin, 1).await;
    let kept = wait_list(&admin, "/v1/email/malformed", 3).await;
    let reasons: Vec<String> = kept
        .iter()
        .map(|m| m["error"].as_str().unwrap().to_string())
        .collect();
    for reason in [
        "not an e-mail message",
        "header block is larger",
        // Its size was asked first: only its first bytes were fetched.
        "larger than the limit of 2097152 bytes (its first bytes are kept)",
    ] {
        assert!(reasons.iter().any(|r| r.contains(reason)), "{reasons:?}");
    }
    for message in &kept {
        // Each is an interaction of its own, unrouted, with its raw bytes.
        let (_, interaction) = admin
            .get(&format!(
                "/v1/interactions/{}",
                message["interaction-id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(interaction["state"], "submitted");
        assert!(attached(&interaction, "malformed").is_some());
        let raw = download(
            &admin,
            &format!(
                "/v1/email/messages/{}/mime",
                message["id"].as_str().unwrap()
            ),
        )
        .await;
        assert!(
            [&too_large[..2097152], &huge_headers, &not_mail]
                .iter()
                .any(|original| original[..] == raw[..]),
            "the raw message is kept as it arrived (cut at the limit): {} bytes, starting {:?}",
            raw.len(),
            String::from_utf8_lossy(&raw[..raw.len().min(60)])
        );
    }
    wait_until("the mailbox is emptied", || dovecot.count() == 0).await;
}

/// An agent logged in and ready for e-mail, in `groups`.
async fn email_agent(admin: &Client, id: &str, groups: &[&str]) -> Client {
    let mut spec = agent_spec(id, json!({"email": 5}));
    spec["groups"] = json!(groups);
    spec["name"] = json!(format!("Agent {id}"));
    admin.create_agent(spec).await;
    let agent = admin.login(id, &format!("password-{id}")).await;
    agent.presence(id, &["email"], "ready").await;
    agent
}

/// The one e-mail interaction the mailbox took in, once offered and
/// accepted by `agent`.
async fn taken_and_accepted(admin: &Client, agent: &Client, agent_id: &str) -> String {
    let start = Instant::now();
    let id = loop {
        let (_, list) = admin
            .get(&format!("/v1/interactions?owner={agent_id}&limit=10"))
            .await;
        if let Some(first) = list.as_array().and_then(|l| l.first()) {
            break first["id"].as_str().unwrap().to_string();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "nothing was offered to {agent_id}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    admin.accept_when_offered(agent, agent_id, &id).await;
    id
}

fn header_line<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().find(|l| {
        l.to_ascii_lowercase()
            .starts_with(&format!("{}:", name.to_ascii_lowercase()))
    })
}

#[tokio::test]
async fn an_agent_replies_with_the_original_quoted_and_the_customer_answers_in_the_thread() {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(&[], 0);
    let settings = format!(
        "[email]\naddress = \"support@shop.example\"\nname = \"Shop Support\"\n{}{}",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", ""),
        smtp.settings("starttls"),
    );
    let (_server, admin) = server(settings).await;
    let agent = email_agent(&admin, "ella", &["tier1"]).await;
    dovecot.deliver(&corpus("alternative.eml"));
    let id = taken_and_accepted(&admin, &agent, "ella").await;

    let (status, template) = agent.get(&format!("/v1/emails/{id}/reply")).await;
    assert_eq!(status, 200, "{template}");
    assert_eq!(template["to"], json!(["ada@example.com"]));
    assert_eq!(template["subject"], "Re: Order 1234 – where is it?");
    let quoted = template["text"].as_str().unwrap();
    assert!(
        quoted.contains("Ada Lovelace <ada@example.com> wrote:"),
        "{quoted}"
    );
    assert!(
        quoted.contains("> Hello, my order 1234 has not arrived"),
        "{quoted}"
    );

    let text = format!("Dear Ada,\n\nyour parcel left today.\n{quoted}");
    let (status, reply) = agent
        .post(
            &format!("/v1/emails/{id}/replies"),
            json!({
                "text": text,
                "attachments": [{"name": "label.txt", "content-type": "text/plain",
                                 "data": "VHJhY2tpbmc6IDEyMzQ="}],
            }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["status"], "queued");
    let sent = wait_status(&admin, reply["id"].as_str().unwrap(), "sent").await;
    assert_eq!(sent["attempts"], 1);

    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let (raw, envelope) = &received[0];
    assert_eq!(envelope["rcpt_tos"], json!(["ada@example.com"]));
    assert_eq!(envelope["mail_from"], "support@shop.example");
    assert_eq!(
        (envelope["tls"].as_bool(), envelope["auth_login"].as_str()),
        (Some(true), Some(SMTP_USER))
    );
    let text_raw = String::from_utf8_lossy(raw);
    assert_eq!(
        header_line(&text_raw, "In-Reply-To"),
        Some("In-Reply-To: <alt-1@example.com>")
    );
    assert!(
        header_line(&text_raw, "References")
            .unwrap()
            .contains("<alt-1@example.com>")
    );
    let parsed = parley_email::parse::parse(raw, &Default::default()).unwrap();
    assert_eq!(
        parsed.subject.as_deref(),
        Some("Re: Order 1234 – where is it?")
    );
    assert!(parsed.text.unwrap().contains("your parcel left today"));
    assert_eq!(parsed.attachments[0].name.as_deref(), Some("label.txt"));
    assert_eq!(parsed.attachments[0].data, b"Tracking: 1234");
    // The copy kept is the message as the server received it.
    let kept = download(
        &admin,
        &format!("/v1/email/messages/{}/mime", sent["id"].as_str().unwrap()),
    )
    .await;
    // The SMTP client ends the data with one more line break.
    assert_eq!([&kept[..], b"\r\n"].concat(), raw[..]);

    // The customer answers our reply: a new interaction in the thread.
    let our_id = sent["message-id"].as_str().unwrap();
    let answer = format!(
        "From: Ada Lovelace <ada@example.com>\r\nTo: support@shop.example\r\nSubject: Re: Re: Order 1234\r\n\
         Message-ID: <answer-1@example.com>\r\nIn-Reply-To: <{our_id}>\r\nReferences: <alt-1@example.com> <{our_id}>\r\n\r\nThanks!\r\n"
    );
    dovecot.deliver(answer.as_bytes());
    let start = Instant::now();
    let child = loop {
        let (_, list) = admin.get("/v1/interactions?limit=100").await;
        if let Some(child) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["parent-id"] == json!(id))
        {
            break child.clone();
        }
        assert!(start.elapsed() < PATIENCE, "the answer was not threaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (_, parent) = admin.get(&format!("/v1/interactions/{id}")).await;
    assert_eq!(child["contact-id"], parent["contact-id"]);
}

#[tokio::test]
async fn replies_of_the_review_group_wait_for_a_supervisor() {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(&[], 0);
    let settings = format!(
        "[email]\nreview-group = \"trainees\"\n[email.mime]\noutbound = \"mime-normalizer\"\n{}{}",
        dovecot.mailbox("support", "pop3", dovecot.pop3s, "tls", ""),
        smtp.settings("tls"),
    );
    let (_server, admin) = server(settings).await;
    let agent = email_agent(&admin, "tom", &["tier1", "trainees"]).await;
    dovecot.deliver(&corpus("latin1.eml"));
    let id = taken_and_accepted(&admin, &agent, "tom").await;
    let (status, reply) = agent
        .post(
            &format!("/v1/emails/{id}/replies"),
            json!({"text": "Draft answer"}),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["status"], "review");
    let message = reply["id"].as_str().unwrap().to_string();
    let pending = wait_list(&admin, "/v1/email/reviews", 1).await;
    assert_eq!(pending[0]["id"], json!(message));
    // Agents cannot review.
    let (status, _) = agent
        .post(&format!("/v1/email/messages/{message}/approve"), json!({}))
        .await;
    assert_eq!(status, 403);

    let (status, rejected) = admin
        .post(
            &format!("/v1/email/messages/{message}/reject"),
            json!({"comment": "Please apologise for the delay."}),
        )
        .await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["error"], "Please apologise for the delay.");
    let (status, again) = agent
        .put(
            &format!("/v1/email/messages/{message}"),
            json!({"text": "Sorry for the delay. Your refund is on its way."}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "review");
    let (status, approved) = admin
        .post(&format!("/v1/email/messages/{message}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{approved}");
    let sent = wait_status(&admin, &message, "sent").await;
    assert_eq!(sent["reviewer"], "admin");
    let received = smtp.received();
    assert_eq!(received.len(), 1, "only the approved version went out");
    let parsed = parley_email::parse::parse(&received[0].0, &Default::default()).unwrap();
    assert!(parsed.text.unwrap().contains("Your refund is on its way."));
    // The outbound MIME plugin added its header.
    assert_eq!(
        header_line(&String::from_utf8_lossy(&received[0].0), "Organization"),
        Some("Organization: Example Corp")
    );
    // A second verdict on a sent message is refused.
    let (status, _) = admin
        .post(&format!("/v1/email/messages/{message}/approve"), json!({}))
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn sending_retries_passing_trouble_and_recognises_bounces() {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(&["nobody@example.net"], 1);
    let settings = format!(
        "{}{}",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", ""),
        smtp.settings("starttls"),
    );
    let (_server, admin) = server(settings).await;
    let agent = email_agent(&admin, "bo", &["tier1"]).await;
    dovecot.deliver(&corpus("alternative.eml"));
    let id = taken_and_accepted(&admin, &agent, "bo").await;
    let (_, first) = agent
        .post(
            &format!("/v1/emails/{id}/replies"),
            json!({"text": "On its way."}),
        )
        .await;
    // The first attempt gets 451; the retry a second later goes through.
    let sent = wait_status(&admin, first["id"].as_str().unwrap(), "sent").await;
    assert_eq!(sent["attempts"], 2);
    assert_eq!(smtp.received().len(), 1);

    let (_, second) = agent
        .post(
            &format!("/v1/emails/{id}/replies"),
            json!({"to": ["nobody@example.net"], "text": "Copy for the warehouse."}),
        )
        .await;
    let bounced = wait_status(&admin, second["id"].as_str().unwrap(), "bounced").await;
    assert!(
        bounced["error"].as_str().unwrap().contains("550"),
        "{bounced}"
    );
    assert_eq!(smtp.received().len(), 1, "nothing more was accepted");

    // A later delivery report about the sent one bounces it too, and is
    // kept with the interaction.
    let report = String::from_utf8(corpus("bounce.eml")).unwrap().replace(
        "agent-reply-9@shop.example",
        sent["message-id"].as_str().unwrap(),
    );
    dovecot.deliver(report.as_bytes());
    let bounced = wait_status(&admin, sent["id"].as_str().unwrap(), "bounced").await;
    assert!(
        bounced["error"].as_str().unwrap().contains("5.1.1"),
        "{bounced}"
    );
    let list = messages(&admin, &id).await;
    let report = list
        .iter()
        .find(|m| m["status"] == "bounce")
        .expect("the report is kept");
    assert_eq!(report["direction"], "inbound");
    // No new interaction for the report.
    let (_, all) = admin.get("/v1/interactions?limit=100").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
}

#[tokio::test]
async fn a_web_form_becomes_an_email_interaction_with_its_fields() {
    let (server, admin) = server(String::new()).await;
    let response = admin
        .http()
        .post(server.url("/v1/email/forms/contact"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "email=Grace%40Example.com&name=Grace+Hopper&subject=Warranty+claim\
             &message=My+compiler+stopped+working.&order=AB123456",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["interaction"].as_str().unwrap();
    let (_, interaction) = admin.get(&format!("/v1/interactions/{id}")).await;
    assert_eq!(interaction["media-type"], "email");
    assert_eq!(interaction["queue"], "inbound");
    assert_eq!(attached(&interaction, "form.order"), Some("AB123456"));
    assert_eq!(attached(&interaction, "subject"), Some("Warranty claim"));
    let list = messages(&admin, id).await;
    assert_eq!(list[0]["from"], "grace@example.com");
    assert_eq!(list[0]["from-name"], "Grace Hopper");
    assert_eq!(list[0]["source"], "form:contact");
    assert_eq!(list[0]["text"], "My compiler stopped working.");

    for (body, why) in [
        (json!({"message": "no address"}), "email"),
        (
            json!({"email": "not an address", "message": "x"}),
            "not an e-mail address",
        ),
        (json!({"email": "a@example.com"}), "message"),
    ] {
        let (status, error) = admin.post("/v1/email/forms/contact", body).await;
        assert_eq!(status, 400, "{error}");
        assert!(error["message"].as_str().unwrap().contains(why), "{error}");
    }
    let (status, _) = admin
        .post(
            "/v1/email/forms/nope",
            json!({"email": "a@example.com", "message": "x"}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn new_mail_is_acknowledged_but_automatic_mail_is_not() {
    let (dovecot, smtp, _server, admin) =
        acknowledging("Dear {customer}, we received your message. {agent}").await;
    dovecot.deliver(&corpus("alternative.eml"));
    let bulk = String::from_utf8(corpus("latin1.eml")).unwrap().replacen(
        "Subject:",
        "Precedence: bulk\r\nSubject:",
        1,
    );
    dovecot.deliver(bulk.as_bytes());
    wait_emails(&admin, 2).await;
    wait_until("the acknowledgement is sent", || smtp.received().len() == 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = smtp.received();
    assert_eq!(received.len(), 1, "bulk mail is not acknowledged");
    let (raw, envelope) = &received[0];
    assert_eq!(envelope["rcpt_tos"], json!(["ada@example.com"]));
    let text = String::from_utf8_lossy(raw);
    assert_eq!(
        header_line(&text, "Auto-Submitted"),
        Some("Auto-Submitted: auto-replied")
    );
    let parsed = parley_email::parse::parse(raw, &Default::default()).unwrap();
    assert_eq!(
        parsed.text.unwrap().trim(),
        "Dear Ada Lovelace, we received your message. Shop Support"
    );
}

/// Gives a corpus message another Message-ID.
trait ReplaceId {
    fn replace_id(&self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceId for Vec<u8> {
    fn replace_id(&self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8_lossy(self)
            .replacen(&format!("<{from}@"), &format!("<{to}@"), 1)
            .into_bytes()
    }
}

/// How many e-mail interactions a server took in, by subject.
async fn subjects(admin: &Client) -> Option<Vec<String>> {
    let (status, list) = admin
        .try_get("/v1/interactions?queue=inbound&limit=5000")
        .await?;
    assert_eq!(status, 200);
    Some(
        list.as_array()?
            .iter()
            .filter_map(|i| attached(i, "subject").map(str::to_string))
            .collect(),
    )
}

#[tokio::test]
async fn killing_the_server_during_intake_loses_and_duplicates_nothing() {
    use parley_tests::process::{ServerProcess, free_port};
    const MESSAGES: usize = 300;
    let dovecot = Dovecot::start();
    for n in 0..MESSAGES {
        dovecot.deliver(
            format!(
                "From: customer{n}@example.com\r\nTo: support@shop.example\r\nSubject: crash {n}\r\n\
                 Message-ID: <crash-{n}@example.com>\r\n\r\nMessage number {n}.\r\n"
            )
            .as_bytes(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("parley.toml");
    std::fs::write(
        &config,
        format!(
            "data-dir = {:?}\nadmin-token = \"test-admin-token-0123\"\n{}",
            dir.path().join("data").display().to_string(),
            dovecot.mailbox("support", "imap", dovecot.imaps, "tls", ""),
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut kills = 0;
    for threshold in [40, 120, 200] {
        let server = ServerProcess::with_config(&listen, &config);
        let admin = Client::new(&server.url(), "test-admin-token-0123");
        // Kill it mid-intake, once it has taken in `threshold` messages.
        let start = Instant::now();
        loop {
            let taken = subjects(&admin).await.map_or(0, |s| s.len());
            if taken >= threshold {
                break;
            }
            assert!(start.elapsed() < PATIENCE, "intake stalled at {taken}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let before = subjects(&admin).await.unwrap().len();
        server.kill();
        if before < MESSAGES {
            kills += 1;
        }
    }
    assert!(kills > 0, "the server was never killed mid-intake");
    let server = ServerProcess::with_config(&listen, &config);
    let admin = Client::new(&server.url(), "test-admin-token-0123");
    let start = Instant::now();
    let taken = loop {
        let taken = subjects(&admin).await.unwrap_or_default();
        if taken.len() >= MESSAGES && dovecot.count() == 0 {
            break taken;
        }
        assert!(
            start.elapsed() < PATIENCE * 2,
            "{} of {MESSAGES} taken in, {} left on the server",
            taken.len(),
            dovecot.count()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut sorted = taken.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), taken.len(), "a message was taken in twice");
    let expected: std::collections::BTreeSet<String> =
        (0..MESSAGES).map(|n| format!("crash {n}")).collect();
    assert_eq!(
        sorted
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        expected
    );
}

/// A case of the bundled mime-normalizer: its input and expected output.
fn normalizer_case(name: &str) -> (Vec<u8>, Vec<u8>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/mime-normalizer/cases")
        .join(name);
    let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (
        case["input"]["mime"].as_str().unwrap().as_bytes().to_vec(),
        case["expect"]["transformed"]
            .as_str()
            .unwrap()
            .as_bytes()
            .to_vec(),
    )
}

#[tokio::test]
async fn the_mime_plugin_unwraps_forwarded_mail_on_the_way_in_and_keeps_the_original() {
    let dovecot = Dovecot::start();
    let (forwarded, unwrapped) = normalizer_case("inbound-forward-as-attachment-thunderbird.json");
    dovecot.deliver(&forwarded);
    let settings = format!(
        "[email.mime]\ninbound = \"mime-normalizer\"\ninbound-keep-received-mime = true\n{}",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", "")
    );
    let (_server, admin) = server(settings).await;
    let interactions = wait_emails(&admin, 1).await;
    // The forwarded message, not the wrapper, is the e-mail; but the one
    // who wrote to us, the forwarder, stays its sender (replies and the
    // acknowledgement go to them, never to the third party).
    assert_eq!(
        attached(&interactions[0], "subject"),
        Some("Damaged parcel, order AB123456")
    );
    let list = messages(&admin, interactions[0]["id"].as_str().unwrap()).await;
    assert_eq!(list[0]["from"], "bob@shop.example");
    let id = list[0]["id"].as_str().unwrap();
    let received = download(&admin, &format!("/v1/email/messages/{id}/mime")).await;
    assert_eq!(received, unwrapped);
    let original = download(
        &admin,
        &format!("/v1/email/messages/{id}/mime?kind=original"),
    )
    .await;
    assert_eq!(original, forwarded);
}

/// Posts web form `form` naming `address`; the interaction's id.
async fn post_form(admin: &Client, form: &str, address: &str, message: &str) -> String {
    let (status, created) = admin
        .with_token("")
        .post(
            &format!("/v1/email/forms/{form}"),
            json!({"email": address, "message": message}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["interaction"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn web_forms_acknowledge_an_address_a_few_times_a_day_or_never() {
    let smtp = SmtpServer::start(&[], 0);
    let settings = format!(
        "[email]\nacknowledge-with = \"email-ack\"\n\
         [[email.form]]\nname = \"contact\"\nacknowledgements-per-day = 2\n\
         [[email.form]]\nname = \"quiet\"\nacknowledge = false\n{}",
        smtp.settings("tls"),
    );
    let (_server, admin) = server(settings).await;
    acknowledgement_response(&admin, "We got it.").await;
    // Someone posts the forms in another person's name, again and again.
    let mut posted = Vec::new();
    for n in 0..4 {
        posted.push(
            post_form(
                &admin,
                "contact",
                "victim@example.net",
                &format!("spam {n}"),
            )
            .await,
        );
    }
    for n in 0..2 {
        posted.push(post_form(&admin, "quiet", "victim@example.net", &format!("spam {n}")).await);
    }
    // Acknowledgements are queued with the post: two in all.
    let mut acknowledged = 0;
    for id in &posted {
        acknowledged += messages(&admin, id)
            .await
            .iter()
            .filter(|m| m["direction"] == "outbound")
            .count();
    }
    assert_eq!(acknowledged, 2);
    wait_until("the two acknowledgements are sent", || {
        smtp.received().len() == 2
    })
    .await;
}

#[tokio::test]
async fn an_interrupted_send_is_never_repeated_on_its_own() {
    use parley_tests::process::{ServerProcess, free_port};
    use sqlx::Connection;
    let db = parley_tests::database::TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let config = |extra: &str| {
        let path = dir.path().join("parley.toml");
        std::fs::write(
            &path,
            format!(
                "data-dir = {:?}\nadmin-token = \"test-admin-token-0123\"\ndatabase = {:?}\n{extra}",
                dir.path().join("data").display().to_string(),
                db.url()
            ),
        )
        .unwrap();
        path
    };
    let listen = format!("127.0.0.1:{}", free_port());
    // A server without SMTP: the reply waits, queued.
    let server = ServerProcess::with_config(&listen, &config(""));
    let admin = Client::new(&server.url(), "test-admin-token-0123");
    let agent = email_agent(&admin, "ella", &["tier1"]).await;
    let id = post_form(&admin, "contact", "ada@example.com", "Where is my order?").await;
    admin.accept_when_offered(&agent, "ella", &id).await;
    let (status, reply) = agent
        .post(
            &format!("/v1/emails/{id}/replies"),
            json!({"text": "On its way."}),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let reply_id = reply["id"].as_str().unwrap().to_string();
    // The server dies while handing it to the SMTP server: the attempt
    // is recorded, its outcome is not.
    server.kill();
    let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    sqlx::query(
        "UPDATE email_messages SET status = 'sending', attempts = attempts + 1 WHERE id = $1",
    )
    .bind(&reply_id)
    .execute(&mut conn)
    .await
    .unwrap();

    // The next start finds it `sending`: it may have gone out, so it is
    // not sent again but failed, for a person to decide.
    let smtp = SmtpServer::start(&[], 0);
    let server = ServerProcess::with_config(&listen, &config(&smtp.settings("tls")));
    let failed = wait_status(&admin, &reply_id, "failed").await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("may have been delivered"),
        "{failed}"
    );
    assert_eq!(failed["attempts"], 1);
    assert!(smtp.received().is_empty());

    // Its author sends it again: once, with the same Message-ID.
    let (status, body) = agent
        .put(
            &format!("/v1/email/messages/{reply_id}"),
            json!({"text": "On its way."}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = wait_status(&admin, &reply_id, "sent").await;
    assert_eq!(sent["attempts"], 2);
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let raw = String::from_utf8_lossy(&received[0].0);
    let message_id = sent["message-id"].as_str().unwrap();
    assert!(raw.contains(message_id), "{raw}");
    drop(server);
}

#[tokio::test]
async fn auto_replies_and_reports_stay_out_of_the_queues_and_unanswered() {
    let (dovecot, smtp, _server, admin) = acknowledging("We got it.").await;
    for name in ["out-of-office.eml", "dsn-unmatched.eml", "alternative.eml"] {
        dovecot.deliver(&corpus(name));
    }
    // The customer's message is queued; the machines' are kept aside.
    let kept = wait_list(&admin, "/v1/email/automatic", 2).await;
    let queued = wait_emails(&admin, 1).await;
    assert_eq!(
        attached(&queued[0], "subject"),
        Some("Order 1234 – where is it?")
    );
    let mut why: Vec<&str> = kept.iter().map(|m| m["error"].as_str().unwrap()).collect();
    why.sort();
    assert_eq!(
        why,
        ["a delivery-status report", "an auto-reply (X-Autoreply)"]
    );
    for message in &kept {
        let (_, interaction) = admin
            .get(&format!(
                "/v1/interactions/{}",
                message["interaction-id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            interaction["state"], "submitted",
            "not routed: {interaction}"
        );
        assert!(interaction["queue"].is_null());
        assert!(attached(&interaction, "automatic").is_some());
        let outbound = messages(&admin, message["interaction-id"].as_str().unwrap())
            .await
            .into_iter()
            .filter(|m| m["direction"] == "outbound")
            .count();
        assert_eq!(outbound, 0, "a machine is never answered");
    }
    // Only the customer is acknowledged.
    wait_until("the acknowledgement is sent", || smtp.received().len() == 1).await;
    assert_eq!(smtp.received()[0].1["rcpt_tos"], json!(["ada@example.com"]));
}

#[tokio::test]
async fn privacy_rules_mask_what_customers_write_and_keep_no_raw_copy() {
    let dovecot = Dovecot::start();
    let message = |id: &str, subject: &str, body: &str| {
        format!(
            "From: Ada <ada@example.com>\r\nTo: support@example.com\r\nSubject: {subject}\r\n\
             Message-ID: <{id}@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    };
    dovecot.deliver(
        message(
            "card",
            "Card 4111 1111 1111 1234 declined",
            "I paid with 4111-1111-1111-1234 yesterday.",
        )
        .as_bytes(),
    );
    dovecot.deliver(message("secret", "Login", "my password: hunter2, please reset").as_bytes());
    let settings = format!(
        "{}[[email.masking]]\nname = \"card-number\"\npattern = '\\b(?:\\d[ ./-]?){{12,18}}\\d\\b'\n\
         action = \"mask\"\nkeep-last = 4\n\
         [[email.masking]]\nname = \"password\"\npattern = '(?i)password:\\s*\\S+'\naction = \"drop\"\n",
        dovecot.mailbox("support", "imap", dovecot.imaps, "tls", "")
    );
    let (_server, admin) = server(settings).await;
    let interactions = wait_emails(&admin, 2).await;
    let by_message = |wanted: &str| {
        interactions
            .iter()
            .find(|i| match attached(i, "subject") {
                Some(subject) => !wanted.is_empty() && subject.contains(wanted),
                None => wanted.is_empty(),
            })
            .unwrap_or_else(|| panic!("no interaction for {wanted:?}: {interactions:?}"))
    };

    let masked = by_message("declined");
    assert_eq!(
        attached(masked, "subject"),
        Some("Card **** **** **** 1234 declined")
    );
    let list = messages(&admin, masked["id"].as_str().unwrap()).await;
    assert_eq!(
        list[0]["text"].as_str().unwrap().trim(),
        "I paid with ****-****-****-1234 yesterday."
    );
    // The raw message would show the number: it is not kept.
    let (status, _) = admin
        .get(&format!(
            "/v1/email/messages/{}/mime",
            list[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 404);

    // A drop rule withholds the message's words, subject included.
    let withheld = by_message("");
    let list = messages(&admin, withheld["id"].as_str().unwrap()).await;
    assert_eq!(
        list[0]["text"],
        "(Withheld by the privacy rule `password`.)"
    );
    assert!(!list[0].to_string().contains("hunter2"), "{}", list[0]);

    // A web form's message and fields are masked as well.
    let response = admin
        .post(
            "/v1/email/forms/contact",
            json!({
                "email": "grace@example.com",
                "message": "Card 5500 0000 0000 0004 was charged twice",
                "order": "paid by 5500000000000004",
            }),
        )
        .await;
    assert_eq!(response.0, 201, "{}", response.1);
    let id = response.1["interaction"].as_str().unwrap();
    let (_, interaction) = admin.get(&format!("/v1/interactions/{id}")).await;
    assert_eq!(
        attached(&interaction, "form.order"),
        Some("paid by ************0004")
    );
    let list = messages(&admin, id).await;
    assert_eq!(
        list[0]["text"],
        "Card **** **** **** 0004 was charged twice"
    );
}
