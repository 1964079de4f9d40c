//! What the agent desktop reads besides interactions, chats, contacts and
//! standard responses: the directory (who and where to transfer to, pick
//! lists).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Access;
use super::openapi::ApiRouter;

pub fn routes() -> ApiRouter {
    ApiRouter::new("desktop").routes(Access::AGENT, routes!(directory))
}

/// An agent as colleagues see it.
#[derive(Debug, Serialize, ToSchema)]
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

/// Who and where to transfer to, and the desktop's pick lists.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Directory {
    /// The agents, with readiness.
    pub agents: Vec<Colleague>,
    pub queues: Vec<String>,
    /// Disposition codes to complete with.
    pub dispositions: Vec<String>,
    pub not_ready_reasons: Vec<String>,
}

/// Agents (with readiness), queues, dispositions and not-ready reasons for
/// the desktop.
#[utoipa::path(
    get,
    path = "/directory",
    operation_id = "directory",
    responses((status = OK, description = "The directory.", body = Directory))
)]
async fn directory(State(state): State<Arc<AppState>>) -> Json<Directory> {
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
    Json(Directory {
        agents,
        queues,
        dispositions: state.desktop.dispositions.clone(),
        not_ready_reasons: state.desktop.not_ready_reasons.clone(),
    })
}
