//! Running the retention sweep on demand (`/v1/retention/run`), for
//! administrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;
use utoipa_axum::routes;

use super::audit;
use super::auth::{Access, Principal};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState};
use parley_store::retention::{Report, RetentionError};

pub fn routes() -> ApiRouter {
    ApiRouter::new("retention").routes(Access::ADMIN, routes!(run))
}

impl From<RetentionError> for ApiError {
    fn from(err: RetentionError) -> Self {
        let message = err.to_string();
        match err {
            RetentionError::Off => ApiError::new(StatusCode::CONFLICT, "retention-off", message),
            RetentionError::Store(err) => err.into(),
            RetentionError::Archive(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "archive-failed", message)
            }
        }
    }
}

/// Run the retention sweep now: how many interactions were archived and
/// deleted.
#[utoipa::path(
    post,
    path = "/retention/run",
    operation_id = "run_retention",
    responses(
        (status = OK, description = "What the sweep did.", body = Report),
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn run(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Report>, ApiError> {
    let report = state.retention.sweep().await?;
    let detail = serde_json::to_value(&report).unwrap_or_default();
    audit::record(&state, &principal, "retention.run", "interactions", detail).await;
    Ok(Json(report))
}
