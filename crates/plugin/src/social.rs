//! Typed calls into social-channel drivers (`parley:plugin/social`, the
//! `social-driver` world of contract 0.2.1), with the host's checks on
//! what comes back. A driver's own error (`driver-error`: rate-limited, auth failed, transient,
//! permanent) is a value the caller acts on; a trap, a timeout or output
//! the host refuses is a [`PluginError`].

use super::bindings::social::{
    self, Account, Capabilities, DriverError, Item, Media, MediaRef, PollResult, Reply,
    WebhookRequest, WebhookResult,
};
use super::error::PluginError;
use super::sandbox::HostState;
use super::version::{Called, Guest, GuestExports, PluginVersion};
use super::world::World;

/// Most items one poll or webhook request may give.
pub const MAX_ITEMS: usize = 1000;
/// Longest id (remote id, thread id, author id or handle) in bytes.
pub const MAX_ID: usize = 1024;
/// Longest text of an item, in bytes.
pub const MAX_TEXT: usize = 256 << 10;
/// Largest medium `fetch-media` may give, in bytes.
pub const MAX_MEDIA: usize = 25 << 20;
/// Largest webhook answer body, in bytes.
pub const MAX_WEBHOOK_BODY: usize = 1 << 20;

/// What a driver call gave: its value, or the driver's own error.
pub type DriverResult<T> = Result<T, DriverError>;

/// A driver's functions; the version's world was checked before the call
/// ([`PluginVersion::expect_world`]).
fn driver(guest: &Guest) -> wasmtime::Result<&social::Guest> {
    match &guest.exports {
        GuestExports::SocialDriver(functions) => Ok(functions),
        _ => wasmtime::bail!("not a social-driver"),
    }
}

/// Checks an id: present, and at most [`MAX_ID`] bytes.
fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("gave an empty {what}"));
    }
    if id.len() > MAX_ID {
        return Err(format!(
            "gave a {what} of {} bytes (at most {MAX_ID})",
            id.len()
        ));
    }
    Ok(())
}

/// Checks the items of a poll or a webhook request.
fn check_items(items: &[Item]) -> Result<(), String> {
    if items.len() > MAX_ITEMS {
        return Err(format!(
            "gave {} items at once (at most {MAX_ITEMS})",
            items.len()
        ));
    }
    for item in items {
        check_id("remote id", &item.remote_id)?;
        check_id("thread id", &item.thread_id)?;
        check_id("author id", &item.author.id)?;
        check_id("author handle", &item.author.handle)?;
        if let Some(parent) = &item.in_reply_to {
            check_id("in-reply-to id", parent)?;
        }
        if item.text.len() > MAX_TEXT {
            return Err(format!(
                "gave item `{}` with a text of {} bytes (at most {MAX_TEXT})",
                item.remote_id,
                item.text.len()
            ));
        }
    }
    Ok(())
}

/// Checks what the driver answers a webhook request with.
fn check_webhook(result: &WebhookResult) -> Result<(), String> {
    if !(100..=599).contains(&result.status) {
        return Err(format!(
            "answered a webhook with HTTP status {}",
            result.status
        ));
    }
    if result.body.len() > MAX_WEBHOOK_BODY {
        return Err(format!(
            "answered a webhook with a body of {} bytes (at most {MAX_WEBHOOK_BODY})",
            result.body.len()
        ));
    }
    check_items(&result.items)
}

/// Applies `check` to the value of a driver call, if it gave one.
fn check_ok<T>(
    result: &DriverResult<T>,
    check: impl FnOnce(&T) -> Result<(), String>,
) -> Result<(), String> {
    match result {
        Ok(value) => check(value),
        Err(_) => Ok(()),
    }
}

impl PluginVersion {
    /// Calls a driver's export and checks its value with `check`.
    async fn call_driver<T>(
        &self,
        call: impl AsyncFnOnce(&mut wasmtime::Store<HostState>, &social::Guest) -> wasmtime::Result<T>,
        check: impl FnOnce(&T) -> Result<(), String>,
    ) -> Result<Called<T>, PluginError> {
        self.expect_world(World::SocialDriver)?;
        let called = self
            .call(async |store, guest| call(store, driver(guest)?).await)
            .await?;
        called.try_map(|value| check(&value).map(|()| value).map_err(|m| self.invalid(m)))
    }

    /// `social.describe`: what the driver can do.
    pub async fn describe_driver(&self) -> Result<Called<Capabilities>, PluginError> {
        self.call_driver(
            async |store, driver| driver.call_describe(store).await,
            |_| Ok(()),
        )
        .await
    }

    /// `social.poll`: what is new for `account` since `cursor`.
    pub async fn poll(
        &self,
        account: &Account,
        cursor: Option<&str>,
    ) -> Result<Called<DriverResult<PollResult>>, PluginError> {
        self.call_driver(
            async |store, driver| driver.call_poll(store, account, cursor).await,
            |result| check_ok(result, |poll| check_items(&poll.items)),
        )
        .await
    }

    /// `social.on-webhook`: handles a request to the account's
    /// webhook.
    pub async fn on_webhook(
        &self,
        account: &Account,
        request: &WebhookRequest,
    ) -> Result<Called<DriverResult<WebhookResult>>, PluginError> {
        self.call_driver(
            async |store, driver| driver.call_on_webhook(store, account, request).await,
            |result| check_ok(result, check_webhook),
        )
        .await
    }

    /// `social.send`: sends a reply; gives its remote id.
    pub async fn send_reply(
        &self,
        account: &Account,
        reply: &Reply,
    ) -> Result<Called<DriverResult<String>>, PluginError> {
        self.call_driver(
            async |store, driver| driver.call_send(store, account, reply).await,
            |result| check_ok(result, |id| check_id("remote id for the reply", id)),
        )
        .await
    }

    /// `social.fetch-media`: the bytes of an item's medium.
    pub async fn fetch_media(
        &self,
        account: &Account,
        media: &MediaRef,
    ) -> Result<Called<DriverResult<Media>>, PluginError> {
        self.call_driver(
            async |store, driver| driver.call_fetch_media(store, account, media).await,
            |result| {
                check_ok(result, |media| {
                    if media.data.len() > MAX_MEDIA {
                        return Err(format!(
                            "fetched a medium of {} bytes (at most {MAX_MEDIA})",
                            media.data.len()
                        ));
                    }
                    Ok(())
                })
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::social::{Author, ItemKind};

    fn item(remote_id: &str) -> Item {
        Item {
            remote_id: remote_id.into(),
            thread_id: "room-1".into(),
            in_reply_to: None,
            kind: ItemKind::PublicPost,
            author: Author {
                id: "@alice:example.org".into(),
                handle: "@alice:example.org".into(),
                display_name: None,
            },
            from_account: false,
            text: "hello".into(),
            title: None,
            url: None,
            media: Vec::new(),
            posted_at_ms: None,
            attached: Vec::new(),
        }
    }

    #[test]
    fn items_need_ids_of_bounded_length() {
        assert_eq!(check_items(&[item("e1"), item("e2")]), Ok(()));
        let err = check_items(&[item("")]).unwrap_err();
        assert!(err.contains("empty remote id"), "{err}");
        let err = check_items(&[item(&"x".repeat(MAX_ID + 1))]).unwrap_err();
        assert!(err.contains("at most 1024"), "{err}");
        let mut anonymous = item("e3");
        anonymous.author.id.clear();
        let err = check_items(&[anonymous]).unwrap_err();
        assert!(err.contains("empty author id"), "{err}");
    }

    #[test]
    fn a_batch_and_a_text_are_bounded() {
        let many: Vec<Item> = (0..=MAX_ITEMS).map(|i| item(&format!("e{i}"))).collect();
        let err = check_items(&many).unwrap_err();
        assert!(err.contains("1001 items"), "{err}");
        let mut long = item("e1");
        long.text = "y".repeat(MAX_TEXT + 1);
        let err = check_items(&[long]).unwrap_err();
        assert!(err.contains("item `e1`"), "{err}");
    }

    #[test]
    fn webhook_answers_need_an_http_status() {
        let answer = |status| WebhookResult {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            items: vec![item("e1")],
        };
        assert_eq!(check_webhook(&answer(200)), Ok(()));
        for status in [0, 99, 600] {
            assert!(check_webhook(&answer(status)).is_err(), "{status}");
        }
    }

    #[test]
    fn a_driver_error_is_the_callers_to_handle() {
        let rate_limited: DriverResult<PollResult> = Err(DriverError::RateLimited(30_000));
        assert_eq!(check_ok(&rate_limited, |_| Err("never".into())), Ok(()));
    }
}
