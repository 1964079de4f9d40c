//! Authentication and roles. Every request but the public ones (health,
//! readiness, metrics, the OpenAPI document, login) carries a bearer
//! secret: the admin token, a session token from `POST /v1/sessions`, or
//! an API key. Each operation is registered with its [`Access`], which is
//! enforced before its handler runs (the handler then takes the
//! [`Principal`] found) and declared as its security in the OpenAPI
//! document. Browsers' WebSocket and EventSource cannot set headers, and
//! links cannot carry them, so the operations registered
//! [`Access::or_token_in_query`] (streams, file downloads) also take the
//! secret as `?token=`.

use axum::extract::{FromRequestParts, Request};
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
use parley_store::{Credential, Reader, now_ms};

/// How long a session token lasts.
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;

/// Who is calling.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Principal {
    /// `admin`, the account id, or `api-key:<name>`.
    pub id: String,
    /// The account, for sessions.
    pub agent: Option<String>,
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

    /// As a reader of interactions: supervisors read all, an account's
    /// session as that agent, other credentials (agent-role API keys) as
    /// outsiders.
    pub fn reader(&self) -> Reader {
        match &self.agent {
            _ if self.role.allows(Role::Supervisor) => Reader::Supervisor,
            Some(agent) => Reader::Agent(agent.clone()),
            None => Reader::Outsider,
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

/// Who may call an operation: registered with its route, enforced by
/// [`enforce`] and declared in the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Who.
    pub caller: Caller,
    /// Whether the credential may also come as `?token=`.
    pub token_in_query: bool,
}

/// The callers an [`Access`] lets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone, without a credential.
    Public,
    /// A customer, by the chat session's key (`X-Chat-Key` or `?key=`),
    /// which the handler checks against the session the path names.
    ChatKey,
    /// Any credential (session token, API key, admin token) whose role
    /// allows this one.
    Role(Role),
    /// An account's session whose role allows this one.
    Session(Role),
}

impl Access {
    /// Anyone.
    pub const PUBLIC: Access = Access::of(Caller::Public);
    /// A chat's customer.
    pub const CHAT_KEY: Access = Access::of(Caller::ChatKey);
    /// Any credential.
    pub const AGENT: Access = Access::of(Caller::Role(Role::Agent));
    /// Supervisors and administrators.
    pub const SUPERVISOR: Access = Access::of(Caller::Role(Role::Supervisor));
    /// Administrators.
    pub const ADMIN: Access = Access::of(Caller::Role(Role::Admin));
    /// An account's session.
    pub const AGENT_SESSION: Access = Access::of(Caller::Session(Role::Agent));
    /// A supervisor's (or administrator's) session.
    pub const SUPERVISOR_SESSION: Access = Access::of(Caller::Session(Role::Supervisor));

    const fn of(caller: Caller) -> Access {
        Access {
            caller,
            token_in_query: false,
        }
    }

    /// The same, with the credential also taken as `?token=`.
    pub const fn or_token_in_query(self) -> Access {
        Access {
            token_in_query: true,
            ..self
        }
    }

    /// The role a credential needs, if one is needed.
    pub fn role(&self) -> Option<Role> {
        match self.caller {
            Caller::Public | Caller::ChatKey => None,
            Caller::Role(role) | Caller::Session(role) => Some(role),
        }
    }

    /// Refuses `principal` unless it may call.
    pub fn check(&self, principal: &Principal) -> Result<(), ApiError> {
        if let Some(role) = self.role() {
            principal.require(role)?;
        }
        if let Caller::Session(_) = self.caller {
            principal.account()?;
        }
        Ok(())
    }
}

/// Lets a request through only if `access` allows its caller; the
/// [`Principal`] found goes with the request to the handler. The state
/// comes as a request extension (the routes are built before it).
pub async fn enforce(access: Access, request: Request, next: Next) -> Result<Response, ApiError> {
    if access.role().is_none() {
        return Ok(next.run(request).await);
    }
    let (mut parts, body) = request.into_parts();
    let state = parts
        .extensions
        .get::<Arc<AppState>>()
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server state is not attached to the request",
            )
        })?;
    let secret = presented(&parts, access.token_in_query).ok_or_else(|| {
        unauthorized(
            "send `Authorization: Bearer <token>` (a session token, API key or the admin token)",
        )
    })?;
    let principal = authenticate(&state, &secret).await?;
    access.check(&principal)?;
    parts.extensions.insert(principal);
    Ok(next.run(Request::from_parts(parts, body)).await)
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

/// The secret a request presents: the bearer token, else `?token=` where
/// allowed.
fn presented(parts: &Parts, token_in_query: bool) -> Option<String> {
    if let Some(bearer) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    if !token_in_query {
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

/// The caller [`enforce`] found; an error on routes registered without a
/// credential requirement.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "this operation is registered without a credential requirement",
            )
        })
    }
}
