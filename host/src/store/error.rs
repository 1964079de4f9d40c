//! Store errors.

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// No such interaction.
    #[error("interaction `{0}` does not exist")]
    NotFound(String),
    /// An interaction with this id exists already.
    #[error("an interaction with id `{0}` exists already")]
    Duplicate(String),
    /// The transition is not allowed from the interaction's state.
    #[error("interaction `{id}` is {from}; it cannot become {to}")]
    InvalidTransition {
        /// Interaction id.
        id: String,
        /// Its state.
        from: String,
        /// The state asked for.
        to: String,
    },
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The store is misconfigured.
    #[error("{0}")]
    Config(String),
    /// The database failed; nothing was acknowledged.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(err.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(format!("migration: {err}"))
    }
}
