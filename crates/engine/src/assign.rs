//! Assignment: matching an interaction with a free agent (when it starts
//! waiting) or a free agent with a waiting interaction (when capacity or
//! presence frees up), and making the offer. Capacity is claimed on the
//! board under its lock before the offer is written, so concurrent
//! decisions never over-assign an agent.

use std::sync::Arc;
use std::time::Duration;

use super::board::{Offer, Target, Waiting};
use super::{Engine, convert};
use parley_plugin::observe::RouterCall;
use parley_store::{Interaction, State, Transition, now_ms};

/// Attempts at offering one interaction before it waits for the next free
/// agent (another decision may claim the picked agent first).
const ATTEMPTS: usize = 3;
/// Most offers made to one freed agent in a row.
const MAX_FILL: usize = 64;

impl Engine {
    /// The agent the router picks among eligible ones for `interaction`,
    /// or `None` when there is none (or the router declines); with why the
    /// host picked instead, when the router failed.
    async fn pick_agent(
        &self,
        interaction: &Interaction,
        target: &Target,
    ) -> Option<(String, Option<String>)> {
        let now = now_ms();
        let candidates: Vec<_> = {
            let board = self.board();
            board
                .candidates(interaction, target, self.settings.candidates)
                .into_iter()
                .map(|a| convert::candidate(a, now))
                .collect()
        };
        let first = candidates.first()?.id.clone();
        let queue = interaction.queue.as_deref().unwrap_or_default();
        let Ok((_, router)) = self.queue(queue) else {
            return Some((first, None));
        };
        let seen = convert::interaction(interaction, now);
        let call = RouterCall::PickAgent(seen, candidates);
        match self.registry.observers().pick(&router, call).await {
            Ok(called) => called.value.map(|agent| (agent, None)),
            Err(err) => {
                self.counters.router_failure();
                tracing::warn!(interaction = %interaction.id, "pick-agent failed; offering to the first candidate (least loaded, longest idle): {err}");
                let reason = format!(
                    "pick-agent failed ({err}); offered to the first candidate (least loaded, then longest idle)"
                );
                Some((first, Some(reason)))
            }
        }
    }

    /// Offers `interaction` to an eligible agent (`only` that one, if
    /// given): claims the agent's capacity, then commits `offer` (a
    /// transition to `offered` from `routing`, or from `queued` for a
    /// waiting interaction). Returns the offered interaction, or `None` if
    /// no agent could take it.
    pub(super) async fn offer(
        self: &Arc<Self>,
        interaction: &Interaction,
        target: &Target,
        offer: Transition,
        only: Option<&str>,
    ) -> Option<Interaction> {
        let id = interaction.id.clone();
        let from_waiting = offer.expect == Some(State::Queued);
        for _ in 0..ATTEMPTS {
            let (agent, fallback) = match only {
                Some(agent) => (agent.to_string(), None),
                None => self.pick_agent(interaction, target).await?,
            };
            // The offer's event says when the host picked for a failed
            // router.
            let offer = match fallback {
                Some(reason) => offer.clone().reason(reason),
                None => offer.clone(),
            };
            let (generation, waiting) = {
                let mut board = self.board();
                if from_waiting && (board.routing.contains(&id) || !board.waiting.contains_key(&id))
                {
                    return None; // someone else took it on
                }
                if !board.claim_offer(&agent, interaction, target, now_ms()) {
                    if only.is_some() {
                        return None;
                    }
                    continue;
                }
                let waiting = if from_waiting {
                    board.routing.insert(id.clone());
                    board.waiting.remove(&id)
                } else {
                    None
                };
                let generation = board.next_generation();
                board.offers.insert(
                    id.clone(),
                    Offer {
                        agent: agent.clone(),
                        generation,
                    },
                );
                (generation, waiting)
            };
            let result = self.store.transition(offer.clone().owner(&agent)).await;
            let mut board = self.board();
            match result {
                Ok(offered) => {
                    board.routing.remove(&id);
                    drop(board);
                    self.counters.offered(&offered);
                    self.start_offer_timer(id, generation);
                    return Some(offered);
                }
                Err(err) => {
                    tracing::warn!(interaction = %id, agent = %agent, "offer not written: {err}");
                    board.release(&agent, &id, now_ms());
                    board.offers.remove(&id);
                    if let Some(waiting) = waiting {
                        board.routing.remove(&id);
                        board.waiting.insert(id, waiting);
                    }
                    return None;
                }
            }
        }
        None
    }

    /// Offers a waiting interaction to a free agent, if there is one.
    pub(super) async fn offer_waiting(self: &Arc<Self>, id: &str) -> bool {
        let found = {
            let board = self.board();
            match board.waiting.get(id) {
                Some(Waiting {
                    interaction,
                    target: Some(target),
                    ..
                }) => Some((interaction.clone(), target.clone())),
                _ => None,
            }
        };
        let Some((interaction, target)) = found else {
            return false;
        };
        let offer = Transition::to(id, State::Offered).expect(State::Queued);
        self.offer(&interaction, &target, offer, None)
            .await
            .is_some()
    }

    /// Looks for waiting interactions `agent` can take now, in the
    /// background.
    pub(super) fn agent_available(self: &Arc<Self>, agent: &str) {
        let engine = self.clone();
        let agent = agent.to_string();
        tokio::spawn(async move { engine.fill(agent).await });
    }

    /// Offers `agent` waiting interactions while it has room: the queue
    /// with the most urgent eligible interaction (priority, then age) is
    /// chosen, and its router picks among that queue's eligible ones.
    async fn fill(self: Arc<Self>, agent: String) {
        for _ in 0..MAX_FILL {
            let now = now_ms();
            let (queue, eligible, candidate) = {
                let board = self.board();
                let Some(live) = board.agents.get(&agent) else {
                    return;
                };
                let mut eligible: Vec<&Waiting> = board
                    .waiting
                    .values()
                    .filter(|w| {
                        !board.routing.contains(&w.interaction.id)
                            && w.target
                                .as_ref()
                                .is_some_and(|t| board.eligible(live, &w.interaction, t))
                    })
                    .collect();
                if eligible.is_empty() {
                    return;
                }
                eligible.sort_by(|a, b| {
                    let (a, b) = (&a.interaction, &b.interaction);
                    b.priority
                        .cmp(&a.priority)
                        .then(a.queued_at.cmp(&b.queued_at))
                        .then(a.id.cmp(&b.id))
                });
                let queue = eligible[0].interaction.queue.clone().unwrap_or_default();
                let eligible: Vec<(Interaction, Target)> = eligible
                    .into_iter()
                    .filter(|w| w.interaction.queue.as_deref() == Some(queue.as_str()))
                    .take(self.settings.candidates)
                    .filter_map(|w| Some((w.interaction.clone(), w.target.clone()?)))
                    .collect();
                (queue, eligible, convert::candidate(live, now))
            };
            let mut fallback = None;
            let picked = match self.queue(&queue) {
                Ok((_, router)) => {
                    let seen: Vec<_> = eligible
                        .iter()
                        .map(|(i, _)| convert::interaction(i, now))
                        .collect();
                    let call = RouterCall::PickInteraction(candidate, seen);
                    match self.registry.observers().pick(&router, call).await {
                        Ok(called) => called.value,
                        Err(err) => {
                            self.counters.router_failure();
                            tracing::warn!(agent = %agent, "pick-interaction failed; offering the most urgent: {err}");
                            fallback = Some(format!(
                                "pick-interaction failed ({err}); offered the most urgent waiting interaction (priority, then age)"
                            ));
                            Some(eligible[0].0.id.clone())
                        }
                    }
                }
                Err(_) => Some(eligible[0].0.id.clone()),
            };
            let Some((interaction, target)) =
                picked.and_then(|picked| eligible.into_iter().find(|(i, _)| i.id == picked))
            else {
                return;
            };
            let mut offer = Transition::to(&interaction.id, State::Offered).expect(State::Queued);
            if let Some(reason) = fallback {
                offer = offer.reason(reason);
            }
            // A lost race just means looking again with the board as it is.
            self.offer(&interaction, &target, offer, Some(&agent)).await;
        }
    }

    pub(super) fn start_offer_timer(self: &Arc<Self>, id: String, generation: u64) {
        let engine = self.clone();
        let timeout = self.offer_timeout();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            engine.offer_timed_out(&id, generation).await;
        });
    }

    /// Tries every waiting interaction against the agents free now: the
    /// safety net behind the event-driven matching (run periodically).
    pub(super) async fn sweep(self: &Arc<Self>) {
        let free: Vec<String> = {
            let board = self.board();
            if board.waiting.is_empty() {
                return;
            }
            board
                .agents
                .values()
                .filter(|a| a.agent.presence.0.keys().any(|media| a.can_take(media)))
                .map(|a| a.agent.id.clone())
                .collect()
        };
        for agent in free {
            self.clone().fill(agent).await;
        }
    }

    /// Runs [`Engine::sweep`] every `period` until the engine is dropped.
    pub fn start_sweeper(self: &Arc<Self>, period: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let Some(engine) = weak.upgrade() else {
                    return;
                };
                engine.sweep().await;
            }
        });
    }
}
