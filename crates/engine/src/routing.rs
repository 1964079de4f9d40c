//! Routing: a queued interaction is locked (`routing`), its queue's router
//! decides, and the host carries the decision out: offer to a target now
//! or when one is free (re-deciding on the strategy's timer), move to
//! another queue, wait, or stop. A router failure applies the queue's
//! fallback.

use std::sync::Arc;
use std::time::Duration;

use super::board::{PendingTimer, Target, Waiting};
use super::{Engine, EngineError, convert};
use crate::process::Fallback;
use parley_plugin::bindings::routing::{Action, Change, Timer};
use parley_plugin::observe::RouterCall;
use parley_store::{Interaction, State, Transition, now_ms};

/// Most queue moves in a row before an interaction is held instead: a
/// guard against strategies that move interactions back and forth.
const MAX_HOPS: u32 = 8;

/// Why the router is asked.
#[derive(Debug, Clone)]
pub(super) enum Entry {
    /// The interaction entered its queue: `on-queued`.
    Queued,
    /// A timer fired: `on-timer` with the tag, or `on-queued` again after
    /// a failure (`None`).
    Timer {
        generation: u64,
        tag: Option<String>,
    },
}

impl Engine {
    /// Routes a queued interaction, in the background.
    pub fn enqueue(self: &Arc<Self>, id: &str) {
        self.spawn_route(id.to_string(), Entry::Queued, 0);
    }

    pub(super) fn spawn_route(self: &Arc<Self>, id: String, entry: Entry, hops: u32) {
        let engine = self.clone();
        tokio::spawn(async move { engine.route(id, entry, hops).await });
    }

    /// Locks the interaction and asks its router.
    async fn route(self: Arc<Self>, id: String, entry: Entry, hops: u32) {
        {
            let mut board = self.board();
            if board.routing.contains(&id) || board.offers.contains_key(&id) {
                return;
            }
            if let Entry::Timer { generation, .. } = &entry {
                let current = board
                    .waiting
                    .get(&id)
                    .and_then(|w| w.timer.as_ref())
                    .map(|t| t.generation);
                if current != Some(*generation) {
                    return; // the timer was replaced or the interaction left
                }
            }
            board.waiting.remove(&id);
            board.routing.insert(id.clone());
        }
        let locked = Transition::to(&id, State::Routing).expect(State::Queued);
        match self.store.transition(locked).await {
            Ok(interaction) => self.decide(interaction, entry, hops).await,
            Err(err) => {
                // Someone moved it on first; nothing to route.
                tracing::debug!(interaction = %id, "not routed: {err}");
                self.board().routing.remove(&id);
            }
        }
    }

    async fn decide(self: &Arc<Self>, interaction: Interaction, entry: Entry, hops: u32) {
        let queue_name = interaction.queue.clone().unwrap_or_default();
        let (queue, router) = match self.queue(&queue_name) {
            Ok(found) => found,
            Err(err) => {
                tracing::error!(interaction = %interaction.id, "cannot route: {err}");
                return self.hold(interaction, &[]).await;
            }
        };
        let seen = convert::interaction(&interaction, now_ms());
        let call = match &entry {
            Entry::Queued | Entry::Timer { tag: None, .. } => RouterCall::OnQueued(seen),
            Entry::Timer { tag: Some(tag), .. } => RouterCall::OnTimer(seen, tag.clone()),
        };
        let decided = self.registry.observers().decide(&router, call).await;
        match decided {
            Ok(called) => {
                let decision = called.value;
                self.execute(
                    interaction,
                    decision.action,
                    &decision.changes,
                    hops,
                    &queue.fallback,
                )
                .await
            }
            Err(err) => {
                self.counters.router_failure();
                tracing::warn!(
                    interaction = %interaction.id,
                    queue = %queue_name,
                    "router failed, applying the queue's fallback: {err}"
                );
                self.fall_back(interaction, &queue.fallback, hops).await
            }
        }
    }

    async fn execute(
        self: &Arc<Self>,
        interaction: Interaction,
        action: Action,
        changes: &[Change],
        hops: u32,
        fallback: &Fallback,
    ) {
        match action {
            Action::Route(request) => {
                let target = convert::target(&request.target);
                self.route_to(interaction, target, request.timer, changes)
                    .await
            }
            Action::MoveToQueue(queue) => {
                if let Err(err) = self.queue(&queue) {
                    tracing::warn!(interaction = %interaction.id, "router moved it to an unusable queue: {err}");
                    return self.fall_back(interaction, fallback, hops).await;
                }
                self.move_to(interaction, &queue, changes, hops).await
            }
            Action::Wait(timer) => self.wait(interaction, None, Some(timer), changes).await,
            Action::Stop(reason) => {
                let stop = convert::apply_changes(
                    &interaction,
                    changes,
                    Transition::to(&interaction.id, State::Stopped)
                        .expect(State::Routing)
                        .reason(reason),
                );
                let result = self.store.transition(stop).await;
                let mut board = self.board();
                board.routing.remove(&interaction.id);
                board.forget(&interaction.id);
                drop(board);
                if let Err(err) = result {
                    tracing::error!(interaction = %interaction.id, "not stopped: {err}");
                }
            }
        }
    }

    /// The queue's fallback after a router failure.
    async fn fall_back(self: &Arc<Self>, interaction: Interaction, fallback: &Fallback, hops: u32) {
        match fallback {
            Fallback::Hold => self.hold(interaction, &[]).await,
            Fallback::Group(group) => {
                self.route_to(interaction, Target::Group(group.clone()), None, &[])
                    .await
            }
            Fallback::Queue(queue) => self.move_to(interaction, queue, &[], hops).await,
        }
    }

    /// Keeps it queued and asks `on-queued` again after the hold delay.
    async fn hold(self: &Arc<Self>, interaction: Interaction, changes: &[Change]) {
        let retry = Timer {
            after_ms: self.settings.hold_retry_ms,
            tag: String::new(),
        };
        self.wait(interaction, None, Some(retry), changes).await
    }

    /// Offers it to `target` now if an agent is free, else leaves it
    /// waiting for one (and for the strategy's timer).
    async fn route_to(
        self: &Arc<Self>,
        interaction: Interaction,
        target: Target,
        timer: Option<Timer>,
        changes: &[Change],
    ) {
        // The changes are written with the offer, in one commit; the
        // router picks the agent seeing them already.
        let offer = convert::apply_changes(
            &interaction,
            changes,
            Transition::to(&interaction.id, State::Offered).expect(State::Routing),
        );
        let changed = convert::changed(&interaction, changes);
        if self.offer(&changed, &target, offer, None).await.is_some() {
            return;
        }
        self.wait(interaction, Some(target), timer, changes).await
    }

    /// Moves it to `queue`, whose router takes over.
    async fn move_to(
        self: &Arc<Self>,
        interaction: Interaction,
        queue: &str,
        changes: &[Change],
        hops: u32,
    ) {
        if hops >= MAX_HOPS {
            tracing::error!(interaction = %interaction.id, "moved {MAX_HOPS} times in a row; holding it");
            return self.hold(interaction, changes).await;
        }
        let moved = convert::apply_changes(
            &interaction,
            changes,
            Transition::to(&interaction.id, State::Queued)
                .expect(State::Routing)
                .queue(queue)
                .reason("moved by the strategy"),
        );
        let result = self.store.transition(moved).await;
        {
            let mut board = self.board();
            board.routing.remove(&interaction.id);
            board.declined.remove(&interaction.id);
        }
        match result {
            Ok(_) => self.spawn_route(interaction.id, Entry::Queued, hops + 1),
            Err(err) => tracing::error!(interaction = %interaction.id, "not moved: {err}"),
        }
    }

    /// Puts it back to `queued`, waiting for `target` (if any) and for
    /// `timer` (if any).
    async fn wait(
        self: &Arc<Self>,
        interaction: Interaction,
        target: Option<Target>,
        timer: Option<Timer>,
        changes: &[Change],
    ) {
        let back = convert::apply_changes(
            &interaction,
            changes,
            Transition::to(&interaction.id, State::Queued).expect(State::Routing),
        );
        let queued = match self.store.transition(back).await {
            Ok(queued) => queued,
            Err(err) => {
                // Left `routing` in the store: the next start puts it back.
                tracing::error!(interaction = %interaction.id, "not re-queued: {err}");
                self.board().routing.remove(&interaction.id);
                return;
            }
        };
        let id = queued.id.clone();
        let has_target = target.is_some();
        let pending = {
            let mut board = self.board();
            let pending = timer.map(|t| {
                (
                    PendingTimer {
                        tag: (!t.tag.is_empty()).then_some(t.tag),
                        generation: board.next_generation(),
                    },
                    t.after_ms,
                )
            });
            board.routing.remove(&id);
            board.waiting.insert(
                id.clone(),
                Waiting {
                    interaction: queued,
                    target,
                    timer: pending.as_ref().map(|(t, _)| t.clone()),
                },
            );
            pending
        };
        if let Some((timer, after_ms)) = pending {
            self.start_timer(id.clone(), timer, after_ms);
        }
        if has_target {
            // An agent freed between the first look and now would not have
            // seen it waiting: look once more.
            self.offer_waiting(&id).await;
        }
    }

    fn start_timer(self: &Arc<Self>, id: String, timer: PendingTimer, after_ms: u64) {
        let engine = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(after_ms)).await;
            let entry = Entry::Timer {
                generation: timer.generation,
                tag: timer.tag,
            };
            engine.route(id, entry, 0).await;
        });
    }

    /// Refuses to act on an interaction a strategy holds.
    pub(super) fn unlocked(&self, id: &str) -> Result<(), EngineError> {
        if self.board().routing.contains(id) {
            return Err(EngineError::Locked(id.to_string()));
        }
        Ok(())
    }
}
