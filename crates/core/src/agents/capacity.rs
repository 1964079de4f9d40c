//! Capacity rules: how many interactions of each media type an agent
//! handles at once, an optional total, and media types that block others
//! (for instance "while on a chat, no e-mail").

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Interactions an agent handles now, per media type.
pub type Load = BTreeMap<String, u32>;

/// An agent's capacity rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CapacityRule {
    /// At most this many at once, per media type; media types not listed
    /// are never offered.
    pub limits: BTreeMap<String, u32>,
    /// At most this many at once across media types.
    #[serde(default)]
    pub total: Option<u32>,
    /// While the agent has any interaction of the key's media type, none of
    /// the listed media types is offered.
    #[serde(default)]
    pub blocks: BTreeMap<String, Vec<String>>,
}

/// Largest limit: far above what a person handles, low enough to catch
/// typos.
const MAX_LIMIT: u32 = 1000;

impl Default for CapacityRule {
    /// One chat, one e-mail and one of every other standard media type at
    /// a time.
    fn default() -> Self {
        let limits = [
            "chat",
            "email",
            "sms",
            "callback",
            "social",
            "web-engagement",
            "workitem",
        ]
        .into_iter()
        .map(|m| (m.to_string(), 1))
        .collect();
        CapacityRule {
            limits,
            total: None,
            blocks: BTreeMap::new(),
        }
    }
}

impl CapacityRule {
    /// Checks limits are in range and blocks name known media types.
    pub fn validate(&self) -> Result<(), String> {
        let over = |n: u32| n > MAX_LIMIT;
        if let Some((media, _)) = self.limits.iter().find(|(_, n)| over(**n)) {
            return Err(format!("capacity for `{media}` is above {MAX_LIMIT}"));
        }
        if self.total.is_some_and(over) {
            return Err(format!("total capacity is above {MAX_LIMIT}"));
        }
        for (media, blocked) in &self.blocks {
            for other in std::iter::once(media).chain(blocked) {
                if !self.limits.contains_key(other) {
                    return Err(format!(
                        "`blocks` names media type `{other}`, which has no limit"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether one more interaction of `media` fits with the current load.
    pub fn admits(&self, load: &Load, media: &str) -> bool {
        let Some(&limit) = self.limits.get(media) else {
            return false;
        };
        let active = |m: &str| load.get(m).copied().unwrap_or(0);
        let total: u32 = load.values().sum();
        active(media) < limit
            && self.total.is_none_or(|t| total < t)
            && !self
                .blocks
                .iter()
                .any(|(m, blocked)| active(m) > 0 && blocked.iter().any(|b| b == media))
    }

    /// The media types this rule lets the agent handle.
    pub fn media_types(&self) -> impl Iterator<Item = &str> {
        self.limits
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(m, _)| m.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> CapacityRule {
        serde_json::from_value(json).unwrap()
    }

    fn load(pairs: &[(&str, u32)]) -> Load {
        pairs.iter().map(|(m, n)| (m.to_string(), *n)).collect()
    }

    #[test]
    fn limits_apply_per_media_type() {
        let rule = rule(serde_json::json!({"limits": {"chat": 3, "email": 1}}));
        assert!(rule.admits(&load(&[("chat", 2)]), "chat"));
        assert!(!rule.admits(&load(&[("chat", 3)]), "chat"));
        assert!(rule.admits(&load(&[("chat", 3)]), "email"));
        assert!(!rule.admits(&load(&[("email", 1)]), "email"));
        assert!(!rule.admits(&load(&[]), "sms"), "unlisted media");
    }

    #[test]
    fn a_total_caps_all_media() {
        let rule = rule(serde_json::json!({"limits": {"chat": 3, "email": 2}, "total": 3}));
        assert!(rule.admits(&load(&[("chat", 1), ("email", 1)]), "email"));
        assert!(!rule.admits(&load(&[("chat", 2), ("email", 1)]), "chat"));
    }

    #[test]
    fn a_media_type_can_block_another() {
        let rule = rule(serde_json::json!({
            "limits": {"chat": 3, "email": 1}, "blocks": {"chat": ["email"]}
        }));
        assert!(!rule.admits(&load(&[("chat", 1)]), "email"));
        assert!(rule.admits(&load(&[("email", 1)]), "chat"), "one way only");
        assert!(rule.admits(&load(&[]), "email"));
    }

    #[test]
    fn invalid_rules_are_refused() {
        let blocks_unknown = rule(serde_json::json!({
            "limits": {"chat": 1}, "blocks": {"chat": ["fax"]}
        }));
        assert_eq!(
            blocks_unknown.validate().unwrap_err(),
            "`blocks` names media type `fax`, which has no limit"
        );
        assert!(
            rule(serde_json::json!({"limits": {"chat": 5000}}))
                .validate()
                .is_err()
        );
    }
}
