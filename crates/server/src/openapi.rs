//! The OpenAPI 3.1 document of the API, served at `/v1/openapi.json`, is
//! generated from the code. Each operation is a handler with a
//! `#[utoipa::path]` (its method, path, parameters, body and answers) over
//! `ToSchema` types, registered through an [`ApiRouter`] with the
//! [`Access`] that is both enforced before the handler runs and declared as
//! the operation's security. An `ApiRouter` has no other way to add a
//! route, so what is served is what is documented.
//!
//! To add an operation: write the handler with its `#[utoipa::path]`
//! (`responses` lists its success and, from [`errors`], the errors it
//! answers besides those of its access), derive `ToSchema` on what it
//! reads and answers, and register it in its module's `routes()` with
//! `.routes(Access::..., routes!(handler))`.
//!
//! [`errors`]: super::error::errors

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Request};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::Route;
use std::convert::Infallible;
use std::sync::Arc;
use tower_layer::Layer;
use tower_service::Service;
use utoipa::openapi::path::Operation;
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{InfoBuilder, OpenApi, PathItem, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::AppState;
use super::auth::{self, Access, Caller};
use super::error::{ErrorBody, errors};
use parley_core::agents::Role;

/// A router whose every route is documented: routes come in only with a
/// `#[utoipa::path]` and an [`Access`].
pub struct ApiRouter {
    tag: &'static str,
    inner: OpenApiRouter<Arc<AppState>>,
}

impl ApiRouter {
    /// An empty router whose operations are grouped under `tag`.
    pub fn new(tag: &'static str) -> ApiRouter {
        ApiRouter {
            tag,
            inner: OpenApiRouter::default(),
        }
    }

    /// Adds the operations of `routes!(...)`, callable with `access`.
    pub fn routes(self, access: Access, routes: UtoipaMethodRouter<Arc<AppState>>) -> ApiRouter {
        let (schemas, mut paths, method_router) = routes;
        for item in paths.paths.values_mut() {
            for operation in operations(item) {
                declare(access, operation);
                operation.tags = Some(vec![self.tag.to_string()]);
            }
        }
        let method_router = match access.role() {
            None => method_router,
            Some(_) => method_router.route_layer(middleware::from_fn(
                move |request: Request, next: Next| auth::enforce(access, request, next),
            )),
        };
        ApiRouter {
            tag: self.tag,
            inner: self.inner.routes((schemas, paths, method_router)),
        }
    }

    /// Adds the operations of `other`.
    pub fn merge(self, other: ApiRouter) -> ApiRouter {
        ApiRouter {
            tag: self.tag,
            inner: self.inner.merge(other.inner),
        }
    }

    /// Adds the operations of `other` under `path`.
    pub fn nest(self, path: &str, other: ApiRouter) -> ApiRouter {
        ApiRouter {
            tag: self.tag,
            inner: self.inner.nest(path, other.inner),
        }
    }

    /// Wraps every route so far in `layer` (CORS, body limits).
    pub fn layer<L>(self, layer: L) -> ApiRouter
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        ApiRouter {
            tag: self.tag,
            inner: self.inner.layer(layer),
        }
    }

    /// The routes, serving the document at `/v1/openapi.json`, and the
    /// document.
    pub fn finish(self) -> (Router<Arc<AppState>>, OpenApi) {
        let (router, mut doc) = self
            .merge(ApiRouter::new("operations").routes(Access::PUBLIC, routes!(document)))
            .inner
            .split_for_parts();
        doc.info = InfoBuilder::new()
            .title("Parley API")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(
                "Interactions, agents, routing, channels and the event stream of a Parley \
                 server. Authenticate with `Authorization: Bearer <token>`: a session token \
                 (`POST /v1/sessions`), an API key (`POST /v1/api-keys`) or the admin token. \
                 The roles an operation's security names are the least the credential needs \
                 (agent < supervisor < admin). Errors answer with an `Error` body.",
            ))
            .build();
        let components = doc.components.get_or_insert_default();
        components
            .schemas
            .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
        for (name, scheme) in security_schemes() {
            components.add_security_scheme(name, scheme);
        }
        let text = serde_json::to_vec(&doc).expect("the OpenAPI document serializes");
        let router = router.layer(Extension(Document(Bytes::from(text))));
        (router, doc)
    }
}

/// The serialized document, for [`document`].
#[derive(Clone)]
struct Document(Bytes);

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    operation_id = "openapi",
    responses((status = OK, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json", body = Object))
)]
async fn document(Extension(Document(text)): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The security schemes [`declare`] names.
fn security_schemes() -> Vec<(&'static str, SecurityScheme)> {
    let bearer = |format: &str, description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format(format)
                .description(Some(description))
                .build(),
        )
    };
    vec![
        (
            "session",
            bearer(
                "session token",
                "A session token from `POST /v1/sessions`; it acts as the account, with the \
                 account's role.",
            ),
        ),
        (
            "apiKey",
            bearer(
                "API key",
                "An API key from `POST /v1/api-keys`; it acts with the key's role, for no account.",
            ),
        ),
        (
            "adminToken",
            bearer(
                "admin token",
                "The server's admin token (settings, `PARLEY_ADMIN_TOKEN` or \
                 `<data-dir>/admin-token`); it acts as an administrator, for no account.",
            ),
        ),
        (
            "tokenQuery",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "Any of the bearer credentials as `?token=`, where a browser cannot set \
                 headers (event streams, WebSockets, file links).",
            ))),
        ),
        (
            "chatKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Chat-Key",
                "The key `POST /v1/chat/sessions` answered with, for that chat only.",
            ))),
        ),
        (
            "chatKeyQuery",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "key",
                "The chat key as `?key=`, where a browser cannot set headers.",
            ))),
        ),
    ]
}

/// An optional body (`request_body = Option<T>`) is documented as `T`,
/// not required: it may be left out, not sent as `null`.
fn may_be_left_out(body: &mut RefOr<RequestBody>) {
    let RefOr::T(body) = body else { return };
    if body.required == Some(Required::True) {
        return;
    }
    for content in body.content.values_mut() {
        if let RefOr::T(content) = content
            && let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema
            && let [schema, RefOr::T(Schema::Object(null))] = one_of.items.as_slice()
            && null.schema_type == SchemaType::Type(Type::Null)
        {
            content.schema = Some(schema.clone());
        }
    }
    body.description
        .get_or_insert_with(|| "Optional: the body may be left out.".to_string());
}

/// Declares `access` on `operation`: its security requirements (the
/// roles are the least the credential needs) and the errors it answers.
fn declare(access: Access, operation: &mut Operation) {
    const NO_ROLES: [&str; 0] = [];
    let roles = |role: Role| [role.as_str()];
    let mut security = match access.caller {
        Caller::Public => Vec::new(),
        Caller::ChatKey => vec![
            SecurityRequirement::new("chatKey", NO_ROLES),
            SecurityRequirement::new("chatKeyQuery", NO_ROLES),
        ],
        Caller::Role(role) => vec![
            SecurityRequirement::new("session", roles(role)),
            SecurityRequirement::new("apiKey", roles(role)),
            SecurityRequirement::new("adminToken", NO_ROLES),
        ],
        Caller::Session(role) => vec![SecurityRequirement::new("session", roles(role))],
    };
    if let (true, Some(role)) = (access.token_in_query, access.role()) {
        security.push(SecurityRequirement::new("tokenQuery", roles(role)));
    }
    operation.security = Some(security);
    if let Some(body) = &mut operation.request_body {
        may_be_left_out(body);
    }
    let responses = &mut operation.responses.responses;
    let mut answers = |status: &str, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| errors::response(description).into());
    };
    if access.role().is_some() {
        answers(
            "401",
            "No valid credential: `unauthorized` (none sent, unknown, or an expired session).",
        );
    }
    if access.role().is_some_and(|role| role > Role::Agent) {
        answers("403", "The credential's role is not enough: `forbidden`.");
    }
    if let Caller::Session(_) = access.caller {
        answers(
            "400",
            "Not an account's session (an API key or the admin token): `bad-request`.",
        );
    }
}
