//! Operations: live statistics for supervisors (`/v1/stats/...`),
//! Prometheus metrics (`/metrics`) and readiness (`/ready`).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::Value as Json_;
use std::fmt::Write as _;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::auth::Access;
use super::error::errors;
use super::openapi::ApiRouter;
use super::{ApiError, AppState};
use parley_core::agents::PresenceState;
use parley_engine::stats::{AgentStats, QueueStats, Totals};
use parley_plugin::registry::PluginStatus;
use parley_plugin::version::{StatsSnapshot, short_id};

/// The supervisor routes, under `/v1`.
pub fn routes() -> ApiRouter {
    ApiRouter::new("statistics")
        .routes(Access::SUPERVISOR, routes!(queues))
        .routes(Access::SUPERVISOR, routes!(agents))
        .routes(Access::SUPERVISOR, routes!(totals))
}

/// The routes for operators: `/health` and `/ready` for anyone (readiness
/// says why not only in the log), `/metrics` for a supervisor's credential
/// (an API key for the scraper).
pub fn operations() -> ApiRouter {
    ApiRouter::new("operations")
        .routes(Access::PUBLIC, routes!(health))
        .routes(Access::PUBLIC, routes!(ready))
        .routes(Access::SUPERVISOR, routes!(metrics))
}

/// Per queue: waiting, offered, oldest, estimated wait.
#[utoipa::path(
    get,
    path = "/stats/queues",
    operation_id = "queue_stats",
    responses(
        (status = OK, description = "The queues.", body = Vec<QueueStats>),
        errors::Unavailable,
    )
)]
async fn queues(State(state): State<Arc<AppState>>) -> Result<Json<Vec<QueueStats>>, ApiError> {
    Ok(Json(state.engine.queue_stats().await?))
}

/// Per agent: presence, load, idle time, offers answered.
#[utoipa::path(
    get,
    path = "/stats/agents",
    operation_id = "agent_stats",
    responses((status = OK, description = "The agents.", body = Vec<AgentStats>))
)]
async fn agents(State(state): State<Arc<AppState>>) -> Json<Vec<AgentStats>> {
    Json(state.engine.agent_stats())
}

/// Counters since start.
#[utoipa::path(
    get,
    path = "/stats/totals",
    operation_id = "totals",
    responses((status = OK, description = "The counters.", body = Totals))
)]
async fn totals(State(state): State<Arc<AppState>>) -> Json<Totals> {
    Json(state.engine.totals())
}

/// What `/health` and `/ready` answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HealthStatus)]
pub struct Status {
    /// `ok` (health), `ready` or `unavailable` (readiness).
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    responses((status = OK, description = "Alive.", body = Status))
)]
async fn health() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: 200 when the database answers and routing has resumed.
#[utoipa::path(
    get,
    path = "/ready",
    operation_id = "ready",
    responses(
        (status = OK, description = "Ready.", body = Status),
        (status = SERVICE_UNAVAILABLE, description = "Not ready (the log says why).", body = Status),
    )
)]
async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.engine.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(Status { status: "ready" })),
        Err(err) => {
            tracing::warn!("not ready: {err}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Status {
                    status: "unavailable",
                }),
            )
        }
    }
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Reads one counter of a version's statistics.
type CounterOf = fn(&StatsSnapshot) -> u64;

/// The calls, instructions, failures and outbound requests of each live
/// plugin version, labelled by plugin and version.
fn plugin_metrics(out: &mut String, plugins: &[PluginStatus]) {
    let label =
        |p: &PluginStatus| format!("plugin=\"{}\",version=\"{}\"", p.name, short_id(&p.live.id));
    let counters: [(&str, &str, CounterOf); 2] = [
        (
            "parley_plugin_calls_total",
            "Calls of a plugin version.",
            |s| s.calls,
        ),
        (
            "parley_plugin_fuel_total",
            "Instructions used by a plugin version's successful calls.",
            |s| s.fuel,
        ),
    ];
    for (name, help, value) in counters {
        metric(out, name, "counter", help);
        for p in plugins {
            let _ = writeln!(out, "{name}{{{}}} {}", label(p), value(&p.live.stats));
        }
    }
    metric(
        out,
        "parley_plugin_failures_total",
        "counter",
        "Failed calls of a plugin version, per kind.",
    );
    for p in plugins {
        for (kind, n) in &p.live.stats.failures {
            let _ = writeln!(
                out,
                "parley_plugin_failures_total{{{},kind=\"{}\"}} {n}",
                label(p),
                kind.as_str()
            );
        }
    }
    metric(
        out,
        "parley_plugin_http_requests_total",
        "counter",
        "Outbound HTTP requests of a plugin version: sent, refused before sending, failed.",
    );
    for p in plugins {
        if let Some(http) = &p.live.stats.http {
            for (outcome, n) in [
                ("sent", http.sent),
                ("refused", http.refused),
                ("failed", http.failed),
            ] {
                let _ = writeln!(
                    out,
                    "parley_plugin_http_requests_total{{{},outcome=\"{outcome}\"}} {n}",
                    label(p)
                );
            }
        }
    }
}

/// Prometheus metrics, in the text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    responses(
        (status = OK, description = "The metrics.", content_type = "text/plain", body = String),
        errors::Unavailable,
    )
)]
async fn metrics(State(state): State<Arc<AppState>>) -> Result<impl IntoResponse, ApiError> {
    let totals = serde_json::to_value(state.engine.totals()).unwrap_or(Json_::Null);
    let mut out = String::new();
    for (key, help) in [
        ("offered", "Offers made to agents."),
        ("accepted", "Offers accepted."),
        ("rejected", "Offers rejected."),
        ("timed-out", "Offers not answered in time."),
        ("completed", "Interactions completed."),
        (
            "router-failures",
            "Router calls that failed (the queue's fallback applied).",
        ),
    ] {
        let name = format!("parley_{}_total", key.replace('-', "_"));
        metric(&mut out, &name, "counter", help);
        let _ = writeln!(out, "{name} {}", totals[key].as_u64().unwrap_or(0));
    }
    metric(
        &mut out,
        "parley_queue_waiting",
        "gauge",
        "Interactions waiting in a queue.",
    );
    metric(
        &mut out,
        "parley_queue_oldest_seconds",
        "gauge",
        "Age of the oldest waiting interaction.",
    );
    let queues = state.engine.queue_stats().await?;
    for q in &queues {
        let _ = writeln!(
            out,
            "parley_queue_waiting{{queue=\"{}\"}} {}",
            q.queue, q.waiting
        );
        let oldest = q.oldest_ms.unwrap_or(0) as f64 / 1000.0;
        let _ = writeln!(
            out,
            "parley_queue_oldest_seconds{{queue=\"{}\"}} {oldest}",
            q.queue
        );
    }
    metric(
        &mut out,
        "parley_agents_ready",
        "gauge",
        "Agents ready, per media type.",
    );
    let mut ready = std::collections::BTreeMap::<String, u64>::new();
    let agents = state.engine.agent_stats();
    for agent in &agents {
        for (media, p) in &agent.presence.0 {
            if p.state == PresenceState::Ready {
                *ready.entry(media.clone()).or_default() += 1;
            }
        }
    }
    for (media, count) in ready {
        let _ = writeln!(out, "parley_agents_ready{{media=\"{media}\"}} {count}");
    }
    metric(
        &mut out,
        "parley_agent_load",
        "gauge",
        "Interactions agents hold, per media type.",
    );
    let mut load = std::collections::BTreeMap::<String, u64>::new();
    for agent in &agents {
        for (media, n) in &agent.load {
            *load.entry(media.clone()).or_default() += u64::from(*n);
        }
    }
    for (media, n) in load {
        let _ = writeln!(out, "parley_agent_load{{media=\"{media}\"}} {n}");
    }
    plugin_metrics(&mut out, &state.registry.list());
    metric(
        &mut out,
        "parley_rate_limited_total",
        "counter",
        "Requests refused by a rate limit or quota (429), per limit.",
    );
    let refusals = state.quotas.refusals();
    for (limit, n) in refusals.into_iter().chain(state.chat.refusals()) {
        let _ = writeln!(out, "parley_rate_limited_total{{limit=\"{limit}\"}} {n}");
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
