//! What agents and supervisors do with interactions: complete, transfer
//! (to an agent or a queue), conference, leave, park in a workbin, pull
//! from a workbin or a queue, and a supervisor's move and stop. An agent
//! acts only on interactions it owns (checked in the same write); nobody
//! acts on an interaction a strategy is deciding on.

use serde::Deserialize;
use std::sync::Arc;

use super::board::Target;
use super::{Engine, EngineError};
use crate::process::config::WorkbinScope;
use parley_core::agents::Role;
use parley_store::{EventKind, Interaction, State, StoreError, Transition, now_ms};

/// Who is acting.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The acting account, if it is one (API keys act for none).
    pub agent: Option<String>,
    pub role: Role,
}

impl Actor {
    /// Whether it may act on any interaction.
    pub fn is_supervisor(&self) -> bool {
        self.role.allows(Role::Supervisor)
    }

    /// The owner an agent's action must find (supervisors act on any).
    fn owner_check(&self, t: Transition) -> Result<Transition, EngineError> {
        if self.is_supervisor() {
            return Ok(t);
        }
        match &self.agent {
            Some(agent) => Ok(t.expect_owner(agent)),
            None => Err(EngineError::Forbidden(
                "only agents and supervisors act on interactions".into(),
            )),
        }
    }

    /// Refuses before anything is claimed when an agent acts on an
    /// interaction it does not own (the write checks again, for races).
    fn may_act_on(&self, current: &Interaction) -> Result<(), EngineError> {
        match &self.agent {
            _ if self.is_supervisor() => Ok(()),
            Some(agent) if current.owner.as_ref() == Some(agent) => Ok(()),
            // The same refusal the write would give.
            Some(agent) => Err(StoreError::Conflict(format!(
                "interaction `{}` is not {agent}'s",
                current.id
            ))
            .into()),
            None => Err(EngineError::Forbidden(
                "only agents and supervisors act on interactions".into(),
            )),
        }
    }

    /// The account acting, or the one a supervisor names.
    fn agent_or<'a>(&'a self, named: Option<&'a str>) -> Result<&'a str, EngineError> {
        match (named, &self.agent) {
            (Some(named), _) if self.is_supervisor() => Ok(named),
            (Some(named), Some(me)) if named == me => Ok(named),
            (Some(_), _) => Err(EngineError::Forbidden(
                "only supervisors act for other agents".into(),
            )),
            (None, Some(me)) => Ok(me),
            (None, None) => Err(EngineError::Invalid("name the agent".into())),
        }
    }
}

/// Where a transfer goes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TransferTo {
    /// Offered to one agent.
    Agent(String),
    /// Into a queue, whose strategy routes it.
    Queue(String),
}

impl Engine {
    /// Commits `t`, then gives back the capacity of everyone who held the
    /// interaction and no longer does, and looks for work for them.
    async fn finish(self: &Arc<Self>, t: Transition) -> Result<Interaction, EngineError> {
        let before = self.store.get(&t.id).await?;
        self.finish_from(before, t).await
    }

    /// [`Engine::finish`] for a caller that has just read the interaction.
    async fn finish_from(
        self: &Arc<Self>,
        before: Interaction,
        t: Transition,
    ) -> Result<Interaction, EngineError> {
        let id = t.id.clone();
        let after = self.store.transition(t).await?;
        let now = now_ms();
        let still_holds = |agent: &String| {
            after.state.is_active()
                && (after.owner.as_ref() == Some(agent) || after.parties.contains(agent))
        };
        let holders: Vec<String> = before
            .owner
            .iter()
            .chain(&before.parties)
            .filter(|a| !still_holds(a))
            .cloned()
            .collect();
        {
            let mut board = self.board();
            for agent in &holders {
                board.release(agent, &id, now);
            }
            if before.state == State::Offered {
                board.offers.remove(&id);
            }
            if after.state != State::Queued {
                board.forget(&id);
            }
        }
        if after.state == State::Completed
            && let Some(owner) = &before.owner
        {
            self.after_call_work(owner, &after.media_type).await;
        }
        for agent in &holders {
            self.agent_available(agent);
        }
        Ok(after)
    }

    /// The interaction, if no strategy holds it.
    async fn unlocked_interaction(&self, id: &str) -> Result<Interaction, EngineError> {
        self.unlocked(id)?;
        Ok(self.store.get(id).await?)
    }

    /// Completes an accepted interaction with a disposition code.
    pub async fn complete(
        self: &Arc<Self>,
        actor: &Actor,
        id: &str,
        disposition: Option<String>,
    ) -> Result<Interaction, EngineError> {
        let mut t = Transition::to(id, State::Completed).expect(State::Accepted);
        t.disposition = disposition;
        let done = self.finish(actor.owner_check(t)?).await?;
        self.counters.completed(&done);
        Ok(done)
    }

    /// Transfers an accepted interaction to an agent (offered to it) or a
    /// queue (routed there).
    pub async fn transfer(
        self: &Arc<Self>,
        actor: &Actor,
        id: &str,
        to: TransferTo,
    ) -> Result<Interaction, EngineError> {
        match to {
            TransferTo::Queue(queue) => {
                self.queue(&queue)?;
                let t = Transition::to(id, State::Queued)
                    .expect(State::Accepted)
                    .queue(&queue)
                    .event(EventKind::Transferred);
                let moved = self.finish(actor.owner_check(t)?).await?;
                self.enqueue(id);
                Ok(moved)
            }
            TransferTo::Agent(agent) => {
                let current = self.unlocked_interaction(id).await?;
                // A refused transfer claims nothing.
                actor.may_act_on(&current)?;
                let target = Target::Agent(agent.clone());
                let generation = {
                    let mut board = self.board();
                    if !board.claim_offer(&agent, &current, &target, now_ms()) {
                        return Err(EngineError::Unavailable(format!(
                            "agent `{agent}` is not ready for {} or has no room",
                            current.media_type
                        )));
                    }
                    let generation = board.next_generation();
                    board.offers.insert(
                        id.to_string(),
                        super::board::Offer {
                            agent: agent.clone(),
                            generation,
                        },
                    );
                    generation
                };
                let t = Transition::to(id, State::Offered)
                    .expect(State::Accepted)
                    .owner(&agent)
                    .event(EventKind::Transferred);
                match self.finish_from(current, actor.owner_check(t)?).await {
                    Ok(offered) => {
                        self.counters.offered(&offered);
                        self.start_offer_timer(id.to_string(), generation);
                        Ok(offered)
                    }
                    Err(err) => {
                        let mut board = self.board();
                        board.release(&agent, id, now_ms());
                        board.offers.remove(id);
                        Err(err)
                    }
                }
            }
        }
    }

    /// Adds `agent` to an accepted interaction (a conference).
    pub async fn conference(
        self: &Arc<Self>,
        actor: &Actor,
        id: &str,
        agent: &str,
    ) -> Result<Interaction, EngineError> {
        let current = self.unlocked_interaction(id).await?;
        actor.may_act_on(&current)?;
        if current.owner.as_deref() == Some(agent) || current.parties.iter().any(|p| p == agent) {
            return Err(EngineError::Invalid(format!(
                "agent `{agent}` is in interaction `{id}` already"
            )));
        }
        {
            let mut board = self.board();
            if !board.claim_offer(agent, &current, &Target::Agent(agent.to_string()), now_ms()) {
                return Err(EngineError::Unavailable(format!(
                    "agent `{agent}` is not ready for {} or has no room",
                    current.media_type
                )));
            }
        }
        let mut parties = current.parties.clone();
        parties.push(agent.to_string());
        let mut t = Transition::to(id, State::Accepted)
            .expect(State::Accepted)
            .event(EventKind::Conferenced);
        t.parties = Some(parties);
        let result = match actor.owner_check(t) {
            Ok(t) => self.store.transition(t).await.map_err(EngineError::from),
            Err(err) => Err(err),
        };
        if result.is_err() {
            self.board().release(agent, id, now_ms());
        }
        result
    }

    /// A conference party leaves.
    pub async fn leave(
        self: &Arc<Self>,
        actor: &Actor,
        id: &str,
        agent: Option<&str>,
    ) -> Result<Interaction, EngineError> {
        let agent = actor.agent_or(agent)?.to_string();
        let current = self.unlocked_interaction(id).await?;
        if !current.parties.contains(&agent) {
            return Err(EngineError::Invalid(format!(
                "agent `{agent}` is not a party of interaction `{id}`"
            )));
        }
        let mut t = Transition::to(id, State::Accepted)
            .expect(State::Accepted)
            .event(EventKind::Left)
            .reason(agent.clone());
        t.parties = Some(
            current
                .parties
                .iter()
                .filter(|p| **p != agent)
                .cloned()
                .collect(),
        );
        self.finish_from(current, t).await
    }

    /// Parks an accepted interaction in a workbin: the acting agent's (or a
    /// named agent's, for supervisors) or, for group workbins, a group's.
    pub async fn park(
        self: &Arc<Self>,
        actor: &Actor,
        id: &str,
        workbin: &str,
        owner: Option<&str>,
    ) -> Result<Interaction, EngineError> {
        let scope = self.workbin_scope(workbin)?;
        let owner = match scope {
            WorkbinScope::Agent => actor.agent_or(owner)?.to_string(),
            WorkbinScope::Group => {
                let group = owner.ok_or_else(|| {
                    EngineError::Invalid(format!(
                        "workbin `{workbin}` is per group: name the group"
                    ))
                })?;
                self.check_member(actor, group)?;
                group.to_string()
            }
        };
        let mut t = Transition::to(id, State::Parked).expect(State::Accepted);
        t.workbin = Some((workbin.to_string(), owner));
        self.finish(actor.owner_check(t)?).await
    }

    fn workbin_scope(&self, name: &str) -> Result<WorkbinScope, EngineError> {
        self.processes
            .current()
            .workbin(name)
            .map(|w| w.scope)
            .ok_or_else(|| EngineError::Invalid(format!("workbin `{name}` is not configured")))
    }

    fn check_member(&self, actor: &Actor, group: &str) -> Result<(), EngineError> {
        if actor.is_supervisor() {
            return Ok(());
        }
        let member = actor
            .agent
            .as_deref()
            .and_then(|a| self.live_agent(a))
            .is_some_and(|a| a.groups.iter().any(|g| g == group));
        if member {
            Ok(())
        } else {
            Err(EngineError::Forbidden(format!(
                "only members of `{group}` use its workbin"
            )))
        }
    }

    /// Pulls an interaction for an agent: a parked one from a workbin the
    /// agent may use, or a queued one from a queue or view. The agent's
    /// capacity is checked and claimed; presence is not required.
    pub async fn pull(
        self: &Arc<Self>,
        actor: &Actor,
        id: &str,
        agent: Option<&str>,
    ) -> Result<Interaction, EngineError> {
        let agent = actor.agent_or(agent)?.to_string();
        let current = self.unlocked_interaction(id).await?;
        match current.state {
            State::Parked => {
                let owner = current.workbin_owner.clone().unwrap_or_default();
                let scope = current
                    .workbin
                    .as_deref()
                    .map(|w| self.workbin_scope(w))
                    .transpose()?;
                match scope {
                    Some(WorkbinScope::Group) => self.check_member(actor, &owner)?,
                    _ if owner != agent && !actor.is_supervisor() => {
                        return Err(EngineError::Forbidden(format!(
                            "interaction `{id}` is in {owner}'s workbin"
                        )));
                    }
                    _ => {}
                }
            }
            // Agents pull what a view shows them.
            State::Queued
                if actor.is_supervisor() || self.processes().current().in_a_view(&current) => {}
            State::Queued => {
                return Err(EngineError::Forbidden(format!(
                    "interaction `{id}` is in no view agents pull from"
                )));
            }
            other => {
                return Err(StoreError::InvalidTransition {
                    id: id.to_string(),
                    from: other.to_string(),
                    to: "pulled".into(),
                }
                .into());
            }
        }
        let waiting = {
            let mut board = self.board();
            if board.routing.contains(id) {
                return Err(EngineError::Locked(id.to_string()));
            }
            if !board.hold(&agent, id, &current.media_type) {
                return Err(EngineError::Unavailable(format!(
                    "agent `{agent}` has no room for another {}",
                    current.media_type
                )));
            }
            board.routing.insert(id.to_string());
            board.waiting.remove(id)
        };
        let t = Transition::to(id, State::Accepted)
            .expect(current.state)
            .owner(&agent)
            .event(EventKind::Pulled);
        let result = self.store.transition(t).await;
        let mut board = self.board();
        board.routing.remove(id);
        match result {
            Ok(pulled) => {
                board.forget(id);
                Ok(pulled)
            }
            Err(err) => {
                board.release(&agent, id, now_ms());
                if let Some(waiting) = waiting {
                    board.waiting.insert(id.to_string(), waiting);
                }
                Err(err.into())
            }
        }
    }

    /// A supervisor moves an interaction (queued, offered, accepted or
    /// parked) into a queue, whose strategy routes it.
    pub async fn move_to_queue(
        self: &Arc<Self>,
        id: &str,
        queue: &str,
    ) -> Result<Interaction, EngineError> {
        self.queue(queue)?;
        let current = self.unlocked_interaction(id).await?;
        let t = Transition::to(id, State::Queued)
            .expect(current.state)
            .queue(queue)
            .event(EventKind::Moved);
        let waiting = self.board().waiting.remove(id);
        let moved = match self.finish_from(current, t).await {
            Ok(moved) => moved,
            Err(err) => {
                if let Some(waiting) = waiting {
                    self.board().waiting.insert(id.to_string(), waiting);
                }
                return Err(err);
            }
        };
        self.board().declined.remove(id);
        self.enqueue(id);
        Ok(moved)
    }

    /// A supervisor stops an interaction, with a reason.
    pub async fn stop(
        self: &Arc<Self>,
        id: &str,
        reason: &str,
    ) -> Result<Interaction, EngineError> {
        let current = self.unlocked_interaction(id).await?;
        let t = Transition::to(id, State::Stopped)
            .expect(current.state)
            .reason(reason);
        self.finish_from(current, t).await
    }
}
