//! Agents' presence and accounts, kept in step on the board: a change is
//! stored first, then offers on media the agent left are withdrawn and a
//! newly ready agent is offered waiting interactions.

use std::sync::Arc;
use std::time::Duration;

use super::board::LiveAgent;
use super::{Engine, EngineError};
use parley_core::agents::{Agent, AgentSpec, Presence, PresenceState, password};
use parley_store::{StoreError, now_ms};

impl Engine {
    /// Sets `agent`'s presence on `media` (every media type its capacity
    /// rule allows, if empty) to `state`, or logs it out of them (`None`).
    pub async fn set_presence(
        self: &Arc<Self>,
        agent: &str,
        media: &[String],
        state: Option<PresenceState>,
        reason: Option<String>,
    ) -> Result<Presence, EngineError> {
        let now = now_ms();
        let (before, media) = {
            let board = self.board();
            let live = board
                .agents
                .get(agent)
                .ok_or_else(|| StoreError::no_agent(agent))?;
            let media: Vec<String> = if media.is_empty() {
                live.agent
                    .capacity
                    .media_types()
                    .map(str::to_string)
                    .collect()
            } else {
                media.to_vec()
            };
            (live.agent.presence.clone(), media)
        };
        if let Some(unknown) = media.iter().find(|m| m.trim().is_empty() || m.len() > 64) {
            return Err(EngineError::Invalid(format!(
                "`{unknown}` is not a media type"
            )));
        }
        let mut after = before.clone();
        for m in &media {
            match state {
                Some(state) => after.set(m, state, reason.clone(), now),
                None => after.log_out(m),
            }
        }
        self.store_presence(agent, after.clone()).await?;
        let left: Vec<String> = media
            .iter()
            .filter(|m| before.is_ready(m) && !after.is_ready(m))
            .cloned()
            .collect();
        if !left.is_empty() {
            self.withdraw_offers(agent, &left).await;
        }
        if media.iter().any(|m| after.is_ready(m)) {
            self.agent_available(agent);
        }
        Ok(after)
    }

    /// Stores a presence and puts it on the board.
    async fn store_presence(&self, agent: &str, presence: Presence) -> Result<(), EngineError> {
        self.store.set_presence(agent, &presence).await?;
        let mut board = self.board();
        if let Some(live) = board.agents.get_mut(agent) {
            if let Some(since) = presence.ready_since()
                && live.agent.presence.ready_since() != Some(since)
            {
                live.idle_since = live.idle_since.max(since);
            }
            live.agent.presence = presence;
        }
        Ok(())
    }

    /// Starts after-call work on `media` for `agent`, if its account has
    /// some and it is ready there.
    pub(super) async fn after_call_work(self: &Arc<Self>, agent: &str, media: &str) {
        let now = now_ms();
        let presence = {
            let board = self.board();
            let Some(live) = board.agents.get(agent) else {
                return;
            };
            let duration = live.agent.after_call_work_ms as i64;
            let mut presence = live.agent.presence.clone();
            if duration == 0 || !presence.start_after_call_work(media, now, now + duration) {
                return;
            }
            presence
        };
        let Some(until) = presence.next_after_call_work_end() else {
            return;
        };
        if let Err(err) = self.store_presence(agent, presence).await {
            tracing::warn!(agent = %agent, "after-call work not started: {err}");
            return;
        }
        self.end_after_call_work_at(agent, until);
    }

    /// Ends due after-call work of `agent` at `until`.
    pub(super) fn end_after_call_work_at(self: &Arc<Self>, agent: &str, until: i64) {
        let engine = self.clone();
        let agent = agent.to_string();
        tokio::spawn(async move {
            let wait = (until - now_ms()).max(0) as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let presence = {
                let board = engine.board();
                let Some(live) = board.agents.get(&agent) else {
                    return;
                };
                let mut presence = live.agent.presence.clone();
                if presence.end_due_after_call_work(now_ms()).is_empty() {
                    return;
                }
                presence
            };
            match engine.store_presence(&agent, presence).await {
                Ok(()) => engine.agent_available(&agent),
                Err(err) => tracing::warn!(agent = %agent, "after-call work not ended: {err}"),
            }
        });
    }

    /// Creates an account.
    pub async fn create_agent(&self, spec: AgentSpec) -> Result<Agent, EngineError> {
        spec.validate().map_err(EngineError::Invalid)?;
        let hash = spec.password.as_deref().map(password::hash);
        let agent = Agent {
            id: spec.id.clone(),
            name: spec.name.clone().unwrap_or_else(|| spec.id.clone()),
            role: spec.role,
            skills: spec.skills,
            groups: spec.groups,
            capacity: spec.capacity,
            after_call_work_ms: spec.after_call_work_ms,
            presence: Presence::default(),
            created_at: 0,
            updated_at: 0,
        };
        let created = self.store.create_agent(agent, hash).await?;
        self.board().agents.insert(
            created.id.clone(),
            LiveAgent::new(created.clone(), now_ms()),
        );
        Ok(created)
    }

    /// Replaces an account's settings, keeping its presence and load.
    pub async fn replace_agent(self: &Arc<Self>, spec: AgentSpec) -> Result<Agent, EngineError> {
        spec.validate().map_err(EngineError::Invalid)?;
        let current = self.store.agent(&spec.id).await?;
        let hash = spec.password.as_deref().map(password::hash);
        let agent = Agent {
            name: spec.name.clone().unwrap_or_else(|| current.name.clone()),
            role: spec.role,
            skills: spec.skills,
            groups: spec.groups,
            capacity: spec.capacity,
            after_call_work_ms: spec.after_call_work_ms,
            ..current
        };
        let replaced = self.store.replace_agent(agent, hash).await?;
        if let Some(live) = self.board().agents.get_mut(&replaced.id) {
            live.agent = Agent {
                presence: live.agent.presence.clone(),
                ..replaced.clone()
            };
        }
        // More skills or capacity may match waiting interactions.
        self.agent_available(&replaced.id);
        Ok(replaced)
    }

    /// Deletes an account that holds no interaction.
    pub async fn delete_agent(&self, id: &str) -> Result<(), EngineError> {
        let holding = self
            .board()
            .agents
            .get(id)
            .map_or(0, |live| live.holding().len());
        if holding > 0 {
            return Err(EngineError::Unavailable(format!(
                "agent `{id}` still has {holding} interaction(s); transfer or complete them first"
            )));
        }
        self.store.delete_agent(id).await?;
        self.board().agents.remove(id);
        Ok(())
    }

    /// An account with its live presence.
    pub fn live_agent(&self, id: &str) -> Option<Agent> {
        self.board().agents.get(id).map(|live| live.agent.clone())
    }
}
