//! The content of stored interactions as screeners see it: the screen
//! request the host builds for `plugins.screen-interaction`, with one arm
//! per medium whose content the host keeps.
//!
//! Every request has the interaction's media type, subject and attached
//! data (and its `language` attribute, when that is text). The content is
//! the medium's text, `text/plain` unless the medium says otherwise, cut
//! to its first [`MAX_CONTENT_BYTES`]:
//!
//! - `chat`: the customer's messages so far (after privacy masking, as
//!   stored), one per line; the subject is the one given when the chat
//!   started;
//! - `email`: the text of the customer's latest message (the plain-text
//!   body, or the HTML body as text), with that message's subject;
//! - any other medium: no content; the subject and attached data are all a
//!   screener gets.

use crate::{Engine, convert};
use parley_core::Media;
use parley_plugin::bindings::types::{Content, Error, ErrorKind, ScreenRequest, Value};
use parley_plugin::peers::{BoxFuture, InteractionContent};
use parley_store::chat::{MAX_PAGE, Role};
use parley_store::email::{Direction, Status};
use parley_store::{Interaction, Store, StoreError, now_ms};

/// Most bytes of content given to a screener: the first 64 KiB of text
/// (cut on a character boundary).
pub const MAX_CONTENT_BYTES: usize = 64 << 10;

/// The content type of plain text.
const PLAIN: &str = "text/plain";

/// What a medium stores of an interaction's content.
struct Stored {
    /// The medium's own subject line, if it keeps one apart from the
    /// attached data.
    subject: Option<String>,
    /// The text, at most [`MAX_CONTENT_BYTES`].
    content: Content,
}

impl Stored {
    /// Nothing stored: subject and attached data only.
    fn nothing() -> Stored {
        Stored {
            subject: None,
            content: Content {
                content_type: PLAIN.into(),
                text: String::new(),
            },
        }
    }
}

/// The screen request of `interaction`, from what `store` keeps of it.
pub async fn screen_request(
    store: &Store,
    interaction: &Interaction,
) -> Result<ScreenRequest, StoreError> {
    let stored = match interaction.media() {
        Media::Chat => chat_content(store, &interaction.id).await?,
        Media::Email => email_content(store, &interaction.id).await?,
        Media::Other(_) => Stored::nothing(),
    };
    let seen = convert::interaction(interaction, now_ms());
    let language = seen.attached.iter().find_map(|a| match &a.value {
        Value::Text(text) if a.key == "language" => Some(text.clone()),
        _ => None,
    });
    Ok(ScreenRequest {
        media_type: seen.media_type,
        subject: stored.subject.or(seen.subject),
        content: stored.content,
        attached: seen.attached,
        language,
    })
}

/// Text built line by line up to [`MAX_CONTENT_BYTES`].
#[derive(Default)]
struct Capped {
    text: String,
    full: bool,
}

impl Capped {
    /// Appends `line` (after a line break, unless it is the first), cut
    /// where the limit falls. Returns whether there is room for more.
    fn push_line(&mut self, line: &str) -> bool {
        let separator = if self.text.is_empty() { "" } else { "\n" };
        let room = MAX_CONTENT_BYTES.saturating_sub(self.text.len() + separator.len());
        if self.full || room == 0 {
            self.full = true;
            return false;
        }
        let cut = if line.len() <= room {
            line.len()
        } else {
            self.full = true;
            line.floor_char_boundary(room)
        };
        self.text.push_str(separator);
        self.text.push_str(&line[..cut]);
        !self.full
    }
}

/// A chat's content: the customer's messages so far, one per line.
async fn chat_content(store: &Store, id: &str) -> Result<Stored, StoreError> {
    let session = match store.chat_session(id).await {
        Ok(session) => session,
        // A chat interaction submitted through the API has no session.
        Err(StoreError::NotFound { .. }) => return Ok(Stored::nothing()),
        Err(err) => return Err(err),
    };
    let mut text = Capped::default();
    let mut after = 0;
    'pages: loop {
        let page = store.chat_messages(id, after, MAX_PAGE, false).await?;
        let customer = page
            .iter()
            .filter(|m| m.from.role == Role::Customer)
            .filter_map(|m| m.content.text.as_deref());
        for line in customer {
            if !text.push_line(line) {
                break 'pages;
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == MAX_PAGE => after = last.seq,
            _ => break,
        }
    }
    Ok(Stored {
        subject: session.subject,
        content: Content {
            content_type: PLAIN.into(),
            text: text.text,
        },
    })
}

/// An e-mail's content: the customer's latest message, with its subject.
/// Bounces and malformed messages are not the customer's words.
async fn email_content(store: &Store, id: &str) -> Result<Stored, StoreError> {
    let messages = store.emails_of(id).await?;
    let latest = messages
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound && m.status == Status::Received);
    let Some(latest) = latest else {
        return Ok(Stored::nothing());
    };
    let mut text = Capped::default();
    text.push_line(&latest.text);
    Ok(Stored {
        subject: latest.subject.clone(),
        content: Content {
            content_type: PLAIN.into(),
            text: text.text,
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stop_at_the_limit_on_a_character_boundary() {
        let mut text = Capped::default();
        assert!(text.push_line("first"));
        assert!(text.push_line("second"));
        assert_eq!(text.text, "first\nsecond");
        let long = "é".repeat(MAX_CONTENT_BYTES);
        assert!(!text.push_line(&long), "the limit is reached");
        assert!(text.text.len() <= MAX_CONTENT_BYTES);
        assert!(
            text.text.len() > MAX_CONTENT_BYTES - 2,
            "cut as late as possible"
        );
        assert!(text.text.starts_with("first\nsecond\né"));
        assert!(!text.push_line("more"), "nothing after the limit");
        assert!(!text.text.ends_with("more"));
    }
}
