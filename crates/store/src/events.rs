//! The event log: every change of every interaction and agent, in commit
//! order, readable from a cursor (the `seq` of the last event seen).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::error::StoreError;
use super::interactions::{State, json_column};
use super::sql;

/// What an event records. Kebab-case on the wire and in the store; the
/// producers (the engine, the store's writes) and the consumers (the
/// channels following the log, the desktops) name the same variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// An interaction was taken in (its data is the interaction).
    Submitted,
    /// It entered a queue.
    Queued,
    /// The engine locked it to ask its router.
    Routing,
    /// It was offered to an agent.
    Offered,
    /// An agent accepted it (or was given it).
    Accepted,
    /// It was completed with a disposition.
    Completed,
    /// A strategy or a supervisor stopped it.
    Stopped,
    /// It was parked in a workbin.
    Parked,
    /// An agent rejected the offer; it went back to its queue.
    Rejected,
    /// An offer was not answered in time; it went back to its queue.
    OfferTimedOut,
    /// An offer was taken back (the agent stopped being ready).
    OfferRevoked,
    /// It went to another agent or queue.
    Transferred,
    /// An agent joined it in conference.
    Conferenced,
    /// A conference party left it.
    Left,
    /// An agent pulled it from a workbin or a view.
    Pulled,
    /// A supervisor moved it to another queue.
    Moved,
    /// A message for the customer (a chat shows it).
    Notified,
    /// An agent's presence changed.
    Presence,
    /// An agent account was created.
    AgentCreated,
    /// An agent account was changed.
    AgentUpdated,
    /// An agent account was deleted.
    AgentDeleted,
    /// An e-mail was received into the interaction.
    EmailReceived,
    /// A reply was written (it may wait for review).
    EmailComposed,
    /// A reply's status changed (reviewed, sent, bounced...).
    EmailStatus,
}

impl EventKind {
    /// Its name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Submitted => "submitted",
            EventKind::Queued => "queued",
            EventKind::Routing => "routing",
            EventKind::Offered => "offered",
            EventKind::Accepted => "accepted",
            EventKind::Completed => "completed",
            EventKind::Stopped => "stopped",
            EventKind::Parked => "parked",
            EventKind::Rejected => "rejected",
            EventKind::OfferTimedOut => "offer-timed-out",
            EventKind::OfferRevoked => "offer-revoked",
            EventKind::Transferred => "transferred",
            EventKind::Conferenced => "conferenced",
            EventKind::Left => "left",
            EventKind::Pulled => "pulled",
            EventKind::Moved => "moved",
            EventKind::Notified => "notified",
            EventKind::Presence => "presence",
            EventKind::AgentCreated => "agent-created",
            EventKind::AgentUpdated => "agent-updated",
            EventKind::AgentDeleted => "agent-deleted",
            EventKind::EmailReceived => "email-received",
            EventKind::EmailComposed => "email-composed",
            EventKind::EmailStatus => "email-status",
        }
    }

    fn parse(text: &str) -> Result<EventKind, StoreError> {
        serde_json::from_value(Json::String(text.to_string())).map_err(|_| {
            StoreError::Database(format!("unknown event kind `{text}` in the database"))
        })
    }
}

impl From<State> for EventKind {
    /// The event of a transition into `state`.
    fn from(state: State) -> EventKind {
        match state {
            State::Submitted => EventKind::Submitted,
            State::Queued => EventKind::Queued,
            State::Routing => EventKind::Routing,
            State::Offered => EventKind::Offered,
            State::Accepted => EventKind::Accepted,
            State::Completed => EventKind::Completed,
            State::Stopped => EventKind::Stopped,
            State::Parked => EventKind::Parked,
        }
    }
}

/// Most events one read returns.
pub const MAX_PAGE: i64 = 1000;

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
    /// What happened.
    pub kind: EventKind,
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
                .bind(e.kind.as_str().to_string())
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
        kind: EventKind::parse(row.try_get("kind")?)?,
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
