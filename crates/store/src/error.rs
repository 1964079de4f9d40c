//! Store errors.

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// No such record.
    #[error("{what} `{id}` does not exist")]
    NotFound {
        /// What kind of record: `interaction`, `agent`...
        what: &'static str,
        id: String,
    },
    /// A record with this id exists already.
    #[error("{what} `{id}` exists already")]
    Duplicate {
        /// What kind of record.
        what: &'static str,
        id: String,
    },
    /// The record changed since the caller looked (another owner...).
    #[error("{0}")]
    Conflict(String),
    /// The chat session has ended; nothing more is written to it.
    #[error("chat session `{0}` has ended")]
    Ended(String),
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
    /// A quota on what may be stored is spent.
    #[error("{0}")]
    QuotaExceeded(String),
    /// The store is misconfigured.
    #[error("{0}")]
    Config(String),
    /// The database failed; nothing was acknowledged.
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    /// No interaction `id`.
    pub fn no_interaction(id: &str) -> Self {
        StoreError::NotFound {
            what: "interaction",
            id: id.to_string(),
        }
    }

    /// No chat session `id`.
    pub fn no_chat(id: &str) -> Self {
        StoreError::NotFound {
            what: "chat session",
            id: id.to_string(),
        }
    }

    /// No agent `id`.
    pub fn no_agent(id: &str) -> Self {
        StoreError::NotFound {
            what: "agent",
            id: id.to_string(),
        }
    }
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
