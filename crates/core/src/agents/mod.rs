//! Agents: accounts with a role, skills with levels, groups, a capacity
//! rule per media type and presence per media type. Accounts are stored by
//! the store; this module holds the rules that decide what an agent
//! may be offered.

pub mod capacity;
pub mod password;
pub mod presence;
mod role;

pub use capacity::{CapacityRule, Load};
pub use presence::{MediaPresence, Presence, PresenceState};
pub use role::Role;

use serde::{Deserialize, Serialize};

/// A skill and the agent's level in it (0 to 10 by convention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    /// Skill name, e.g. `billing`.
    pub name: String,
    /// Level; higher is more proficient.
    pub level: u8,
}

/// An agent (or supervisor, or administrator) account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Agent {
    /// Login name, unique.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the account may do.
    pub role: Role,
    /// Skills with levels.
    pub skills: Vec<Skill>,
    /// Agent groups.
    pub groups: Vec<String>,
    /// How many interactions of each media type at once.
    pub capacity: CapacityRule,
    /// After-call work after each completed interaction, in ms (0: none).
    pub after_call_work_ms: u64,
    /// Presence per media type.
    pub presence: Presence,
    /// Created at, ms since the Unix epoch.
    pub created_at: i64,
    /// Last changed at.
    pub updated_at: i64,
}

/// A new account, or the full replacement of one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AgentSpec {
    /// Login name (taken from the path when replacing).
    #[serde(default)]
    pub id: String,
    /// Display name (the id if absent).
    #[serde(default)]
    pub name: Option<String>,
    /// Role (`agent` if absent).
    #[serde(default)]
    pub role: Role,
    /// Password; without one the account cannot log in (an integration
    /// with an API key can still act for it). Kept unchanged when replacing
    /// without one.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub skills: Vec<Skill>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Capacity rule ([`CapacityRule::default`] if absent).
    #[serde(default)]
    pub capacity: CapacityRule,
    #[serde(default)]
    pub after_call_work_ms: u64,
}

/// Longest id, name, group or skill name.
const MAX_NAME: usize = 256;
/// Shortest password.
pub const MIN_PASSWORD: usize = 8;

impl AgentSpec {
    /// Checks the fields; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = |s: &str| !s.trim().is_empty() && s.len() <= MAX_NAME;
        if !name_ok(&self.id) || self.id.contains('/') {
            return Err(format!(
                "id must be 1 to {MAX_NAME} characters, without `/`"
            ));
        }
        if self.name.as_deref().is_some_and(|n| !name_ok(n)) {
            return Err(format!("name must be 1 to {MAX_NAME} characters"));
        }
        if let Some(password) = &self.password
            && password.chars().count() < MIN_PASSWORD
        {
            return Err(format!(
                "the password must have at least {MIN_PASSWORD} characters"
            ));
        }
        if let Some(bad) = self.skills.iter().find(|s| !name_ok(&s.name)) {
            return Err(format!("skill name `{}` is not valid", bad.name));
        }
        if let Some(bad) = self.groups.iter().find(|g| !name_ok(g)) {
            return Err(format!("group name `{bad}` is not valid"));
        }
        self.capacity.validate()
    }
}

impl Agent {
    /// The level of a skill, if the agent has it.
    pub fn skill_level(&self, skill: &str) -> Option<u8> {
        self.skills
            .iter()
            .find(|s| s.name == skill)
            .map(|s| s.level)
    }
}
