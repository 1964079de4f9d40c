//! A contact's history: the interactions of the contact a reader sees, on
//! every channel, newest first, each with what its channel stored of it (a
//! subject, a body, a transcript, attachments), read by the channel's part
//! of the store ([`channel::ChannelStore::history`]).

use serde::Serialize;

use super::access::Reader;
use super::chat::Message;
use super::error::StoreError;
use super::interactions::{self, Interaction};
use super::{Store, attached, channel};

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

/// What the channel of `interaction` stored of it, as `reader` sees it,
/// with the attached data's `subject` when the channel keeps none.
pub(super) async fn content(
    store: &Store,
    interaction: &Interaction,
    reader: &Reader,
) -> Result<Content, StoreError> {
    let mut content = match interaction.media().channel() {
        Some(channel) => {
            channel::of(channel)
                .history(store, &interaction.id, reader)
                .await?
        }
        None => Content::default(),
    };
    if content.subject.is_none() {
        let list = attached::parse(&interaction.attached).unwrap_or_default();
        content.subject = attached::text(&list, "subject").map(str::to_string);
    }
    Ok(content)
}

/// The interactions of contact `contact` that `reader` sees, with their
/// content, newest first: at most `limit` after skipping `offset`.
pub(super) async fn of_contact(
    store: &Store,
    contact: &str,
    reader: &Reader,
    limit: i64,
    offset: i64,
) -> Result<Vec<Entry>, StoreError> {
    let interactions =
        interactions::of_contact(&store.pool, store.backend, contact, reader, limit, offset)
            .await?;
    let mut entries = Vec::with_capacity(interactions.len());
    for interaction in interactions {
        entries.push(Entry {
            content: content(store, &interaction, reader).await?,
            interaction,
        });
    }
    Ok(entries)
}
