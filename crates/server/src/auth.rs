//! Authentication and roles. Every request but the public ones (health,
//! readiness, metrics, the OpenAPI document, login) carries a bearer
//! secret: the admin token, a session token from `POST /v1/sessions`, or
//! an API key. Handlers take a [`Principal`] and say which role they need.
//! Browsers' WebSocket and EventSource cannot set headers, and links
//! cannot carry them, so the stream endpoints and file downloads also take
//! the secret as `?token=`.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{ApiError, AppState};
use parley_core::agents::{Role, password};
use parley_engine::Actor;
use parley_store::{Credential, now_ms};

/// How long a session token lasts.
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;

/// Who is calling.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Principal {
    /// `admin`, the account id, or `api-key:<name>`.
    pub id: String,
    /// The account, for sessions.
    pub agent: Option<String>,
    /// Its role.
    pub role: Role,
    /// The digest of the session token or API key presented (none for the
    /// admin token).
    #[serde(skip)]
    pub credential: Option<String>,
}

impl Principal {
    /// Refuses the call unless the role allows `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(forbidden(format!("this needs the {needed} role")))
        }
    }

    /// Refuses the call unless it is `agent` itself or a supervisor.
    pub fn require_self_or_supervisor(&self, agent: &str) -> Result<(), ApiError> {
        if self.agent.as_deref() == Some(agent) || self.role.allows(Role::Supervisor) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "only {agent} or a supervisor may do this"
            )))
        }
    }

    /// As an actor of engine operations.
    pub fn actor(&self) -> Actor {
        Actor {
            agent: self.agent.clone(),
            role: self.role,
        }
    }

    /// The account calling, or an error for API keys and the admin token.
    pub fn account(&self) -> Result<&str, ApiError> {
        self.agent
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("this needs an agent's session; name the agent"))
    }
}

/// 403 `forbidden`.
pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// Known credentials by hash, so most requests do not read the database.
#[derive(Default)]
pub struct CredentialCache(Mutex<HashMap<String, Credential>>);

impl CredentialCache {
    fn get(&self, hash: &str) -> Option<Credential> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hash)
            .cloned()
    }

    fn put(&self, credential: Credential) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(credential.hash.clone(), credential);
    }

    /// Forgets everything (after credentials were removed).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The secret a request presents.
fn presented(parts: &Parts) -> Option<String> {
    if let Some(bearer) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    let path = parts.uri.path();
    // Streams, and file links a page shows.
    let linkable = path.ends_with("/stream") || path.ends_with("/ws") || path.contains("/files/");
    if !linkable {
        return None;
    }
    parts.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_string())
    })
}

/// Resolves a secret to a principal.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let hash = password::digest(secret);
    // Digests compare in time independent of where the secrets differ.
    if hash == password::digest(&state.admin_token) {
        return Ok(Principal {
            id: "admin".into(),
            agent: None,
            role: Role::Admin,
            credential: None,
        });
    }
    let credential = match state.credentials.get(&hash) {
        Some(c) => c,
        None => {
            let found = state.engine.store().credential(&hash).await?;
            let c = found.ok_or_else(|| unauthorized("the token is not valid"))?;
            state.credentials.put(c.clone());
            c
        }
    };
    if credential.expires_at.is_some_and(|t| t <= now_ms()) {
        return Err(unauthorized("the session has expired; log in again"));
    }
    match credential.agent_id {
        // A session acts with its account's current role.
        Some(agent) => {
            let live = state
                .engine
                .live_agent(&agent)
                .ok_or_else(|| unauthorized("the account no longer exists"))?;
            Ok(Principal {
                id: agent.clone(),
                agent: Some(agent),
                role: live.role,
                credential: Some(hash),
            })
        }
        None => Ok(Principal {
            id: format!("api-key:{}", credential.name),
            agent: None,
            role: credential.role,
            credential: Some(hash),
        }),
    }
}

impl FromRequestParts<Arc<AppState>> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let secret = presented(parts).ok_or_else(|| {
            unauthorized("send `Authorization: Bearer <token>` (a session token, API key or the admin token)")
        })?;
        authenticate(state, &secret).await
    }
}

/// Lets a request through only for administrators.
pub async fn require_admin(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let principal = Principal::from_request_parts(&mut parts, &state).await?;
    principal.require(Role::Admin)?;
    Ok(next.run(Request::from_parts(parts, body)).await)
}
