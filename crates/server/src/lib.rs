//! The HTTP API under `/v1` (its OpenAPI document at `/v1/openapi.json`):
//! accounts and sessions, interactions and what agents and supervisors do
//! with them, the event log and its live stream, statistics, contacts and
//! their history, standard responses, retention, plugin administration;
//! `/health`, `/ready` and `/metrics` for operations.

mod accounts;
pub mod auth;
mod channel;
mod chat;
mod contacts;
mod desktop;
mod directory;
mod download;
mod email;
mod error;
mod interactions;
pub mod openapi;
mod pages;
mod plugins;
pub mod responses;
mod retention;
mod stats;
mod stream;

use axum::Router;
use axum::routing::get;
use std::sync::Arc;

use parley_chat::Chat;
use parley_email::EmailChannel;
use parley_engine::Engine;
use parley_plugin::Registry;
use parley_store::retention::Retention;

pub use desktop::DesktopSettings;
pub use error::{ApiError, JsonBody, OptionalJson};

/// State shared by the handlers.
pub struct AppState {
    /// The live plugins.
    pub registry: Arc<Registry>,
    /// The interaction engine (with the store and the processes).
    pub engine: Arc<Engine>,
    /// The admin bearer token.
    pub admin_token: String,
    /// Known credentials.
    pub credentials: auth::CredentialCache,
    /// The web chat channel.
    pub chat: Arc<Chat>,
    /// The e-mail channel.
    pub email: Arc<EmailChannel>,
    /// The desktop's pick lists.
    pub desktop: DesktopSettings,
    /// The retention policy and its sweep.
    pub retention: Arc<Retention>,
}

/// The API routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/ready", get(stats::ready))
        .route("/metrics", get(stats::metrics))
        .route(
            "/v1/openapi.json",
            get(|| async { axum::Json(openapi::document()) }),
        )
        .nest("/v1/plugins", plugins::routes(state.clone()))
        .nest(
            "/v1",
            interactions::routes()
                .merge(accounts::routes())
                .merge(stream::routes())
                .merge(stats::routes())
                .merge(channel::routes())
                .merge(directory::routes())
                .merge(contacts::routes())
                .merge(responses::routes())
                .merge(retention::routes()),
        )
        .merge(pages::routes())
        .with_state(state)
}
