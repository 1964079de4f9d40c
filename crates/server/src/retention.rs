//! Running the retention sweep on demand (`/v1/retention/run`), for
//! administrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use std::sync::Arc;

use super::auth::Principal;
use super::{ApiError, AppState};
use parley_core::agents::Role;
use parley_store::retention::{Report, RetentionError};

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/retention/run", post(run))
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

async fn run(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Report>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(state.retention.sweep().await?))
}
