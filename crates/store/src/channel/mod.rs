//! Each channel's part of the store: what it keeps of an interaction
//! beyond the interaction itself, read back for the contact history and
//! for screening, the tables retention archives and deletes with the
//! interaction, and who else may read it. Its writes (which also index its searchable text) are its
//! variant of the writer's `Write`, applied inside the writer's
//! transaction. [`of`] names every channel's part; a channel added to
//! [`Channel`] does not compile until it has one.

mod chat;
mod email;

use std::future::Future;
use std::pin::Pin;

use parley_core::Channel;

use crate::access::Reader;
use crate::history;
use crate::retention::ContentTable;
use crate::{Store, StoreError};

/// A future a channel's part returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Most bytes of content given to a screener: the first 64 KiB of text
/// (cut on a character boundary).
pub const MAX_SCREEN_BYTES: usize = 64 << 10;

/// What a screener is given of an interaction's content.
#[derive(Debug, Default, PartialEq)]
pub struct Screened {
    /// The channel's own subject line, if it keeps one apart from the
    /// attached data.
    pub subject: Option<String>,
    /// Its text (`text/plain`), at most [`MAX_SCREEN_BYTES`].
    pub text: String,
    /// Whether the text reached the limit (nothing more is taken).
    full: bool,
}

impl Screened {
    /// Appends `line` (after a line break, unless it is the first), cut
    /// where the limit falls. Returns whether there is room for more.
    pub fn push_line(&mut self, line: &str) -> bool {
        let separator = if self.text.is_empty() { "" } else { "\n" };
        let room = MAX_SCREEN_BYTES.saturating_sub(self.text.len() + separator.len());
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

/// A channel's part of the store.
pub trait ChannelStore: Sync {
    /// What a screener is given of interaction `id`: the channel's subject
    /// and the customer's words.
    fn screening<'a>(
        &'a self,
        store: &'a Store,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Screened, StoreError>>;

    /// What the channel stored of interaction `id` for the contact's
    /// history, as `reader` sees it (the subject, the customer's name, a
    /// body or transcript, the files that came with it).
    fn history<'a>(
        &'a self,
        store: &'a Store,
        id: &'a str,
        reader: &'a Reader,
    ) -> BoxFuture<'a, Result<history::Content, StoreError>>;

    /// The tables holding what the channel stored of an interaction:
    /// archived with it (every column; binary ones in base64) and deleted
    /// with it.
    fn tables(&self) -> &'static [ContentTable];

    /// A `SELECT` of the ids of the interactions an agent (bound where the
    /// text says `$agent`) may read on this channel's own grounds, beyond
    /// those it owns, takes part in or has parked
    /// ([`crate::access::Reader`]); none if there are no such grounds.
    fn readers(&self) -> Option<&'static str>;
}

/// The store part of `channel`.
pub fn of(channel: Channel) -> &'static dyn ChannelStore {
    match channel {
        Channel::Chat => &chat::ChatStore,
        Channel::Email => &email::EmailStore,
    }
}

/// Every channel's content tables.
pub fn content_tables() -> impl Iterator<Item = &'static ContentTable> {
    Channel::ALL
        .iter()
        .flat_map(|channel| of(*channel).tables())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stop_at_the_limit_on_a_character_boundary() {
        let mut text = Screened::default();
        assert!(text.push_line("first"));
        assert!(text.push_line("second"));
        assert_eq!(text.text, "first\nsecond");
        let long = "é".repeat(MAX_SCREEN_BYTES);
        assert!(!text.push_line(&long), "the limit is reached");
        assert!(text.text.len() <= MAX_SCREEN_BYTES);
        assert!(
            text.text.len() > MAX_SCREEN_BYTES - 2,
            "cut as late as possible"
        );
        assert!(text.text.starts_with("first\nsecond\né"));
        assert!(!text.push_line("more"), "nothing after the limit");
        assert!(!text.text.ends_with("more"));
    }
}
