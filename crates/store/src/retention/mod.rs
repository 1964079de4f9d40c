//! Retention in the store: which finished interactions are due, each
//! interaction with all its content as one JSON record (what the archive
//! keeps), and deleting interactions with all their content. The tables
//! that hold a channel's content of an interaction are its part's
//! ([`channel::ChannelStore::tables`]).

use base64::Engine as _;
use serde_json::{Map, Value as Json, json};
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AnyPool, Column, Row, ValueRef};

use super::channel;
use super::error::StoreError;
use super::events;
use super::interactions;
use super::writer::{Outcome, Tx, Written};

pub mod sweep;
pub use sweep::{Report, Retention, RetentionError, RetentionSettings};

/// A table holding content of interactions.
pub struct ContentTable {
    pub table: &'static str,
    /// Its column naming the interaction.
    pub interaction_column: &'static str,
    /// The order its rows are archived in.
    pub order_by: &'static str,
}

/// Deleted with every interaction after its content tables: its events,
/// its search documents, the note that it was archived, and itself.
const ALSO_DELETED: [&str; 4] = [
    "DELETE FROM events WHERE interaction_id = $1",
    "DELETE FROM search_documents WHERE interaction_id = $1",
    "DELETE FROM archived_interactions WHERE interaction_id = $1",
    "DELETE FROM interactions WHERE id = $1",
];

/// What a sweep looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Finished interactions not archived yet.
    Archive,
    /// Finished interactions, only archived ones if `archived_only`.
    Delete {
        /// Only those archived.
        archived_only: bool,
    },
}

/// Finished (completed or stopped) interactions that finished at or before
/// `finished_before` and are due for `due`, oldest first, at most `limit`.
pub(super) async fn due(
    pool: &AnyPool,
    due: Due,
    finished_before: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let query = match due {
        Due::Archive => {
            "SELECT id FROM interactions i WHERE state IN ('completed', 'stopped') AND updated_at <= $1 AND NOT EXISTS (SELECT 1 FROM archived_interactions a WHERE a.interaction_id = i.id) ORDER BY updated_at, id LIMIT $2"
        }
        Due::Delete {
            archived_only: true,
        } => {
            "SELECT id FROM interactions i WHERE state IN ('completed', 'stopped') AND updated_at <= $1 AND EXISTS (SELECT 1 FROM archived_interactions a WHERE a.interaction_id = i.id) ORDER BY updated_at, id LIMIT $2"
        }
        Due::Delete {
            archived_only: false,
        } => {
            "SELECT id FROM interactions WHERE state IN ('completed', 'stopped') AND updated_at <= $1 ORDER BY updated_at, id LIMIT $2"
        }
    };
    Ok(sqlx::query_scalar(query)
        .bind(finished_before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// One column's value as JSON: binary in base64.
fn column_json(row: &AnyRow, index: usize) -> Result<Json, StoreError> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(Json::Null);
    }
    let kind = raw.type_info().kind();
    Ok(match kind {
        AnyTypeInfoKind::Null => Json::Null,
        AnyTypeInfoKind::Bool => Json::Bool(row.try_get(index)?),
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            Json::from(row.try_get::<i64, _>(index)?)
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
            Json::from(row.try_get::<f64, _>(index)?)
        }
        AnyTypeInfoKind::Text => Json::String(row.try_get(index)?),
        AnyTypeInfoKind::Blob => Json::String(
            base64::engine::general_purpose::STANDARD.encode(row.try_get::<Vec<u8>, _>(index)?),
        ),
    })
}

fn row_json(row: &AnyRow) -> Result<Json, StoreError> {
    let mut object = Map::new();
    for column in row.columns() {
        object.insert(
            column.name().to_string(),
            column_json(row, column.ordinal())?,
        );
    }
    Ok(Json::Object(object))
}

/// Interaction `id` with all its content, as the archive keeps it:
/// `{"interaction": ..., "events": [...], "content": {"<table>": [rows]}}`.
pub(super) async fn record(pool: &AnyPool, id: &str) -> Result<Option<Json>, StoreError> {
    let Some(interaction) = interactions::get(pool, id).await? else {
        return Ok(None);
    };
    let events = events::of_interaction(pool, id).await?;
    let mut content = Map::new();
    for t in channel::content_tables() {
        // Table and column names come from the channels, not from input.
        let query = format!(
            "SELECT * FROM {} WHERE {} = $1 ORDER BY {}",
            t.table, t.interaction_column, t.order_by
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(id)
            .fetch_all(pool)
            .await?;
        let rows = rows.iter().map(row_json).collect::<Result<Vec<_>, _>>()?;
        content.insert(t.table.to_string(), Json::Array(rows));
    }
    Ok(Some(json!({
        "interaction": interaction,
        "events": events,
        "content": content,
    })))
}

pub(super) enum RetentionWrite {
    /// Notes that interactions were written to archive `file`.
    Archived { ids: Vec<String>, file: String },
    /// Deletes finished interactions with all their content (only archived
    /// ones if `archived_only`); others are skipped.
    Delete {
        ids: Vec<String>,
        archived_only: bool,
    },
}

pub(super) async fn apply(tx: &mut Tx<'_>, write: &RetentionWrite) -> Result<Outcome, StoreError> {
    let mut count = 0;
    match write {
        RetentionWrite::Archived { ids, file } => {
            for id in ids {
                count += sqlx::query(
                    "INSERT INTO archived_interactions (interaction_id, archived_at, file) VALUES ($1, $2, $3) ON CONFLICT (interaction_id) DO NOTHING",
                )
                .bind(id)
                .bind(tx.now)
                .bind(file)
                .execute(&mut *tx.conn)
                .await?
                .rows_affected();
            }
        }
        RetentionWrite::Delete { ids, archived_only } => {
            retire_numbers(tx).await?;
            for id in ids {
                if deletable(tx, id, *archived_only).await? {
                    delete(tx, id).await?;
                    count += 1;
                }
            }
        }
    }
    Ok(Ok(Written::Count(count)))
}

/// Whether interaction `id` is finished (and archived, if that is asked).
async fn deletable(tx: &mut Tx<'_>, id: &str, archived_only: bool) -> Result<bool, StoreError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT state, (SELECT COUNT(*) FROM archived_interactions WHERE interaction_id = $1) AS archived FROM interactions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx.conn)
    .await?;
    Ok(row.is_some_and(|(state, archived)| {
        matches!(state.as_str(), "completed" | "stopped") && (archived > 0 || !archived_only)
    }))
}

async fn delete(tx: &mut Tx<'_>, id: &str) -> Result<(), StoreError> {
    for t in channel::content_tables() {
        // Table and column names come from the channels, not from input.
        let statement = format!(
            "DELETE FROM {} WHERE {} = $1",
            t.table, t.interaction_column
        );
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(id)
            .execute(&mut *tx.conn)
            .await?;
    }
    for statement in ALSO_DELETED {
        sqlx::query(statement)
            .bind(id)
            .execute(&mut *tx.conn)
            .await?;
    }
    tx.open_chats.remove(id);
    Ok(())
}

/// Keeps the highest event and chat message numbers before deleting
/// some, so the numbers the writer hands out never go back (readers
/// resume from them).
async fn retire_numbers(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    for (name, highest) in [
        ("events", "SELECT MAX(seq) FROM events"),
        ("chat_messages", "SELECT MAX(seq) FROM chat_messages"),
    ] {
        let Some(last): Option<i64> = sqlx::query_scalar(highest).fetch_one(&mut *tx.conn).await?
        else {
            continue;
        };
        sqlx::query(
            "INSERT INTO retired_numbers (name, last) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET last = excluded.last WHERE retired_numbers.last < excluded.last",
        )
        .bind(name)
        .bind(last)
        .execute(&mut *tx.conn)
        .await?;
    }
    Ok(())
}
