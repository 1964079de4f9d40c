//! The chat as agents and supervisors see it: transcripts (coaching
//! included), writing into chats they are in, supervision, and the live
//! chats for the supervisor view.

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use super::super::auth::{self, Access, Principal, forbidden};
use super::super::download::{FileBytes, download};
use super::super::error::errors;
use super::super::openapi::ApiRouter;
use super::super::{ApiError, AppState, JsonBody};
use super::customer::{FileName, PushUrl, Say, Typing, receive_file};
use super::socket;
use parley_chat::{LiveChat, Mode, Participant};
use parley_store::chat::{MAX_PAGE, Message, Session};

pub fn routes() -> ApiRouter {
    ApiRouter::new("chats")
        .routes(Access::SUPERVISOR, routes!(live))
        .routes(
            Access::AGENT_SESSION.or_token_in_query(),
            routes!(websocket),
        )
        .routes(Access::AGENT, routes!(show))
        .routes(Access::AGENT_SESSION, routes!(say))
        .routes(Access::AGENT_SESSION, routes!(typing))
        .routes(Access::AGENT_SESSION, routes!(push_url))
        .routes(
            Access::AGENT_SESSION,
            routes!(send_file).layer(DefaultBodyLimit::disable()),
        )
        .routes(Access::AGENT.or_token_in_query(), routes!(file))
        .routes(Access::SUPERVISOR_SESSION, routes!(supervise))
        .routes(Access::SUPERVISOR_SESSION, routes!(stop_supervising))
}

async fn writer(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Participant, ApiError> {
    let me = principal.account()?;
    Ok(state.chat.writer(id, me, principal.role).await?)
}

/// Refuses reading chat `id` unless the caller may see its interaction
/// (supervisors; the agent it is offered to, its owner and parties) or
/// wrote in it (agents it was transferred away from).
async fn may_read(state: &AppState, principal: &Principal, id: &str) -> Result<(), ApiError> {
    let store = state.engine.store();
    let interaction = store.get(id).await?;
    let reader = principal.reader();
    if reader.sees(&interaction) || store.may_read(id, &reader).await? {
        return Ok(());
    }
    Err(forbidden(format!("chat `{id}` is not yours")))
}

/// Live chats with their agents, activity and supervisors.
#[utoipa::path(
    get,
    path = "/chats",
    operation_id = "live_chats",
    responses(
        (status = OK, description = "The live chats.", body = Vec<LiveChat>),
        errors::Unavailable,
    )
)]
async fn live(State(state): State<Arc<AppState>>) -> Result<Json<Vec<LiveChat>>, ApiError> {
    Ok(Json(state.chat.live(500).await?))
}

/// `GET /v1/chats/{id}` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Page {
    /// The `seq` of the last message seen.
    #[serde(default)]
    pub after: i64,
    /// Most messages returned.
    #[serde(default = "max_page")]
    pub limit: i64,
}

fn max_page() -> i64 {
    MAX_PAGE
}

/// A chat's session and a page of its transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transcript {
    pub session: Session,
    /// Messages after the cursor, oldest first, coaching included.
    pub messages: Vec<Message>,
}

/// A chat's session and transcript (coaching included), also after it
/// ended: supervisors, and the agents it was offered to or who wrote in it.
#[utoipa::path(
    get,
    path = "/chats/{id}",
    operation_id = "show_chat_transcript",
    responses(
        (status = OK, description = "The chat.", body = Transcript),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn show(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Transcript>, ApiError> {
    may_read(&state, &principal, &id).await?;
    let session = state.chat.session(&id).await?;
    let messages = state
        .chat
        .transcript(&id, page.after, page.limit, &principal.reader())
        .await?;
    Ok(Json(Transcript { session, messages }))
}

/// Write in a chat: a party, or a supervisor coaching or barging in.
#[utoipa::path(
    post,
    path = "/chats/{id}/messages",
    operation_id = "agent_say",
    request_body = Say,
    responses(
        (status = CREATED, description = "The stored message.", body = Message),
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Conflict,
        errors::TooLarge,
        errors::Unprocessable,
        errors::Unavailable,
    )
)]
async fn say(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Say>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let me = writer(&state, &principal, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.chat.say(&me, &body.text).await?),
    ))
}

/// Typing started or stopped.
#[utoipa::path(
    post,
    path = "/chats/{id}/typing",
    operation_id = "agent_typing",
    request_body = Typing,
    responses(
        (status = NO_CONTENT, description = "Told."),
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Conflict,
    )
)]
async fn typing(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Typing>,
) -> Result<StatusCode, ApiError> {
    let me = writer(&state, &principal, &id).await?;
    state.chat.typing(&me, body.typing);
    Ok(StatusCode::NO_CONTENT)
}

/// Push a URL to the customer.
#[utoipa::path(
    post,
    path = "/chats/{id}/url",
    operation_id = "agent_push_url",
    request_body = PushUrl,
    responses(
        (status = CREATED, description = "The stored message.", body = Message),
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn push_url(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PushUrl>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let me = writer(&state, &principal, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.chat.push_url(&me, &body.url).await?),
    ))
}

/// Send a file: the raw body, its `Content-Type`, `?name=`.
#[utoipa::path(
    post,
    path = "/chats/{id}/files",
    operation_id = "agent_send_file",
    request_body(content = inline(FileBytes), content_type = "application/octet-stream", description = "The file, with its type as `Content-Type`."),
    responses(
        (status = CREATED, description = "The stored message.", body = Message),
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Conflict,
        errors::TooLarge,
        errors::UnsupportedType,
        errors::Unavailable,
    )
)]
async fn send_file(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<FileName>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let me = writer(&state, &principal, &id).await?;
    receive_file(&state, &me, &query.name, &headers, body).await
}

/// Download a file of a chat.
#[utoipa::path(
    get,
    path = "/chats/{id}/files/{file}",
    operation_id = "agent_file",
    responses(
        (status = OK, description = "The file, as an attachment of its type.", content_type = "application/octet-stream", body = inline(FileBytes)),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn file(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    may_read(&state, &principal, &id).await?;
    let (info, data) = state.chat.file(&id, &file).await?;
    Ok(download(&info.name, &info.content_type, data))
}

/// `PUT /v1/chats/{id}/supervision`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Supervision {
    /// How to take part.
    pub mode: Mode,
}

/// How a supervisor now takes part in a chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct Supervising {
    /// The chat.
    pub session: String,
    /// How.
    pub mode: Mode,
}

/// Monitor, coach or barge in.
#[utoipa::path(
    put,
    path = "/chats/{id}/supervision",
    operation_id = "supervise_chat",
    request_body = Supervision,
    responses(
        (status = OK, description = "Supervising.", body = Supervising),
        errors::NotFound,
        errors::Gone,
        errors::Unavailable,
    )
)]
async fn supervise(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Supervision>,
) -> Result<Json<Supervising>, ApiError> {
    let me = principal.account()?;
    state.chat.supervise(&id, me, Some(body.mode)).await?;
    Ok(Json(Supervising {
        session: id,
        mode: body.mode,
    }))
}

/// Stop supervising.
#[utoipa::path(
    delete,
    path = "/chats/{id}/supervision",
    operation_id = "stop_supervising_chat",
    responses(
        (status = NO_CONTENT, description = "No longer supervising."),
        errors::NotFound,
        errors::Gone,
        errors::Unavailable,
    )
)]
async fn stop_supervising(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let me = principal.account()?;
    state.chat.supervise(&id, me, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One WebSocket for every chat the account is in or supervises: frames
/// as JSON text; the agent sends `message`, `url` and `typing` frames
/// naming the `session`. The socket closes when the session ends.
#[utoipa::path(
    get,
    path = "/chats/ws",
    operation_id = "agent_socket",
    responses((status = SWITCHING_PROTOCOLS, description = "Upgraded to the account's chat WebSocket."))
)]
async fn websocket(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let me = principal.account()?.to_string();
    let chat = state.chat.clone();
    let role = principal.role;
    let revoked = auth::revoked(state, principal);
    let frame_limit = chat.settings().max_frame_bytes();
    Ok(socket::small(upgrade, frame_limit)
        .on_upgrade(move |ws| socket::serve_account(ws, chat, me, role, revoked))
        .into_response())
}
