//! The chat as agents and supervisors see it: transcripts (coaching
//! included), writing into chats they are in, supervision, and the live
//! chats for the supervisor view.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use super::super::auth::{Principal, forbidden};
use super::super::download::download;
use super::super::interactions::may_see;
use super::super::{ApiError, AppState, JsonBody};
use super::customer::{FileName, PushUrl, Say, Typing, receive_file};
use super::socket;
use parley_chat::{LiveChat, Mode, Participant};
use parley_core::agents::Role;
use parley_store::chat::{MAX_PAGE, Message};

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/chats", get(live))
        .route("/chats/ws", get(websocket))
        .route("/chats/{id}", get(show))
        .route("/chats/{id}/messages", post(say))
        .route("/chats/{id}/typing", post(typing))
        .route("/chats/{id}/url", post(push_url))
        .route(
            "/chats/{id}/files",
            post(send_file).layer(DefaultBodyLimit::disable()),
        )
        .route("/chats/{id}/files/{file}", get(file))
        .route(
            "/chats/{id}/supervision",
            put(supervise).delete(stop_supervising),
        )
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
    principal.require(Role::Agent)?;
    let interaction = state.engine.store().get(id).await?;
    if may_see(principal, &interaction) {
        return Ok(());
    }
    let me = principal.account()?;
    let transcript = state.chat.transcript(id, 0, MAX_PAGE, true).await?;
    if transcript.iter().any(|m| m.from.id.as_deref() == Some(me)) {
        return Ok(());
    }
    Err(forbidden(format!("chat `{id}` is not yours")))
}

async fn live(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<LiveChat>>, ApiError> {
    principal.require(Role::Supervisor)?;
    Ok(Json(state.chat.live(500).await?))
}

/// `GET /v1/chats/{id}` query.
#[derive(Debug, Deserialize)]
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

async fn show(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_read(&state, &principal, &id).await?;
    let session = state.chat.session(&id).await?;
    let messages = state
        .chat
        .transcript(&id, page.after, page.limit, true)
        .await?;
    Ok(Json(json!({ "session": session, "messages": messages })))
}

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
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Supervision {
    /// How to take part.
    pub mode: Mode,
}

async fn supervise(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Supervision>,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Role::Supervisor)?;
    let me = principal.account()?;
    state.chat.supervise(&id, me, Some(body.mode)).await?;
    Ok(Json(json!({ "session": id, "mode": body.mode })))
}

async fn stop_supervising(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Supervisor)?;
    let me = principal.account()?;
    state.chat.supervise(&id, me, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn websocket(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let me = principal.account()?.to_string();
    let chat = state.chat.clone();
    let role = principal.role;
    Ok(socket::small(upgrade)
        .on_upgrade(move |ws| socket::serve_account(ws, chat, me, role))
        .into_response())
}
