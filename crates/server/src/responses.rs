//! The library of standard responses (`/v1/responses`) and its categories
//! (`/v1/response-categories`): agents read them and have the server fill
//! in a response's field codes for an interaction; supervisors change
//! them, and move the whole library as one file (export, import).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::auth::{Access, Principal, forbidden};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState, JsonBody, OptionalJson};
use parley_store::responses::fields::{Context, Fields, Rendered};
use parley_store::responses::library::{Library, Mode};
use parley_store::{Category, StandardResponse, Store, StoreError};

pub fn routes() -> ApiRouter {
    ApiRouter::new("standard responses")
        .routes(Access::AGENT, routes!(list))
        .routes(Access::SUPERVISOR, routes!(put))
        .routes(Access::SUPERVISOR, routes!(export))
        .routes(Access::SUPERVISOR, routes!(import))
        .routes(Access::SUPERVISOR, routes!(remove))
        .routes(Access::AGENT, routes!(render))
        .routes(Access::AGENT, routes!(categories))
        .routes(Access::SUPERVISOR, routes!(put_category))
        .routes(Access::SUPERVISOR, routes!(remove_category))
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The standard responses, by name (each with its category's id).
#[utoipa::path(
    get,
    path = "/responses",
    operation_id = "list_responses",
    responses(
        (status = OK, description = "The responses.", body = Vec<StandardResponse>),
        errors::Unavailable,
    )
)]
async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Vec<StandardResponse>>, ApiError> {
    Ok(Json(state.engine.store().responses().await?))
}

/// Create or replace a standard response (its category must exist).
#[utoipa::path(
    post,
    path = "/responses",
    operation_id = "put_response",
    request_body = StandardResponse,
    responses(
        (status = CREATED, description = "The response, with its id.", body = StandardResponse),
        errors::BadRequest,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn put(
    State(state): State<Arc<AppState>>,
    JsonBody(mut response): JsonBody<StandardResponse>,
) -> Result<(StatusCode, Json<StandardResponse>), ApiError> {
    if response.id.is_empty() {
        response.id = new_id();
    }
    state.engine.store().put_response(response.clone()).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

/// Delete a standard response.
#[utoipa::path(
    delete,
    path = "/responses/{id}",
    operation_id = "delete_response",
    responses(
        (status = NO_CONTENT, description = "Deleted."),
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn remove(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.engine.store().delete_response(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The categories of standard responses: a tree of id, name, parent.
#[utoipa::path(
    get,
    path = "/response-categories",
    operation_id = "list_response_categories",
    responses(
        (status = OK, description = "The categories.", body = Vec<Category>),
        errors::Unavailable,
    )
)]
async fn categories(State(state): State<Arc<AppState>>) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(state.engine.store().categories().await?))
}

/// Create or replace a category (its parent must exist; no cycles).
#[utoipa::path(
    post,
    path = "/response-categories",
    operation_id = "put_response_category",
    request_body = Category,
    responses(
        (status = CREATED, description = "The category, with its id.", body = Category),
        errors::BadRequest,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn put_category(
    State(state): State<Arc<AppState>>,
    JsonBody(mut category): JsonBody<Category>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    if category.id.is_empty() {
        category.id = new_id();
    }
    state.engine.store().put_category(category.clone()).await?;
    Ok((StatusCode::CREATED, Json(category)))
}

/// Delete an empty category.
#[utoipa::path(
    delete,
    path = "/response-categories/{id}",
    operation_id = "delete_response_category",
    responses(
        (status = NO_CONTENT, description = "Deleted."),
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn remove_category(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.engine.store().delete_category(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The whole library, categories and responses, as one
/// `parley-responses` file.
#[utoipa::path(
    get,
    path = "/responses/export",
    operation_id = "export_responses",
    responses(
        (status = OK, description = "The library file.", body = Library),
        errors::Unavailable,
    )
)]
async fn export(State(state): State<Arc<AppState>>) -> Result<Json<Library>, ApiError> {
    Ok(Json(state.engine.store().export_library().await?))
}

/// `POST /v1/responses/import` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `merge` (the default) or `replace`.
    #[serde(default)]
    pub mode: Mode,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Imported {
    /// How the file was applied.
    pub mode: Mode,
    /// Categories in the file.
    pub categories: usize,
    /// Responses in the file.
    pub responses: usize,
}

/// Import a library file, merging by id (the default) or replacing the
/// library; atomic, a bad file changes nothing.
#[utoipa::path(
    post,
    path = "/responses/import",
    operation_id = "import_responses",
    request_body = Library,
    responses(
        (status = OK, description = "What the import did.", body = Imported),
        errors::BadRequest,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn import(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ImportQuery>,
    JsonBody(library): JsonBody<Library>,
) -> Result<Json<Imported>, ApiError> {
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
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RenderFor {
    /// The interaction replied to (its contact, subject...).
    #[serde(default)]
    pub interaction: Option<String>,
}

/// A response's text with its field codes filled in for an interaction
/// and the caller.
#[utoipa::path(
    post,
    path = "/responses/{id}/render",
    operation_id = "render_response",
    request_body = Option<RenderFor>,
    responses(
        (status = OK, description = "The text.", body = Rendered),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn render(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<RenderFor>,
) -> Result<Json<Rendered>, ApiError> {
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
            if !principal.reader().sees(&interaction) {
                return Err(forbidden(format!("interaction `{id}` is not yours")));
            }
            Some(interaction)
        }
        None => None,
    };
    let (content, contact) = match &interaction {
        Some(interaction) => (
            Some(store.content(interaction, &principal.reader()).await?),
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
