//! The real-time event stream for desktops, over Server-Sent Events
//! (`GET /v1/events/stream`) and WebSocket (`GET /v1/events/ws`). A client
//! resumes from a cursor (`?after=SEQ`, or SSE's `Last-Event-ID`): the
//! stream first reads what it missed from the log, then follows commits
//! live; a subscriber that falls behind reads the gap from the log again,
//! so a reconnect or a slow client misses nothing and sees nothing twice.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::auth::{self, Access, Principal};
use super::error::errors;
use super::interactions::event_scope;
use super::openapi::ApiRouter;
use super::{ApiError, AppState};
use parley_store::{Event, Store};

pub fn routes() -> ApiRouter {
    ApiRouter::new("events")
        .routes(Access::AGENT.or_token_in_query(), routes!(sse))
        .routes(Access::AGENT.or_token_in_query(), routes!(websocket))
        .routes(Access::AGENT, routes!(cursor_now))
}

/// The newest event's `seq`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cursor {
    /// The cursor to follow the stream from now (0: no events yet).
    pub seq: i64,
}

/// The newest event's `seq`, to follow the stream from now on after
/// reading the current state.
#[utoipa::path(
    get,
    path = "/events/cursor",
    operation_id = "event_cursor",
    responses(
        (status = OK, description = "The cursor.", body = Cursor),
        errors::BadRequest,
        errors::Unavailable,
    )
)]
async fn cursor_now(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<axum::Json<Cursor>, ApiError> {
    event_scope(&principal)?;
    let seq = state.engine.store().last_seq().await?;
    Ok(axum::Json(Cursor { seq }))
}

/// Where to resume (`?token=` is read by authentication).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Resume {
    /// The `seq` of the last event seen (0: from the start).
    #[serde(default)]
    pub after: Option<i64>,
}

/// Events after `after` concerning `scope` (all if `None`), from the log
/// and then live, into a channel; ends when the receiver goes away.
fn follow(store: Store, after: i64, scope: Option<String>) -> mpsc::Receiver<Event> {
    let (sender, receiver) = mpsc::channel(256);
    tokio::spawn(async move {
        // Subscribe before reading the log, so nothing falls in between.
        let mut live = store.subscribe();
        let mut seen = after;
        loop {
            // Catch up from the log.
            loop {
                let page = match store.events_after(seen, 1000, scope.as_deref()).await {
                    Ok(page) => page,
                    Err(err) => {
                        tracing::warn!("event stream stopped: {err}");
                        return;
                    }
                };
                let Some(last) = page.last().map(|e| e.seq) else {
                    break;
                };
                for event in page {
                    if sender.send(event).await.is_err() {
                        return;
                    }
                }
                seen = last;
            }
            // Then follow commits until the subscription lags.
            loop {
                match live.recv().await {
                    Ok(event) if event.seq <= seen => {}
                    Ok(event) => {
                        seen = event.seq;
                        let wanted = scope.is_none() || event.agent_id == scope;
                        if wanted && sender.send(event).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });
    receiver
}

/// The cursor: `?after=` or the `Last-Event-ID` header.
fn cursor(resume: &Resume, headers: &HeaderMap) -> Result<i64, ApiError> {
    if let Some(after) = resume.after {
        return Ok(after);
    }
    match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(id) => id
            .trim()
            .parse()
            .map_err(|_| ApiError::bad_request("Last-Event-ID must be an event's seq")),
        None => Ok(0),
    }
}

/// Server-Sent Events from a cursor (`?after=` or `Last-Event-ID`), then
/// live: each event's `id` is its `seq`, its `event` its kind, its data the
/// event as JSON. Agents receive their own events. The stream ends when
/// its credential does (logout, revocation, a changed or deleted account).
#[utoipa::path(
    get,
    path = "/events/stream",
    operation_id = "event_stream",
    params(("Last-Event-ID" = Option<i64>, Header, description = "The cursor, when `after` is absent (EventSource sends it on reconnecting).")),
    responses(
        (status = OK, description = "The event stream.", content_type = "text/event-stream", body = Event),
        errors::BadRequest,
    )
)]
async fn sse(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(resume): Query<Resume>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let scope = event_scope(&principal)?;
    let after = cursor(&resume, &headers)?;
    let events = follow(state.engine.store().clone(), after, scope);
    let revoked = auth::revoked(state, principal);
    let stream = stream::unfold(events, |mut events| async move {
        let event = events.recv().await?;
        let sse = SseEvent::default()
            .id(event.seq.to_string())
            .event(event.kind.as_str())
            .json_data(&event)
            .unwrap_or_default();
        Some((Ok(sse), events))
    })
    .take_until(revoked);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The same stream over WebSocket: one event per text message, as JSON.
#[utoipa::path(
    get,
    path = "/events/ws",
    operation_id = "event_socket",
    params(("Last-Event-ID" = Option<i64>, Header, description = "The cursor, when `after` is absent.")),
    responses(
        (status = SWITCHING_PROTOCOLS, description = "Upgraded to a WebSocket carrying the events, each a JSON `Event` in a text message."),
        errors::BadRequest,
    )
)]
async fn websocket(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(resume): Query<Resume>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let scope = event_scope(&principal)?;
    let after = cursor(&resume, &headers)?;
    let events = follow(state.engine.store().clone(), after, scope);
    let revoked = auth::revoked(state, principal);
    // The client sends nothing but pongs and its close.
    Ok(upgrade
        .max_message_size(4096)
        .max_frame_size(4096)
        .on_upgrade(move |socket| serve_socket(socket, events, revoked))
        .into_response())
}

/// Sends events as JSON text messages, pings every 15 s, and stops when
/// the client closes or its credential is revoked.
async fn serve_socket(
    mut socket: WebSocket,
    mut events: mpsc::Receiver<Event>,
    revoked: impl Future<Output = ()>,
) {
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    let mut revoked = std::pin::pin!(revoked);
    loop {
        tokio::select! {
            () = &mut revoked => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            event = events.recv() => {
                let Some(event) = event else { return };
                let text = serde_json::to_string(&event).unwrap_or_default();
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
