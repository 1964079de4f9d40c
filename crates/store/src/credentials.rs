//! Credentials: session tokens of logged-in accounts and API keys of
//! integrations, stored by the SHA-256 of the secret.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::error::StoreError;
use super::writer::{Outcome, Tx, Written};
use parley_core::agents::Role;

/// A stored credential.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Credential {
    /// SHA-256 of the secret, hex.
    #[serde(skip)]
    pub hash: String,
    /// `session` or `api-key`.
    pub kind: String,
    /// A name: the API key's name, or the session's agent.
    pub name: String,
    /// The account a session belongs to.
    pub agent_id: Option<String>,
    /// What it may do.
    pub role: Role,
    /// Created at, ms since the Unix epoch.
    pub created_at: i64,
    /// Expires at, if it does.
    pub expires_at: Option<i64>,
}

/// A write to the credentials table.
pub(super) enum CredentialWrite {
    /// Stores a new credential.
    Add(Credential),
    /// Removes one by hash.
    Remove(String),
    /// Removes the API key named so.
    RemoveApiKey(String),
    /// Removes every session of an account.
    RemoveSessions(String),
}

fn from_row(row: &AnyRow) -> Result<Credential, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(Credential {
        hash: row.try_get("hash")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        agent_id: row.try_get("agent_id")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Database(format!("unknown role `{role}`")))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// The credential with this hash.
pub(super) async fn find(pool: &AnyPool, hash: &str) -> Result<Option<Credential>, StoreError> {
    let row = sqlx::query(
        "SELECT hash, kind, name, agent_id, role, created_at, expires_at FROM credentials WHERE hash = $1",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every API key.
pub(super) async fn api_keys(pool: &AnyPool) -> Result<Vec<Credential>, StoreError> {
    let rows = sqlx::query(
        "SELECT hash, kind, name, agent_id, role, created_at, expires_at FROM credentials WHERE kind = 'api-key' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

pub(super) async fn apply(tx: &mut Tx<'_>, write: &CredentialWrite) -> Result<Outcome, StoreError> {
    match write {
        CredentialWrite::Add(c) => {
            // Expired credentials go as new ones come.
            sqlx::query("DELETE FROM credentials WHERE expires_at <= $1")
                .bind(tx.now)
                .execute(&mut *tx.conn)
                .await?;
            if c.kind == "api-key" {
                let taken: Option<String> = sqlx::query_scalar(
                    "SELECT hash FROM credentials WHERE kind = 'api-key' AND name = $1",
                )
                .bind(&c.name)
                .fetch_optional(&mut *tx.conn)
                .await?;
                if taken.is_some() {
                    return Ok(Err(StoreError::Duplicate {
                        what: "API key",
                        id: c.name.clone(),
                    }));
                }
            }
            sqlx::query(
                "INSERT INTO credentials (hash, kind, name, agent_id, role, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&c.hash)
            .bind(&c.kind)
            .bind(&c.name)
            .bind(&c.agent_id)
            .bind(c.role.as_str())
            .bind(c.created_at)
            .bind(c.expires_at)
            .execute(&mut *tx.conn)
            .await?;
        }
        CredentialWrite::Remove(hash) => {
            sqlx::query("DELETE FROM credentials WHERE hash = $1")
                .bind(hash)
                .execute(&mut *tx.conn)
                .await?;
        }
        CredentialWrite::RemoveSessions(agent) => {
            remove_sessions(tx, agent).await?;
        }
        CredentialWrite::RemoveApiKey(name) => {
            let done = sqlx::query("DELETE FROM credentials WHERE kind = 'api-key' AND name = $1")
                .bind(name)
                .execute(&mut *tx.conn)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(Err(StoreError::NotFound {
                    what: "API key",
                    id: name.clone(),
                }));
            }
        }
    }
    Ok(Ok(Written::Done))
}

/// Ends every session of `agent`.
pub(super) async fn remove_sessions(tx: &mut Tx<'_>, agent: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM credentials WHERE kind = 'session' AND agent_id = $1")
        .bind(agent)
        .execute(&mut *tx.conn)
        .await?;
    Ok(())
}
