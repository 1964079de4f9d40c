//! The event log: every change of every interaction and agent, in commit
//! order, readable from a cursor (the `seq` of the last event seen).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::error::StoreError;
use super::interactions::{State, json_column, json_text};
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
    /// Details. An event that shows its interaction (`submitted`, whose
    /// data is the interaction, and the transitions, under `interaction`)
    /// shows its attached data as it is now: attached data is kept once,
    /// with the interaction, not in every event.
    pub data: Json,
}

/// The interaction `kind`'s data shows, if it shows one.
fn interaction_of(kind: EventKind, data: &mut Json) -> Option<&mut Map<String, Json>> {
    match kind {
        EventKind::Submitted => data.as_object_mut(),
        _ => data.get_mut("interaction")?.as_object_mut(),
    }
}

/// `event`'s data as the log keeps it: without attached data.
fn stored_data(event: &Event) -> String {
    let mut data = event.data.clone();
    if let Some(interaction) = interaction_of(event.kind, &mut data) {
        interaction.remove("attached");
    }
    data.to_string()
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
                .bind(stored_data(e));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The columns of an event and its interaction's attached data (null for
/// an event without interaction, or whose interaction is gone).
macro_rules! select {
    ($condition:literal) => {
        concat!(
            "SELECT e.seq, e.at, e.interaction_id, e.agent_id, e.kind, e.data, i.attached \
             FROM events e LEFT JOIN interactions i ON i.id = e.interaction_id ",
            $condition
        )
    };
}

fn from_row(row: &AnyRow) -> Result<Event, StoreError> {
    let kind = EventKind::parse(row.try_get("kind")?)?;
    let mut data: Json = json_column(row, "data")?;
    let attached: Option<String> = row.try_get("attached")?;
    if let (Some(interaction), Some(attached)) = (interaction_of(kind, &mut data), attached) {
        interaction.insert("attached".into(), json_text("attached", &attached)?);
    }
    Ok(Event {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        interaction_id: row.try_get("interaction_id")?,
        agent_id: row.try_get("agent_id")?,
        kind,
        data,
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
            sqlx::query(select!("WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"))
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
        Some(agent) => {
            sqlx::query(select!(
                "WHERE e.agent_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
            ))
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
    let rows = sqlx::query(select!("WHERE e.interaction_id = $1 ORDER BY e.seq"))
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
