//! The audit log of administrative actions: `GET /v1/audit` for
//! administrators, and [`record`], which the handlers of those actions
//! call once they succeeded.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::auth::{Access, Principal};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState};
use parley_store::audit::{AuditEntry, NewAuditEntry};

pub fn routes() -> ApiRouter {
    ApiRouter::new("audit").routes(Access::ADMIN, routes!(list))
}

/// Records that `principal` did `action` on `target`. The action has
/// happened: a failure to record it is logged as an error, not answered.
pub async fn record(
    state: &AppState,
    principal: &Principal,
    action: &str,
    target: &str,
    detail: Value,
) {
    let entry = NewAuditEntry {
        actor: principal.id.clone(),
        action: action.to_string(),
        target: target.to_string(),
        detail,
    };
    if let Err(err) = state.engine.store().audit(entry).await {
        tracing::error!(
            actor = %principal.id,
            action,
            target,
            "the audit log did not take an action: {err}"
        );
    }
}

/// `GET /v1/audit` paging and filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this entry id (the next page).
    #[serde(default)]
    pub before: Option<String>,
    /// Only this action, e.g. `account.created`.
    #[serde(default)]
    pub action: Option<String>,
    /// At most this many (default 100, at most 1000).
    #[serde(default = "default_limit")]
    pub limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// The audit log, newest first: accounts created, changed and deleted,
/// API keys created and revoked, plugins uploaded and rolled back, shadow
/// runs started and stopped, retention runs.
#[utoipa::path(
    get,
    path = "/audit",
    operation_id = "audit_log",
    responses(
        (status = OK, description = "The entries.", body = Vec<AuditEntry>),
        errors::BadRequest,
        errors::Unavailable,
    )
)]
async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    if !(1..=1000).contains(&query.limit) {
        return Err(ApiError::bad_request("`limit` must be 1 to 1000"));
    }
    Ok(Json(
        state
            .engine
            .store()
            .audit_log(
                query.before.as_deref(),
                query.action.as_deref(),
                query.limit,
            )
            .await?,
    ))
}
