//! The HTTP API under `/v1` (its OpenAPI document at `/v1/openapi.json`):
//! accounts and sessions, interactions and what agents and supervisors do
//! with them, the event log and its live stream, statistics, contacts and
//! their history, standard responses, retention, plugin administration,
//! the audit log of administrative actions;
//! `/health`, `/ready` and `/metrics` for operations.

mod accounts;
mod audit;
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
mod login;
pub mod openapi;
mod pages;
mod plugins;
pub mod quotas;
pub mod responses;
mod retention;
mod stats;
mod stream;

use axum::{Extension, Router};
use std::sync::Arc;

use parley_chat::Chat;
use parley_email::EmailChannel;
use parley_engine::Engine;
use parley_plugin::Registry;
use parley_store::retention::Retention;

pub use auth::AccountSettings;
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
    /// Known credentials, their use and revocation.
    pub credentials: auth::Credentials,
    /// Rate limits by client address.
    pub quotas: Arc<quotas::Quotas>,
    /// The web chat channel.
    pub chat: Arc<Chat>,
    /// The e-mail channel.
    pub email: Arc<EmailChannel>,
    /// The desktop's pick lists.
    pub desktop: DesktopSettings,
    /// The retention policy and its sweep.
    pub retention: Arc<Retention>,
}

/// The API, `/health`, `/ready`, `/metrics` and everything under `/v1`,
/// with its OpenAPI document (served at `/v1/openapi.json`).
pub fn api() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    stats::operations()
        .nest("/v1/plugins", plugins::routes())
        .nest(
            "/v1",
            interactions::routes()
                .merge(accounts::routes())
                .merge(audit::routes())
                .merge(stream::routes())
                .merge(stats::routes())
                .merge(channel::routes())
                .merge(directory::routes())
                .merge(contacts::routes())
                .merge(responses::routes())
                .merge(retention::routes()),
        )
        .finish()
}

/// Every route: the API and the browser pages.
pub fn routes() -> Router<Arc<AppState>> {
    api().0.merge(pages::routes())
}

/// The routes with their state (also a request extension, for
/// [`auth::enforce`]).
pub fn router(state: Arc<AppState>) -> Router {
    routes().layer(Extension(state.clone())).with_state(state)
}
