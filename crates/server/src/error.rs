//! API errors: JSON with a stable `code` and a human `message`.

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use parley_plugin::{FailureKind, LoadError, PluginError};

/// An error answered by the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl ApiError {
    /// An error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
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
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-refused",
            err.to_string(),
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
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
