//! Why an e-mail operation was refused.

use super::compose::ComposeError;
use parley_engine::EngineError;
use parley_store::StoreError;

/// An e-mail error.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The message cannot be written as asked.
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The engine refused.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
