//! `/v1/plugins`: list, upload (validate then swap), roll back, invoke a
//! plugin function with JSON (for trying a plugin on a live server), the
//! recording of a plugin's calls, and shadow runs of a candidate version.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as JsonValue};
use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use super::{ApiError, AppState, JsonBody, auth};
use parley_plugin::cases::Case;
use parley_plugin::invoke::{call_json, export_type, find_export, params_from_json};
use parley_plugin::observe::recorder::{Recorder, RecordingStatus};
use parley_plugin::observe::shadow::ShadowSummary;
use parley_plugin::registry::{Loaded, PluginStatus};
use parley_plugin::{Manifest, PluginSource};

/// Largest upload (components of interpreted languages are tens of MB).
const MAX_UPLOAD: usize = 128 << 20;

/// The routes, all behind the admin token.
pub fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(list).post(upload))
        .route("/{name}", get(show))
        .route("/{name}/rollback", post(rollback))
        .route("/{name}/invoke", post(invoke))
        .route("/{name}/recording", get(recording))
        .route("/{name}/recording/calls", get(recorded_calls))
        .route(
            "/{name}/shadow",
            get(shadow).post(start_shadow).delete(stop_shadow),
        )
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .layer(middleware::from_fn_with_state(state, auth::require_admin))
}

async fn list(State(state): State<Arc<AppState>>) -> Json<Vec<PluginStatus>> {
    Json(state.registry.list())
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<PluginStatus>, ApiError> {
    Ok(Json(state.registry.status(&name)?))
}

/// A version to load, as uploaded.
#[derive(Debug, Deserialize, Serialize)]
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

async fn upload(
    State(state): State<Arc<AppState>>,
    JsonBody(upload): JsonBody<Upload>,
) -> Result<Json<Loaded>, ApiError> {
    Ok(Json(
        state.registry.load(upload.source("admin-api")?).await?,
    ))
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

async fn recording(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<RecordingStatus>, ApiError> {
    Ok(Json(recorder_of(&state, &name)?.status()))
}

/// The recording file: one recorded call per line (JSON lines).
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

async fn start_shadow(
    State(state): State<Arc<AppState>>,
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
    Ok(Json(state.registry.start_shadow(source).await?))
}

async fn stop_shadow(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<ShadowSummary>, ApiError> {
    let shadow = state
        .registry
        .observers()
        .remove_shadow(&name)
        .ok_or_else(|| no_shadow(&name))?;
    Ok(Json(shadow.summary()))
}

/// Which version to roll back to.
#[derive(Debug, Default, Deserialize)]
pub struct RollbackTo {
    /// A version id or a unique prefix; default: the one before the live one.
    #[serde(default)]
    pub to: Option<String>,
}

async fn rollback(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    body: Option<Json<RollbackTo>>,
) -> Result<Json<Loaded>, ApiError> {
    let to = body.and_then(|Json(b)| b.to);
    Ok(Json(state.registry.rollback(&name, to.as_deref()).await?))
}

/// A function call with JSON arguments.
#[derive(Debug, Deserialize)]
pub struct Invocation {
    /// The exported function, as named in the WIT (`pick-agent`).
    pub function: String,
    /// Arguments by WIT parameter name.
    #[serde(default)]
    pub input: Map<String, JsonValue>,
}

/// The result of an invocation.
#[derive(Debug, Serialize)]
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
        .call(async |store, instance| {
            let func = find_export(store, instance, export, function)
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
