//! API errors: JSON with a stable `code` and a human `message`.

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use parley_core::quota::Limited;
use parley_plugin::{FailureKind, LoadError, PluginError};

/// An error answered by the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    /// Seconds to wait, sent as `Retry-After`.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 400 `bad-request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// Stable, machine-readable code, e.g. `invalid-transition`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The error answers of operations by status, for their
/// `#[utoipa::path(responses(...))]`: each an [`ErrorBody`] with the codes
/// its description names.
pub mod errors {
    use std::collections::BTreeMap;
    use utoipa::openapi::{RefOr, Response};

    /// The response documenting an error answer.
    pub fn response(description: &str) -> Response {
        utoipa::openapi::ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("Error")))
                    .build(),
            )
            .build()
    }

    macro_rules! error_answers {
        ($($(#[$doc:meta])* $name:ident = $status:literal, $description:literal;)*) => {$(
            $(#[$doc])*
            pub struct $name;

            impl utoipa::IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([($status.to_string(), response($description).into())])
                }
            }
        )*};
    }

    error_answers! {
        /// 400.
        BadRequest = 400, "The request is not valid: `bad-request`.";
        /// 401.
        Unauthorized = 401, "No valid credential: `unauthorized` (`bad-credentials` when logging in, `key-required` without a chat key).";
        /// 403.
        Forbidden = 403, "The caller may not do this: `forbidden` (`wrong-key` for a chat key of another session).";
        /// 404.
        NotFound = 404, "What the request names does not exist: `not-found`, or one naming what (`interaction-not-found`, `agent-not-found`, `contact-not-found`, `session-not-found`, `view-not-found`, `plugin-not-found`).";
        /// 409.
        Conflict = 409, "The request conflicts with the current state: `conflict`, `invalid-transition`, `duplicate-interaction`, `duplicate-agent`, `duplicate`, `locked`, `agent-unavailable`, `monitoring-silently`, `retention-off`.";
        /// 410.
        Gone = 410, "The chat has ended: `session-ended`.";
        /// 413.
        TooLarge = 413, "Too large: `message-too-long`, `file-too-large`, `form-too-large`, `body-too-large`.";
        /// 415.
        UnsupportedType = 415, "The file's type is refused: `file-type-refused`.";
        /// 422.
        Unprocessable = 422, "Refused by a plugin or a rule: `plugin-refused`, `plugin-<failure>`, `message-withheld`.";
        /// 429.
        TooMany = 429, "Over a rate limit or quota: `rate-limited` (wait the `Retry-After` header's seconds), `quota-exceeded` (not before the chat ends).";
        /// 500.
        Internal = 500, "The server failed: `internal`.";
        /// 503.
        Unavailable = 503, "The database or a dependency is unavailable: `store-unavailable`, `plugin-overloaded`, `archive-failed`.";
    }
}

impl From<PluginError> for ApiError {
    fn from(err: PluginError) -> Self {
        let status = match err.kind {
            FailureKind::NotFound => StatusCode::NOT_FOUND,
            FailureKind::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, &format!("plugin-{}", err.kind), err.to_string())
    }
}

impl From<LoadError> for ApiError {
    fn from(err: LoadError) -> Self {
        if err.not_found {
            return ApiError::new(StatusCode::NOT_FOUND, "not-found", err.to_string());
        }
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-refused",
            err.to_string(),
        )
    }
}

impl From<Limited> for ApiError {
    fn from(limited: Limited) -> Self {
        // Whole seconds, rounded up: a client that waits them is let in.
        let seconds =
            limited.retry_after.as_secs() + u64::from(limited.retry_after.subsec_nanos() > 0);
        ApiError {
            retry_after: Some(seconds.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                limited.to_string(),
            )
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                rejection.body_text(),
            );
        }
        ApiError::bad_request(rejection.body_text())
    }
}

/// A JSON request body whose rejection (malformed JSON, unknown or
/// mistyped fields) is answered as an [`ApiError`] like every other error.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// A JSON request body that may be left out: an empty body is
/// `T::default()`.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJson)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}
