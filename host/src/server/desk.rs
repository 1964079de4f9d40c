//! What the agent desktop reads besides interactions: the directory (who
//! and where to transfer to, pick lists), standard responses, and a
//! contact's history with transcripts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::auth::Principal;
use super::{ApiError, AppState, JsonBody};
use crate::agents::Role;
use crate::store::chat::MAX_PAGE;
use crate::store::{StandardResponse, Store, StoreError};

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/directory", get(directory))
        .route("/responses", get(responses).post(put_response))
        .route("/responses/{id}", delete(delete_response))
        .route("/contacts/{contact}/history", get(history))
}

/// An agent as colleagues see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Colleague {
    /// Account id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Agent groups.
    pub groups: Vec<String>,
    /// Ready, per media type.
    pub ready: BTreeMap<String, bool>,
}

async fn directory(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Role::Agent)?;
    let agents: Vec<Colleague> = state
        .engine
        .agent_stats()
        .into_iter()
        .filter_map(|stats| state.engine.live_agent(&stats.agent))
        .map(|agent| Colleague {
            ready: agent
                .presence
                .0
                .keys()
                .map(|media| (media.clone(), agent.presence.is_ready(media)))
                .collect(),
            id: agent.id,
            name: agent.name,
            groups: agent.groups,
        })
        .collect();
    let queues: Vec<String> = state
        .engine
        .processes()
        .current()
        .queues()
        .map(|q| q.name.clone())
        .collect();
    Ok(Json(json!({
        "agents": agents,
        "queues": queues,
        "dispositions": state.desktop.dispositions,
        "not-ready-reasons": state.desktop.not_ready_reasons,
    })))
}

async fn responses(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<StandardResponse>>, ApiError> {
    principal.require(Role::Agent)?;
    Ok(Json(state.engine.store().responses().await?))
}

async fn put_response(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(mut response): JsonBody<StandardResponse>,
) -> Result<(StatusCode, Json<StandardResponse>), ApiError> {
    principal.require(Role::Supervisor)?;
    if response.name.trim().is_empty() || response.text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "a response needs a `name` and a `text`",
        ));
    }
    if response.id.is_empty() {
        response.id = uuid::Uuid::now_v7().to_string();
    }
    state.engine.store().put_response(response.clone()).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

async fn delete_response(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Supervisor)?;
    state.engine.store().delete_response(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Most interactions a history lists.
const HISTORY: i64 = 200;

async fn history(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(contact): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    principal.require(Role::Agent)?;
    let store = state.engine.store();
    let mut entries = Vec::new();
    for interaction in store.contact_history(&contact, HISTORY).await? {
        let transcript = match interaction.media_type.as_str() {
            crate::chat::MEDIA => Some(
                store
                    .chat_messages(&interaction.id, 0, MAX_PAGE, true)
                    .await?,
            ),
            _ => None,
        };
        entries.push(json!({ "interaction": interaction, "transcript": transcript }));
    }
    Ok(Json(entries))
}

/// Installs a few standard responses into an empty library; whether it did.
pub async fn install_demo_responses(store: &Store) -> Result<bool, StoreError> {
    if !store.responses().await?.is_empty() {
        return Ok(false);
    }
    let demo = [
        (
            "greeting",
            "Greetings",
            "Hello {customer}, my name is {agent}. How can I help you today?",
        ),
        (
            "one-moment",
            "Greetings",
            "Thank you, {customer}. One moment while I look into this for you.",
        ),
        (
            "anything-else",
            "Closing",
            "Is there anything else I can help you with?",
        ),
        (
            "goodbye",
            "Closing",
            "Thank you for contacting us, {customer}. Have a great day!",
        ),
    ];
    for (name, category, text) in demo {
        store
            .put_response(StandardResponse {
                id: name.into(),
                name: name.replace('-', " "),
                category: category.into(),
                text: text.into(),
            })
            .await?;
    }
    Ok(true)
}
