//! The chat API: the customer's side (`/v1/chat/sessions/...`, opened by
//! the session key, CORS open so the widget works on any site), the side of
//! agents and supervisors (`/v1/chats/...`, opened by their accounts), and
//! the WebSockets of both.

mod agent;
mod customer;
mod socket;

use axum::http::StatusCode;

use super::ApiError;
use super::channel::{ChannelApi, DesktopView};
use super::openapi::ApiRouter;
use parley_chat::{ChatError, files};

/// The chat channel's part of the API and the desktop.
pub struct ChatApi;

impl ChannelApi for ChatApi {
    fn routes(&self) -> ApiRouter {
        customer::routes().merge(agent::routes())
    }

    fn desktop_view(&self) -> DesktopView {
        DesktopView {
            module: "chat-view.js",
            source: include_str!("../../web/chat-view.js"),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        let message = err.to_string();
        let (status, code) = match err {
            ChatError::NotFound(_) => (StatusCode::NOT_FOUND, "session-not-found"),
            ChatError::WrongKey(_) => (StatusCode::FORBIDDEN, "wrong-key"),
            ChatError::Ended(_) => (StatusCode::GONE, "session-ended"),
            ChatError::TooLong { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "message-too-long"),
            ChatError::Withheld(_) => (StatusCode::UNPROCESSABLE_ENTITY, "message-withheld"),
            ChatError::File(files::Refused::TooLarge { .. }) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "file-too-large")
            }
            ChatError::File(files::Refused::Type(_)) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "file-type-refused")
            }
            ChatError::File(files::Refused::Invalid(_)) | ChatError::Invalid(_) => {
                (StatusCode::BAD_REQUEST, "bad-request")
            }
            ChatError::NotAParty(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ChatError::Silent => (StatusCode::CONFLICT, "monitoring-silently"),
            ChatError::Limited(limited) => return limited.into(),
            ChatError::Engine(err) => return err.into(),
            ChatError::Store(err) => return err.into(),
        };
        ApiError::new(status, code, message)
    }
}

/// Reads a request body of at most `limit` bytes.
async fn read_body(body: axum::body::Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map(|bytes| bytes.to_vec())
        .map_err(|_| ChatError::File(files::Refused::TooLarge { limit }).into())
}
