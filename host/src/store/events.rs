//! The event log: every change of every interaction and agent, in commit
//! order, readable from a cursor (the `seq` of the last event seen).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::error::StoreError;
use super::interactions::json_column;
use super::sql;

/// Most events one read returns.
pub const MAX_PAGE: i64 = 1000;

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Event {
    /// Position in the log; the cursor to resume after this event.
    pub seq: i64,
    /// When, in ms since the Unix epoch.
    pub at: i64,
    /// The interaction it is about.
    pub interaction_id: Option<String>,
    /// The agent it concerns (owner, offered agent, or the agent itself).
    pub agent_id: Option<String>,
    /// What happened: `submitted`, `queued`, `offered`, `presence`...
    pub kind: String,
    /// Details.
    pub data: Json,
}

/// Inserts numbered events inside the writer's transaction, many rows per
/// statement.
pub(super) async fn insert_all(
    conn: &mut AnyConnection,
    events: &[Event],
) -> Result<(), StoreError> {
    for chunk in events.chunks(sql::ROWS_PER_INSERT) {
        let text = format!(
            "INSERT INTO events (seq, at, interaction_id, agent_id, kind, data) VALUES {}",
            sql::values(chunk.len(), 6)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
        for e in chunk {
            query = query
                .bind(e.seq)
                .bind(e.at)
                .bind(e.interaction_id.clone())
                .bind(e.agent_id.clone())
                .bind(e.kind.clone())
                .bind(e.data.to_string());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

fn from_row(row: &AnyRow) -> Result<Event, StoreError> {
    Ok(Event {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        interaction_id: row.try_get("interaction_id")?,
        agent_id: row.try_get("agent_id")?,
        kind: row.try_get("kind")?,
        data: json_column(row, "data")?,
    })
}

/// Events after `after`, oldest first, at most `limit` (capped at
/// [`MAX_PAGE`]); with `agent`, only the events concerning that agent.
pub async fn after(
    pool: &AnyPool,
    after: i64,
    limit: i64,
    agent: Option<&str>,
) -> Result<Vec<Event>, StoreError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let rows = match agent {
        None => {
            sqlx::query(
                "SELECT seq, at, interaction_id, agent_id, kind, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        Some(agent) => {
            sqlx::query(
                "SELECT seq, at, interaction_id, agent_id, kind, data FROM events WHERE agent_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(agent)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Every event of interaction `id`, oldest first.
pub(super) async fn of_interaction(pool: &AnyPool, id: &str) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at, interaction_id, agent_id, kind, data FROM events WHERE interaction_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The newest sequence number (0 for an empty log), or the highest one
/// retention deleted if that is higher: numbers never go back.
pub async fn last_seq(pool: &AnyPool) -> Result<i64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(n) FROM (SELECT MAX(seq) AS n FROM events UNION ALL SELECT last AS n FROM retired_numbers WHERE name = 'events') numbers",
    )
        .fetch_one(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}
