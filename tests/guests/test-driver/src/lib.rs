//! A social-channel driver built against `parley:plugin@0.2.1` whose
//! "network" is made up: poll `n` of a thread gives items `n + 1` to
//! `n + batch` (the account's `batch` setting, 2 by default) and the
//! cursor `n + batch`; a webhook request carries one item, named by its
//! `x-item-id` header, and is answered with its own body; a reply is
//! "sent" as `sent-<thread>-<text length>`; a medium's bytes are its id.
//! Its `behavior` config value makes it misbehave instead: `rate-limited`,
//! `auth-failed` (driver errors), `garbage` (an item without an id),
//! `trap` (a panic).

#![allow(missing_docs)] // generated code; the WIT documents it
#![allow(unsafe_code)] // the export glue wit-bindgen generates here

wit_bindgen::generate!({
    world: "social-driver",
    path: "../../../wit/v0.2.1",
    generate_all,
});

use exports::parley::plugin::social::{
    Account, Author, Capabilities, DriverError, Guest, Item, ItemKind, Media, MediaRef, PollResult,
    Reply, WebhookRequest, WebhookResult,
};
use parley::plugin::config;

/// The exported driver.
pub struct TestDriver;

/// The account's setting `key`.
fn setting<'a>(account: &'a Account, key: &str) -> Option<&'a str> {
    account
        .settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Fails as the `behavior` config value says, if it says so.
fn misbehave() -> Result<(), DriverError> {
    match config::get("behavior").as_deref() {
        Some("rate-limited") => Err(DriverError::RateLimited(30_000)),
        Some("auth-failed") => Err(DriverError::AuthFailed("token refused".into())),
        Some("trap") => panic!("deliberate panic in test-driver"),
        _ => Ok(()),
    }
}

/// Item `remote_id` of the account's thread.
fn item(account: &Account, remote_id: String) -> Item {
    let garbage = config::get("behavior").as_deref() == Some("garbage");
    Item {
        remote_id: if garbage {
            String::new()
        } else {
            remote_id.clone()
        },
        thread_id: setting(account, "thread").unwrap_or("room-1").into(),
        in_reply_to: None,
        kind: ItemKind::PublicPost,
        author: Author {
            id: "@alice:example.org".into(),
            handle: "@alice:example.org".into(),
            display_name: Some("Alice".into()),
        },
        from_account: false,
        text: format!("message {remote_id}"),
        title: None,
        url: None,
        media: Vec::new(),
        posted_at_ms: None,
        attached: Vec::new(),
    }
}

impl Guest for TestDriver {
    fn describe() -> Capabilities {
        Capabilities {
            public_posts: true,
            direct_messages: true,
            replies: true,
            media: true,
            webhooks: true,
        }
    }

    fn poll(account: Account, cursor: Option<String>) -> Result<PollResult, DriverError> {
        misbehave()?;
        let from: u64 = cursor.as_deref().unwrap_or("0").parse().map_err(|_| {
            DriverError::Permanent(format!(
                "cursor `{}` is not a number",
                cursor.unwrap_or_default()
            ))
        })?;
        let batch: u64 = setting(&account, "batch")
            .unwrap_or("2")
            .parse()
            .unwrap_or(2);
        let items = (from + 1..=from + batch)
            .map(|n| item(&account, format!("m{n}")))
            .collect();
        Ok(PollResult {
            items,
            next_cursor: Some((from + batch).to_string()),
            suggested_delay_ms: Some(1000),
        })
    }

    fn on_webhook(account: Account, request: WebhookRequest) -> Result<WebhookResult, DriverError> {
        misbehave()?;
        let id = request
            .headers
            .iter()
            .find(|(name, _)| name == "x-item-id")
            .map(|(_, value)| value.clone())
            .ok_or_else(|| DriverError::Permanent("no x-item-id header".into()))?;
        Ok(WebhookResult {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: request.body,
            items: vec![item(&account, id)],
        })
    }

    fn send(_account: Account, reply: Reply) -> Result<String, DriverError> {
        misbehave()?;
        if reply.text.is_empty() {
            return Err(DriverError::Permanent("an empty reply".into()));
        }
        Ok(format!("sent-{}-{}", reply.thread_id, reply.text.len()))
    }

    fn fetch_media(_account: Account, media: MediaRef) -> Result<Media, DriverError> {
        misbehave()?;
        Ok(Media {
            content_type: media
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            data: media.id.into_bytes(),
        })
    }
}

export!(TestDriver);
