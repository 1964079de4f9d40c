//! What the agent desktop reads besides interactions, chats, contacts and
//! standard responses: the directory (who and where to transfer to, pick
//! lists).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::auth::Principal;
use super::{ApiError, AppState};
use parley_core::agents::Role;

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/directory", get(directory))
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
