//! The chat channel's part of the store: sessions, messages and files.

use super::{BoxFuture, ChannelStore, Screened};
use crate::access::Reader;
use crate::chat::{MAX_PAGE, Role};
use crate::history;
use crate::retention::ContentTable;
use crate::{Store, StoreError};

/// The chat channel's part of the store.
pub struct ChatStore;

const TABLES: &[ContentTable] = &[
    ContentTable {
        table: "chat_sessions",
        interaction_column: "id",
        order_by: "id",
    },
    ContentTable {
        table: "chat_messages",
        interaction_column: "session_id",
        order_by: "seq",
    },
    ContentTable {
        table: "chat_files",
        interaction_column: "session_id",
        order_by: "at, id",
    },
];

impl ChannelStore for ChatStore {
    /// The customer's messages so far, one per line, with the subject
    /// given when the chat started.
    fn screening<'a>(
        &'a self,
        store: &'a Store,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Screened, StoreError>> {
        Box::pin(async move {
            let session = match store.chat_session(id).await {
                Ok(session) => session,
                // A chat interaction submitted through the API has no session.
                Err(StoreError::NotFound { .. }) => return Ok(Screened::default()),
                Err(err) => return Err(err),
            };
            let mut screened = Screened {
                subject: session.subject,
                ..Screened::default()
            };
            let mut after = 0;
            'pages: loop {
                let page = store
                    .chat_messages(id, after, MAX_PAGE, &Reader::Outsider)
                    .await?;
                let customer = page
                    .iter()
                    .filter(|m| m.from.role == Role::Customer)
                    .filter_map(|m| m.content.text.as_deref());
                for line in customer {
                    if !screened.push_line(line) {
                        break 'pages;
                    }
                }
                match page.last() {
                    Some(last) if page.len() as i64 == MAX_PAGE => after = last.seq,
                    _ => break,
                }
            }
            Ok(screened)
        })
    }

    /// The subject, the customer's nickname, the transcript (with the
    /// coaching the reader may see) and the files sent.
    fn history<'a>(
        &'a self,
        store: &'a Store,
        id: &'a str,
        reader: &'a Reader,
    ) -> BoxFuture<'a, Result<history::Content, StoreError>> {
        Box::pin(crate::chat::content(&store.pool, store.backend, id, reader))
    }

    fn tables(&self) -> &'static [ContentTable] {
        TABLES
    }

    /// The chats an agent wrote in: it reads them after they were
    /// transferred away from it.
    fn readers(&self) -> Option<&'static str> {
        Some("SELECT session_id FROM chat_messages WHERE from_role = 'agent' AND from_id = $agent")
    }
}
