//! The customer's side of a chat, opened by the session key (the
//! `X-Chat-Key` header, or `?key=` where headers cannot be set).

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::CorsLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::super::auth::Access;
use super::super::download::{FileBytes, download};
use super::super::error::errors;
use super::super::openapi::ApiRouter;
use super::super::{ApiError, AppState, JsonBody};
use super::read_body;
use super::socket::{self, Cursor};
use parley_chat::hub::FrameKind;
use parley_chat::{ChatError, Participant, StartChat, Started};
use parley_listener::ClientAddr;
use parley_store::Reader;
use parley_store::State as Lifecycle;
use parley_store::chat::Message;

/// Largest JSON body a customer may send (a chat start with its attached
/// data, a message), unless the longest message takes more.
const MAX_CUSTOMER_BODY: usize = 64 * 1024;

/// Cuts a customer's request body at its limit: a file's size for an
/// upload, else [`MAX_CUSTOMER_BODY`] or what the longest message takes.
/// A body over it is answered `413` before more of it is read.
async fn limit_body(request: Request, next: Next) -> Response {
    let Some(state) = request.extensions().get::<Arc<AppState>>() else {
        return next.run(request).await;
    };
    let settings = state.chat.settings();
    let limit = if request.uri().path().ends_with("/files") {
        settings.max_file_bytes
    } else {
        MAX_CUSTOMER_BODY.max(settings.max_frame_bytes())
    };
    next.run(request.map(|body| Body::new(http_body_util::Limited::new(body, limit))))
        .await
}

/// The routes, open to any origin.
pub fn routes() -> ApiRouter {
    ApiRouter::new("chat (customer)")
        .routes(Access::PUBLIC, routes!(start))
        .routes(Access::CHAT_KEY, routes!(show))
        .routes(Access::CHAT_KEY, routes!(say))
        .routes(Access::CHAT_KEY, routes!(poll))
        .routes(Access::CHAT_KEY, routes!(typing))
        .routes(Access::CHAT_KEY, routes!(push_url))
        .routes(Access::CHAT_KEY, routes!(send_file))
        .routes(Access::CHAT_KEY, routes!(file))
        .routes(Access::CHAT_KEY, routes!(websocket))
        .routes(Access::CHAT_KEY, routes!(leave))
        // Anonymous bodies are small: limited by the settings below.
        .layer(axum::middleware::from_fn(limit_body))
        .layer(DefaultBodyLimit::disable())
        .layer(
            CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods(tower_http::cors::Any)
                .allow_headers(tower_http::cors::Any),
        )
}

/// The session key a request presents.
pub struct Key(String);

impl<S: Send + Sync> FromRequestParts<S> for Key {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if let Some(key) = parts
            .headers
            .get("x-chat-key")
            .and_then(|v| v.to_str().ok())
        {
            return Ok(Key(key.trim().to_string()));
        }
        parts
            .uri
            .query()
            .and_then(|q| {
                q.split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| *k == "key")
                    .map(|(_, v)| Key(v.to_string()))
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "key-required",
                    "send the session key in `X-Chat-Key` (or `?key=`)",
                )
            })
    }
}

async fn customer(state: &AppState, id: &str, key: &Key) -> Result<Participant, ApiError> {
    Ok(state.chat.customer(id, &key.0).await?)
}

/// Start a chat as a customer: nickname, e-mail, subject, attached data;
/// answers the session id and its key. Chats started are limited per
/// client address.
#[utoipa::path(
    post,
    path = "/chat/sessions",
    operation_id = "start_chat",
    request_body = StartChat,
    responses(
        (status = CREATED, description = "The chat.", body = Started),
        errors::BadRequest,
        errors::Unprocessable,
        errors::TooMany,
        errors::Unavailable,
    )
)]
async fn start(
    State(state): State<Arc<AppState>>,
    client: ClientAddr,
    JsonBody(request): JsonBody<StartChat>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    state.quotas.chat_start.check(&client.0)?;
    Ok((StatusCode::CREATED, Json(state.chat.start(request).await?)))
}

/// A chat as its customer sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerChat)]
pub struct Show {
    /// The session id.
    pub id: String,
    /// The customer's name.
    pub nickname: String,
    /// What it is about.
    pub subject: Option<String>,
    /// Its interaction's state.
    pub state: Lifecycle,
    /// Whether it has ended.
    pub ended: bool,
    /// The names of the agents in it.
    pub agents: Vec<String>,
}

/// The chat as its customer sees it: state, agents, ended.
#[utoipa::path(
    get,
    path = "/chat/sessions/{id}",
    operation_id = "show_chat",
    responses(
        (status = OK, description = "The chat.", body = Show),
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Unavailable,
    )
)]
async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    key: Key,
) -> Result<Json<Show>, ApiError> {
    customer(&state, &id, &key).await?;
    let session = state.chat.session(&id).await?;
    let interaction = state.engine.store().get(&id).await?;
    let members = state
        .chat
        .hub()
        .view(&id)
        .map(|v| v.members)
        .unwrap_or_default();
    let agents: Vec<String> = members
        .iter()
        .map(|a| {
            state
                .engine
                .live_agent(a)
                .map_or_else(|| a.clone(), |a| a.name)
        })
        .collect();
    Ok(Json(Show {
        id,
        nickname: session.nickname,
        subject: session.subject,
        state: interaction.state,
        ended: session.ended_at.is_some(),
        agents,
    }))
}

/// A text to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Say {
    pub text: String,
}

/// Send a message: stored (masked by the privacy rules) before the answer.
#[utoipa::path(
    post,
    path = "/chat/sessions/{id}/messages",
    operation_id = "customer_say",
    request_body = Say,
    responses(
        (status = CREATED, description = "The stored message.", body = Message),
        errors::BadRequest,
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::TooLarge,
        errors::Unprocessable,
        errors::Unavailable,
    )
)]
async fn say(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    key: Key,
    JsonBody(body): JsonBody<Say>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let me = customer(&state, &id, &key).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.chat.say(&me, &body.text).await?),
    ))
}

/// A typing indicator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Typing {
    /// Started (true) or stopped (false).
    pub typing: bool,
}

/// Typing started or stopped.
#[utoipa::path(
    post,
    path = "/chat/sessions/{id}/typing",
    operation_id = "customer_typing",
    request_body = Typing,
    responses(
        (status = NO_CONTENT, description = "Told."),
        errors::BadRequest,
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
    )
)]
async fn typing(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    key: Key,
    JsonBody(body): JsonBody<Typing>,
) -> Result<StatusCode, ApiError> {
    let me = customer(&state, &id, &key).await?;
    state.chat.typing(&me, body.typing);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PushUrl {
    /// The URL (http or https).
    pub url: String,
}

/// Push a URL.
#[utoipa::path(
    post,
    path = "/chat/sessions/{id}/url",
    operation_id = "customer_push_url",
    request_body = PushUrl,
    responses(
        (status = CREATED, description = "The stored message.", body = Message),
        errors::BadRequest,
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Unavailable,
    )
)]
async fn push_url(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    key: Key,
    JsonBody(body): JsonBody<PushUrl>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let me = customer(&state, &id, &key).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.chat.push_url(&me, &body.url).await?),
    ))
}

/// `?name=` of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileName {
    /// The file's name.
    #[serde(default)]
    pub name: String,
}

/// Stores a file sent by `me` from a request body.
pub async fn receive_file(
    state: &AppState,
    me: &Participant,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let limit = state.chat.settings().max_file_bytes;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let data = read_body(body, limit).await?;
    let message = state.chat.send_file(me, name, &content_type, data).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// Send a file: the raw body, its `Content-Type`, `?name=`; size and type
/// are checked.
#[utoipa::path(
    post,
    path = "/chat/sessions/{id}/files",
    operation_id = "customer_send_file",
    request_body(content = inline(FileBytes), content_type = "application/octet-stream", description = "The file, with its type as `Content-Type`."),
    responses(
        (status = CREATED, description = "The stored message.", body = Message),
        errors::BadRequest,
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::TooLarge,
        errors::UnsupportedType,
        errors::Unavailable,
    )
)]
async fn send_file(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<FileName>,
    key: Key,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let me = customer(&state, &id, &key).await?;
    receive_file(&state, &me, &query.name, &headers, body).await
}

/// Download a file of the chat (also after it ended).
#[utoipa::path(
    get,
    path = "/chat/sessions/{id}/files/{file}",
    operation_id = "customer_file",
    responses(
        (status = OK, description = "The file, as an attachment of its type.", content_type = "application/octet-stream", body = inline(FileBytes)),
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn file(
    State(state): State<Arc<AppState>>,
    Path((id, file)): Path<(String, String)>,
    key: Key,
) -> Result<Response, ApiError> {
    // Files stay readable after the chat ended, with the key.
    match state.chat.customer(&id, &key.0).await {
        Ok(_) | Err(ChatError::Ended(_)) => {}
        Err(err) => return Err(err.into()),
    }
    let (info, data) = state.chat.file(&id, &file).await?;
    Ok(download(&info.name, &info.content_type, data))
}

/// `GET .../messages` query (`?key=` is read by [`Key`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "kebab-case")]
pub struct Poll {
    /// The `seq` of the last message seen (0: from the start).
    #[serde(default)]
    pub after: i64,
    /// Seconds to wait for a message when there is none (at most 30).
    #[serde(default)]
    pub wait: u64,
}

/// A long poll's answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Polled {
    /// Messages after the cursor, oldest first.
    pub messages: Vec<Message>,
    /// Names of agents typing now.
    pub typing: Vec<String>,
    /// Whether the chat has ended.
    pub ended: bool,
}

/// The most a long poll waits.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Long poll: the messages after `after`, waiting up to `wait` seconds
/// for one; an ended chat answers at once.
#[utoipa::path(
    get,
    path = "/chat/sessions/{id}/messages",
    operation_id = "customer_poll",
    responses(
        (status = OK, description = "Messages, typing, whether it ended.", body = Polled),
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Unavailable,
    )
)]
async fn poll(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    key: Key,
    Query(query): Query<Poll>,
) -> Result<Json<Polled>, ApiError> {
    let ended = |messages: Vec<Message>| Polled {
        messages,
        typing: Vec::new(),
        ended: true,
    };
    match state.chat.customer(&id, &key.0).await {
        Ok(_) => {}
        // An ended chat still answers, so the customer reads the end.
        Err(ChatError::Ended(_)) => {
            let messages = state
                .chat
                .transcript(&id, query.after, 1000, &Reader::Outsider)
                .await?;
            return Ok(Json(ended(messages)));
        }
        Err(err) => return Err(err.into()),
    }
    let hub = state.chat.hub();
    let max = state.chat.settings().max_sockets_per_session;
    let (mut live, _connection) = hub.follow_customer(&id, max)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(query.wait).min(MAX_WAIT);
    loop {
        let messages = state
            .chat
            .transcript(&id, query.after, 1000, &Reader::Outsider)
            .await?;
        let ended = hub.view(&id).is_none_or(|v| v.ended);
        let typing = hub.typing_now(&id, true);
        if !messages.is_empty() || ended || tokio::time::Instant::now() >= deadline {
            return Ok(Json(Polled {
                messages,
                typing,
                ended,
            }));
        }
        match tokio::time::timeout_at(deadline, live.recv()).await {
            // A typing frame answers at once, so the indicator shows.
            Ok(Ok(frame)) if frame.kind == FrameKind::Typing => {
                return Ok(Json(Polled {
                    messages,
                    typing: hub.typing_now(&id, true),
                    ended: false,
                }));
            }
            Ok(_) | Err(_) => {}
        }
    }
}

/// The chat's WebSocket, resuming after `after`: messages and frames as
/// JSON text; the customer sends `message`, `url` and `typing` frames.
/// A frame over the size limit closes the socket; a session has a few
/// sockets and long polls open at most.
#[utoipa::path(
    get,
    path = "/chat/sessions/{id}/ws",
    operation_id = "customer_socket",
    responses(
        (status = SWITCHING_PROTOCOLS, description = "Upgraded to the chat's WebSocket."),
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::TooMany,
    )
)]
async fn websocket(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    key: Key,
    Query(cursor): Query<Cursor>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let me = customer(&state, &id, &key).await?;
    let max = state.chat.settings().max_sockets_per_session;
    let (live, connection) = state.chat.hub().follow_customer(&id, max)?;
    let chat = state.chat.clone();
    let frame_limit = chat.settings().max_frame_bytes();
    Ok(socket::small(upgrade, frame_limit)
        .on_upgrade(move |ws| socket::serve_customer(ws, chat, me, cursor.after, live, connection))
        .into_response())
}

/// What leaving answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Left {
    /// Always true.
    pub left: bool,
}

/// Leave the chat.
#[utoipa::path(
    post,
    path = "/chat/sessions/{id}/leave",
    operation_id = "customer_leave",
    responses(
        (status = OK, description = "Left.", body = Left),
        errors::Unauthorized,
        errors::Forbidden,
        errors::NotFound,
        errors::Gone,
        errors::Unavailable,
    )
)]
async fn leave(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    key: Key,
) -> Result<Json<Left>, ApiError> {
    let me = customer(&state, &id, &key).await?;
    state.chat.leave(&me, "customer left").await?;
    Ok(Json(Left { left: true }))
}
