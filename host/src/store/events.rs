//! The event log: every change of every interaction, in commit order,
//! readable from a cursor (the `seq` of the last event seen).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sqlx::{AnyConnection, AnyPool, Row};

use super::error::StoreError;

/// Most events one read returns.
pub const MAX_PAGE: i64 = 1000;

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Event {
    /// Position in the log; the cursor to resume after this event.
    pub seq: i64,
    /// When, in ms since the Unix epoch.
    pub at: i64,
    /// The interaction it is about.
    pub interaction_id: Option<String>,
    /// What happened: `submitted`, `queued`, `offered`, ...
    pub kind: String,
    /// Details.
    pub data: Json,
}

/// Appends an event inside the writer's transaction.
pub(super) async fn append(
    conn: &mut AnyConnection,
    at: i64,
    interaction_id: &str,
    kind: &str,
    data: &Json,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO events (at, interaction_id, kind, data) VALUES ($1, $2, $3, $4)")
        .bind(at)
        .bind(interaction_id)
        .bind(kind)
        .bind(data.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Events after `after`, oldest first, at most `limit` (capped at
/// [`MAX_PAGE`]).
pub async fn after(pool: &AnyPool, after: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at, interaction_id, kind, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit.clamp(1, MAX_PAGE))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let data: String = row.try_get("data")?;
            Ok(Event {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                interaction_id: row.try_get("interaction_id")?,
                kind: row.try_get("kind")?,
                data: serde_json::from_str(&data)
                    .map_err(|e| StoreError::Database(format!("event data: {e}")))?,
            })
        })
        .collect()
}
