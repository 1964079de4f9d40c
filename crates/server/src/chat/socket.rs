//! The chat WebSockets. The customer's (one per session) first sends what
//! the customer missed since the cursor, read from the store, then frames
//! live; a connection that falls behind reads the gap from the store again,
//! so nothing is missed or repeated. The agent's (one per account) carries
//! every chat the account is in or supervises; a desktop that falls behind
//! is told to re-read its transcripts (`resync`). Both take messages,
//! typing and URLs from the client and acknowledge each stored message.

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::ApiError;
use parley_chat::hub::{Connection, Frame, FrameKind};
use parley_chat::{Chat, ChatError, Participant};
use parley_core::agents::Role as AccountRole;
use parley_store::Reader;
use parley_store::chat::Message;

/// Socket buffers for many small, mostly idle connections (the defaults
/// of 128 KiB each would cost a quarter of a megabyte per customer).
const SOCKET_BUFFER: usize = 8 * 1024;

/// An upgrade with buffers sized for chat traffic, taking messages of at
/// most `limit` bytes (a larger one, or a frame of one, closes the socket
/// before it is read whole).
pub fn small(upgrade: WebSocketUpgrade, limit: usize) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .max_message_size(limit)
        .max_frame_size(limit)
}

/// Where a socket resumes (`?key=` and `?token=` are read elsewhere).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Cursor {
    /// The `seq` of the last message seen (0: from the start).
    #[serde(default)]
    pub after: i64,
}

/// A frame from a client. `session` names the chat on the agent's socket.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Incoming {
    Message {
        #[serde(default)]
        session: Option<String>,
        text: String,
        #[serde(default, rename = "ref")]
        tag: Option<String>,
    },
    Url {
        #[serde(default)]
        session: Option<String>,
        url: String,
        #[serde(default, rename = "ref")]
        tag: Option<String>,
    },
    Typing {
        #[serde(default)]
        session: Option<String>,
        typing: bool,
    },
}

/// Who is on the other end of a socket.
enum Client {
    Customer(Participant),
    Account { id: String, role: AccountRole },
}

impl Client {
    async fn participant(
        &self,
        chat: &Chat,
        session: Option<String>,
    ) -> Result<Participant, ChatError> {
        match self {
            Client::Customer(me) => Ok(me.clone()),
            Client::Account { id, role } => {
                let session =
                    session.ok_or_else(|| ChatError::Invalid("name the chat: `session`".into()))?;
                chat.writer(&session, id, *role).await
            }
        }
    }
}

fn error_frame(tag: Option<String>, err: ChatError) -> String {
    let api = ApiError::from(err);
    json!({ "type": "error", "ref": tag, "code": api.code(), "message": api.message() }).to_string()
}

fn ack_frame(tag: Option<String>, message: &Message) -> String {
    json!({ "type": "ack", "ref": tag, "message": message }).to_string()
}

/// Answers one client frame; `None` when there is nothing to answer.
async fn answer(chat: &Chat, client: &Client, text: &str) -> Option<String> {
    let incoming: Incoming = match serde_json::from_str(text) {
        Ok(incoming) => incoming,
        Err(e) => {
            return Some(error_frame(
                None,
                ChatError::Invalid(format!("unreadable frame: {e}")),
            ));
        }
    };
    match incoming {
        Incoming::Message { session, text, tag } => {
            let sent = match client.participant(chat, session).await {
                Ok(me) => chat.say(&me, &text).await,
                Err(err) => Err(err),
            };
            Some(match sent {
                Ok(message) => ack_frame(tag, &message),
                Err(err) => error_frame(tag, err),
            })
        }
        Incoming::Url { session, url, tag } => {
            let sent = match client.participant(chat, session).await {
                Ok(me) => chat.push_url(&me, &url).await,
                Err(err) => Err(err),
            };
            Some(match sent {
                Ok(message) => ack_frame(tag, &message),
                Err(err) => error_frame(tag, err),
            })
        }
        Incoming::Typing { session, typing } => match client.participant(chat, session).await {
            Ok(me) => {
                chat.typing(&me, typing);
                None
            }
            Err(err) => Some(error_frame(None, err)),
        },
    }
}

async fn send(socket: &mut WebSocket, text: impl Into<String>) -> bool {
    socket
        .send(WsMessage::Text(text.into().into()))
        .await
        .is_ok()
}

/// Sends the customer's messages after `seen` from the store.
async fn catch_up(chat: &Chat, socket: &mut WebSocket, session: &str, seen: &mut i64) -> bool {
    loop {
        let page = match chat
            .transcript(session, *seen, 1000, &Reader::Outsider)
            .await
        {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(session, "chat socket: {err}");
                return false;
            }
        };
        let Some(last) = page.last().map(|m| m.seq) else {
            return true;
        };
        for message in &page {
            if !send(
                socket,
                json!({ "type": "message", "message": message }).to_string(),
            )
            .await
            {
                return false;
            }
        }
        *seen = last;
    }
}

/// Serves the customer's socket of a session.
pub async fn serve_customer(
    socket: WebSocket,
    chat: Arc<Chat>,
    me: Participant,
    after: i64,
    live: broadcast::Receiver<Frame>,
    _connection: Connection,
) {
    let ended = std::future::pending();
    serve(socket, chat, Client::Customer(me), Some(after), live, ended).await;
}

/// Serves an account's socket: every chat it is in or supervises, until
/// `revoked` (its credential's end).
pub async fn serve_account(
    socket: WebSocket,
    chat: Arc<Chat>,
    id: String,
    role: AccountRole,
    revoked: impl Future<Output = ()>,
) {
    let live = chat.hub().follow_agent(&id);
    serve(
        socket,
        chat,
        Client::Account { id, role },
        None,
        live,
        revoked,
    )
    .await;
}

/// The socket loop. With a cursor (the customer's), what was missed is
/// read from the store first and frames are sent once each, in order.
/// The socket closes when `ended` completes.
async fn serve(
    mut socket: WebSocket,
    chat: Arc<Chat>,
    client: Client,
    mut cursor: Option<i64>,
    mut live: broadcast::Receiver<Frame>,
    ended: impl Future<Output = ()>,
) {
    let session = match &client {
        Client::Customer(me) => Some(me.session.clone()),
        Client::Account { .. } => None,
    };
    // Subscribed before this read, so nothing falls in between.
    if let (Some(session), Some(seen)) = (&session, cursor.as_mut())
        && !catch_up(&chat, &mut socket, session, seen).await
    {
        return;
    }
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    let mut ended = std::pin::pin!(ended);
    loop {
        tokio::select! {
            () = &mut ended => {
                let _ = socket.send(WsMessage::Close(None)).await;
                return;
            }
            frame = live.recv() => match frame {
                Ok(frame) => {
                    if let (Some(seen), Some(seq)) = (cursor.as_mut(), frame.seq) {
                        if seq <= *seen {
                            continue;
                        }
                        *seen = seq;
                    }
                    if !send(&mut socket, &*frame.text).await {
                        return;
                    }
                    if session.is_some() && frame.kind == FrameKind::Ended {
                        let _ = socket.send(WsMessage::Close(None)).await;
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let kept_up = match (&session, cursor.as_mut()) {
                        (Some(session), Some(seen)) => catch_up(&chat, &mut socket, session, seen).await,
                        _ => send(&mut socket, json!({ "type": "resync" }).to_string()).await,
                    };
                    if !kept_up {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    if let Some(session) = &session {
                        chat.hub().seen(session);
                    }
                    if let Some(reply) = answer(&chat, &client, &text).await
                        && !send(&mut socket, reply).await
                    {
                        return;
                    }
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
