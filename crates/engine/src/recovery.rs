//! Startup: interactions that were being routed or offered when the
//! server stopped go back to their queues; agents and the capacity their
//! accepted interactions hold are loaded onto the board; every queued
//! interaction is routed again.

use std::sync::Arc;
use std::time::Duration;

use super::Engine;
use super::board::LiveAgent;
use parley_store::{State, StoreError, now_ms};

/// How often waiting interactions are matched against free agents besides
/// the event-driven matching.
const SWEEP: Duration = Duration::from_secs(1);

impl Engine {
    /// Rebuilds the board from the store and resumes routing.
    pub async fn recover(self: &Arc<Self>) -> Result<(), StoreError> {
        let recovered = self.store.recover().await?;
        if !recovered.is_empty() {
            tracing::info!(
                count = recovered.len(),
                "interactions being routed or offered went back to their queues"
            );
        }
        let now = now_ms();
        let agents = self.store.agents().await?;
        let accepted = self.store.in_state(State::Accepted).await?;
        let queued = self.store.in_state(State::Queued).await?;
        let mut ends = Vec::new();
        {
            let mut board = self.board();
            for agent in agents {
                if let Some(until) = agent.presence.next_after_call_work_end() {
                    ends.push((agent.id.clone(), until));
                }
                board
                    .agents
                    .insert(agent.id.clone(), LiveAgent::new(agent, now));
            }
            for interaction in &accepted {
                let holders = interaction.owner.iter().chain(&interaction.parties);
                for agent in holders {
                    if let Some(live) = board.agents.get_mut(agent) {
                        live.take(&interaction.id, &interaction.media_type);
                    }
                }
            }
        }
        for (agent, until) in ends {
            self.end_after_call_work_at(&agent, until);
        }
        for interaction in &queued {
            self.enqueue(&interaction.id);
        }
        self.start_sweeper(SWEEP);
        Ok(())
    }
}
