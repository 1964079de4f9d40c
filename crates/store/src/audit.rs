//! The audit log: administrative actions (accounts and roles, API keys,
//! plugins loaded or rolled back, shadow runs) with who did them and when,
//! kept for administrators to query. Entries are only ever added.

use serde::Serialize;
use serde_json::Value as Json;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::error::StoreError;
use super::writer::{Outcome, Tx, Written};

/// An administrative action to record.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// Who: `admin`, an account id, `api-key:<name>`.
    pub actor: String,
    /// What, e.g. `account.created`, `plugin.rolled-back`.
    pub action: String,
    /// On what: an account, a key, a plugin.
    pub target: String,
    /// The particulars (a role, a version); never a secret.
    pub detail: Json,
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Its id; ids grow with time.
    pub id: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Json,
}

pub(super) async fn apply(tx: &mut Tx<'_>, entry: &NewAuditEntry) -> Result<Outcome, StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(tx.now)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(entry.detail.to_string())
    .execute(&mut *tx.conn)
    .await?;
    Ok(Ok(Written::Done))
}

fn from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    let detail: String = row.try_get("detail")?;
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        detail: serde_json::from_str(&detail).unwrap_or(Json::Null),
    })
}

/// Entries newest first, before the entry `before` if given, of `action`
/// if given, at most `limit`.
pub(super) async fn list(
    pool: &AnyPool,
    before: Option<&str>,
    action: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, detail FROM audit_log \
         WHERE (CAST($1 AS TEXT) IS NULL OR id < CAST($1 AS TEXT)) \
         AND (CAST($2 AS TEXT) IS NULL OR action = CAST($2 AS TEXT)) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(before)
    .bind(action)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}
