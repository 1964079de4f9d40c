//! Accounts and credentials: `/v1/sessions` (log in and out), `/v1/me`,
//! `/v1/agents` (accounts and presence) and `/v1/api-keys`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json_, json};
use std::sync::Arc;

use super::auth::{Principal, SESSION_MS};
use super::{ApiError, AppState, JsonBody};
use parley_core::agents::{Agent, AgentSpec, Presence, PresenceState, Role, password};
use parley_store::{Credential, now_ms};

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/sessions", post(log_in))
        .route("/sessions/current", delete(log_out))
        .route("/me", get(me))
        .route("/agents", get(list).post(create))
        .route("/agents/{id}", get(show).put(replace).delete(remove))
        .route("/agents/{id}/presence", put(presence))
        .route("/api-keys", get(api_keys).post(create_api_key))
        .route("/api-keys/{name}", delete(remove_api_key))
}

/// `POST /v1/sessions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogIn {
    /// Account id.
    pub id: String,
    /// Password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// Expires at, ms since the Unix epoch.
    pub expires_at: i64,
    /// The account.
    pub agent: Agent,
}

async fn log_in(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<LogIn>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let store = state.engine.store();
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad-credentials",
            "unknown account or wrong password",
        )
    };
    let hash = store.password_hash(&body.id).await?.ok_or_else(refused)?;
    let candidate = body.password.clone();
    // Argon2 takes tens of ms: off the async workers.
    let matches = tokio::task::spawn_blocking(move || password::verify(&candidate, &hash))
        .await
        .unwrap_or(false);
    if !matches {
        return Err(refused());
    }
    let agent = store.agent(&body.id).await?;
    let token = password::new_secret("ps_");
    let now = now_ms();
    let expires_at = now + SESSION_MS;
    store
        .add_credential(Credential {
            hash: password::digest(&token),
            kind: "session".into(),
            name: agent.id.clone(),
            agent_id: Some(agent.id.clone()),
            role: agent.role,
            created_at: now,
            expires_at: Some(expires_at),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Session {
            token,
            expires_at,
            agent,
        }),
    ))
}

async fn log_out(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<StatusCode, ApiError> {
    principal.account()?;
    if let Some(session) = &principal.credential {
        state.engine.store().remove_credential(session).await?;
    }
    state.credentials.clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<Arc<AppState>>, principal: Principal) -> Json<Json_> {
    let agent = principal
        .agent
        .as_deref()
        .and_then(|id| state.engine.live_agent(id));
    Json(json!({ "principal": principal, "agent": agent }))
}

async fn list(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<Agent>>, ApiError> {
    principal.require(Role::Supervisor)?;
    let mut agents = state.engine.store().agents().await?;
    for agent in &mut agents {
        if let Some(live) = state.engine.live_agent(&agent.id) {
            agent.presence = live.presence;
        }
    }
    Ok(Json(agents))
}

async fn create(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(spec): JsonBody<AgentSpec>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    principal.require(Role::Admin)?;
    Ok((
        StatusCode::CREATED,
        Json(state.engine.create_agent(spec).await?),
    ))
}

async fn show(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Agent>, ApiError> {
    principal.require_self_or_supervisor(&id)?;
    match state.engine.live_agent(&id) {
        Some(agent) => Ok(Json(agent)),
        None => Ok(Json(state.engine.store().agent(&id).await?)),
    }
}

async fn replace(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(mut spec): JsonBody<AgentSpec>,
) -> Result<Json<Agent>, ApiError> {
    principal.require(Role::Admin)?;
    if !spec.id.is_empty() && spec.id != id {
        return Err(ApiError::bad_request(
            "the id in the body differs from the path",
        ));
    }
    spec.id = id;
    Ok(Json(state.engine.replace_agent(spec).await?))
}

async fn remove(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    state.engine.delete_agent(&id).await?;
    state.credentials.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v1/agents/{id}/presence`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PresenceChange {
    /// Media types (all the agent handles, if absent).
    #[serde(default)]
    pub media: Vec<String>,
    /// `ready`, `not-ready`, `after-call-work` or `logged-out`.
    pub state: String,
    /// Reason code (for `not-ready`).
    #[serde(default)]
    pub reason: Option<String>,
}

async fn presence(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<PresenceChange>,
) -> Result<Json<Presence>, ApiError> {
    principal.require_self_or_supervisor(&id)?;
    let target = match change.state.as_str() {
        "ready" => Some(PresenceState::Ready),
        "not-ready" => Some(PresenceState::NotReady),
        "after-call-work" => Some(PresenceState::AfterCallWork),
        "logged-out" => None,
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown presence state `{other}` (ready, not-ready, after-call-work, logged-out)"
            )));
        }
    };
    Ok(Json(
        state
            .engine
            .set_presence(&id, &change.media, target, change.reason)
            .await?,
    ))
}

/// `POST /v1/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Name, unique.
    pub name: String,
    /// Role the key acts with.
    pub role: Role,
}

async fn api_keys(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<Credential>>, ApiError> {
    principal.require(Role::Admin)?;
    Ok(Json(state.engine.store().api_keys().await?))
}

async fn create_api_key(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(body): JsonBody<NewApiKey>,
) -> Result<(StatusCode, Json<Json_>), ApiError> {
    principal.require(Role::Admin)?;
    if body.name.trim().is_empty() || body.name.len() > 128 {
        return Err(ApiError::bad_request("name must be 1 to 128 characters"));
    }
    let key = password::new_secret("pk_");
    state
        .engine
        .store()
        .add_credential(Credential {
            hash: password::digest(&key),
            kind: "api-key".into(),
            name: body.name.clone(),
            agent_id: None,
            role: body.role,
            created_at: now_ms(),
            expires_at: None,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": body.name, "role": body.role, "key": key })),
    ))
}

async fn remove_api_key(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Admin)?;
    state.engine.store().remove_api_key(&name).await?;
    state.credentials.clear();
    Ok(StatusCode::NO_CONTENT)
}
