//! Contacts and their history (`/v1/contacts/...`), and full-text search
//! over the history (`/v1/search`). A contact is named in paths by its id
//! or by an identity: `email:<address>`, `phone:<number>`. Agents read;
//! supervisors create, change, merge and delete.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::auth::Principal;
use super::{ApiError, AppState, JsonBody};
use parley_core::agents::Role;
use parley_store::contacts::identity::Reference;
use parley_store::history::Entry;
use parley_store::search::Hit;
use parley_store::{Contact, ContactPatch, NewContact, Store};

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/contacts", get(list).post(create))
        .route(
            "/contacts/{contact}",
            get(show).patch(update).delete(remove),
        )
        .route("/contacts/{contact}/merge", post(merge))
        .route("/contacts/{contact}/history", get(history))
        .route("/search", get(search))
}

/// A page: `limit` items after skipping `offset`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Page {
    /// How many.
    #[serde(default)]
    pub limit: Option<i64>,
    /// How many to skip.
    #[serde(default)]
    pub offset: Option<i64>,
}

/// `GET /v1/contacts` query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
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

async fn list(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Contact>>, ApiError> {
    principal.require(Role::Agent)?;
    let (limit, offset) = (query.limit.unwrap_or(50), query.offset.unwrap_or(0));
    Ok(Json(
        state
            .engine
            .store()
            .contacts(&query.q, limit, offset)
            .await?,
    ))
}

async fn create(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(new): JsonBody<NewContact>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    principal.require(Role::Supervisor)?;
    let contact = state.engine.store().create_contact(new).await?;
    Ok((StatusCode::CREATED, Json(contact)))
}

async fn show(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(contact): Path<String>,
) -> Result<Json<Contact>, ApiError> {
    principal.require(Role::Agent)?;
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

async fn update(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(contact): Path<String>,
    JsonBody(patch): JsonBody<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    principal.require(Role::Supervisor)?;
    let store = state.engine.store();
    let id = id_of(store, &contact).await?;
    Ok(Json(store.update_contact(&id, patch).await?))
}

async fn remove(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(contact): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Role::Supervisor)?;
    let store = state.engine.store();
    let id = id_of(store, &contact).await?;
    store.delete_contact(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/contacts/{contact}/merge`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Merge {
    /// The contacts merged into this one (ids or identities).
    pub contacts: Vec<String>,
}

async fn merge(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(contact): Path<String>,
    JsonBody(body): JsonBody<Merge>,
) -> Result<Json<Contact>, ApiError> {
    principal.require(Role::Supervisor)?;
    let store = state.engine.store();
    let into = id_of(store, &contact).await?;
    let mut from = Vec::with_capacity(body.contacts.len());
    for reference in &body.contacts {
        from.push(id_of(store, reference).await?);
    }
    Ok(Json(store.merge_contacts(&into, from).await?))
}

async fn history(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(contact): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    principal.require(Role::Agent)?;
    let store = state.engine.store();
    let contact = store.contact(&contact).await?;
    let (limit, offset) = (page.limit.unwrap_or(200), page.offset.unwrap_or(0));
    Ok(Json(store.history(&contact.id, limit, offset).await?))
}

/// `GET /v1/search` query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Found {
    /// Matching interactions, newest first.
    pub results: Vec<Hit>,
    /// The `offset` of the next page, if there is one.
    pub next_offset: Option<i64>,
}

/// Most results per page.
const MAX_RESULTS: i64 = 100;

async fn search(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Found>, ApiError> {
    principal.require(Role::Agent)?;
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
        .search(&query.q, contact.as_deref(), limit + 1, offset)
        .await?;
    let next_offset = (results.len() as i64 > limit).then_some(offset + limit);
    results.truncate(limit as usize);
    Ok(Json(Found {
        results,
        next_offset,
    }))
}
