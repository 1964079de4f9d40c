//! Contacts and their history (`/v1/contacts/...`), and full-text search
//! over the history (`/v1/search`). A contact is named in paths by its id
//! or by an identity: `email:<address>`, `phone:<number>`. Agents read;
//! supervisors create, change, merge and delete.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::auth::{Access, Principal};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState, JsonBody};
use parley_store::contacts::identity::Reference;
use parley_store::history::Entry;
use parley_store::search::Hit;
use parley_store::{Contact, ContactPatch, NewContact, Store};

pub fn routes() -> ApiRouter {
    ApiRouter::new("contacts")
        .routes(Access::AGENT, routes!(list))
        .routes(Access::SUPERVISOR, routes!(create))
        .routes(Access::AGENT, routes!(show))
        .routes(Access::SUPERVISOR, routes!(update))
        .routes(Access::SUPERVISOR, routes!(remove))
        .routes(Access::SUPERVISOR, routes!(merge))
        .routes(Access::AGENT, routes!(history))
        .routes(Access::AGENT, routes!(search))
}

/// A page: `limit` items after skipping `offset`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// How many.
    #[serde(default)]
    pub limit: Option<i64>,
    /// How many to skip.
    #[serde(default)]
    pub offset: Option<i64>,
}

/// `GET /v1/contacts` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Text in a name, an e-mail address or a phone number.
    #[serde(default)]
    q: String,
    /// How many.
    #[serde(default)]
    limit: Option<i64>,
    /// How many to skip.
    #[serde(default)]
    offset: Option<i64>,
}

/// Contacts whose name or identity contains `q` (all without it), most
/// recently changed first.
#[utoipa::path(
    get,
    path = "/contacts",
    operation_id = "list_contacts",
    responses(
        (status = OK, description = "The contacts.", body = Vec<Contact>),
        errors::BadRequest,
        errors::Unavailable,
    )
)]
async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Contact>>, ApiError> {
    let (limit, offset) = (query.limit.unwrap_or(50), query.offset.unwrap_or(0));
    Ok(Json(
        state
            .engine
            .store()
            .contacts(&query.q, limit, offset)
            .await?,
    ))
}

/// Create a contact: names, attributes, e-mail addresses, phone numbers.
#[utoipa::path(
    post,
    path = "/contacts",
    operation_id = "create_contact",
    request_body = NewContact,
    responses(
        (status = CREATED, description = "The contact.", body = Contact),
        errors::BadRequest,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn create(
    State(state): State<Arc<AppState>>,
    JsonBody(new): JsonBody<NewContact>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    let contact = state.engine.store().create_contact(new).await?;
    Ok((StatusCode::CREATED, Json(contact)))
}

/// One contact, by id, `email:<address>` or `phone:<number>` (a merged
/// contact answers with the one it was merged into).
#[utoipa::path(
    get,
    path = "/contacts/{contact}",
    operation_id = "show_contact",
    responses(
        (status = OK, description = "The contact.", body = Contact),
        errors::BadRequest,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn show(
    State(state): State<Arc<AppState>>,
    Path(contact): Path<String>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(state.engine.store().contact(&contact).await?))
}

/// The id of the contact a path names: an id as given (the store follows
/// merges itself), an identity resolved.
async fn id_of(store: &Store, reference: &str) -> Result<String, ApiError> {
    Ok(match Reference::parse(reference)? {
        Reference::Id(id) => id,
        Reference::Identity(..) => store.contact(reference).await?.id,
    })
}

/// Change a contact's names, attributes (`null` removes one) or
/// identities (lists replaced).
#[utoipa::path(
    patch,
    path = "/contacts/{contact}",
    operation_id = "update_contact",
    request_body = ContactPatch,
    responses(
        (status = OK, description = "The contact.", body = Contact),
        errors::BadRequest,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn update(
    State(state): State<Arc<AppState>>,
    Path(contact): Path<String>,
    JsonBody(patch): JsonBody<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    let store = state.engine.store();
    let id = id_of(store, &contact).await?;
    Ok(Json(store.update_contact(&id, patch).await?))
}

/// Delete a contact that has no interactions.
#[utoipa::path(
    delete,
    path = "/contacts/{contact}",
    operation_id = "delete_contact",
    responses(
        (status = NO_CONTENT, description = "Deleted."),
        errors::BadRequest,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn remove(
    State(state): State<Arc<AppState>>,
    Path(contact): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = state.engine.store();
    let id = id_of(store, &contact).await?;
    store.delete_contact(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/contacts/{contact}/merge`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Merge {
    /// The contacts merged into this one (ids or identities).
    pub contacts: Vec<String>,
}

/// Merge contacts into this one: identities and interactions move, the
/// others stay as tombstones.
#[utoipa::path(
    post,
    path = "/contacts/{contact}/merge",
    operation_id = "merge_contacts",
    request_body = Merge,
    responses(
        (status = OK, description = "The contact merged into.", body = Contact),
        errors::BadRequest,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn merge(
    State(state): State<Arc<AppState>>,
    Path(contact): Path<String>,
    JsonBody(body): JsonBody<Merge>,
) -> Result<Json<Contact>, ApiError> {
    let store = state.engine.store();
    let into = id_of(store, &contact).await?;
    let mut from = Vec::with_capacity(body.contacts.len());
    for reference in &body.contacts {
        from.push(id_of(store, reference).await?);
    }
    Ok(Json(store.merge_contacts(&into, from).await?))
}

/// A contact's interactions on every channel, newest first, with
/// subjects, bodies, transcripts and attachments: for an agent, those it
/// may read (as `/v1/interactions/{id}`, or a chat it wrote in), with the
/// coaching written for it; everything for supervisors.
#[utoipa::path(
    get,
    path = "/contacts/{contact}/history",
    operation_id = "contact_history",
    responses(
        (status = OK, description = "The history.", body = Vec<Entry>),
        errors::BadRequest,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn history(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(contact): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    let store = state.engine.store();
    let contact = store.contact(&contact).await?;
    let (limit, offset) = (page.limit.unwrap_or(200), page.offset.unwrap_or(0));
    let reader = principal.reader();
    Ok(Json(
        store.history(&contact.id, &reader, limit, offset).await?,
    ))
}

/// `GET /v1/search` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words that must all appear.
    #[serde(default)]
    q: String,
    /// Only this contact's interactions (an id or an identity).
    #[serde(default)]
    contact: Option<String>,
    /// How many.
    #[serde(default)]
    limit: Option<i64>,
    /// How many to skip.
    #[serde(default)]
    offset: Option<i64>,
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Found {
    /// Matching interactions, newest first.
    pub results: Vec<Hit>,
    /// The `offset` of the next page, if there is one.
    pub next_offset: Option<i64>,
}

/// Most results per page.
const MAX_RESULTS: i64 = 100;

/// Full-text search of subjects and messages: interactions the caller may
/// read (as in a contact's history) with every word of `q` (of `contact`,
/// if given), newest first, with a snippet.
#[utoipa::path(
    get,
    path = "/search",
    operation_id = "search",
    responses(
        (status = OK, description = "A page of results.", body = Found),
        errors::BadRequest,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn search(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Found>, ApiError> {
    if query.q.trim().is_empty() {
        return Err(ApiError::bad_request("`q` names the words to search for"));
    }
    let store = state.engine.store();
    let contact = match &query.contact {
        Some(reference) => Some(store.contact(reference).await?.id),
        None => None,
    };
    let limit = query.limit.unwrap_or(20).clamp(1, MAX_RESULTS);
    let offset = query.offset.unwrap_or(0).max(0);
    // One more than asked tells whether there is a next page.
    let mut results = store
        .search(
            &query.q,
            contact.as_deref(),
            &principal.reader(),
            limit + 1,
            offset,
        )
        .await?;
    let next_offset = (results.len() as i64 > limit).then_some(offset + limit);
    results.truncate(limit as usize);
    Ok(Json(Found {
        results,
        next_offset,
    }))
}
