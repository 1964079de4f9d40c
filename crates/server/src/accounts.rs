//! Accounts and credentials: `/v1/sessions` (log in and out), `/v1/me`,
//! `/v1/agents` (accounts and presence) and `/v1/api-keys`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::audit;
use super::auth::{Access, Principal, forbidden};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState, JsonBody};
use parley_core::agents::{Agent, AgentSpec, Presence, PresenceState, Role, password};
use parley_listener::ClientAddr;
use parley_store::{Credential, now_ms};

pub fn routes() -> ApiRouter {
    ApiRouter::new("accounts")
        .routes(Access::PUBLIC, routes!(log_in))
        .routes(Access::AGENT_SESSION, routes!(log_out))
        .routes(Access::AGENT, routes!(me))
        .routes(Access::SUPERVISOR, routes!(list))
        .routes(Access::ADMIN, routes!(create))
        .routes(Access::AGENT, routes!(show))
        .routes(Access::ADMIN, routes!(replace))
        .routes(Access::ADMIN, routes!(remove))
        .routes(Access::AGENT, routes!(presence))
        .routes(Access::ADMIN, routes!(api_keys))
        .routes(Access::ADMIN, routes!(create_api_key))
        .routes(Access::ADMIN, routes!(remove_api_key))
}

/// `POST /v1/sessions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogIn {
    /// Account id.
    pub id: String,
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// Expires at, ms since the Unix epoch.
    pub expires_at: i64,
    /// The account.
    pub agent: Agent,
}

/// Log in with id and password; answers a session token. Attempts are
/// limited per client address, and after repeated failures on an account
/// each further attempt on it waits (`429` with `Retry-After`).
#[utoipa::path(
    post,
    path = "/sessions",
    operation_id = "log_in",
    request_body = LogIn,
    responses(
        (status = CREATED, description = "Logged in.", body = Session),
        errors::BadRequest,
        errors::Unauthorized,
        errors::TooMany,
        errors::Unavailable,
    )
)]
async fn log_in(
    State(state): State<Arc<AppState>>,
    client: ClientAddr,
    JsonBody(body): JsonBody<LogIn>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let store = state.engine.store();
    let guard = &state.quotas.login;
    guard.admit(client.0, &body.id)?;
    let hash = store.password_hash(&body.id).await?;
    let matches = guard.verify(body.password, hash).await?;
    guard.record(&body.id, matches);
    if !matches {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad-credentials",
            "unknown account or wrong password",
        ));
    }
    let agent = store.agent(&body.id).await?;
    let token = password::new_secret("ps_");
    let now = now_ms();
    let expires_at = now + state.credentials.settings().session_ms();
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

/// Log out: ends the session token used.
#[utoipa::path(
    delete,
    path = "/sessions/current",
    operation_id = "log_out",
    responses(
        (status = NO_CONTENT, description = "Logged out."),
        errors::Unavailable,
    )
)]
async fn log_out(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<StatusCode, ApiError> {
    if let Some(session) = &principal.credential {
        state.engine.store().remove_credential(session).await?;
        state.credentials.revoke(|c| &c.hash == session);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who a credential is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The caller.
    pub principal: Principal,
    /// Its account, for sessions.
    pub agent: Option<Agent>,
}

/// Who the credential is, with its account.
#[utoipa::path(
    get,
    path = "/me",
    operation_id = "me",
    responses((status = OK, description = "The caller.", body = Me))
)]
async fn me(State(state): State<Arc<AppState>>, principal: Principal) -> Json<Me> {
    let agent = principal
        .agent
        .as_deref()
        .and_then(|id| state.engine.live_agent(id));
    Json(Me { principal, agent })
}

/// Every account, with its presence.
#[utoipa::path(
    get,
    path = "/agents",
    operation_id = "list_agents",
    responses(
        (status = OK, description = "The accounts.", body = Vec<Agent>),
        errors::Unavailable,
    )
)]
async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Vec<Agent>>, ApiError> {
    let mut agents = state.engine.store().agents().await?;
    for agent in &mut agents {
        if let Some(live) = state.engine.live_agent(&agent.id) {
            agent.presence = live.presence;
        }
    }
    Ok(Json(agents))
}

/// Create an account: skills, groups, capacity rule, after-call work.
#[utoipa::path(
    post,
    path = "/agents",
    operation_id = "create_agent",
    request_body = AgentSpec,
    responses(
        (status = CREATED, description = "The account.", body = Agent),
        errors::BadRequest,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn create(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(spec): JsonBody<AgentSpec>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    admin_role_allowed(&state, &spec)?;
    let created = state.engine.create_agent(spec).await?;
    let detail = json!({ "role": created.role });
    audit::record(&state, &principal, "account.created", &created.id, detail).await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One account: the caller's own, or any for supervisors.
#[utoipa::path(
    get,
    path = "/agents/{id}",
    operation_id = "show_agent",
    responses(
        (status = OK, description = "The account.", body = Agent),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
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

/// Replace an account's settings (the password is kept if none is given).
/// A new password or role ends the account's sessions and closes their
/// streams.
#[utoipa::path(
    put,
    path = "/agents/{id}",
    operation_id = "replace_agent",
    request_body = AgentSpec,
    responses(
        (status = OK, description = "The account.", body = Agent),
        errors::BadRequest,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn replace(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(mut spec): JsonBody<AgentSpec>,
) -> Result<Json<Agent>, ApiError> {
    if !spec.id.is_empty() && spec.id != id {
        return Err(ApiError::bad_request(
            "the id in the body differs from the path",
        ));
    }
    spec.id = id;
    admin_role_allowed(&state, &spec)?;
    let new_password = spec.password.is_some();
    let replaced = state.engine.replace_agent(spec).await?;
    let detail = json!({ "role": replaced.role, "new-password": new_password });
    audit::record(&state, &principal, "account.replaced", &replaced.id, detail).await;
    // A new password or role ended the account's sessions in the store.
    state
        .credentials
        .revoke(|c| c.agent_id.as_deref() == Some(&replaced.id));
    Ok(Json(replaced))
}

/// Refuses the admin role for accounts unless the settings allow it.
fn admin_role_allowed(state: &AppState, spec: &AgentSpec) -> Result<(), ApiError> {
    if spec.role == Role::Admin && !state.credentials.settings().admin_accounts {
        return Err(forbidden(
            "accounts cannot have the admin role unless `admin-accounts = true` is set under `[accounts]` in the settings",
        ));
    }
    Ok(())
}

/// Delete an account that holds no interaction; its sessions end.
#[utoipa::path(
    delete,
    path = "/agents/{id}",
    operation_id = "delete_agent",
    responses(
        (status = NO_CONTENT, description = "Deleted."),
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn remove(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.engine.delete_agent(&id).await?;
    audit::record(&state, &principal, "account.deleted", &id, json!({})).await;
    state
        .credentials
        .revoke(|c| c.agent_id.as_deref() == Some(&id));
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v1/agents/{id}/presence`.
#[derive(Debug, Deserialize, ToSchema)]
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

/// Set presence per media type: `ready`, `not-ready` (with a reason),
/// `after-call-work` or `logged-out`; the account itself or a supervisor.
#[utoipa::path(
    put,
    path = "/agents/{id}/presence",
    operation_id = "set_presence",
    request_body = PresenceChange,
    responses(
        (status = OK, description = "The account's presence now.", body = Presence),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Name, unique.
    pub name: String,
    /// Role the key acts with.
    pub role: Role,
}

/// A new API key, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewKey {
    pub name: String,
    /// The role it acts with.
    pub role: Role,
    /// The secret, to send as a bearer token.
    pub key: String,
}

/// The API keys (never their secrets).
#[utoipa::path(
    get,
    path = "/api-keys",
    operation_id = "list_api_keys",
    responses(
        (status = OK, description = "The API keys.", body = Vec<Credential>),
        errors::Unavailable,
    )
)]
async fn api_keys(State(state): State<Arc<AppState>>) -> Result<Json<Vec<Credential>>, ApiError> {
    Ok(Json(state.engine.store().api_keys().await?))
}

/// Create an API key with a role; the key is shown once.
#[utoipa::path(
    post,
    path = "/api-keys",
    operation_id = "create_api_key",
    request_body = NewApiKey,
    responses(
        (status = CREATED, description = "The key.", body = NewKey),
        errors::BadRequest,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn create_api_key(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(body): JsonBody<NewApiKey>,
) -> Result<(StatusCode, Json<NewKey>), ApiError> {
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
    let detail = json!({ "role": body.role });
    audit::record(&state, &principal, "api-key.created", &body.name, detail).await;
    Ok((
        StatusCode::CREATED,
        Json(NewKey {
            name: body.name,
            role: body.role,
            key,
        }),
    ))
}

/// Revoke an API key.
#[utoipa::path(
    delete,
    path = "/api-keys/{name}",
    operation_id = "delete_api_key",
    responses(
        (status = NO_CONTENT, description = "Revoked."),
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn remove_api_key(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.engine.store().remove_api_key(&name).await?;
    audit::record(&state, &principal, "api-key.deleted", &name, json!({})).await;
    state
        .credentials
        .revoke(|c| c.kind == "api-key" && c.name == name);
    Ok(StatusCode::NO_CONTENT)
}
