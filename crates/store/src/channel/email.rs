//! The e-mail channel's part of the store: messages, attachments and the
//! raw MIME kept of them.

use super::{BoxFuture, ChannelStore, Screened};
use crate::access::Reader;
use crate::email::{Direction, Status};
use crate::history;
use crate::retention::ContentTable;
use crate::{Store, StoreError};

/// The e-mail channel's part of the store.
pub struct EmailStore;

const TABLES: &[ContentTable] = &[
    ContentTable {
        table: "email_messages",
        interaction_column: "interaction_id",
        order_by: "at, id",
    },
    ContentTable {
        table: "email_attachments",
        interaction_column: "interaction_id",
        order_by: "message_id, position",
    },
    ContentTable {
        table: "email_mime",
        interaction_column: "interaction_id",
        order_by: "message_id, kind",
    },
];

impl ChannelStore for EmailStore {
    /// The text of the customer's latest message (the plain-text body, or
    /// the HTML body as text), with that message's subject. Bounces and
    /// malformed messages are not the customer's words.
    fn screening<'a>(
        &'a self,
        store: &'a Store,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Screened, StoreError>> {
        Box::pin(async move {
            let messages = store.emails_of(id).await?;
            let latest = messages
                .iter()
                .rev()
                .find(|m| m.direction == Direction::Inbound && m.status == Status::Received);
            let Some(latest) = latest else {
                return Ok(Screened::default());
            };
            let mut screened = Screened {
                subject: latest.subject.clone(),
                ..Screened::default()
            };
            screened.push_line(&latest.text);
            Ok(screened)
        })
    }

    /// The subject, sender's name, text and attachments of the message
    /// that opened the interaction; e-mail has nothing only some readers
    /// see.
    fn history<'a>(
        &'a self,
        store: &'a Store,
        id: &'a str,
        _reader: &'a Reader,
    ) -> BoxFuture<'a, Result<history::Content, StoreError>> {
        Box::pin(crate::email::history_content(&store.pool, id))
    }

    fn tables(&self) -> &'static [ContentTable] {
        TABLES
    }

    fn readers(&self) -> Option<&'static str> {
        None
    }
}
