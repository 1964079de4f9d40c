//! The e-mail API: an interaction's messages and attachments, the reply
//! template and replies, the review of replies by supervisors, mailbox
//! status and kept malformed messages for operators, and the web form
//! intake (open to any origin).

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower_http::cors::CorsLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use super::auth::{Access, Principal, forbidden};
use super::channel::{ChannelApi, DesktopView};
use super::download::{FileBytes, download};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState, JsonBody};
use parley_email::EmailError;
use parley_email::mailbox::MailboxStatus;
use parley_email::outbox::{Reply, Verdict};
use parley_listener::ClientAddr;
use parley_store::email::{EmailMessage, MimeKind, NewAttachment, Status};

/// Largest reply with its attachments (base64 in JSON).
const MAX_REPLY_BYTES: usize = 32 * 1024 * 1024;

/// The e-mail channel's part of the API and the desktop.
pub struct EmailApi;

impl ChannelApi for EmailApi {
    fn routes(&self) -> ApiRouter {
        routes()
    }

    fn desktop_view(&self) -> DesktopView {
        DesktopView {
            module: "email.js",
            source: include_str!("../web/email.js"),
        }
    }
}

fn routes() -> ApiRouter {
    let forms = ApiRouter::new("e-mail")
        .routes(
            Access::PUBLIC,
            routes!(form).layer(DefaultBodyLimit::max(1024 * 1024)),
        )
        .layer(
            CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods(tower_http::cors::Any)
                .allow_headers(tower_http::cors::Any),
        );
    ApiRouter::new("e-mail")
        .routes(Access::AGENT, routes!(messages))
        .routes(Access::AGENT, routes!(template))
        .routes(
            Access::AGENT_SESSION,
            routes!(reply).layer(DefaultBodyLimit::max(MAX_REPLY_BYTES)),
        )
        .routes(Access::AGENT, routes!(attachment))
        .routes(Access::AGENT, routes!(message))
        .routes(Access::AGENT_SESSION, routes!(resubmit))
        .routes(Access::AGENT, routes!(mime))
        .routes(Access::SUPERVISOR, routes!(approve))
        .routes(Access::SUPERVISOR, routes!(reject))
        .routes(Access::SUPERVISOR, routes!(reviews))
        .routes(Access::SUPERVISOR, routes!(malformed))
        .routes(Access::SUPERVISOR, routes!(automatic))
        .routes(Access::SUPERVISOR, routes!(mailboxes))
        .merge(forms)
}

impl From<EmailError> for ApiError {
    fn from(err: EmailError) -> Self {
        let message = err.to_string();
        match err {
            EmailError::Invalid(_) | EmailError::Compose(_) => ApiError::bad_request(message),
            EmailError::Forbidden(_) => forbidden(message),
            EmailError::Engine(err) => err.into(),
            EmailError::Store(err) => err.into(),
        }
    }
}

/// Refuses unless the caller may see interaction `id` (supervisors, its
/// owner, parties or workbin owner).
async fn check_may_see(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<parley_store::Interaction, ApiError> {
    let interaction = state.engine.store().get(id).await?;
    if !principal.reader().sees(&interaction) {
        return Err(forbidden(format!("interaction `{id}` is not yours")));
    }
    Ok(interaction)
}

/// The e-mail messages of an interaction, oldest first.
#[utoipa::path(
    get,
    path = "/emails/{interaction}",
    operation_id = "list_emails",
    responses(
        (status = OK, description = "The messages.", body = Vec<EmailMessage>),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn messages(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(interaction): Path<String>,
) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    check_may_see(&state, &principal, &interaction).await?;
    Ok(Json(state.email.messages(&interaction).await?))
}

/// The reply to start from: recipients, `Re:` subject, the original
/// quoted.
#[utoipa::path(
    get,
    path = "/emails/{interaction}/reply",
    operation_id = "reply_template",
    responses(
        (status = OK, description = "The reply's draft.", body = EmailMessage),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn template(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(interaction): Path<String>,
) -> Result<Json<EmailMessage>, ApiError> {
    let interaction = check_may_see(&state, &principal, &interaction).await?;
    Ok(Json(state.email.template(&interaction).await?))
}

/// A file sent with a reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ReplyFile {
    /// File name.
    name: String,
    /// Media type.
    content_type: String,
    /// Base64.
    data: String,
}

/// `POST /v1/emails/{interaction}/replies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ReplyBody {
    /// Recipients (the template's if empty).
    #[serde(default)]
    to: Vec<String>,
    /// Copy recipients.
    #[serde(default)]
    cc: Vec<String>,
    /// Subject (the template's if absent).
    #[serde(default)]
    subject: Option<String>,
    /// Plain-text body.
    text: String,
    /// Files to attach.
    #[serde(default)]
    attachments: Vec<ReplyFile>,
    /// Ids of the interaction's received attachments to send again.
    #[serde(default)]
    forward: Vec<String>,
}

/// Reply: queued, or waiting for review when the author's group needs it.
#[utoipa::path(
    post,
    path = "/emails/{interaction}/replies",
    operation_id = "reply",
    request_body = ReplyBody,
    responses(
        (status = CREATED, description = "The reply.", body = EmailMessage),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::TooLarge,
        errors::Unavailable,
    )
)]
async fn reply(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(interaction): Path<String>,
    JsonBody(body): JsonBody<ReplyBody>,
) -> Result<(StatusCode, Json<EmailMessage>), ApiError> {
    let interaction = check_may_see(&state, &principal, &interaction).await?;
    let me = principal.account()?;
    if interaction.owner.as_deref() != Some(me) && !interaction.parties.iter().any(|p| p == me) {
        return Err(forbidden(format!(
            "interaction `{}` is not in your hands",
            interaction.id
        )));
    }
    let mut attachments = Vec::new();
    for file in body.attachments {
        let data = base64::engine::general_purpose::STANDARD
            .decode(file.data.as_bytes())
            .map_err(|_| {
                ApiError::bad_request(format!("attachment `{}` is not base64", file.name))
            })?;
        let name = parley_chat::files::clean_name(&file.name)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        attachments.push(NewAttachment {
            name,
            content_type: file.content_type,
            content_id: None,
            inline: false,
            data,
        });
    }
    for id in body.forward {
        let (owner, info, data) = state.engine.store().email_attachment(&id).await?;
        if owner != interaction.id {
            return Err(ApiError::bad_request(format!(
                "attachment `{id}` is not one of this interaction's"
            )));
        }
        attachments.push(NewAttachment {
            name: info.name,
            content_type: info.content_type,
            content_id: None,
            inline: false,
            data,
        });
    }
    let reply = Reply {
        to: body.to,
        cc: body.cc,
        subject: body.subject,
        text: body.text,
        attachments,
    };
    let message = state.email.reply(&interaction, me, reply).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// Download an e-mail attachment.
#[utoipa::path(
    get,
    path = "/email/attachments/{id}",
    operation_id = "email_attachment",
    responses(
        (status = OK, description = "The attachment, as a file of its type.", content_type = "application/octet-stream", body = inline(FileBytes)),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn attachment(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (interaction, info, data) = state.engine.store().email_attachment(&id).await?;
    check_may_see(&state, &principal, &interaction).await?;
    Ok(download(&info.name, &info.content_type, data))
}

/// An e-mail message.
#[utoipa::path(
    get,
    path = "/email/messages/{id}",
    operation_id = "show_email",
    responses(
        (status = OK, description = "The message.", body = EmailMessage),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn message(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<EmailMessage>, ApiError> {
    let message = state.engine.store().email(&id).await?;
    check_may_see(&state, &principal, &message.interaction_id).await?;
    Ok(Json(message))
}

/// `?kind=` of `GET /v1/email/messages/{id}/mime`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MimeQuery {
    /// Which copy: as received (the default for inbound messages), the
    /// original before the inbound transform, or as sent (the default for
    /// sent ones).
    #[serde(default)]
    kind: Option<MimeKind>,
}

/// The raw MIME of a message: as received, sent, or before its transform.
#[utoipa::path(
    get,
    path = "/email/messages/{id}/mime",
    operation_id = "email_mime",
    responses(
        (status = OK, description = "The message as a `.eml` file.", content_type = "message/rfc822", body = inline(FileBytes)),
        errors::Forbidden,
        errors::NotFound,
        errors::Unavailable,
    )
)]
async fn mime(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<MimeQuery>,
) -> Result<Response, ApiError> {
    let message = state.engine.store().email(&id).await?;
    check_may_see(&state, &principal, &message.interaction_id).await?;
    let kind = query.kind.unwrap_or(match message.status {
        Status::Sent => MimeKind::Sent,
        _ => MimeKind::Received,
    });
    let raw = state
        .engine
        .store()
        .email_mime(&id, kind)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("e-mail message `{id}` has no {kind:?} MIME copy"),
            )
        })?;
    Ok(download(&format!("{id}.eml"), "message/rfc822", raw))
}

/// An edit of a reply.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Edit {
    /// The new subject (unchanged if absent).
    #[serde(default)]
    subject: Option<String>,
    /// The new text (required when resubmitting).
    #[serde(default)]
    text: Option<String>,
}

/// The author's new version of a rejected reply, back to review; or of a
/// failed one (its send interrupted, or given up), queued to be sent again
/// with the same `Message-ID`.
#[utoipa::path(
    put,
    path = "/email/messages/{id}",
    operation_id = "resubmit_email",
    request_body = Edit,
    responses(
        (status = OK, description = "The reply.", body = EmailMessage),
        errors::BadRequest,
        errors::Forbidden,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn resubmit(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(edit): JsonBody<Edit>,
) -> Result<Json<EmailMessage>, ApiError> {
    let text = edit
        .text
        .ok_or_else(|| ApiError::bad_request("`text` is required"))?;
    state
        .email
        .resubmit(&id, principal.account()?, edit.subject, text)
        .await?;
    Ok(Json(state.engine.store().email(&id).await?))
}

/// Approve a reply under review, optionally with an edit.
#[utoipa::path(
    post,
    path = "/email/messages/{id}/approve",
    operation_id = "approve_email",
    request_body = Option<Edit>,
    responses(
        (status = OK, description = "The reply.", body = EmailMessage),
        errors::BadRequest,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn approve(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    body: Option<Json<Edit>>,
) -> Result<Json<EmailMessage>, ApiError> {
    let edit = body.map(|Json(edit)| edit).unwrap_or_default();
    let edit = edit.text.map(|text| (edit.subject, text));
    state
        .email
        .review(&id, &principal.id, Verdict::Approve(edit))
        .await?;
    Ok(Json(state.engine.store().email(&id).await?))
}

/// `POST /v1/email/messages/{id}/reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Rejection {
    /// Why, for the author.
    comment: String,
}

/// Send a reply under review back to its author with a comment.
#[utoipa::path(
    post,
    path = "/email/messages/{id}/reject",
    operation_id = "reject_email",
    request_body = Rejection,
    responses(
        (status = OK, description = "The reply.", body = EmailMessage),
        errors::BadRequest,
        errors::NotFound,
        errors::Conflict,
        errors::Unavailable,
    )
)]
async fn reject(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(rejection): JsonBody<Rejection>,
) -> Result<Json<EmailMessage>, ApiError> {
    if rejection.comment.trim().is_empty() {
        return Err(ApiError::bad_request("say why the reply is rejected"));
    }
    state
        .email
        .review(&id, &principal.id, Verdict::Reject(rejection.comment))
        .await?;
    Ok(Json(state.engine.store().email(&id).await?))
}

async fn in_status(state: &AppState, status: Status) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    Ok(Json(
        state
            .engine
            .store()
            .emails_in_status(status, None, 500)
            .await?,
    ))
}

/// Replies waiting for review.
#[utoipa::path(
    get,
    path = "/email/reviews",
    operation_id = "email_reviews",
    responses(
        (status = OK, description = "The replies.", body = Vec<EmailMessage>),
        errors::Unavailable,
    )
)]
async fn reviews(State(state): State<Arc<AppState>>) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    in_status(&state, Status::Review).await
}

/// Messages kept for inspection because they could not be read.
#[utoipa::path(
    get,
    path = "/email/malformed",
    operation_id = "malformed_emails",
    responses(
        (status = OK, description = "The messages.", body = Vec<EmailMessage>),
        errors::Unavailable,
    )
)]
async fn malformed(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    in_status(&state, Status::Malformed).await
}

/// Mail machines wrote in answer to something (auto-replies, reports
/// about no message of ours), kept out of agents' queues: the first 500.
#[utoipa::path(
    get,
    path = "/email/automatic",
    operation_id = "automatic_emails",
    responses(
        (status = OK, description = "The messages.", body = Vec<EmailMessage>),
        errors::Unavailable,
    )
)]
async fn automatic(
    State(state): State<Arc<AppState>>,
) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    in_status(&state, Status::Automatic).await
}

/// The mailboxes read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mailboxes {
    /// Each mailbox's status.
    pub mailboxes: Vec<MailboxStatus>,
}

/// Each mailbox: connected, messages taken in, last error.
#[utoipa::path(
    get,
    path = "/email/mailboxes",
    operation_id = "mailboxes",
    responses((status = OK, description = "The mailboxes.", body = Mailboxes))
)]
async fn mailboxes(State(state): State<Arc<AppState>>) -> Json<Mailboxes> {
    Json(Mailboxes {
        mailboxes: state.email.mailboxes(),
    })
}

/// What a web form post became.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormTaken {
    /// The interaction's id.
    pub interaction: String,
}

/// A web form post, `application/x-www-form-urlencoded` or a JSON object
/// of strings, taken in as an e-mail interaction. Posts are limited per
/// client address.
#[utoipa::path(
    post,
    path = "/email/forms/{form}",
    operation_id = "post_form",
    request_body(
        content(
            (BTreeMap<String, String> = "application/x-www-form-urlencoded"),
            (BTreeMap<String, String> = "application/json"),
        ),
        description = "The form's fields (at most 50).",
    ),
    responses(
        (status = CREATED, description = "Taken in.", body = FormTaken),
        errors::BadRequest,
        errors::TooLarge,
        errors::TooMany,
        errors::Unavailable,
    )
)]
async fn form(
    State(state): State<Arc<AppState>>,
    Path(form): Path<String>,
    client: ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<FormTaken>), ApiError> {
    let settings = state.email.form(&form)?;
    state.quotas.form_post.check(&client.0)?;
    if body.len() > settings.max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "form-too-large",
            format!("the form post is larger than {} bytes", settings.max_bytes),
        ));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let fields: BTreeMap<String, String> = if json {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!("the form must be a JSON object of strings: {e}"))
        })?
    } else {
        form_urlencoded::parse(&body).into_owned().collect()
    };
    if fields.len() > 50 {
        return Err(ApiError::bad_request("a form has at most 50 fields"));
    }
    let interaction = state.email.take_form(&form, &fields).await?;
    Ok((StatusCode::CREATED, Json(FormTaken { interaction })))
}
