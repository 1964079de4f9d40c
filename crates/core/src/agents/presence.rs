//! Presence per media type: an agent is logged in on some media types and,
//! on each, ready, not ready (with a reason code) or in after-call work.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state on one media type an agent is logged in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PresenceState {
    /// May be offered interactions.
    Ready,
    /// Logged in, not taking interactions.
    NotReady,
    /// Wrapping up after an interaction; ready again when it ends.
    AfterCallWork,
}

/// Presence on one media type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct MediaPresence {
    pub state: PresenceState,
    /// Reason code of `not-ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Since when, ms since the Unix epoch.
    pub since: i64,
    /// When after-call work ends, ms since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// Presence on every media type; media types absent are logged out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Presence(pub BTreeMap<String, MediaPresence>);

impl Presence {
    /// Whether the agent may be offered an interaction of `media`.
    pub fn is_ready(&self, media: &str) -> bool {
        self.0
            .get(media)
            .is_some_and(|p| p.state == PresenceState::Ready)
    }

    /// Sets `media` to `state` from `now`.
    pub fn set(&mut self, media: &str, state: PresenceState, reason: Option<String>, now: i64) {
        self.0.insert(
            media.to_string(),
            MediaPresence {
                state,
                reason,
                since: now,
                until: None,
            },
        );
    }

    /// Logs out of `media`.
    pub fn log_out(&mut self, media: &str) {
        self.0.remove(media);
    }

    /// Puts `media` in after-call work until `until`, if it was ready.
    pub fn start_after_call_work(&mut self, media: &str, now: i64, until: i64) -> bool {
        match self.0.get_mut(media) {
            Some(p) if p.state == PresenceState::Ready => {
                *p = MediaPresence {
                    state: PresenceState::AfterCallWork,
                    reason: None,
                    since: now,
                    until: Some(until),
                };
                true
            }
            _ => false,
        }
    }

    /// Ends after-call work that is due by `now`; returns the media types
    /// that became ready.
    pub fn end_due_after_call_work(&mut self, now: i64) -> Vec<String> {
        let mut ended = Vec::new();
        for (media, p) in &mut self.0 {
            if p.state == PresenceState::AfterCallWork && p.until.is_some_and(|u| u <= now) {
                *p = MediaPresence {
                    state: PresenceState::Ready,
                    reason: None,
                    since: now,
                    until: None,
                };
                ended.push(media.clone());
            }
        }
        ended
    }

    /// When the next after-call work ends.
    pub fn next_after_call_work_end(&self) -> Option<i64> {
        self.0.values().filter_map(|p| p.until).min()
    }

    /// The latest time the agent became ready on a media type.
    pub fn ready_since(&self) -> Option<i64> {
        self.0
            .values()
            .filter(|p| p.state == PresenceState::Ready)
            .map(|p| p.since)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_call_work_ends_on_time() {
        let mut presence = Presence::default();
        presence.set("chat", PresenceState::Ready, None, 0);
        assert!(presence.is_ready("chat"));
        assert!(!presence.is_ready("email"), "logged out");
        assert!(presence.start_after_call_work("chat", 10, 110));
        assert!(!presence.is_ready("chat"));
        assert_eq!(presence.next_after_call_work_end(), Some(110));
        assert!(presence.end_due_after_call_work(109).is_empty());
        assert_eq!(presence.end_due_after_call_work(110), ["chat"]);
        assert!(presence.is_ready("chat"));
    }

    #[test]
    fn not_ready_agents_do_not_enter_after_call_work() {
        let mut presence = Presence::default();
        presence.set("chat", PresenceState::NotReady, Some("lunch".into()), 0);
        assert!(!presence.start_after_call_work("chat", 10, 20));
        assert_eq!(presence.0["chat"].reason.as_deref(), Some("lunch"));
    }
}
