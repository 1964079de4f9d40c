//! The routing board: the live, in-memory picture the engine decides on,
//! guarded by one lock so that checking an agent's capacity and claiming
//! it is one atomic step. The store stays the truth; the board is rebuilt
//! from it at startup.

use std::collections::{HashMap, HashSet};

use parley_core::agents::{Agent, Load};
use parley_store::Interaction;

/// Whom an interaction is to be offered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Agent(String),
    /// Any agent of a group.
    Group(String),
    /// Any agent with these skills at these minimum levels.
    Skills(Vec<(String, u8)>),
}

impl Target {
    /// Whether `agent` is one this target names.
    pub fn matches(&self, agent: &Agent) -> bool {
        match self {
            Target::Agent(id) => agent.id == *id,
            Target::Group(group) => agent.groups.iter().any(|g| g == group),
            Target::Skills(required) => required
                .iter()
                .all(|(skill, min)| agent.skill_level(skill).is_some_and(|l| l >= *min)),
        }
    }
}

/// An agent as the board sees it.
pub(super) struct LiveAgent {
    pub agent: Agent,
    /// The interactions holding the agent's capacity, with their media type.
    holding: HashMap<String, String>,
    /// `holding` counted per media type.
    load: Load,
    /// Since when the agent has been idle: its last offer, release or
    /// change to ready, whichever is latest. An agent with room for
    /// several chats is offered one, then counts as busier than those not
    /// offered anything since.
    pub idle_since: i64,
}

impl LiveAgent {
    pub fn new(agent: Agent, now: i64) -> LiveAgent {
        let idle_since = agent.presence.ready_since().unwrap_or(now);
        LiveAgent {
            agent,
            holding: HashMap::new(),
            load: Load::new(),
            idle_since,
        }
    }

    /// Interactions per media type.
    pub fn load(&self) -> &Load {
        &self.load
    }

    /// The interactions holding its capacity, with their media type.
    pub fn holding(&self) -> &HashMap<String, String> {
        &self.holding
    }

    /// Records that `interaction` (of `media`) holds its capacity.
    pub fn take(&mut self, interaction: &str, media: &str) {
        if self
            .holding
            .insert(interaction.to_string(), media.to_string())
            .is_none()
        {
            *self.load.entry(media.to_string()).or_default() += 1;
        }
    }

    /// Gives back what `interaction` held; whether it held anything.
    pub fn give_back(&mut self, interaction: &str) -> bool {
        let Some(media) = self.holding.remove(interaction) else {
            return false;
        };
        if let Some(n) = self.load.get_mut(&media) {
            *n -= 1;
            if *n == 0 {
                self.load.remove(&media);
            }
        }
        true
    }

    /// How full its capacity for `media` is, as a fraction `(active,
    /// capacity)` (a media type it takes none of counts as full).
    fn fill(&self, media: &str) -> (u64, u64) {
        match self.agent.capacity.limits.get(media) {
            Some(&capacity) if capacity > 0 => (
                u64::from(self.load.get(media).copied().unwrap_or(0)),
                u64::from(capacity),
            ),
            _ => (1, 1),
        }
    }

    /// Whether one more interaction of `media` fits its capacity.
    pub fn has_room(&self, media: &str) -> bool {
        self.agent.capacity.admits(&self.load, media)
    }

    /// Whether it may be offered an interaction of `media` now.
    pub fn can_take(&self, media: &str) -> bool {
        self.agent.presence.is_ready(media) && self.has_room(media)
    }
}

/// A strategy's pending timer.
#[derive(Debug, Clone)]
pub(super) struct PendingTimer {
    /// Passed back to `on-timer`; `None` asks `on-queued` again (after a
    /// router failure).
    pub tag: Option<String>,
    /// Tells this timer from later ones.
    pub generation: u64,
}

/// A queued interaction waiting for an agent or a timer.
pub(super) struct Waiting {
    pub interaction: Interaction,
    /// Whom to offer it to; `None` while it only waits for a timer.
    pub target: Option<Target>,
    pub timer: Option<PendingTimer>,
}

/// An outstanding offer.
pub(super) struct Offer {
    pub agent: String,
    pub generation: u64,
}

#[derive(Default)]
pub(super) struct Board {
    pub agents: HashMap<String, LiveAgent>,
    /// Queued interactions with their target.
    pub waiting: HashMap<String, Waiting>,
    /// Interactions a strategy is deciding on (locked).
    pub routing: HashSet<String>,
    /// Offers awaiting an answer, by interaction.
    pub offers: HashMap<String, Offer>,
    /// Agents who rejected or let an offer time out, by interaction: not
    /// offered it again.
    pub declined: HashMap<String, HashSet<String>>,
    generation: u64,
}

impl Board {
    /// A fresh generation number for an offer or timer.
    pub fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    /// Whether `agent` may be offered `interaction` for `target` now.
    pub fn eligible(&self, agent: &LiveAgent, interaction: &Interaction, target: &Target) -> bool {
        let declined = self.declined.get(&interaction.id);
        Self::may_offer(agent, &interaction.media_type, target, declined)
    }

    /// [`Board::eligible`] with the interaction's decliners looked up once.
    fn may_offer(
        agent: &LiveAgent,
        media: &str,
        target: &Target,
        declined: Option<&HashSet<String>>,
    ) -> bool {
        agent.can_take(media)
            && target.matches(&agent.agent)
            && !declined.is_some_and(|d| d.contains(&agent.agent.id))
    }

    /// Agents eligible for `interaction`, the least loaded on its media
    /// type first (by the share of capacity in use), then the longest idle
    /// (ties: lowest id); at most `limit`.
    pub fn candidates(
        &self,
        interaction: &Interaction,
        target: &Target,
        limit: usize,
    ) -> Vec<&LiveAgent> {
        let mut found: Vec<&LiveAgent> = match target {
            Target::Agent(id) => self.agents.get(id).into_iter().collect(),
            _ => self.agents.values().collect(),
        };
        let declined = self.declined.get(&interaction.id);
        found.retain(|a| Self::may_offer(a, &interaction.media_type, target, declined));
        let media = interaction.media_type.as_str();
        let first_offered = |a: &&LiveAgent, b: &&LiveAgent| {
            let ((a_active, a_capacity), (b_active, b_capacity)) = (a.fill(media), b.fill(media));
            (a_active * b_capacity)
                .cmp(&(b_active * a_capacity))
                .then_with(|| a.idle_since.cmp(&b.idle_since))
                .then_with(|| a.agent.id.cmp(&b.agent.id))
        };
        if found.len() > limit && limit > 0 {
            found.select_nth_unstable_by(limit, first_offered);
        }
        found.truncate(limit);
        found.sort_by(first_offered);
        found
    }

    /// Claims `agent`'s capacity for `interaction` if it is still eligible:
    /// the one place capacity is taken for an offer, under the board lock.
    /// The agent is no longer idle from `now`.
    pub fn claim_offer(
        &mut self,
        agent: &str,
        interaction: &Interaction,
        target: &Target,
        now: i64,
    ) -> bool {
        let Some(live) = self.agents.get(agent) else {
            return false;
        };
        if !self.eligible(live, interaction, target)
            || !self.hold(agent, &interaction.id, &interaction.media_type)
        {
            return false;
        }
        if let Some(live) = self.agents.get_mut(agent) {
            live.idle_since = live.idle_since.max(now);
        }
        true
    }

    /// Takes `agent`'s capacity for `interaction` if it has room (pulls,
    /// conferences and transfers need no `ready` presence).
    pub fn hold(&mut self, agent: &str, interaction: &str, media: &str) -> bool {
        match self.agents.get_mut(agent) {
            Some(live) if live.holding.contains_key(interaction) => true,
            Some(live) if live.has_room(media) => {
                live.take(interaction, media);
                true
            }
            _ => false,
        }
    }

    /// Gives back the capacity `interaction` holds on `agent`.
    pub fn release(&mut self, agent: &str, interaction: &str, now: i64) {
        if let Some(live) = self.agents.get_mut(agent)
            && live.give_back(interaction)
        {
            live.idle_since = now;
        }
    }

    /// Forgets an interaction that left routing for good or for an agent.
    pub fn forget(&mut self, interaction: &str) {
        self.waiting.remove(interaction);
        self.declined.remove(interaction);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_core::agents::{CapacityRule, Presence, PresenceState, Role, Skill};
    use parley_store::State;

    fn agent(id: &str, chats: u32) -> Agent {
        let mut presence = Presence::default();
        presence.set("chat", PresenceState::Ready, None, 0);
        Agent {
            id: id.into(),
            name: id.into(),
            role: Role::Agent,
            skills: vec![Skill {
                name: "support".into(),
                level: 5,
            }],
            groups: vec!["tier1".into()],
            capacity: CapacityRule {
                limits: [("chat".to_string(), chats)].into(),
                ..CapacityRule::default()
            },
            after_call_work_ms: 0,
            presence,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn chat(id: &str) -> Interaction {
        Interaction {
            id: id.into(),
            tenant: "t".into(),
            media_type: "chat".into(),
            state: State::Queued,
            queue: Some("q".into()),
            priority: 0,
            attached: serde_json::json!([]),
            contact_id: None,
            parent_id: None,
            owner: None,
            parties: Vec::new(),
            workbin: None,
            workbin_owner: None,
            disposition: None,
            submitted_at: 0,
            queued_at: Some(0),
            updated_at: 0,
        }
    }

    #[test]
    fn claims_never_exceed_capacity() {
        let mut board = Board::default();
        board
            .agents
            .insert("ann".into(), LiveAgent::new(agent("ann", 2), 0));
        let target = Target::Group("tier1".into());
        assert!(board.claim_offer("ann", &chat("1"), &target, 1));
        assert!(board.claim_offer("ann", &chat("2"), &target, 2));
        assert!(!board.claim_offer("ann", &chat("3"), &target, 3));
        board.release("ann", "1", 5);
        assert!(board.claim_offer("ann", &chat("3"), &target, 6));
        assert_eq!(board.agents["ann"].load()["chat"], 2);
    }

    #[test]
    fn candidates_are_eligible_and_longest_idle_first() {
        let mut board = Board::default();
        for (id, idle) in [("ann", 30), ("bob", 10), ("cid", 20)] {
            let mut live = LiveAgent::new(agent(id, 1), 0);
            live.idle_since = idle;
            board.agents.insert(id.into(), live);
        }
        board
            .declined
            .insert("1".into(), HashSet::from(["cid".to_string()]));
        let skills = Target::Skills(vec![("support".into(), 3)]);
        let ids: Vec<&str> = board
            .candidates(&chat("1"), &skills, 10)
            .iter()
            .map(|a| a.agent.id.as_str())
            .collect();
        assert_eq!(ids, ["bob", "ann"], "cid declined it");
        let too_high = Target::Skills(vec![("support".into(), 6)]);
        assert!(board.candidates(&chat("1"), &too_high, 10).is_empty());
    }

    #[test]
    fn an_offer_puts_an_agent_behind_equally_loaded_ones() {
        let mut board = Board::default();
        for id in ["ann", "bob", "cid"] {
            board
                .agents
                .insert(id.into(), LiveAgent::new(agent(id, 4), 0));
        }
        let target = Target::Group("tier1".into());
        let order = |board: &Board, chat_id: &str| -> Vec<String> {
            board
                .candidates(&chat(chat_id), &target, 10)
                .iter()
                .map(|a| a.agent.id.clone())
                .collect()
        };
        // Nine chats in a row go round the three agents, three each.
        for n in 0..9 {
            let id = n.to_string();
            let first = order(&board, &id)[0].clone();
            assert!(board.claim_offer(&first, &chat(&id), &target, n + 1));
        }
        for id in ["ann", "bob", "cid"] {
            assert_eq!(board.agents[id].load()["chat"], 3, "{id}");
        }
        // A release makes that agent the least loaded, however recent.
        board.release("bob", "1", 100);
        assert_eq!(order(&board, "9"), ["bob", "ann", "cid"]);
    }
}
