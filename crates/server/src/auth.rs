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
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

use super::{ApiError, AppState};
use parley_core::agents::{Role, password};
use parley_engine::Actor;
use parley_store::{Credential, Reader, now_ms};

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

/// Sessions and accounts (`[accounts]` in the settings).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AccountSettings {
    /// How long a session lasts at most, in hours.
    #[serde(default = "default_session_hours")]
    pub session_hours: u64,
    /// A session not used for this many minutes ends (0: never). Open
    /// event streams and desktop sockets count as use.
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u64,
    /// Whether accounts may be given the admin role (the admin token
    /// always has it).
    #[serde(default)]
    pub admin_accounts: bool,
}

fn default_session_hours() -> u64 {
    12
}

fn default_idle_minutes() -> u64 {
    60
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            session_hours: default_session_hours(),
            idle_minutes: default_idle_minutes(),
            admin_accounts: false,
        }
    }
}

impl AccountSettings {
    /// How long a new session lasts, in ms.
    pub fn session_ms(&self) -> i64 {
        (self.session_hours as i64).saturating_mul(3_600_000)
    }
}

/// Known credentials by hash, so most requests do not read the database,
/// with when each was last used (for the idle timeout), and a revocation
/// count that live streams watch to end with their credential.
pub struct Credentials {
    settings: AccountSettings,
    known: Mutex<HashMap<String, Known>>,
    revocations: watch::Sender<u64>,
}

struct Known {
    credential: Credential,
    last_used: i64,
}

impl Credentials {
    pub fn new(settings: AccountSettings) -> Credentials {
        Credentials {
            settings,
            known: Mutex::new(HashMap::new()),
            revocations: watch::Sender::new(0),
        }
    }

    /// The settings they follow.
    pub fn settings(&self) -> &AccountSettings {
        &self.settings
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached credential, unless it sat idle too long (then it is
    /// forgotten and `Err` says so); marks it used.
    fn use_cached(&self, hash: &str, now: i64) -> Result<Option<Credential>, ()> {
        let mut known = self.known();
        let Some(entry) = known.get_mut(hash) else {
            return Ok(None);
        };
        let idle_ms = (self.settings.idle_minutes as i64).saturating_mul(60_000);
        if entry.credential.kind == "session" && idle_ms > 0 && now - entry.last_used > idle_ms {
            known.remove(hash);
            return Err(());
        }
        entry.last_used = now;
        Ok(Some(entry.credential.clone()))
    }

    fn put(&self, credential: Credential, now: i64) {
        self.known().insert(
            credential.hash.clone(),
            Known {
                credential,
                last_used: now,
            },
        );
    }

    /// Forgets the credentials `revoked` picks (already removed from the
    /// store) and tells live streams to check theirs.
    pub fn revoke(&self, revoked: impl Fn(&Credential) -> bool) {
        self.known().retain(|_, known| !revoked(&known.credential));
        self.revocations.send_modify(|count| *count += 1);
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

/// Ends when `principal`'s credential no longer lets it in with the
/// same role (logged out, revoked, expired, idle, account changed or
/// deleted): what live streams run beside their traffic. The check runs
/// on every revocation and every half minute, and marks the
/// credential used.
pub async fn revoked(state: Arc<AppState>, principal: Principal) {
    let Some(hash) = principal.credential.clone() else {
        // The admin token lasts as long as the server.
        return std::future::pending().await;
    };
    let mut revocations = state.credentials.revocations.subscribe();
    loop {
        tokio::select! {
            changed = revocations.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
        }
        match principal_of(&state, &hash).await {
            Ok(now) if now.role == principal.role => {}
            _ => return,
        }
    }
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
    principal_of(state, &hash).await
}

/// The principal of a stored credential, by the digest of its secret.
async fn principal_of(state: &AppState, hash: &str) -> Result<Principal, ApiError> {
    let now = now_ms();
    let store = state.engine.store();
    let credential = match state.credentials.use_cached(hash, now) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let found = store.credential(hash).await?;
            let c = found.ok_or_else(|| unauthorized("the token is not valid"))?;
            state.credentials.put(c.clone(), now);
            c
        }
        Err(()) => {
            store.remove_credential(hash).await?;
            return Err(unauthorized(
                "the session was idle for too long; log in again",
            ));
        }
    };
    if credential.expires_at.is_some_and(|t| t <= now) {
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
                credential: Some(hash.to_string()),
            })
        }
        None => Ok(Principal {
            id: format!("api-key:{}", credential.name),
            agent: None,
            role: credential.role,
            credential: Some(hash.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn session(hash: &str) -> Credential {
        Credential {
            hash: hash.into(),
            kind: "session".into(),
            name: "ann".into(),
            agent_id: Some("ann".into()),
            role: Role::Agent,
            created_at: 0,
            expires_at: None,
        }
    }

    #[test]
    fn a_session_unused_past_the_idle_limit_is_forgotten() {
        let credentials = Credentials::new(AccountSettings {
            idle_minutes: 1,
            ..AccountSettings::default()
        });
        credentials.put(session("h"), 0);
        // Each use moves the limit on.
        assert!(credentials.use_cached("h", 59_000).unwrap().is_some());
        assert!(credentials.use_cached("h", 118_000).unwrap().is_some());
        assert!(credentials.use_cached("h", 178_001).is_err());
        assert!(credentials.use_cached("h", 178_002).unwrap().is_none());
    }

    #[test]
    fn api_keys_never_idle_out_and_revocation_forgets() {
        let credentials = Credentials::new(AccountSettings {
            idle_minutes: 1,
            ..AccountSettings::default()
        });
        let key = Credential {
            kind: "api-key".into(),
            agent_id: None,
            ..session("k")
        };
        credentials.put(key, 0);
        assert!(credentials.use_cached("k", 10 * 60_000).unwrap().is_some());
        let revocations = credentials.revocations.subscribe();
        credentials.revoke(|c| c.hash == "k");
        assert!(revocations.has_changed().unwrap());
        assert!(credentials.use_cached("k", 10 * 60_000).unwrap().is_none());
    }
}
