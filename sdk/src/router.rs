//! The `router` world: routing strategies.
//!
//! Implement [`Guest`] and export it with [`export_router!`](crate::export_router).

world_bindings!("router", "export_router", "parley_sdk::router::bindings");

pub use crate::candidates::{Candidate, Load};
#[cfg(not(feature = "contract-v0-1"))]
pub use crate::candidates::{CandidateRef, CandidateSet};
pub use bindings::exports::parley::plugin::routing::{
    Action, Change, Decision, Guest, RouteRequest, SkillRequirement, Target, Timer,
};
/// Calls into other plugins (`calls` capability).
pub use bindings::parley::plugin::plugins;

use crate::{Attribute, Value};

impl Decision {
    /// A decision to take `action` with no changes.
    pub fn new(action: Action) -> Self {
        Decision {
            action,
            changes: Vec::new(),
        }
    }

    /// Route to `target` with no timer.
    pub fn route(target: Target) -> Self {
        Self::new(Action::Route(RouteRequest {
            target,
            timer: None,
        }))
    }

    /// Route to `target`; if still waiting after `after_ms`, `on-timer` is
    /// called with `tag`.
    pub fn route_with_timer(target: Target, after_ms: u64, tag: &str) -> Self {
        Self::new(Action::Route(RouteRequest {
            target,
            timer: Some(Timer {
                after_ms,
                tag: tag.to_string(),
            }),
        }))
    }

    /// Keep waiting; `on-timer` is called with `tag` after `after_ms`.
    pub fn wait(after_ms: u64, tag: &str) -> Self {
        Self::new(Action::Wait(Timer {
            after_ms,
            tag: tag.to_string(),
        }))
    }

    /// Move to another queue.
    pub fn move_to_queue(queue: &str) -> Self {
        Self::new(Action::MoveToQueue(queue.to_string()))
    }

    /// Stop processing, with a reason.
    pub fn stop(reason: &str) -> Self {
        Self::new(Action::Stop(reason.to_string()))
    }

    /// Also set the priority.
    pub fn set_priority(mut self, priority: i32) -> Self {
        self.changes.push(Change::SetPriority(priority));
        self
    }

    /// Also set an attribute of attached data.
    pub fn set_attribute(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.changes
            .push(Change::SetAttribute(Attribute::new(key, value)));
        self
    }

    /// Also post a system message to the customer.
    pub fn notify(mut self, message: &str) -> Self {
        self.changes.push(Change::Notify(message.to_string()));
        self
    }
}

impl SkillRequirement {
    /// `skill` at `min_level` or above.
    pub fn new(skill: &str, min_level: u8) -> Self {
        SkillRequirement {
            skill: skill.to_string(),
            min_level,
        }
    }
}
