//! Why a chat operation was refused.

use super::files;
use parley_core::quota::Limited;
use parley_engine::EngineError;
use parley_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// No such session.
    #[error("chat session `{0}` does not exist")]
    NotFound(String),
    /// The customer's key does not open this session.
    #[error("the key does not open chat session `{0}`")]
    WrongKey(String),
    /// The session has ended.
    #[error("chat session `{0}` has ended")]
    Ended(String),
    /// A message over the length limit.
    #[error("the message has {chars} characters; the limit is {limit}")]
    TooLong {
        /// Its length.
        chars: usize,
        limit: usize,
    },
    /// A privacy rule refused the message.
    #[error("the message was withheld by the privacy rule `{0}` and stored nowhere")]
    Withheld(String),
    /// The file was refused.
    #[error(transparent)]
    File(#[from] files::Refused),
    /// The caller is not in the chat.
    #[error("{0}")]
    NotAParty(String),
    /// A supervisor monitoring silently tried to write.
    #[error("monitoring is silent; switch to coach or barge to write")]
    Silent,
    /// The request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Over a rate limit.
    #[error(transparent)]
    Limited(#[from] Limited),
    /// The engine refused.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ChatError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound {
                what: "chat session",
                id,
            } => ChatError::NotFound(id),
            StoreError::Ended(id) => ChatError::Ended(id),
            err => ChatError::Store(err),
        }
    }
}
