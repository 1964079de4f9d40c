//! Answers to offers: accept, reject, and the offer timeout. A rejected or
//! unanswered offer goes back to its queue's strategy, which will not see
//! the same agent offered it again.

use std::sync::Arc;

use super::{Engine, EngineError};
use parley_core::agents::PresenceState;
use parley_store::{EventKind, Interaction, State, Transition, now_ms};

impl Engine {
    /// `agent` accepts the interaction offered to it.
    pub async fn accept(
        self: &Arc<Self>,
        agent: &str,
        id: &str,
    ) -> Result<Interaction, EngineError> {
        let accept = Transition::to(id, State::Accepted)
            .expect(State::Offered)
            .expect_owner(agent);
        let accepted = self.store.transition(accept).await?;
        let mut board = self.board();
        if board.offers.get(id).is_some_and(|o| o.agent == agent) {
            board.offers.remove(id);
        }
        drop(board);
        self.counters.accepted(agent);
        Ok(accepted)
    }

    /// `agent` rejects the interaction offered to it.
    pub async fn reject(
        self: &Arc<Self>,
        agent: &str,
        id: &str,
        reason: Option<String>,
    ) -> Result<Interaction, EngineError> {
        let reason = reason.unwrap_or_else(|| "rejected".into());
        let back = self
            .withdraw(id, agent, EventKind::Rejected, &reason)
            .await?;
        self.counters.rejected(agent);
        Ok(back)
    }

    /// The offer timeout fired: if offer `generation` is still unanswered,
    /// it goes back to routing and the agent is made not ready on that
    /// media type (unless configured otherwise).
    pub(super) async fn offer_timed_out(self: &Arc<Self>, id: &str, generation: u64) {
        let agent = {
            let board = self.board();
            match board.offers.get(id) {
                Some(offer) if offer.generation == generation => offer.agent.clone(),
                _ => return,
            }
        };
        match self
            .withdraw(id, &agent, EventKind::OfferTimedOut, "no answer in time")
            .await
        {
            Ok(back) => {
                self.counters.timed_out(&agent);
                if self.settings.not_ready_on_timeout {
                    let media = back.media_type.clone();
                    if let Err(err) = self
                        .set_presence(
                            &agent,
                            &[media],
                            Some(PresenceState::NotReady),
                            Some("offer-timeout".into()),
                        )
                        .await
                    {
                        tracing::warn!(agent = %agent, "not made not ready: {err}");
                    }
                }
            }
            Err(err) => tracing::debug!(interaction = %id, "offer timeout: {err}"),
        }
    }

    /// Takes an offer back from `agent` (reject, timeout, agent away):
    /// back to its queue, routed again without that agent.
    pub(super) async fn withdraw(
        self: &Arc<Self>,
        id: &str,
        agent: &str,
        event: EventKind,
        reason: &str,
    ) -> Result<Interaction, EngineError> {
        let back = Transition::to(id, State::Queued)
            .expect(State::Offered)
            .expect_owner(agent)
            .event(event)
            .reason(reason);
        let queued = self.store.transition(back).await?;
        {
            let mut board = self.board();
            board.offers.remove(id);
            board.release(agent, id, now_ms());
            board
                .declined
                .entry(id.to_string())
                .or_default()
                .insert(agent.to_string());
        }
        self.enqueue(id);
        self.agent_available(agent);
        Ok(queued)
    }

    /// Withdraws every offer made to `agent` on one of `media`.
    pub(super) async fn withdraw_offers(self: &Arc<Self>, agent: &str, media: &[String]) {
        let offered: Vec<String> = {
            let board = self.board();
            board
                .offers
                .iter()
                .filter(|(id, offer)| {
                    offer.agent == agent
                        && board
                            .agents
                            .get(agent)
                            .and_then(|a| a.holding().get(*id))
                            .is_some_and(|m| media.contains(m))
                })
                .map(|(id, _)| id.clone())
                .collect()
        };
        for id in offered {
            if let Err(err) = self
                .withdraw(
                    &id,
                    agent,
                    EventKind::OfferRevoked,
                    "the agent is no longer ready",
                )
                .await
            {
                tracing::debug!(interaction = %id, "offer not revoked: {err}");
            }
        }
    }
}
