//! A contact's history: every interaction of the contact, on every
//! channel, newest first, each with what its channel stored of it (a
//! subject, a body, a transcript, attachments). What a channel stores is
//! read in one place, [`content`]: a channel that keeps content adds its
//! branch there.

use parley_core::Media;
use serde::Serialize;
use sqlx::AnyPool;

use super::attached;
use super::chat::{self, Message};
use super::email;
use super::error::StoreError;
use super::interactions::{self, Interaction};

/// A file that came with an interaction, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Attachment {
    pub id: String,
    /// File name.
    pub name: String,
    /// Media type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// The API path that downloads it.
    pub url: String,
}

/// What a channel stored of one interaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = HistoryContent)]
pub struct Content {
    /// Its subject: the channel's, else the attached data's `subject`.
    pub subject: Option<String>,
    /// The name the customer gave in it (a chat's nickname...).
    pub customer_name: Option<String>,
    /// Its body, for channels with one (e-mail).
    pub body: Option<String>,
    /// Its transcript, for conversations (chat), coaching included.
    pub transcript: Option<Vec<Message>>,
    /// Files that came with it.
    pub attachments: Vec<Attachment>,
}

/// One interaction of a history, with its content.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = HistoryEntry)]
pub struct Entry {
    pub interaction: Interaction,
    /// What its channel stored.
    #[serde(flatten)]
    pub content: Content,
}

/// What the channel of `interaction` stored of it.
pub(super) async fn content(
    pool: &AnyPool,
    interaction: &Interaction,
) -> Result<Content, StoreError> {
    let mut content = match interaction.media() {
        Media::Chat => chat::content(pool, &interaction.id).await?,
        Media::Email => email::history_content(pool, &interaction.id).await?,
        Media::Other(_) => Content::default(),
    };
    if content.subject.is_none() {
        let list = attached::parse(&interaction.attached).unwrap_or_default();
        content.subject = attached::text(&list, "subject").map(str::to_string);
    }
    Ok(content)
}

/// The interactions of contact `contact` with their content, newest
/// first: at most `limit` after skipping `offset`.
pub(super) async fn of_contact(
    pool: &AnyPool,
    contact: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Entry>, StoreError> {
    let mut entries = Vec::new();
    for interaction in interactions::of_contact(pool, contact, limit, offset).await? {
        entries.push(Entry {
            content: content(pool, &interaction).await?,
            interaction,
        });
    }
    Ok(entries)
}
