//! `/v1/plugins`: list, upload (validate then swap), roll back, and invoke
//! a plugin function with JSON (for trying a plugin on a live server).

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as JsonValue};
use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use super::{ApiError, AppState, JsonBody, auth};
use crate::plugin::fixtures::Case;
use crate::plugin::invoke::{call_json, export_type, find_export, params_from_json};
use crate::plugin::registry::{Loaded, PluginStatus};
use crate::plugin::{Manifest, PluginSource};

/// Largest upload (components of interpreted languages are tens of MB).
const MAX_UPLOAD: usize = 128 << 20;

/// The routes, all behind the admin token.
pub fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(list).post(upload))
        .route("/{name}", get(show))
        .route("/{name}/rollback", post(rollback))
        .route("/{name}/invoke", post(invoke))
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

async fn upload(
    State(state): State<Arc<AppState>>,
    JsonBody(upload): JsonBody<Upload>,
) -> Result<Json<Loaded>, ApiError> {
    let manifest = Manifest::parse(&upload.manifest, FsPath::new("plugin.toml"))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let component = base64::engine::general_purpose::STANDARD
        .decode(upload.component.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("component is not base64: {e}")))?;
    let cases = upload
        .cases
        .iter()
        .map(|(name, json)| Case::parse(name, &json.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::bad_request)?;
    let mut source = PluginSource::new(manifest, upload.manifest, component, "admin-api");
    source.cases = cases;
    Ok(Json(state.registry.load(source).await?))
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
