//! Between the store's records and the plugin contract's types.

use serde_json::Value as Json;

use super::board::{LiveAgent, Target};
use parley_plugin::bindings::routing::{self, Change};
use parley_plugin::bindings::types;
use parley_store::attached::{self, Attribute, Value};
use parley_store::{Interaction, Transition};

fn to_value(value: &Value) -> types::Value {
    match value {
        Value::Text(t) => types::Value::Text(t.clone()),
        Value::Integer(n) => types::Value::Integer(*n),
        Value::Decimal(d) => types::Value::Decimal(*d),
        Value::Boolean(b) => types::Value::Boolean(*b),
        Value::Timestamp(t) => types::Value::Timestamp(*t),
        Value::Texts(t) => types::Value::Texts(t.clone()),
    }
}

fn from_value(value: &types::Value) -> Value {
    match value {
        types::Value::Text(t) => Value::Text(t.clone()),
        types::Value::Integer(n) => Value::Integer(*n),
        types::Value::Decimal(d) => Value::Decimal(*d),
        types::Value::Boolean(b) => Value::Boolean(*b),
        types::Value::Timestamp(t) => Value::Timestamp(*t),
        types::Value::Texts(t) => Value::Texts(t.clone()),
    }
}

fn attributes(interaction: &Interaction) -> Vec<Attribute> {
    // Stored attached data was checked when it was written.
    attached::parse(&interaction.attached).unwrap_or_default()
}

/// The interaction as a plugin sees it.
pub fn interaction(i: &Interaction, now: i64) -> types::Interaction {
    let list = attributes(i);
    let age = |since: i64| now.saturating_sub(since).max(0) as u64;
    types::Interaction {
        id: i.id.clone(),
        tenant: i.tenant.clone(),
        media_type: i.media_type.clone(),
        queue: i.queue.clone().unwrap_or_default(),
        priority: i.priority.clamp(i32::MIN.into(), i32::MAX.into()) as i32,
        age_ms: age(i.submitted_at),
        queue_age_ms: age(i.queued_at.unwrap_or(i.submitted_at)),
        subject: attached::text(&list, "subject").map(str::to_string),
        attached: list
            .iter()
            .map(|a| types::Attribute {
                key: a.key.clone(),
                value: to_value(&a.value),
            })
            .collect(),
        contact: None,
        thread_id: i.parent_id.clone(),
    }
}

/// An agent as a plugin sees it.
pub(super) fn candidate(live: &LiveAgent, now: i64) -> types::AgentCandidate {
    let load = live.load();
    types::AgentCandidate {
        id: live.agent.id.clone(),
        skills: live
            .agent
            .skills
            .iter()
            .map(|s| types::SkillLevel {
                name: s.name.clone(),
                level: s.level,
            })
            .collect(),
        groups: live.agent.groups.clone(),
        load: live
            .agent
            .capacity
            .limits
            .iter()
            .map(|(media, capacity)| types::MediaLoad {
                media_type: media.clone(),
                active: load.get(media).copied().unwrap_or(0),
                capacity: *capacity,
            })
            .collect(),
        idle_ms: now.saturating_sub(live.idle_since).max(0) as u64,
    }
}

/// A strategy's target.
pub fn target(target: &routing::Target) -> Target {
    match target {
        routing::Target::Agent(id) => Target::Agent(id.clone()),
        routing::Target::Group(group) => Target::Group(group.clone()),
        routing::Target::Skills(required) => Target::Skills(
            required
                .iter()
                .map(|r| (r.skill.clone(), r.min_level))
                .collect(),
        ),
    }
}

/// Adds a decision's changes to a transition: priority, attached data and
/// notifications, applied with the decision's action in one write.
pub fn apply_changes(
    interaction: &Interaction,
    changes: &[Change],
    mut t: Transition,
) -> Transition {
    if changes.is_empty() {
        return t;
    }
    let mut list = attributes(interaction);
    let mut attached_changed = false;
    for change in changes {
        match change {
            Change::SetPriority(p) => t.priority = Some(i64::from(*p)),
            Change::SetAttribute(a) => {
                list.retain(|x| x.key != a.key);
                list.push(Attribute {
                    key: a.key.clone(),
                    value: from_value(&a.value),
                });
                attached_changed = true;
            }
            Change::RemoveAttribute(key) => {
                list.retain(|x| x.key != *key);
                attached_changed = true;
            }
            Change::Notify(text) => t.notes.push(text.clone()),
        }
    }
    if attached_changed {
        t.attached = Some(serde_json::to_value(&list).unwrap_or(Json::Array(Vec::new())));
    }
    t
}

/// The interaction as it is once a decision's `changes` are applied
/// (priority and attached data), for what the router is asked before the
/// write that applies them (`pick-agent`).
pub fn changed(interaction: &Interaction, changes: &[Change]) -> Interaction {
    let t = apply_changes(
        interaction,
        changes,
        Transition::to(&interaction.id, interaction.state),
    );
    let mut changed = interaction.clone();
    if let Some(priority) = t.priority {
        changed.priority = priority;
    }
    if let Some(attached) = t.attached {
        changed.attached = attached;
    }
    changed
}
