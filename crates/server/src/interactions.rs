//! Interactions: submit, read and list them, answer offers, and act on
//! them (`/v1/interactions/...`); views and workbins (`/v1/views`,
//! `/v1/workbins`); the event log from a cursor (`/v1/events`); the running
//! business processes (`/v1/processes`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::auth::{Access, Principal, forbidden};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState, JsonBody, OptionalJson};
use parley_core::agents::Role;
use parley_engine::process::{Order, ProcessesStatus};
use parley_engine::{EngineError, TransferTo};
use parley_store::attached::{self, Value};
use parley_store::{
    Event, Filter, Interaction, NewInteraction, Reader, State as Lifecycle, StoreError,
};

pub fn routes() -> ApiRouter {
    ApiRouter::new("interactions")
        .routes(Access::AGENT, routes!(submit))
        .routes(Access::AGENT, routes!(list))
        .routes(Access::AGENT, routes!(show))
        .routes(Access::AGENT_SESSION, routes!(accept))
        .routes(Access::AGENT_SESSION, routes!(reject))
        .routes(Access::AGENT, routes!(complete))
        .routes(Access::AGENT, routes!(transfer))
        .routes(Access::AGENT, routes!(conference))
        .routes(Access::AGENT, routes!(leave))
        .routes(Access::AGENT, routes!(park))
        .routes(Access::AGENT, routes!(pull))
        .routes(Access::SUPERVISOR, routes!(move_to))
        .routes(Access::SUPERVISOR, routes!(stop))
        .routes(Access::AGENT, routes!(view))
        .routes(Access::AGENT, routes!(workbin))
        .routes(Access::AGENT, routes!(events))
        .routes(Access::SUPERVISOR, routes!(processes))
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let (status, code) = match &err {
            StoreError::NotFound { what, .. } => (StatusCode::NOT_FOUND, not_found_code(what)),
            StoreError::Duplicate { what, .. } => (StatusCode::CONFLICT, duplicate_code(what)),
            StoreError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            StoreError::Ended(_) => (StatusCode::GONE, "session-ended"),
            StoreError::InvalidTransition { .. } => (StatusCode::CONFLICT, "invalid-transition"),
            StoreError::Invalid(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            StoreError::QuotaExceeded(_) => (StatusCode::TOO_MANY_REQUESTS, "quota-exceeded"),
            StoreError::Config(_) | StoreError::Database(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "store-unavailable")
            }
        };
        ApiError::new(status, code, err.to_string())
    }
}

fn not_found_code(what: &str) -> &'static str {
    match what {
        "interaction" => "interaction-not-found",
        "agent" => "agent-not-found",
        "contact" => "contact-not-found",
        _ => "not-found",
    }
}

fn duplicate_code(what: &str) -> &'static str {
    match what {
        "interaction" => "duplicate-interaction",
        "agent" => "duplicate-agent",
        _ => "duplicate",
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        let message = err.to_string();
        match err {
            EngineError::Store(err) => err.into(),
            EngineError::Locked(_) => ApiError::new(StatusCode::CONFLICT, "locked", message),
            EngineError::Unavailable(_) => {
                ApiError::new(StatusCode::CONFLICT, "agent-unavailable", message)
            }
            EngineError::Forbidden(_) => forbidden(message),
            EngineError::Invalid(_) => ApiError::bad_request(message),
        }
    }
}

/// Submit an interaction (idempotent with a client id); a queued one is
/// routed.
#[utoipa::path(
    post,
    path = "/interactions",
    operation_id = "submit_interaction",
    request_body = NewInteraction,
    responses(
        (status = CREATED, description = "The stored interaction.", body = Interaction),
        errors::BadRequest,
        errors::Conflict,
        errors::Unprocessable,
        errors::Unavailable,
    )
)]
async fn submit(
    State(state): State<Arc<AppState>>,
    JsonBody(new): JsonBody<NewInteraction>,
) -> Result<(StatusCode, Json<Interaction>), ApiError> {
    let stored = state.engine.submit(new).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// One interaction: supervisors, or the agents in it.
#[utoipa::path(
    get,
    path = "/interactions/{id}",
    operation_id = "show_interaction",
    responses(
        (status = OK, description = "The interaction.", body = Interaction),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn show(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Interaction>, ApiError> {
    let interaction = state.engine.store().get(&id).await?;
    if !principal.reader().sees(&interaction) {
        return Err(forbidden(format!("interaction `{id}` is not yours")));
    }
    Ok(Json(interaction))
}

/// `GET /v1/interactions` query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ListQuery {
    #[serde(flatten)]
    filter: Filter,
    #[serde(default = "default_limit")]
    limit: i64,
}

/// The filter's parameters, and `limit`.
impl IntoParams for ListQuery {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = Filter::into_params(&parameter_in);
        params.push(limit_parameter());
        params
    }
}

fn limit_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("limit")
        .parameter_in(ParameterIn::Query)
        .description(Some("How many at most (100 if absent)."))
        .schema(Some(<i64 as utoipa::PartialSchema>::schema()))
        .build()
}

/// List interactions by queue, state, owner or workbin; agents list their
/// own.
#[utoipa::path(
    get,
    path = "/interactions",
    operation_id = "list_interactions",
    responses(
        (status = OK, description = "The interactions, oldest in their queue first.", body = Vec<Interaction>),
        errors::BadRequest,
        errors::Forbidden,
        errors::Unavailable,
    )
)]
async fn list(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Interaction>>, ApiError> {
    let mut filter = query.filter;
    if !principal.role.allows(Role::Supervisor) {
        // Agents list their own.
        let me = principal.account()?.to_string();
        if filter.owner.as_deref().is_some_and(|o| o != me) {
            return Err(forbidden("agents list only their own interactions"));
        }
        filter.owner = Some(me);
    }
    Ok(Json(state.engine.store().list(&filter, query.limit).await?))
}

/// A body with an optional reason.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Reason {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST .../complete`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Completion {
    /// Disposition code.
    #[serde(default)]
    pub disposition: Option<String>,
}

/// A body naming an agent (conference, or acting for one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AgentRef {
    /// Agent id (the caller, if absent).
    #[serde(default)]
    pub agent: Option<String>,
}

/// `POST .../park`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Park {
    /// Workbin name.
    pub workbin: String,
    /// Whose workbin: an agent (default: the caller) or, for group
    /// workbins, the group.
    #[serde(default)]
    pub owner: Option<String>,
}

/// `POST .../move`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Move {
    pub queue: String,
}

/// Accept an offer.
#[utoipa::path(
    post,
    path = "/interactions/{id}/accept",
    operation_id = "accept_interaction",
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn accept(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Interaction>, ApiError> {
    let me = principal.account()?;
    Ok(Json(state.engine.accept(me, &id).await?))
}

/// Reject an offer; it is routed again, not to this agent.
#[utoipa::path(
    post,
    path = "/interactions/{id}/reject",
    operation_id = "reject_interaction",
    request_body = Option<Reason>,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn reject(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<Reason>,
) -> Result<Json<Interaction>, ApiError> {
    let me = principal.account()?;
    let reason = body.reason;
    Ok(Json(state.engine.reject(me, &id, reason).await?))
}

/// Complete with a disposition code.
#[utoipa::path(
    post,
    path = "/interactions/{id}/complete",
    operation_id = "complete_interaction",
    request_body = Option<Completion>,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn complete(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<Completion>,
) -> Result<Json<Interaction>, ApiError> {
    let disposition = body.disposition;
    Ok(Json(
        state
            .engine
            .complete(&principal.actor(), &id, disposition)
            .await?,
    ))
}

/// Transfer to `{"agent": id}` (offered) or `{"queue": name}` (routed).
#[utoipa::path(
    post,
    path = "/interactions/{id}/transfer",
    operation_id = "transfer_interaction",
    request_body = TransferTo,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn transfer(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(to): JsonBody<TransferTo>,
) -> Result<Json<Interaction>, ApiError> {
    Ok(Json(
        state.engine.transfer(&principal.actor(), &id, to).await?,
    ))
}

/// Add an agent to an accepted interaction.
#[utoipa::path(
    post,
    path = "/interactions/{id}/conference",
    operation_id = "conference_interaction",
    request_body = AgentRef,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn conference(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AgentRef>,
) -> Result<Json<Interaction>, ApiError> {
    let agent = body
        .agent
        .ok_or_else(|| ApiError::bad_request("name the agent to add"))?;
    Ok(Json(
        state
            .engine
            .conference(&principal.actor(), &id, &agent)
            .await?,
    ))
}

/// Leave a conference (the caller, or the agent named).
#[utoipa::path(
    post,
    path = "/interactions/{id}/leave",
    operation_id = "leave_interaction",
    request_body = Option<AgentRef>,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn leave(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<AgentRef>,
) -> Result<Json<Interaction>, ApiError> {
    let agent = body.agent;
    Ok(Json(
        state
            .engine
            .leave(&principal.actor(), &id, agent.as_deref())
            .await?,
    ))
}

/// Park in a workbin: the agent's, or a group's.
#[utoipa::path(
    post,
    path = "/interactions/{id}/park",
    operation_id = "park_interaction",
    request_body = Park,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn park(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Park>,
) -> Result<Json<Interaction>, ApiError> {
    Ok(Json(
        state
            .engine
            .park(
                &principal.actor(),
                &id,
                &body.workbin,
                body.owner.as_deref(),
            )
            .await?,
    ))
}

/// Pull from a workbin or a queue (capacity is checked).
#[utoipa::path(
    post,
    path = "/interactions/{id}/pull",
    operation_id = "pull_interaction",
    request_body = Option<AgentRef>,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn pull(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<AgentRef>,
) -> Result<Json<Interaction>, ApiError> {
    let agent = body.agent;
    Ok(Json(
        state
            .engine
            .pull(&principal.actor(), &id, agent.as_deref())
            .await?,
    ))
}

/// Move into a queue.
#[utoipa::path(
    post,
    path = "/interactions/{id}/move",
    operation_id = "move_interaction",
    request_body = Move,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn move_to(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Move>,
) -> Result<Json<Interaction>, ApiError> {
    Ok(Json(state.engine.move_to_queue(&id, &body.queue).await?))
}

/// Stop, with a reason.
#[utoipa::path(
    post,
    path = "/interactions/{id}/stop",
    operation_id = "stop_interaction",
    request_body = Option<Reason>,
    responses(
        (status = OK, description = "The interaction after the change.", body = Interaction),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn stop(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<Reason>,
) -> Result<Json<Interaction>, ApiError> {
    let reason = body
        .reason
        .unwrap_or_else(|| format!("stopped by {}", principal.id));
    Ok(Json(state.engine.stop(&id, &reason).await?))
}

/// A page size.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// How many at most (100 if absent).
    #[serde(default = "default_limit")]
    limit: i64,
    /// Whose workbin (workbins only).
    #[serde(default)]
    owner: Option<String>,
}

/// How a view sorts: by the attribute's text, or number, as given.
fn attribute_key(interaction: &Interaction, key: &str) -> (Option<String>, f64) {
    let list = attached::parse(&interaction.attached).unwrap_or_default();
    match list.iter().find(|a| a.key == key).map(|a| &a.value) {
        Some(Value::Integer(n)) => (None, *n as f64),
        Some(Value::Decimal(d)) => (None, *d),
        Some(Value::Timestamp(t)) => (None, *t as f64),
        Some(Value::Text(t)) => (Some(t.clone()), 0.0),
        _ => (Some(String::from("\u{10ffff}")), f64::MAX),
    }
}

/// The queued interactions a view shows, filtered and ordered: what
/// agents may pull. Agents' sessions and supervisors only.
#[utoipa::path(
    get,
    path = "/views/{name}",
    operation_id = "show_view",
    responses(
        (status = OK, description = "The interactions.", body = Vec<Interaction>),
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn view(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<Interaction>>, ApiError> {
    // What agents may pull, for agents (and supervisors), not for keys
    // acting for nobody.
    if principal.reader() == Reader::Outsider {
        return Err(forbidden("views are for agents and supervisors"));
    }
    let config = state.engine.processes().current();
    let view = config.view(&name).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "view-not-found",
            format!("view `{name}` is not configured"),
        )
    })?;
    let filter = Filter {
        queue: Some(view.queue.clone()),
        state: Some(Lifecycle::Queued),
        ..Filter::default()
    };
    let mut shown = state.engine.store().list(&filter, 5000).await?;
    shown.retain(|i| view.shows(i));
    match &view.order {
        Order::Priority => shown.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.queued_at.cmp(&b.queued_at))
        }),
        Order::Age => shown.sort_by_key(|i| i.queued_at),
        Order::Attribute(key) => shown.sort_by(|a, b| {
            let (ka, kb) = (attribute_key(a, key), attribute_key(b, key));
            ka.0.cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then(a.queued_at.cmp(&b.queued_at))
        }),
    }
    shown.truncate(limit.limit.clamp(1, 1000) as usize);
    Ok(Json(shown))
}

/// The interactions parked in a workbin of an agent (the caller's if
/// `owner` is absent) or group.
#[utoipa::path(
    get,
    path = "/workbins/{name}",
    operation_id = "show_workbin",
    responses(
        (status = OK, description = "The interactions.", body = Vec<Interaction>),
        errors::BadRequest,
        errors::Forbidden,
        errors::Unavailable,
    )
)]
async fn workbin(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
    Query(query): Query<Limit>,
) -> Result<Json<Vec<Interaction>>, ApiError> {
    let owner = match (query.owner, principal.agent.clone()) {
        (Some(owner), _) => owner,
        (None, Some(me)) => me,
        (None, None) => return Err(ApiError::bad_request("name the workbin's owner")),
    };
    let allowed = principal.role.allows(Role::Supervisor)
        || principal.agent.as_deref() == Some(owner.as_str())
        || principal
            .agent
            .as_deref()
            .and_then(|me| state.engine.live_agent(me))
            .is_some_and(|a| a.groups.contains(&owner));
    if !allowed {
        return Err(forbidden(format!(
            "workbin `{name}` of {owner} is not yours"
        )));
    }
    let filter = Filter {
        workbin: Some(name),
        workbin_owner: Some(owner),
        state: Some(Lifecycle::Parked),
        ..Filter::default()
    };
    Ok(Json(state.engine.store().list(&filter, query.limit).await?))
}

/// A page of the event log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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

/// The events a principal may read: all for supervisors, its own for an
/// agent.
pub fn event_scope(principal: &Principal) -> Result<Option<String>, ApiError> {
    if principal.role.allows(Role::Supervisor) {
        Ok(None)
    } else {
        Ok(Some(principal.account()?.to_string()))
    }
}

/// The event log after a cursor; agents read their own events.
#[utoipa::path(
    get,
    path = "/events",
    operation_id = "list_events",
    responses(
        (status = OK, description = "The events, oldest first.", body = Vec<Event>),
        errors::BadRequest,
        errors::Unavailable,
    )
)]
async fn events(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(page): Query<Page>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let scope = event_scope(&principal)?;
    Ok(Json(
        state
            .engine
            .store()
            .events_after(page.after, page.limit, scope.as_deref())
            .await?,
    ))
}

/// The running business processes and the last refused change.
#[utoipa::path(
    get,
    path = "/processes",
    operation_id = "list_processes",
    responses((status = OK, description = "The processes.", body = ProcessesStatus))
)]
async fn processes(State(state): State<Arc<AppState>>) -> Result<Json<ProcessesStatus>, ApiError> {
    Ok(Json(state.engine.processes().status()))
}
