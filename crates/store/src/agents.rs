//! Agent accounts: rows, reads, and the writes the writer applies.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::credentials;
use super::error::StoreError;
use super::events::EventKind;
use super::interactions::json_column;
use super::writer::{Outcome, Tx, Written};
use parley_core::agents::{Agent, Presence, Role};

/// A write to the agents table.
pub(super) enum AgentWrite {
    /// A new account (refused if the id exists).
    Create {
        agent: Agent,
        password_hash: Option<String>,
    },
    /// Replaces an account's settings; `None` keeps its password. A new
    /// password or role ends the account's sessions.
    Replace {
        agent: Agent,
        password_hash: Option<String>,
    },
    /// Removes an account and its credentials.
    Delete(String),
    /// Sets an account's presence.
    Presence { id: String, presence: Presence },
}

macro_rules! columns {
    () => {
        "id, name, role, skills, agent_groups, capacity, after_call_work_ms, presence, created_at, updated_at"
    };
}

fn from_row(row: &AnyRow) -> Result<Agent, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(Agent {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Database(format!("unknown role `{role}`")))?,
        skills: json_column(row, "skills")?,
        groups: json_column(row, "agent_groups")?,
        capacity: json_column(row, "capacity")?,
        after_call_work_ms: row.try_get::<i64, _>("after_call_work_ms")?.max(0) as u64,
        presence: json_column(row, "presence")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

type AgentQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds $1 to $7: id, name, role, skills, groups, capacity, after-call work.
fn bind_settings<'q>(query: AgentQuery<'q>, agent: &'q Agent) -> AgentQuery<'q> {
    query
        .bind(&agent.id)
        .bind(&agent.name)
        .bind(agent.role.as_str())
        .bind(text(&agent.skills))
        .bind(text(&agent.groups))
        .bind(text(&agent.capacity))
        .bind(agent.after_call_work_ms as i64)
}

/// One account.
pub(super) async fn get(pool: &AnyPool, id: &str) -> Result<Option<Agent>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM agents WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every account, by id.
pub(super) async fn list(pool: &AnyPool) -> Result<Vec<Agent>, StoreError> {
    let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM agents ORDER BY id"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The stored password hash of an account, if it has a password.
pub(super) async fn password_hash(pool: &AnyPool, id: &str) -> Result<Option<String>, StoreError> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM agents WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(hash.flatten())
}

/// The account as events show it (never the password).
fn event_data(agent: &Agent) -> serde_json::Value {
    json!({ "agent": agent })
}

pub(super) async fn apply(tx: &mut Tx<'_>, write: &AgentWrite) -> Result<Outcome, StoreError> {
    match write {
        AgentWrite::Create {
            agent,
            password_hash,
        } => {
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM agents WHERE id = $1")
                .bind(&agent.id)
                .fetch_optional(&mut *tx.conn)
                .await?;
            if exists.is_some() {
                return Ok(Err(StoreError::Duplicate {
                    what: "agent",
                    id: agent.id.clone(),
                }));
            }
            let mut agent = agent.clone();
            agent.created_at = tx.now;
            agent.updated_at = tx.now;
            let insert = sqlx::query(concat!(
                "INSERT INTO agents (",
                columns!(),
                ", password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ));
            bind_settings(insert, &agent)
                .bind(text(&agent.presence))
                .bind(agent.created_at)
                .bind(agent.updated_at)
                .bind(password_hash)
                .execute(&mut *tx.conn)
                .await?;
            tx.event(
                None,
                Some(&agent.id),
                EventKind::AgentCreated,
                event_data(&agent),
            );
            Ok(Ok(Written::Agent(agent)))
        }
        AgentWrite::Replace {
            agent,
            password_hash,
        } => {
            let mut agent = agent.clone();
            agent.updated_at = tx.now;
            let role_before: Option<String> =
                sqlx::query_scalar("SELECT role FROM agents WHERE id = $1")
                    .bind(&agent.id)
                    .fetch_optional(&mut *tx.conn)
                    .await?;
            let Some(role_before) = role_before else {
                return Ok(Err(StoreError::no_agent(&agent.id)));
            };
            // A new password or role ends the account's sessions.
            if password_hash.is_some() || role_before != agent.role.as_str() {
                credentials::remove_sessions(tx, &agent.id).await?;
            }
            let update = sqlx::query(
                "UPDATE agents SET name = $2, role = $3, skills = $4, agent_groups = $5, capacity = $6, after_call_work_ms = $7, updated_at = $8, password_hash = COALESCE($9, password_hash) WHERE id = $1",
            );
            bind_settings(update, &agent)
                .bind(agent.updated_at)
                .bind(password_hash)
                .execute(&mut *tx.conn)
                .await?;
            tx.event(
                None,
                Some(&agent.id),
                EventKind::AgentUpdated,
                event_data(&agent),
            );
            Ok(Ok(Written::Agent(agent)))
        }
        AgentWrite::Delete(id) => {
            let done = sqlx::query("DELETE FROM agents WHERE id = $1")
                .bind(id)
                .execute(&mut *tx.conn)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(Err(StoreError::no_agent(id)));
            }
            sqlx::query("DELETE FROM credentials WHERE agent_id = $1")
                .bind(id)
                .execute(&mut *tx.conn)
                .await?;
            tx.event(None, Some(id), EventKind::AgentDeleted, json!({ "id": id }));
            Ok(Ok(Written::Done))
        }
        AgentWrite::Presence { id, presence } => {
            let done =
                sqlx::query("UPDATE agents SET presence = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(text(presence))
                    .bind(tx.now)
                    .execute(&mut *tx.conn)
                    .await?;
            if done.rows_affected() == 0 {
                return Ok(Err(StoreError::no_agent(id)));
            }
            tx.event(
                None,
                Some(id),
                EventKind::Presence,
                json!({ "presence": presence }),
            );
            Ok(Ok(Written::Done))
        }
    }
}
