//! Inbound e-mail throughput: what a message costs on its way in, stage by
//! stage, and how many a server takes in per second.
//!
//! A server (SQLite, `synchronous = FULL`, the demo process whose skills
//! router screens e-mail with the bundled rules-screener) with the bundled
//! mime-normalizer as the inbound MIME transform. The message is a
//! 4 KB multipart/alternative (text and HTML) with a PDF attachment and a
//! refund request in its body, from one of 200 senders.
//!
//! - stages, one message at a time (median of each): parsing (native), the
//!   MIME transform (Wasm), building the screen request from the store,
//!   screening (Wasm, warm instance, and the same rules compiled natively),
//!   and intake (transform, parse, contact, store: one committed write);
//! - throughput: messages handed to intake by 32 concurrent readers, from
//!   the first to the last one screened by the router (its category
//!   attached), so every message was transformed, parsed, stored,
//!   routed and screened.
//!
//! `cargo bench -p parley-tests --bench email` (under `cargo test` it runs
//! once, small, as a smoke test).

use parley::app::RunningServer;
use parley_email::intake::{Acknowledgements, Source, Taken};
use parley_plugin::Direction;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The reference screener's rules, compiled natively.
#[path = "../../plugins/rules-screener/src/rules.rs"]
mod rules;

/// What one run measures.
struct Scale {
    /// Calls per stage.
    calls: usize,
    /// Messages for the throughput run.
    messages: usize,
}

const FULL: Scale = Scale {
    calls: 2_000,
    messages: 10_000,
};

const SMOKE: Scale = Scale {
    calls: 20,
    messages: 200,
};

/// Concurrent readers handing messages to intake.
const READERS: usize = 32;

/// Message `n`: a customer's e-mail with both bodies and an attachment.
fn message(n: usize) -> Vec<u8> {
    let sender = n % 200;
    let paragraph = "We ordered the trekking bicycle in October and it arrived with a bent \
                     rear wheel; the courier's note says the box was dropped. ";
    let text = format!(
        "Hello,\r\n\r\nI would like a refund for my order {n}.\r\n\r\n{}\r\n\r\nKind regards,\r\nCustomer {sender}\r\n",
        paragraph.repeat(8)
    );
    let html = format!(
        "<html><body><p>Hello,</p><p>I would like a <b>refund</b> for my order {n}.</p><p>{}</p>\
         <p>Kind regards,<br>Customer {sender}</p></body></html>\r\n",
        paragraph.repeat(8)
    );
    let pdf = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK\r\n".repeat(12);
    format!(
        "From: Customer {sender} <customer-{sender}@example.com>\r\nTo: support@shop.example\r\n\
         Subject: Damaged delivery {n}\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <bench-{n}-{}@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
         --outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n\
         --inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
         --inner\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n\
         --inner--\r\n\r\n--outer\r\nContent-Type: application/pdf; name=\"photo-report.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"photo-report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {pdf}--outer--\r\n",
        std::process::id()
    )
    .into_bytes()
}

async fn start(data: &std::path::Path) -> RunningServer {
    let settings: parley::settings::Settings = toml::from_str(&format!(
        "listen = \"127.0.0.1:0\"\ndata-dir = {:?}\nadmin-token = \"bench-admin-token-0123\"\n\
         [email]\naddress = \"support@shop.example\"\n[email.mime]\ninbound = \"mime-normalizer\"\n",
        data.display().to_string(),
    ))
    .unwrap();
    parley::app::start(settings).await.expect("server starts")
}

/// The median of `samples`, in µs.
fn median_us(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

/// Times `calls` runs of `body`; the median in µs.
async fn stage<F, Fut>(calls: usize, mut body: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        let at = Instant::now();
        body(i).await;
        samples.push(at.elapsed());
    }
    median_us(samples)
}

/// The host's screen request as the SDK's (what the native rules take).
fn sdk_request(
    request: &parley_plugin::bindings::types::ScreenRequest,
) -> parley_sdk::ScreenRequest {
    use parley_plugin::bindings::types::Value as Host;
    parley_sdk::ScreenRequest {
        media_type: request.media_type.clone(),
        subject: request.subject.clone(),
        content: parley_sdk::Content {
            content_type: request.content.content_type.clone(),
            text: request.content.text.clone(),
        },
        attached: request
            .attached
            .iter()
            .filter_map(|a| match &a.value {
                Host::Text(text) => Some(parley_sdk::Attribute {
                    key: a.key.clone(),
                    value: parley_sdk::Value::Text(text.clone()),
                }),
                _ => None,
            })
            .collect(),
        language: request.language.clone(),
    }
}

/// The rules of the bundled screener's manifest, as JSON.
fn screener_rules(server: &RunningServer) -> String {
    let version = server
        .registry
        .get("rules-screener")
        .expect("rules-screener");
    serde_json::to_string(&version.manifest.config["rules"]).unwrap()
}

async fn stages(server: &RunningServer, scale: &Scale) {
    let limits = parley_email::parse::Limits::default();
    let raw = message(0);
    let parse = stage(scale.calls, |_| {
        let parsed = parley_email::parse::parse(&raw, &limits).expect("parses");
        assert!(parsed.text.is_some());
        std::future::ready(())
    })
    .await;

    let normalizer = server
        .registry
        .get("mime-normalizer")
        .expect("mime-normalizer");
    let transform = stage(scale.calls, |_| {
        let normalizer = normalizer.clone();
        let raw = &raw;
        async move {
            normalizer
                .transform_mime(Direction::Inbound, raw)
                .await
                .expect("transforms");
        }
    })
    .await;

    let intake = server.email.intake().clone();
    let source = Source {
        name: "bench".into(),
        queue: None,
        acknowledgements: Acknowledgements::Each,
    };
    let take = stage(scale.calls, |i| {
        let intake = intake.clone();
        let source = source.clone();
        async move {
            let taken = intake
                .take(&source, message(1_000_000 + i), false, None)
                .await;
            assert_eq!(taken, Taken::Stored);
        }
    })
    .await;

    let store = &server.store;
    let filter = parley_store::Filter {
        queue: Some("inbound".into()),
        ..Default::default()
    };
    let interaction = store
        .list(&filter, 1)
        .await
        .unwrap()
        .pop()
        .expect("an e-mail interaction");
    let request_us = stage(scale.calls, |_| {
        let interaction = &interaction;
        async move {
            parley_engine::screen_request::screen_request(store, interaction)
                .await
                .expect("a screen request");
        }
    })
    .await;
    let request = parley_engine::screen_request::screen_request(store, &interaction)
        .await
        .unwrap();
    assert!(
        request.content.text.contains("refund"),
        "the body is screened"
    );
    let screener = server
        .registry
        .get("rules-screener")
        .expect("rules-screener");
    let wasm = stage(scale.calls, |_| {
        let screener = screener.clone();
        let request = &request;
        async move {
            let result = screener.screen(request).await.expect("screens").value;
            assert!(result.categories.iter().any(|c| c.name == "billing"));
        }
    })
    .await;
    let native_rules =
        rules::RuleSet::from_json(&screener_rules(server)).expect("the rules compile");
    let native_request = sdk_request(&request);
    let native = stage(scale.calls, |_| {
        let result = native_rules.screen(&native_request);
        assert!(result.categories.iter().any(|c| c.name == "billing"));
        std::future::ready(())
    })
    .await;

    println!("message: {} bytes", raw.len());
    println!("parse (native): median {parse:.1} µs");
    println!("inbound MIME transform (mime-normalizer, Wasm): median {transform:.1} µs");
    println!("intake (transform, parse, contact, store, commit): median {take:.1} µs");
    println!("screen request from the store: median {request_us:.1} µs");
    println!(
        "screening (rules-screener): Wasm warm median {wasm:.1} µs, native median {native:.1} µs, ratio {:.1}x",
        wasm / native
    );
}

/// Numbers of the messages from [`THROUGHPUT_FROM`] on.
const THROUGHPUT_FROM: usize = 2_000_000;

/// Ids of the throughput run's interactions the router screened (their
/// category attached), from the event stream, and when the last was.
fn follow_screened(server: &RunningServer) -> Arc<Mutex<(HashSet<String>, Option<Instant>)>> {
    let screened: Arc<Mutex<(HashSet<String>, Option<Instant>)>> = Arc::default();
    let mut events = server.store.subscribe();
    let seen = screened.clone();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            let Some(id) = event.interaction_id else {
                continue;
            };
            let Some(attached) = event.data["interaction"]["attached"].as_array() else {
                continue;
            };
            let has_category = attached.iter().any(|a| a["key"] == "category");
            let of_this_run = attached
                .iter()
                .find(|a| a["key"] == "subject")
                .and_then(|a| a["value"]["text"].as_str())
                .and_then(|s| s.strip_prefix("Damaged delivery "))
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= THROUGHPUT_FROM);
            if has_category && of_this_run {
                let mut seen = seen.lock().unwrap();
                if seen.0.insert(id) {
                    seen.1 = Some(Instant::now());
                }
            }
        }
    });
    screened
}

async fn throughput(server: &RunningServer, scale: &Scale) {
    let screened = follow_screened(server);
    let intake = server.email.intake().clone();
    let started = Instant::now();
    let per_reader = scale.messages / READERS;
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let intake = intake.clone();
            tokio::spawn(async move {
                let source = Source {
                    name: format!("reader-{r}"),
                    queue: None,
                    acknowledgements: Acknowledgements::Each,
                };
                for i in 0..per_reader {
                    let taken = intake
                        .take(
                            &source,
                            message(THROUGHPUT_FROM + r * per_reader + i),
                            false,
                            None,
                        )
                        .await;
                    assert_eq!(taken, Taken::Stored);
                }
            })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap();
    }
    let stored_at = started.elapsed();
    let total = per_reader * READERS;
    let deadline = Instant::now() + Duration::from_secs(300);
    let last = loop {
        {
            let seen = screened.lock().unwrap();
            if seen.0.len() >= total {
                break seen.1.unwrap();
            }
        }
        assert!(Instant::now() < deadline, "not every message was screened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let elapsed = (last - started).as_secs_f64();
    println!(
        "throughput: {total} messages by {READERS} readers: stored in {:.2} s ({:.0}/s), \
         stored, routed and screened in {elapsed:.2} s = {:.0} e-mails/s",
        stored_at.as_secs_f64(),
        total as f64 / stored_at.as_secs_f64(),
        total as f64 / elapsed
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let scale = if full { &FULL } else { &SMOKE };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let data = tempfile::tempdir().unwrap();
        let server = start(data.path()).await;
        stages(&server, scale).await;
        throughput(&server, scale).await;
    });
}
