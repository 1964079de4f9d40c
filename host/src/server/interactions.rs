//! `/v1/interactions`, `/v1/events` and `/v1/processes`: submit and read
//! interactions, follow the event log from a cursor, and read the running
//! business processes.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Deserialize;
use std::sync::Arc;

use super::{ApiError, AppState, JsonBody, auth};
use crate::process::ProcessesStatus;
use crate::store::{Event, Interaction, NewInteraction, StoreError};

/// The routes, behind the admin token.
pub fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/interactions", post(submit))
        .route("/interactions/{id}", get(show))
        .route("/events", get(events))
        .route("/processes", get(processes))
        .layer(middleware::from_fn_with_state(state, auth::require_admin))
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let (status, code) = match &err {
            StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "interaction-not-found"),
            StoreError::Duplicate(_) => (StatusCode::CONFLICT, "duplicate-interaction"),
            StoreError::InvalidTransition { .. } => (StatusCode::CONFLICT, "invalid-transition"),
            StoreError::Invalid(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            StoreError::Config(_) | StoreError::Database(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "store-unavailable")
            }
        };
        ApiError::new(status, code, err.to_string())
    }
}

async fn submit(
    State(state): State<Arc<AppState>>,
    JsonBody(new): JsonBody<NewInteraction>,
) -> Result<(StatusCode, Json<Interaction>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.store.submit(new).await?)))
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Interaction>, ApiError> {
    Ok(Json(state.store.get(&id).await?))
}

/// A page of the event log.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The cursor: the `seq` of the last event seen (0: from the start).
    #[serde(default)]
    pub after: i64,
    /// How many events at most (up to 1000).
    #[serde(default = "default_limit")]
    pub limit: i64,
}

fn default_limit() -> i64 {
    100
}

async fn events(
    State(state): State<Arc<AppState>>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<Event>>, ApiError> {
    Ok(Json(
        state.store.events_after(page.after, page.limit).await?,
    ))
}

async fn processes(State(state): State<Arc<AppState>>) -> Json<ProcessesStatus> {
    Json(state.processes.status())
}
