//! One server per database: the routing board lives in the server's
//! memory, so a second server on the same database would break its
//! invariants (capacity, single ownership). Opening a store takes an
//! exclusive hold, released when the store (or the process) goes away: a
//! lock file beside a SQLite database, a session advisory lock on
//! PostgreSQL.

use sqlx::{AnyConnection, AnyPool, Connection};
use std::time::{Duration, Instant};

use super::{Backend, StoreError};

/// How long opening waits for a previous holder to go away (a process
/// that just exited, a store just dropped).
const WAIT: Duration = Duration::from_secs(3);

/// The advisory lock key on PostgreSQL ("parley" in ASCII).
const PG_KEY: i64 = 0x7061_726c_6579;

/// The hold; released when dropped.
pub(super) struct Exclusive {
    /// A locked file (SQLite).
    _file: Option<std::fs::File>,
    /// A connection holding the advisory lock (PostgreSQL).
    _connection: Option<std::sync::Mutex<AnyConnection>>,
}

fn busy(what: &str) -> StoreError {
    StoreError::Config(format!(
        "{what} is in use by another Parley server; one server runs against one database"
    ))
}

/// Takes the hold on the database at `url`.
pub(super) async fn acquire(
    backend: Backend,
    url: &str,
    pool: &AnyPool,
) -> Result<Exclusive, StoreError> {
    let start = Instant::now();
    match backend {
        Backend::Sqlite => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .split('?')
                .next()
                .unwrap_or_default();
            let lock = format!("{path}.lock");
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock)
                .map_err(|e| StoreError::Config(format!("cannot open {lock}: {e}")))?;
            while file.try_lock().is_err() {
                if start.elapsed() > WAIT {
                    return Err(busy(path));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(Exclusive {
                _file: Some(file),
                _connection: None,
            })
        }
        Backend::Postgres => {
            let mut conn = pool.acquire().await?.detach();
            loop {
                let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(PG_KEY)
                    .fetch_one(&mut conn)
                    .await?;
                if locked {
                    return Ok(Exclusive {
                        _file: None,
                        _connection: Some(std::sync::Mutex::new(conn)),
                    });
                }
                if start.elapsed() > WAIT {
                    let _ = conn.close().await;
                    return Err(busy("the PostgreSQL database"));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
