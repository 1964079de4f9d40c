//! `/v1/plugins`: list, upload (validate then swap), roll back, invoke a
//! plugin function with JSON (for trying a plugin on a live server), the
//! recording of a plugin's calls, and shadow runs of a candidate version.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as JsonValue, json};
use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::audit;
use super::auth::{Access, Principal};
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState, JsonBody};
use parley_plugin::cases::Case;
use parley_plugin::invoke::{call_json, export_type, find_export, params_from_json};
use parley_plugin::observe::recorder::{Recorder, RecordingStatus};
use parley_plugin::observe::shadow::ShadowSummary;
use parley_plugin::registry::{Loaded, PluginStatus};
use parley_plugin::{Manifest, PluginSource};

/// Largest upload (components of interpreted languages are tens of MB).
const MAX_UPLOAD: usize = 128 << 20;

/// The routes, all for administrators.
pub fn routes() -> ApiRouter {
    ApiRouter::new("plugins")
        .routes(Access::ADMIN, routes!(list))
        .routes(Access::ADMIN, routes!(upload))
        .routes(Access::ADMIN, routes!(show))
        .routes(Access::ADMIN, routes!(rollback))
        .routes(Access::ADMIN, routes!(invoke))
        .routes(Access::ADMIN, routes!(recording))
        .routes(Access::ADMIN, routes!(recorded_calls))
        .routes(Access::ADMIN, routes!(shadow))
        .routes(Access::ADMIN, routes!(start_shadow))
        .routes(Access::ADMIN, routes!(stop_shadow))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
}

/// The loaded plugins with their versions and statistics.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "list_plugins",
    responses((status = OK, description = "The plugins.", body = Vec<PluginStatus>))
)]
async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<PluginStatus>> {
    Json(state.registry.list())
}

/// One plugin's status.
#[utoipa::path(
    get,
    path = "/{name}",
    operation_id = "show_plugin",
    responses(
        (status = OK, description = "The plugin.", body = PluginStatus),
        errors::NotFound,
    )
)]
async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<PluginStatus>, ApiError> {
    Ok(Json(state.registry.status(&name)?))
}

/// A version to load, as uploaded.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Upload {
    /// The `plugin.toml` text.
    pub manifest: String,
    /// The component, base64.
    pub component: String,
    /// Fixture cases by name.
    #[serde(default)]
    pub cases: BTreeMap<String, JsonValue>,
}

impl Upload {
    /// The version uploaded, from `origin`.
    fn source(&self, origin: &str) -> Result<PluginSource, ApiError> {
        let manifest = Manifest::parse(&self.manifest, FsPath::new("plugin.toml"))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let component = base64::engine::general_purpose::STANDARD
            .decode(self.component.as_bytes())
            .map_err(|e| ApiError::bad_request(format!("component is not base64: {e}")))?;
        let cases = self
            .cases
            .iter()
            .map(|(name, json)| Case::parse(name, &json.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiError::bad_request)?;
        let mut source = PluginSource::new(manifest, self.manifest.clone(), component, origin);
        source.cases = cases;
        Ok(source)
    }
}

/// Upload a plugin version: validated (its cases run), then swapped in.
#[utoipa::path(
    post,
    path = "/",
    operation_id = "upload_plugin",
    request_body = Upload,
    responses(
        (status = OK, description = "The version now live.", body = Loaded),
        errors::BadRequest,
        errors::Unprocessable,
    )
)]
async fn upload(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    JsonBody(upload): JsonBody<Upload>,
) -> Result<Json<Loaded>, ApiError> {
    let loaded = state.registry.load(upload.source("admin-api")?).await?;
    audited_load(&state, &principal, "plugin.uploaded", &loaded).await;
    Ok(Json(loaded))
}

/// Records a version made live.
async fn audited_load(state: &AppState, principal: &Principal, action: &str, loaded: &Loaded) {
    let detail = json!({ "version": loaded.version, "replaced": loaded.replaced });
    audit::record(state, principal, action, &loaded.plugin, detail).await;
}

/// The recorder of plugin `name`, or a 404.
fn recorder_of(state: &AppState, name: &str) -> Result<Arc<Recorder>, ApiError> {
    state.registry.observers().recorder(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("`{name}` is not recorded"),
        )
    })
}

/// The 404 for plugin `name` without a shadow run.
fn no_shadow(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no shadow runs beside `{name}`"),
    )
}

/// How far the recording of a plugin's calls is (`[[recording]]`).
#[utoipa::path(
    get,
    path = "/{name}/recording",
    operation_id = "plugin_recording",
    responses(
        (status = OK, description = "The recording.", body = RecordingStatus),
        errors::NotFound,
    )
)]
async fn recording(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<RecordingStatus>, ApiError> {
    Ok(Json(recorder_of(&state, &name)?.status()))
}

/// The recorded calls: one fixture case per line (JSON lines).
#[utoipa::path(
    get,
    path = "/{name}/recording/calls",
    operation_id = "plugin_recorded_calls",
    responses(
        (status = OK, description = "The recording file.", content_type = "application/x-ndjson", body = String),
        errors::NotFound,
        errors::Internal,
    )
)]
async fn recorded_calls(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let path = recorder_of(&state, &name)?.status().file;
    let lines = match tokio::fs::read(&path).await {
        Ok(lines) => lines,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("{}: {e}", path.display()),
            ));
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], lines))
}

/// How often the shadow candidate agrees with the live version.
#[utoipa::path(
    get,
    path = "/{name}/shadow",
    operation_id = "plugin_shadow",
    responses(
        (status = OK, description = "The shadow run so far.", body = ShadowSummary),
        errors::NotFound,
    )
)]
async fn shadow(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<ShadowSummary>, ApiError> {
    let shadow = state
        .registry
        .observers()
        .shadow(&name)
        .ok_or_else(|| no_shadow(&name))?;
    Ok(Json(shadow.summary()))
}

/// Run a candidate version (an upload) in the shadow of the live one.
#[utoipa::path(
    post,
    path = "/{name}/shadow",
    operation_id = "start_plugin_shadow",
    request_body = Upload,
    responses(
        (status = OK, description = "The shadow run.", body = ShadowSummary),
        errors::BadRequest,
        errors::NotFound,
        errors::Unprocessable,
    )
)]
async fn start_shadow(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
    JsonBody(upload): JsonBody<Upload>,
) -> Result<Json<ShadowSummary>, ApiError> {
    let source = upload.source("shadow")?;
    if source.manifest.name != name {
        return Err(ApiError::bad_request(format!(
            "the candidate is `{}`, not `{name}`",
            source.manifest.name
        )));
    }
    let summary = state.registry.start_shadow(source).await?;
    audit::record(
        &state,
        &principal,
        "plugin.shadow-started",
        &name,
        json!({}),
    )
    .await;
    Ok(Json(summary))
}

/// Stop the shadow run; its final summary.
#[utoipa::path(
    delete,
    path = "/{name}/shadow",
    operation_id = "stop_plugin_shadow",
    responses(
        (status = OK, description = "The shadow run's final summary.", body = ShadowSummary),
        errors::NotFound,
    )
)]
async fn stop_shadow(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Json<ShadowSummary>, ApiError> {
    let shadow = state
        .registry
        .observers()
        .remove_shadow(&name)
        .ok_or_else(|| no_shadow(&name))?;
    audit::record(
        &state,
        &principal,
        "plugin.shadow-stopped",
        &name,
        json!({}),
    )
    .await;
    Ok(Json(shadow.summary()))
}

/// Which version to roll back to.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RollbackTo {
    /// A version id or a unique prefix; default: the one before the live one.
    #[serde(default)]
    pub to: Option<String>,
}

/// Make an earlier version live again.
#[utoipa::path(
    post,
    path = "/{name}/rollback",
    operation_id = "rollback_plugin",
    request_body = Option<RollbackTo>,
    responses(
        (status = OK, description = "The version now live.", body = Loaded),
        errors::BadRequest,
        errors::NotFound,
        errors::Unprocessable,
    )
)]
async fn rollback(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    Path(name): Path<String>,
    body: Option<Json<RollbackTo>>,
) -> Result<Json<Loaded>, ApiError> {
    let to = body.and_then(|Json(b)| b.to);
    let loaded = state.registry.rollback(&name, to.as_deref()).await?;
    audited_load(&state, &principal, "plugin.rolled-back", &loaded).await;
    Ok(Json(loaded))
}

/// A function call with JSON arguments.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Invocation {
    /// The exported function, as named in the WIT (`pick-agent`).
    pub function: String,
    /// Arguments by WIT parameter name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub input: Map<String, JsonValue>,
}

/// The result of an invocation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Invoked {
    /// The version that answered.
    pub version: String,
    /// What it returned, as WIT-shaped JSON.
    pub output: JsonValue,
    /// Instructions used.
    pub fuel: u64,
    /// Wall-clock time in microseconds.
    pub elapsed_us: u64,
}

/// Call a plugin function with JSON arguments, on a fresh instance of the
/// live version apart from live traffic: an empty key-value store of its
/// own, not counted in the version's statistics.
#[utoipa::path(
    post,
    path = "/{name}/invoke",
    operation_id = "invoke_plugin",
    request_body = Invocation,
    responses(
        (status = OK, description = "What it returned.", body = Invoked),
        errors::BadRequest,
        errors::NotFound,
        errors::Unprocessable,
        errors::Unavailable,
    )
)]
async fn invoke(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(invocation): JsonBody<Invocation>,
) -> Result<Json<Invoked>, ApiError> {
    let version = state.registry.get(&name)?;
    let export = version.export_name();
    let function = invocation.function.as_str();
    let ty = export_type(&version, function).ok_or_else(|| {
        ApiError::bad_request(format!("`{name}` exports no function `{function}`"))
    })?;
    let params =
        params_from_json(&ty, function, &invocation.input).map_err(ApiError::bad_request)?;
    let called = version
        .call_apart(async |store, guest| {
            let func = find_export(store, &guest.instance, export, function)
                .ok_or_else(|| wasmtime::format_err!("no exported function `{function}`"))?;
            call_json(store, func, &params).await
        })
        .await?;
    Ok(Json(Invoked {
        version: version.id.clone(),
        output: called.value,
        fuel: called.fuel,
        elapsed_us: called.elapsed.as_micros() as u64,
    }))
}
