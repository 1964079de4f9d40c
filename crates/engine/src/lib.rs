//! The interaction engine: routes queued interactions through their
//! queue's router plugin, offers them to agents within capacity, and
//! carries out what agents and supervisors do with them.
//!
//! - [`board`]: the live picture (agents, load, waiting interactions,
//!   offers, locks) behind one lock; claims of capacity happen there.
//! - [`routing`]: asking the router and executing its decision.
//! - [`assign`]: matching waiting interactions and free agents; offers.
//! - [`offers`]: accept, reject, offer timeouts.
//! - [`operations`]: transfer, conference, workbins, complete, move, stop.
//! - [`presence`]: agents' presence, after-call work and accounts.
//! - [`recovery`]: rebuilding the board from the store at startup.
//! - [`stats`]: queue and agent statistics and counters.
//! - [`process`]: business processes (queues, views, workbins).
//! - [`screen_request`]: the content of stored interactions as screeners
//!   see it.
//!
//! The store is the truth: every change is committed (with its event)
//! before it is acted on or acknowledged, and the board is rebuilt from the
//! store after a restart.

mod admit;
mod assign;
pub mod board;
pub mod convert;
mod error;
mod offers;
mod operations;
mod presence;
pub mod process;
mod recovery;
mod routing;
pub mod screen_request;
pub mod stats;

pub use admit::Admitted;
pub use board::Target;
pub use error::EngineError;
pub use operations::{Actor, TransferTo};

use serde::Deserialize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::process::{Processes, Queue};
use board::Board;
use parley_plugin::{PluginVersion, Registry, World};
use parley_store::{NewInteraction, Store};
use stats::Counters;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RoutingSettings {
    /// How long an agent has to accept an offer, in ms.
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_ms: u64,
    /// Most candidates passed to a router's `pick-agent` (longest idle
    /// first) and waiting interactions passed to `pick-interaction`.
    #[serde(default = "default_candidates")]
    pub candidates: usize,
    /// When a router fails and its queue's fallback is `hold`, ask again
    /// after this many ms.
    #[serde(default = "default_hold_retry")]
    pub hold_retry_ms: u64,
    /// Whether an agent who lets an offer time out is made not ready on
    /// that media type (reason `offer-timeout`).
    #[serde(default = "yes")]
    pub not_ready_on_timeout: bool,
}

fn default_offer_timeout() -> u64 {
    30_000
}

fn default_candidates() -> usize {
    16
}

fn default_hold_retry() -> u64 {
    5_000
}

fn yes() -> bool {
    true
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            offer_timeout_ms: default_offer_timeout(),
            candidates: default_candidates(),
            hold_retry_ms: default_hold_retry(),
            not_ready_on_timeout: true,
        }
    }
}

pub struct Engine {
    store: Store,
    registry: Arc<Registry>,
    processes: Arc<Processes>,
    settings: RoutingSettings,
    board: Mutex<Board>,
    counters: Counters,
}

impl Engine {
    /// An engine over `store`, routing with the plugins of `registry` as
    /// `processes` configure. Call [`Engine::recover`] before serving.
    pub fn new(
        store: Store,
        registry: Arc<Registry>,
        processes: Arc<Processes>,
        settings: RoutingSettings,
    ) -> Arc<Engine> {
        Arc::new(Engine {
            store,
            registry,
            processes,
            settings,
            board: Mutex::new(Board::default()),
            counters: Counters::default(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The live plugins.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The business processes.
    pub fn processes(&self) -> &Arc<Processes> {
        &self.processes
    }

    fn board(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn offer_timeout(&self) -> Duration {
        Duration::from_millis(self.settings.offer_timeout_ms)
    }

    /// Checks a submission against the running processes: its queue must
    /// exist and its process must handle its media type.
    fn check_submission(&self, new: &NewInteraction) -> Result<(), EngineError> {
        let Some(queue) = &new.queue else {
            return Ok(());
        };
        let config = self.processes.current();
        let (process, _) = config
            .queue(queue)
            .ok_or_else(|| EngineError::Invalid(format!("queue `{queue}` is not configured")))?;
        if !process.media_types.is_empty() && !process.media_types.contains(&new.media_type) {
            return Err(EngineError::Invalid(format!(
                "process `{}` (queue `{queue}`) does not handle media type `{}`; it handles {}",
                process.name,
                new.media_type,
                process.media_types.join(", ")
            )));
        }
        Ok(())
    }

    /// The queue named `name` in the running processes, with its router.
    fn queue(&self, name: &str) -> Result<(Queue, Arc<PluginVersion>), EngineError> {
        let config = self.processes.current();
        let queue = config
            .queue(name)
            .map(|(_, q)| q.clone())
            .ok_or_else(|| EngineError::Invalid(format!("queue `{name}` is not configured")))?;
        let router = self
            .registry
            .get(&queue.router)
            .ok()
            .filter(|v| v.world() == World::Router)
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "queue `{name}`'s router `{}` is not loaded",
                    queue.router
                ))
            })?;
        Ok((queue, router))
    }
}
