//! Statistics: counters since start (for `/metrics`), live queue figures
//! (waiting, oldest, estimated wait) and agent figures (presence, load,
//! offers answered).

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Engine;
use parley_core::agents::{Load, Presence};
use parley_store::{Interaction, StoreError, now_ms};

/// The window over which a queue's offer rate is measured for its
/// estimated wait.
const RATE_WINDOW_MS: i64 = 5 * 60 * 1000;

/// Counters since the engine started.
#[derive(Default)]
pub(super) struct Counters {
    offered: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    timed_out: AtomicU64,
    completed: AtomicU64,
    router_failures: AtomicU64,
    per_agent: Mutex<HashMap<String, AgentCounts>>,
    /// Offer times per queue, within the rate window.
    recent_offers: Mutex<HashMap<String, VecDeque<i64>>>,
    /// Sum and count of submit-to-offer times, ms.
    to_offer: Mutex<(u64, u64)>,
}

/// What one agent did since start.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AgentCounts {
    /// Offers accepted.
    pub accepted: u64,
    /// Offers rejected.
    pub rejected: u64,
    /// Offers left unanswered.
    pub timed_out: u64,
}

impl Counters {
    fn agent(&self, agent: &str, bump: impl FnOnce(&mut AgentCounts)) {
        let mut map = self.per_agent.lock().unwrap_or_else(|p| p.into_inner());
        bump(map.entry(agent.to_string()).or_default());
    }

    pub fn offered(&self, interaction: &Interaction) {
        self.offered.fetch_add(1, Ordering::Relaxed);
        let now = now_ms();
        if let Some(queue) = &interaction.queue {
            let mut recent = self.recent_offers.lock().unwrap_or_else(|p| p.into_inner());
            let times = recent.entry(queue.clone()).or_default();
            times.push_back(now);
            while times.front().is_some_and(|t| *t < now - RATE_WINDOW_MS) {
                times.pop_front();
            }
        }
        let mut total = self.to_offer.lock().unwrap_or_else(|p| p.into_inner());
        total.0 += now.saturating_sub(interaction.submitted_at).max(0) as u64;
        total.1 += 1;
    }

    pub fn accepted(&self, agent: &str) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.agent(agent, |c| c.accepted += 1);
    }

    pub fn rejected(&self, agent: &str) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        self.agent(agent, |c| c.rejected += 1);
    }

    pub fn timed_out(&self, agent: &str) {
        self.timed_out.fetch_add(1, Ordering::Relaxed);
        self.agent(agent, |c| c.timed_out += 1);
    }

    pub fn completed(&self, _interaction: &Interaction) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn router_failure(&self) {
        self.router_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Offers per ms in `queue` over the rate window.
    fn offer_rate(&self, queue: &str, now: i64) -> f64 {
        let recent = self.recent_offers.lock().unwrap_or_else(|p| p.into_inner());
        let count = recent.get(queue).map_or(0, |times| {
            times.iter().filter(|t| **t >= now - RATE_WINDOW_MS).count()
        });
        count as f64 / RATE_WINDOW_MS as f64
    }
}

/// Live figures of one queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct QueueStats {
    /// Queue name.
    pub queue: String,
    /// Interactions waiting (queued or being routed).
    pub waiting: u64,
    /// Interactions offered to an agent, unanswered.
    pub offered: u64,
    /// Age of the oldest waiting interaction in the queue, ms.
    pub oldest_ms: Option<u64>,
    /// Estimated wait of a new interaction, ms: those ahead divided by the
    /// queue's offer rate over the last five minutes (none without offers).
    pub estimated_wait_ms: Option<u64>,
}

/// Where an interaction stands in its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Standing {
    /// Its place among those waiting in its queue (1: next).
    pub position: u64,
    /// Its estimated wait, ms: its place divided by the queue's offer rate
    /// over the last five minutes (none without offers).
    pub estimated_wait_ms: Option<u64>,
}

/// Live figures of one agent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AgentStats {
    /// Agent id.
    pub agent: String,
    /// Presence per media type.
    pub presence: Presence,
    /// Interactions held now, per media type.
    #[schema(value_type = std::collections::BTreeMap<String, u32>)]
    pub load: Load,
    pub idle_ms: u64,
    /// Offers answered since start.
    pub counts: AgentCounts,
}

/// Counters since start.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Totals {
    /// Offers made.
    pub offered: u64,
    /// Offers accepted.
    pub accepted: u64,
    /// Offers rejected.
    pub rejected: u64,
    /// Offers unanswered in time.
    pub timed_out: u64,
    /// Interactions completed.
    pub completed: u64,
    /// Router calls that failed (fallback applied).
    pub router_failures: u64,
    /// Mean submit-to-offer time, ms.
    pub mean_submit_to_offer_ms: Option<f64>,
    /// Interactions waiting for an agent or a timer now.
    pub waiting: u64,
    /// Interactions a strategy is deciding on now.
    pub routing: u64,
}

impl Engine {
    /// Live figures of every configured queue.
    pub async fn queue_stats(&self) -> Result<Vec<QueueStats>, StoreError> {
        let now = now_ms();
        let counts = self.store.queue_counts().await?;
        let config = self.processes.current();
        Ok(config
            .queues()
            .map(|q| {
                let count = counts.get(&q.name).cloned().unwrap_or_default();
                let rate = self.counters.offer_rate(&q.name, now);
                QueueStats {
                    queue: q.name.clone(),
                    waiting: count.waiting,
                    offered: count.offered,
                    oldest_ms: count
                        .oldest_queued_at
                        .map(|t| now.saturating_sub(t).max(0) as u64),
                    estimated_wait_ms: (rate > 0.0)
                        .then(|| ((count.waiting + 1) as f64 / rate) as u64),
                }
            })
            .collect())
    }

    /// Where `interaction` stands in its queue: those waiting there with a
    /// higher priority, or the same priority and more time in the queue,
    /// are ahead of it.
    pub fn standing(&self, interaction: &Interaction) -> Standing {
        let ahead = {
            let board = self.board();
            board
                .waiting
                .values()
                .map(|w| &w.interaction)
                .filter(|w| {
                    w.id != interaction.id
                        && w.queue == interaction.queue
                        && (w.priority > interaction.priority
                            || (w.priority == interaction.priority
                                && w.queued_at < interaction.queued_at))
                })
                .count() as u64
        };
        let rate = interaction
            .queue
            .as_deref()
            .map_or(0.0, |q| self.counters.offer_rate(q, now_ms()));
        let position = ahead + 1;
        Standing {
            position,
            estimated_wait_ms: (rate > 0.0).then(|| (position as f64 / rate) as u64),
        }
    }

    /// Live figures of every agent.
    pub fn agent_stats(&self) -> Vec<AgentStats> {
        let now = now_ms();
        let counts = self
            .counters
            .per_agent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let board = self.board();
        let mut stats: Vec<AgentStats> = board
            .agents
            .values()
            .map(|live| AgentStats {
                agent: live.agent.id.clone(),
                presence: live.agent.presence.clone(),
                load: live.load().clone(),
                idle_ms: if live.holding().is_empty() {
                    now.saturating_sub(live.idle_since).max(0) as u64
                } else {
                    0
                },
                counts: counts.get(&live.agent.id).cloned().unwrap_or_default(),
            })
            .collect();
        stats.sort_by(|a, b| a.agent.cmp(&b.agent));
        stats
    }

    /// Counters since start.
    pub fn totals(&self) -> Totals {
        let c = &self.counters;
        let (sum, count) = *c.to_offer.lock().unwrap_or_else(|p| p.into_inner());
        let board = self.board();
        Totals {
            offered: c.offered.load(Ordering::Relaxed),
            accepted: c.accepted.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            timed_out: c.timed_out.load(Ordering::Relaxed),
            completed: c.completed.load(Ordering::Relaxed),
            router_failures: c.router_failures.load(Ordering::Relaxed),
            mean_submit_to_offer_ms: (count > 0).then(|| sum as f64 / count as f64),
            waiting: board.waiting.len() as u64,
            routing: board.routing.len() as u64,
        }
    }
}
