//! Durable storage of interactions and their event log, on SQLite (the
//! embedded default: one file, WAL) or PostgreSQL, chosen by URL, with the
//! same behaviour and versioned migrations for each.
//!
//! All writes go through one writer task that commits them in batches
//! (group commit): a write is acknowledged only after its transaction has
//! committed, and events get their sequence numbers in commit order, so a
//! reader resuming from a cursor never skips one. Reads use the pool.

mod error;
pub mod events;
pub mod interactions;
mod writer;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::{SystemTime, UNIX_EPOCH};

pub use error::StoreError;
pub use events::Event;
pub use interactions::{Interaction, NewInteraction, State, Transition};
use writer::Writer;

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL `{url}` (use sqlite://FILE or postgres://...)"
            )))
        }
    }
}

/// The interaction store.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Writer,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`:
    /// `sqlite://path/parley.db` or `postgres://user@host/db`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let (url, connections) = match backend {
            Backend::Sqlite if !url.contains('?') => (format!("{url}?mode=rwc"), 4),
            Backend::Sqlite => (url.to_string(), 4),
            Backend::Postgres => (url.to_string(), 16),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; FULL so a committed
                        // transaction survives power loss, not just a crash.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        let writer = Writer::spawn(pool.clone());
        Ok(Store {
            pool,
            backend,
            writer,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Submits a new interaction. It is stored, with its `submitted` event,
    /// before this returns. A client-supplied id that exists already is
    /// refused ([`StoreError::Duplicate`]).
    pub async fn submit(&self, new: NewInteraction) -> Result<Interaction, StoreError> {
        new.validate()?;
        self.writer.submit(new).await
    }

    /// Applies a lifecycle transition, durably, with its event.
    pub async fn transition(&self, transition: Transition) -> Result<Interaction, StoreError> {
        self.writer.transition(transition).await
    }

    /// The interaction `id`.
    pub async fn get(&self, id: &str) -> Result<Interaction, StoreError> {
        interactions::get(&self.pool, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(id.to_string()))
    }

    /// Events after cursor `after` (0: from the start), oldest first, at
    /// most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        events::after(&self.pool, after, limit).await
    }
}
