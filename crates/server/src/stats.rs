//! Operations: live statistics for supervisors (`/v1/stats/...`),
//! Prometheus metrics (`/metrics`) and readiness (`/ready`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value as Json_, json};
use std::fmt::Write as _;
use std::sync::Arc;

use super::auth::Principal;
use super::{ApiError, AppState};
use parley_core::agents::{PresenceState, Role};
use parley_engine::stats::{AgentStats, QueueStats, Totals};

/// The supervisor routes, under `/v1`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/stats/queues", get(queues))
        .route("/stats/agents", get(agents))
        .route("/stats/totals", get(totals))
}

async fn queues(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<QueueStats>>, ApiError> {
    principal.require(Role::Supervisor)?;
    Ok(Json(state.engine.queue_stats().await?))
}

async fn agents(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<AgentStats>>, ApiError> {
    principal.require(Role::Supervisor)?;
    Ok(Json(state.engine.agent_stats()))
}

async fn totals(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Totals>, ApiError> {
    principal.require(Role::Supervisor)?;
    Ok(Json(state.engine.totals()))
}

/// `GET /ready`: 200 when the database answers and routing has resumed.
pub async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.engine.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": err.to_string() })),
        ),
    }
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `GET /metrics`, in the Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<impl IntoResponse, ApiError> {
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
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
