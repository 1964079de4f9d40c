//! The content of stored interactions as screeners see it: the screen
//! request the host builds for `plugins.screen-interaction`, with the
//! content each channel keeps.
//!
//! Every request has the interaction's media type, subject and attached
//! data (and its `language` attribute, when that is text). The content is
//! the medium's text, `text/plain` unless the medium says otherwise, cut
//! to its first [`parley_store::channel::MAX_SCREEN_BYTES`]:
//!
//! - a channel's media type: what its part of the store gives
//!   ([`parley_store::channel::ChannelStore::screening`]: a chat's
//!   customer messages so far, one per line, after masking; an e-mail's
//!   latest message from the customer, with its subject);
//! - any other medium: no content; the subject and attached data are all a
//!   screener gets.

use crate::{Engine, convert};
use parley_plugin::bindings::types::{Content, Error, ErrorKind, ScreenRequest, Value};
use parley_plugin::peers::{BoxFuture, InteractionContent};
use parley_store::channel::{self, Screened};
use parley_store::{Interaction, Store, StoreError, now_ms};

/// The content type of the text screeners are given.
const PLAIN: &str = "text/plain";

/// The screen request of `interaction`, from what `store` keeps of it.
pub async fn screen_request(
    store: &Store,
    interaction: &Interaction,
) -> Result<ScreenRequest, StoreError> {
    let stored = match interaction.media().channel() {
        Some(channel) => {
            channel::of(channel)
                .screening(store, &interaction.id)
                .await?
        }
        None => Screened::default(),
    };
    let seen = convert::interaction(interaction, now_ms());
    let language = seen.attached.iter().find_map(|a| match &a.value {
        Value::Text(text) if a.key == "language" => Some(text.clone()),
        _ => None,
    });
    Ok(ScreenRequest {
        media_type: seen.media_type,
        subject: stored.subject.or(seen.subject),
        content: Content {
            content_type: PLAIN.into(),
            text: stored.text,
        },
        attached: seen.attached,
        language,
    })
}

/// The error value a plugin gets when an interaction cannot be read.
fn to_wit(err: StoreError) -> Error {
    let kind = match err {
        StoreError::NotFound { .. } => ErrorKind::NotFound,
        _ => ErrorKind::Unavailable,
    };
    Error {
        kind,
        message: err.to_string(),
    }
}

impl InteractionContent for Engine {
    fn screen_request<'a>(
        &'a self,
        interaction: &'a str,
    ) -> BoxFuture<'a, Result<ScreenRequest, Error>> {
        Box::pin(async move {
            let stored = self.store().get(interaction).await.map_err(to_wit)?;
            screen_request(self.store(), &stored).await.map_err(to_wit)
        })
    }
}
