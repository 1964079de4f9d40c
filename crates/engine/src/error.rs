//! Why an engine operation was refused.

use parley_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A strategy is deciding on the interaction right now.
    #[error("interaction `{0}` is being routed; try again when it is not")]
    Locked(String),
    /// The agent cannot take it (presence, capacity, unknown).
    #[error("{0}")]
    Unavailable(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is not acceptable.
    #[error("{0}")]
    Invalid(String),
}
