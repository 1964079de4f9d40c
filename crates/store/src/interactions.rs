//! Interactions: the record, its lifecycle, and the queries that read it.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use std::collections::BTreeSet;
use std::fmt;

use parley_core::Media;

use super::Backend;
use super::access::Reader;
use super::error::StoreError;
use super::events::EventKind;

/// Where an interaction is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = InteractionState)]
pub enum State {
    /// Taken in, not yet in a queue.
    Submitted,
    /// Waiting in a queue.
    Queued,
    /// Locked by the routing engine while its strategy decides.
    Routing,
    /// Offered to an agent, awaiting accept or reject.
    Offered,
    /// Owned by an agent.
    Accepted,
    /// Done, with a disposition.
    Completed,
    /// Stopped by a strategy or a supervisor.
    Stopped,
    /// Parked in a workbin, to be pulled later.
    Parked,
}

impl State {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Queued => "queued",
            State::Routing => "routing",
            State::Offered => "offered",
            State::Accepted => "accepted",
            State::Completed => "completed",
            State::Stopped => "stopped",
            State::Parked => "parked",
        }
    }

    fn parse(text: &str) -> Result<State, StoreError> {
        serde_json::from_value(Json::String(text.to_string()))
            .map_err(|_| StoreError::Database(format!("unknown state `{text}` in the database")))
    }

    /// Whether the interaction counts against its owner's capacity.
    pub fn is_active(self) -> bool {
        matches!(self, State::Offered | State::Accepted)
    }

    /// Whether the interaction is done for good.
    pub fn is_final(self) -> bool {
        matches!(self, State::Completed | State::Stopped)
    }

    /// Whether an interaction may go from `self` to `to`.
    pub fn may_become(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Submitted, Queued | Stopped)
                | (Queued, Queued | Routing | Offered | Accepted | Stopped)
                | (Routing, Queued | Offered | Stopped)
                | (Offered, Accepted | Queued | Stopped)
                | (
                    Accepted,
                    Accepted | Queued | Offered | Parked | Completed | Stopped
                )
                | (Parked, Parked | Accepted | Queued | Completed | Stopped)
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Interaction {
    /// Time-ordered unique id.
    pub id: String,
    pub tenant: String,
    /// Media type (`chat`, `email`, ...).
    pub media_type: String,
    /// Lifecycle state.
    pub state: State,
    /// Queue, while in one.
    pub queue: Option<String>,
    /// Priority; higher first.
    pub priority: i64,
    /// Typed attached data, as `[{"key": ..., "value": {"text": ...}}]`.
    pub attached: Json,
    /// Contact, once identified.
    pub contact_id: Option<String>,
    /// Parent interaction (thread).
    pub parent_id: Option<String>,
    /// Owning agent.
    pub owner: Option<String>,
    /// Agents conferenced in besides the owner.
    pub parties: Vec<String>,
    /// The workbin it is parked in.
    pub workbin: Option<String>,
    /// Whose workbin: an agent id or a group name.
    pub workbin_owner: Option<String>,
    /// Disposition code it was completed with.
    pub disposition: Option<String>,
    /// Submitted at, ms since the Unix epoch.
    pub submitted_at: i64,
    /// Entered its current queue at.
    pub queued_at: Option<i64>,
    /// Last changed at.
    pub updated_at: i64,
}

/// A new interaction to submit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewInteraction {
    /// Client-supplied id (for idempotent submission); generated if absent.
    #[serde(default)]
    pub id: Option<String>,
    pub tenant: String,
    pub media_type: String,
    /// Queue to enter; without one the interaction stays `submitted`.
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub priority: i64,
    /// Typed attached data.
    #[serde(default = "empty_list")]
    pub attached: Json,
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Parent interaction.
    #[serde(default)]
    pub parent_id: Option<String>,
}

fn empty_list() -> Json {
    Json::Array(Vec::new())
}

/// Longest id, tenant, media type or queue name.
const MAX_NAME: usize = 256;

fn check_name(what: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() || value.len() > MAX_NAME {
        return Err(StoreError::Invalid(format!(
            "{what} must be 1 to {MAX_NAME} characters"
        )));
    }
    Ok(())
}

impl Interaction {
    /// Its media type.
    pub fn media(&self) -> Media {
        Media::parse(&self.media_type)
    }

    /// The agents working on it now: the owner and conference parties of
    /// an accepted interaction (in a chat: those who get its messages).
    pub fn members(&self) -> BTreeSet<String> {
        if self.state != State::Accepted {
            return BTreeSet::new();
        }
        self.owner.iter().chain(&self.parties).cloned().collect()
    }
}

impl NewInteraction {
    /// Checks the fields before anything is written.
    pub fn validate(&self) -> Result<(), StoreError> {
        check_name("tenant", &self.tenant)?;
        check_name("media-type", &self.media_type)?;
        if let Some(id) = &self.id {
            check_name("id", id)?;
        }
        if let Some(queue) = &self.queue {
            check_name("queue", queue)?;
        }
        super::attached::parse(&self.attached).map_err(StoreError::Invalid)?;
        Ok(())
    }
}

/// A change of state, with what changes along with it. Built with
/// [`Transition::to`] and the setters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Transition {
    /// Interaction id.
    pub id: String,
    /// The new state.
    pub to: State,
    /// Only if the interaction is in this state now (compare-and-set).
    #[serde(default)]
    pub expect: Option<State>,
    /// Only if this agent owns it now (compare-and-set).
    #[serde(default)]
    pub expect_owner: Option<String>,
    /// New queue (entering `queued`).
    #[serde(default)]
    pub queue: Option<String>,
    /// New owner (`offered`, `accepted`); cleared when re-queued or parked.
    #[serde(default)]
    pub owner: Option<String>,
    /// New priority.
    #[serde(default)]
    pub priority: Option<i64>,
    /// New attached data.
    #[serde(default)]
    pub attached: Option<Json>,
    /// New conference parties.
    #[serde(default)]
    pub parties: Option<Vec<String>>,
    /// Workbin and its owner (entering `parked`).
    #[serde(default)]
    pub workbin: Option<(String, String)>,
    /// Disposition code (entering `completed`).
    #[serde(default)]
    pub disposition: Option<String>,
    /// Why, recorded in the event.
    #[serde(default)]
    pub reason: Option<String>,
    /// The event's kind, if not the new state's name (`transferred`,
    /// `conferenced`, `changed`...).
    #[serde(default)]
    pub event: Option<EventKind>,
    /// Messages for the customer, each recorded as a `notified` event.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Transition {
    /// Interaction `id` becomes `to`, changing nothing else.
    pub fn to(id: &str, to: State) -> Transition {
        Transition {
            id: id.to_string(),
            to,
            expect: None,
            expect_owner: None,
            queue: None,
            owner: None,
            priority: None,
            attached: None,
            parties: None,
            workbin: None,
            disposition: None,
            reason: None,
            event: None,
            notes: Vec::new(),
        }
    }

    /// Only from state `state`.
    pub fn expect(mut self, state: State) -> Self {
        self.expect = Some(state);
        self
    }

    /// Only while `agent` owns it.
    pub fn expect_owner(mut self, agent: &str) -> Self {
        self.expect_owner = Some(agent.to_string());
        self
    }

    /// Into queue `queue`.
    pub fn queue(mut self, queue: &str) -> Self {
        self.queue = Some(queue.to_string());
        self
    }

    /// Owned by `agent`.
    pub fn owner(mut self, agent: &str) -> Self {
        self.owner = Some(agent.to_string());
        self
    }

    /// With the reason `reason`.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Recorded as an event of kind `kind`.
    pub fn event(mut self, kind: EventKind) -> Self {
        self.event = Some(kind);
        self
    }
}

/// The columns of `interactions`, in the order of [`Interaction`]'s fields.
macro_rules! columns {
    () => {
        "id, tenant, media_type, state, queue, priority, attached, contact_id, parent_id, owner, parties, workbin, workbin_owner, disposition, submitted_at, queued_at, updated_at"
    };
}
pub(super) use columns;

const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), " FROM interactions WHERE id = $1");
const INSERT: &str = concat!(
    "INSERT INTO interactions (",
    columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO NOTHING"
);

/// Parses a JSON column.
pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    json_text(column, &text)
}

/// `text`, as read from `column`, decoded as JSON.
pub(super) fn json_text<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Database(format!("column {column}: {e}")))
}

pub(super) fn from_row(row: &AnyRow) -> Result<Interaction, StoreError> {
    Ok(Interaction {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        media_type: row.try_get("media_type")?,
        state: State::parse(&row.try_get::<String, _>("state")?)?,
        queue: row.try_get("queue")?,
        priority: row.try_get("priority")?,
        attached: json_column(row, "attached")?,
        contact_id: row.try_get("contact_id")?,
        parent_id: row.try_get("parent_id")?,
        owner: row.try_get("owner")?,
        parties: json_column(row, "parties")?,
        workbin: row.try_get("workbin")?,
        workbin_owner: row.try_get("workbin_owner")?,
        disposition: row.try_get("disposition")?,
        submitted_at: row.try_get("submitted_at")?,
        queued_at: row.try_get("queued_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Reads one interaction, through the pool or inside the writer's
/// transaction.
pub async fn get<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<Interaction>, StoreError> {
    let row = sqlx::query(SELECT_BY_ID)
        .bind(id)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Which interactions to list; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// In this queue.
    #[serde(default)]
    pub queue: Option<String>,
    /// In this state.
    #[serde(default)]
    pub state: Option<State>,
    /// Owned by this agent.
    #[serde(default)]
    pub owner: Option<String>,
    /// Parked in this workbin.
    #[serde(default)]
    pub workbin: Option<String>,
    /// Parked in the workbin of this agent or group.
    #[serde(default)]
    pub workbin_owner: Option<String>,
}

/// Interactions matching `filter`, oldest in their queue first, at most
/// `limit`.
pub async fn list(
    pool: &sqlx::AnyPool,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<Interaction>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM interactions WHERE (CAST($1 AS TEXT) IS NULL OR queue = $1) AND (CAST($2 AS TEXT) IS NULL OR state = $2) AND (CAST($3 AS TEXT) IS NULL OR owner = $3) AND (CAST($4 AS TEXT) IS NULL OR workbin = $4) AND (CAST($5 AS TEXT) IS NULL OR workbin_owner = $5) ORDER BY queued_at, id LIMIT $6"
    ))
    .bind(&filter.queue)
    .bind(filter.state.map(State::as_str))
    .bind(&filter.owner)
    .bind(&filter.workbin)
    .bind(&filter.workbin_owner)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The interactions of contact `contact` that `reader` sees, newest
/// first: at most `limit` after skipping `offset`.
pub(super) async fn of_contact(
    pool: &sqlx::AnyPool,
    backend: Backend,
    contact: &str,
    reader: &Reader,
    limit: i64,
    offset: i64,
) -> Result<Vec<Interaction>, StoreError> {
    let text = format!(
        "SELECT {} FROM interactions WHERE contact_id = $1 AND {} ORDER BY submitted_at DESC, id DESC LIMIT $2 OFFSET $3",
        columns!(),
        reader.condition(backend, 4),
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(text))
        .bind(contact)
        .bind(limit)
        .bind(offset);
    let rows = reader.bound(query).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

/// Interactions in `state`, oldest first.
pub async fn in_state(pool: &sqlx::AnyPool, state: State) -> Result<Vec<Interaction>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM interactions WHERE state = $1 ORDER BY queued_at, id"
    ))
    .bind(state.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// How many interactions wait in or were offered from one queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCount {
    /// Queued or being routed.
    pub waiting: u64,
    /// Offered, unanswered.
    pub offered: u64,
    /// When the longest-waiting one entered the queue.
    pub oldest_queued_at: Option<i64>,
}

/// Counts per queue, aggregated by the database.
pub async fn queue_counts(
    pool: &sqlx::AnyPool,
) -> Result<std::collections::BTreeMap<String, QueueCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT queue, state, COUNT(*) AS n, MIN(COALESCE(queued_at, submitted_at)) AS oldest FROM interactions WHERE state IN ('queued', 'routing', 'offered') AND queue IS NOT NULL GROUP BY queue, state",
    )
    .fetch_all(pool)
    .await?;
    let mut counts = std::collections::BTreeMap::<String, QueueCount>::new();
    for row in rows {
        let queue: String = row.try_get("queue")?;
        let state: String = row.try_get("state")?;
        let n = row.try_get::<i64, _>("n")?.max(0) as u64;
        let count = counts.entry(queue).or_default();
        if state == State::Offered.as_str() {
            count.offered += n;
        } else {
            count.waiting += n;
            let oldest: i64 = row.try_get("oldest")?;
            count.oldest_queued_at = Some(count.oldest_queued_at.map_or(oldest, |o| o.min(oldest)));
        }
    }
    Ok(counts)
}

/// Inserts an interaction inside the writer's transaction; `false` if its
/// id exists already.
pub(super) async fn insert(conn: &mut AnyConnection, i: &Interaction) -> Result<bool, StoreError> {
    let done = sqlx::query(INSERT)
        .bind(&i.id)
        .bind(&i.tenant)
        .bind(&i.media_type)
        .bind(i.state.as_str())
        .bind(&i.queue)
        .bind(i.priority)
        .bind(i.attached.to_string())
        .bind(&i.contact_id)
        .bind(&i.parent_id)
        .bind(&i.owner)
        .bind(serde_json::to_string(&i.parties).unwrap_or_default())
        .bind(&i.workbin)
        .bind(&i.workbin_owner)
        .bind(&i.disposition)
        .bind(i.submitted_at)
        .bind(i.queued_at)
        .bind(i.updated_at)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes the mutable fields of an interaction inside the writer's
/// transaction.
pub(super) async fn update(conn: &mut AnyConnection, i: &Interaction) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE interactions SET state = $2, queue = $3, priority = $4, owner = $5, queued_at = $6, updated_at = $7, attached = $8, parties = $9, workbin = $10, workbin_owner = $11, disposition = $12 WHERE id = $1",
    )
    .bind(&i.id)
    .bind(i.state.as_str())
    .bind(&i.queue)
    .bind(i.priority)
    .bind(&i.owner)
    .bind(i.queued_at)
    .bind(i.updated_at)
    .bind(i.attached.to_string())
    .bind(serde_json::to_string(&i.parties).unwrap_or_default())
    .bind(&i.workbin)
    .bind(&i.workbin_owner)
    .bind(&i.disposition)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_transitions() {
        assert!(State::Submitted.may_become(State::Queued));
        assert!(State::Queued.may_become(State::Routing));
        assert!(State::Routing.may_become(State::Offered));
        assert!(
            State::Offered.may_become(State::Queued),
            "reject or offer timeout"
        );
        assert!(State::Offered.may_become(State::Accepted));
        assert!(State::Accepted.may_become(State::Completed));
        assert!(!State::Completed.may_become(State::Queued));
        assert!(!State::Stopped.may_become(State::Queued));
        assert!(!State::Submitted.may_become(State::Offered));
        assert!(
            !State::Routing.may_become(State::Accepted),
            "only offered interactions are accepted"
        );
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in [
            State::Submitted,
            State::Queued,
            State::Routing,
            State::Offered,
            State::Accepted,
            State::Completed,
            State::Stopped,
            State::Parked,
        ] {
            assert_eq!(State::parse(state.as_str()).unwrap(), state);
        }
    }
}
