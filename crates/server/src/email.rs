//! The e-mail API: an interaction's messages and attachments, the reply
//! template and replies, the review of replies by supervisors, mailbox
//! status and kept malformed messages for operators, and the web form
//! intake (open to any origin).

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower_http::cors::CorsLayer;

use super::auth::{Principal, forbidden};
use super::channel::{ChannelApi, DesktopView};
use super::download::download;
use super::interactions::may_see;
use super::{ApiError, AppState, JsonBody};
use parley_core::agents::Role;
use parley_email::EmailError;
use parley_email::outbox::{Reply, Verdict};
use parley_store::email::{EmailMessage, MimeKind, NewAttachment, Status};

/// Largest reply with its attachments (base64 in JSON).
const MAX_REPLY_BYTES: usize = 32 * 1024 * 1024;

/// The e-mail channel's part of the API and the desktop.
pub struct EmailApi;

impl ChannelApi for EmailApi {
    fn routes(&self) -> Router<Arc<AppState>> {
        routes()
    }

    fn desktop_view(&self) -> DesktopView {
        DesktopView {
            module: "email.js",
            source: include_str!("../web/email.js"),
        }
    }
}

fn routes() -> Router<Arc<AppState>> {
    let forms = Router::new()
        .route(
            "/email/forms/{form}",
            post(form).layer(DefaultBodyLimit::max(1024 * 1024)),
        )
        .layer(
            CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods(tower_http::cors::Any)
                .allow_headers(tower_http::cors::Any),
        );
    Router::new()
        .route("/emails/{interaction}", get(messages))
        .route("/emails/{interaction}/reply", get(template))
        .route(
            "/emails/{interaction}/replies",
            post(reply).layer(DefaultBodyLimit::max(MAX_REPLY_BYTES)),
        )
        .route("/email/attachments/{id}", get(attachment))
        .route("/email/messages/{id}", get(message).put(resubmit))
        .route("/email/messages/{id}/mime", get(mime))
        .route("/email/messages/{id}/approve", post(approve))
        .route("/email/messages/{id}/reject", post(reject))
        .route("/email/reviews", get(reviews))
        .route("/email/malformed", get(malformed))
        .route("/email/mailboxes", get(mailboxes))
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
    principal.require(Role::Agent)?;
    let interaction = state.engine.store().get(id).await?;
    if !may_see(principal, &interaction) {
        return Err(forbidden(format!("interaction `{id}` is not yours")));
    }
    Ok(interaction)
}

async fn messages(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(interaction): Path<String>,
) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    check_may_see(&state, &principal, &interaction).await?;
    Ok(Json(state.email.messages(&interaction).await?))
}

async fn template(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(interaction): Path<String>,
) -> Result<Json<EmailMessage>, ApiError> {
    let interaction = check_may_see(&state, &principal, &interaction).await?;
    Ok(Json(state.email.template(&interaction).await?))
}

/// A file sent with a reply.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ReplyFile {
    name: String,
    content_type: String,
    /// Base64.
    data: String,
}

/// `POST /v1/emails/{interaction}/replies`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ReplyBody {
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    cc: Vec<String>,
    #[serde(default)]
    subject: Option<String>,
    text: String,
    #[serde(default)]
    attachments: Vec<ReplyFile>,
    /// Ids of the interaction's received attachments to send again.
    #[serde(default)]
    forward: Vec<String>,
}

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

async fn attachment(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (interaction, info, data) = state.engine.store().email_attachment(&id).await?;
    check_may_see(&state, &principal, &interaction).await?;
    Ok(download(&info.name, &info.content_type, data))
}

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
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct MimeQuery {
    #[serde(default)]
    kind: Option<MimeKind>,
}

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
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Edit {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

async fn resubmit(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(edit): JsonBody<Edit>,
) -> Result<Json<EmailMessage>, ApiError> {
    principal.require(Role::Agent)?;
    let text = edit
        .text
        .ok_or_else(|| ApiError::bad_request("`text` is required"))?;
    state
        .email
        .resubmit(&id, principal.account()?, edit.subject, text)
        .await?;
    Ok(Json(state.engine.store().email(&id).await?))
}

async fn approve(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    body: Option<Json<Edit>>,
) -> Result<Json<EmailMessage>, ApiError> {
    principal.require(Role::Supervisor)?;
    let edit = body.map(|Json(edit)| edit).unwrap_or_default();
    let edit = edit.text.map(|text| (edit.subject, text));
    state
        .email
        .review(&id, &principal.id, Verdict::Approve(edit))
        .await?;
    Ok(Json(state.engine.store().email(&id).await?))
}

/// `POST /v1/email/messages/{id}/reject`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Rejection {
    comment: String,
}

async fn reject(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(rejection): JsonBody<Rejection>,
) -> Result<Json<EmailMessage>, ApiError> {
    principal.require(Role::Supervisor)?;
    if rejection.comment.trim().is_empty() {
        return Err(ApiError::bad_request("say why the reply is rejected"));
    }
    state
        .email
        .review(&id, &principal.id, Verdict::Reject(rejection.comment))
        .await?;
    Ok(Json(state.engine.store().email(&id).await?))
}

async fn in_status(
    state: &AppState,
    principal: &Principal,
    status: Status,
) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    principal.require(Role::Supervisor)?;
    Ok(Json(
        state
            .engine
            .store()
            .emails_in_status(status, None, 500)
            .await?,
    ))
}

async fn reviews(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    in_status(&state, &principal, Status::Review).await
}

async fn malformed(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<EmailMessage>>, ApiError> {
    in_status(&state, &principal, Status::Malformed).await
}

async fn mailboxes(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Role::Supervisor)?;
    Ok(Json(json!({ "mailboxes": state.email.mailboxes() })))
}

/// A web form post: `application/x-www-form-urlencoded` or a JSON object
/// of strings.
async fn form(
    State(state): State<Arc<AppState>>,
    Path(form): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let settings = state.email.form(&form)?;
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
    Ok((
        StatusCode::CREATED,
        Json(json!({ "interaction": interaction })),
    ))
}
