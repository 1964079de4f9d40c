//! The library of standard responses (`/v1/responses`) and its categories
//! (`/v1/response-categories`): agents read them and have the server fill
//! in a response's field codes for an interaction; supervisors change
//! them, and move the whole library as one file (export, import).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::auth::{Principal, forbidden};
use super::interactions::may_see;
use super::{ApiError, AppState, JsonBody, OptionalJson};
use parley_core::agents::Role;
use parley_store::responses::fields::{Context, Fields, Rendered};
use parley_store::responses::library::{Library, Mode};
use parley_store::{Category, StandardResponse, Store, StoreError};

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/responses", get(list).post(put))
        .route("/responses/export", get(export))
        .route("/responses/import", post(import))
        .route("/responses/{id}", delete(remove))
        .route("/responses/{id}/render", post(render))
        .route("/response-categories", get(categories).post(put_category))
        .route("/response-categories/{id}", delete(remove_category))
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn list(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<StandardResponse>>, ApiError> {
    principal.require(Role::Agent)?;
    Ok(Json(state.engine.store().responses().await?))
}

async fn put(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(mut response): JsonBody<StandardResponse>,
) -> Result<(StatusCode, Json<StandardResponse>), ApiError> {
    principal.require(Role::Supervisor)?;
    if response.id.is_empty() {
        response.id = new_id();
    }
    state.engine.store().put_response(response.clone()).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

async fn remove(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Supervisor)?;
    state.engine.store().delete_response(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn categories(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<Category>>, ApiError> {
    principal.require(Role::Agent)?;
    Ok(Json(state.engine.store().categories().await?))
}

async fn put_category(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(mut category): JsonBody<Category>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    principal.require(Role::Supervisor)?;
    if category.id.is_empty() {
        category.id = new_id();
    }
    state.engine.store().put_category(category.clone()).await?;
    Ok((StatusCode::CREATED, Json(category)))
}

async fn remove_category(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Supervisor)?;
    state.engine.store().delete_category(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Library>, ApiError> {
    principal.require(Role::Supervisor)?;
    Ok(Json(state.engine.store().export_library().await?))
}

/// `POST /v1/responses/import` query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImportQuery {
    /// `merge` (the default) or `replace`.
    #[serde(default)]
    pub mode: Mode,
}

/// What an import did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Imported {
    /// How the file was applied.
    pub mode: Mode,
    /// Categories in the file.
    pub categories: usize,
    /// Responses in the file.
    pub responses: usize,
}

async fn import(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(query): Query<ImportQuery>,
    JsonBody(library): JsonBody<Library>,
) -> Result<Json<Imported>, ApiError> {
    principal.require(Role::Supervisor)?;
    let imported = Imported {
        mode: query.mode,
        categories: library.categories.len(),
        responses: library.responses.len(),
    };
    state
        .engine
        .store()
        .import_library(library, query.mode)
        .await?;
    Ok(Json(imported))
}

/// `POST /v1/responses/{id}/render`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RenderFor {
    /// The interaction replied to (its contact, subject...).
    #[serde(default)]
    pub interaction: Option<String>,
}

async fn render(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<RenderFor>,
) -> Result<Json<Rendered>, ApiError> {
    principal.require(Role::Agent)?;
    let store = state.engine.store();
    let response = store
        .responses()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| StoreError::NotFound {
            what: "response",
            id: id.clone(),
        })?;
    let interaction = match &body.interaction {
        Some(id) => {
            let interaction = store.get(id).await?;
            if !may_see(&principal, &interaction) {
                return Err(forbidden(format!("interaction `{id}` is not yours")));
            }
            Some(interaction)
        }
        None => None,
    };
    let (content, contact) = match &interaction {
        Some(interaction) => (
            Some(store.content(interaction).await?),
            match &interaction.contact_id {
                Some(contact) => Some(store.contact(contact).await?),
                None => None,
            },
        ),
        None => (None, None),
    };
    // The agent replying: the caller, else the interaction's owner.
    let agent = principal
        .agent
        .clone()
        .or_else(|| interaction.as_ref().and_then(|i| i.owner.clone()))
        .map(|id| {
            let name = state
                .engine
                .live_agent(&id)
                .map_or_else(|| id.clone(), |a| a.name);
            (id, name)
        });
    let fields = Fields::new(Context {
        interaction: interaction.as_ref(),
        content: content.as_ref(),
        contact: contact.as_ref(),
        agent: agent
            .as_ref()
            .map(|(id, name)| (id.as_str(), name.as_str())),
    });
    Ok(Json(fields.render(&response.text)))
}

/// Installs a few categories and standard responses into an empty
/// library; whether it did.
pub async fn install_demo(store: &Store) -> Result<bool, StoreError> {
    if !store.responses().await?.is_empty() {
        return Ok(false);
    }
    let categories = [
        ("chat", "Chat", None),
        ("greetings", "Greetings", Some("chat")),
        ("closing", "Closing", Some("chat")),
    ];
    for (id, name, parent) in categories {
        store
            .put_category(Category {
                id: id.into(),
                name: name.into(),
                parent: parent.map(String::from),
            })
            .await?;
    }
    let responses = [
        (
            "greeting",
            "greetings",
            "Hello {customer}, my name is {agent}. How can I help you today?",
        ),
        (
            "one-moment",
            "greetings",
            "Thank you, {contact.first-name}. One moment while I look into this for you.",
        ),
        (
            "anything-else",
            "closing",
            "Is there anything else I can help you with?",
        ),
        (
            "goodbye",
            "closing",
            "Thank you for contacting us, {contact.first-name}. Have a great day!",
        ),
    ];
    for (id, category, text) in responses {
        store
            .put_response(StandardResponse {
                id: id.into(),
                name: id.replace('-', " "),
                category: Some(category.into()),
                text: text.into(),
            })
            .await?;
    }
    Ok(true)
}
