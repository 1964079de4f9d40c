//! Screening before routing (opt-in, the `screening` config key): on
//! `on-queued`, interactions of the configured media types are screened by
//! a screener plugin through the host (`plugins.screen-interaction`, which
//! the manifest must grant with `calls = ["<screener>"]`). The result is
//! recorded in attached data and the best category can require a skill:
//!
//! ```toml
//! screening = { plugin = "rules-screener", media = ["email"], category-skills = { billing = "billing", orders = { skill = "orders", level = 3 } } }
//! ```
//!
//! | key | meaning |
//! |---|---|
//! | `plugin` | the screener plugin |
//! | `media` | media types screened; `"*"` for any |
//! | `category-skills` | category to the skill required when it is the best one: a skill name (level 1) or `{ skill, level }` |
//!
//! Attached data set from the result (replacing an earlier screening's):
//!
//! | key | value |
//! |---|---|
//! | `category` | text: the best category (removed when none matched) |
//! | `category-score` | decimal: its score, 0 to 1 (removed when none matched) |
//! | `categories` | texts: every matching category, best first |
//! | `field.<name>` | text: each extracted field (the first [`MAX_FIELDS`] distinct names, values cut to [`MAX_FIELD_VALUE`] bytes) |
//!
//! The skill of the `category` attribute is required whenever the
//! interaction has one, so `on-timer`, `pick-agent` and `pick-interaction`
//! agree with `on-queued`.
//!
//! A screening that fails (screener not granted or not loaded, trapping,
//! out of time...) never fails the decision: the interaction is routed on
//! what it had, the failure is logged and recorded as `screening-error`
//! (text: `<error kind>: <message>`), which the next successful screening
//! removes.

use parley_sdk::router::Change;
use parley_sdk::{Attribute, Error, Interaction, ScreenResult, Value};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::strategy::Requirement;

/// Attribute holding the best category.
pub const CATEGORY: &str = "category";
/// Attribute holding the best category's score.
pub const CATEGORY_SCORE: &str = "category-score";
/// Attribute holding every matching category, best first.
pub const CATEGORIES: &str = "categories";
/// Attribute holding why the last screening failed.
pub const SCREENING_ERROR: &str = "screening-error";
/// Prefix of the attributes holding extracted fields.
pub const FIELD_PREFIX: &str = "field.";
/// Most extracted fields recorded (a decision carries at most 64 changes).
pub const MAX_FIELDS: usize = 16;
/// Longest extracted value (or error message) recorded, in bytes.
pub const MAX_FIELD_VALUE: usize = 1024;

/// The skill a category requires, as configured.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum CategorySkill {
    /// A skill name, at level 1.
    Skill(String),
    /// A skill at a minimum level.
    Requirement(Requirement),
}

impl CategorySkill {
    fn requirement(&self) -> Requirement {
        match self {
            CategorySkill::Skill(skill) => Requirement {
                skill: skill.clone(),
                level: 1,
            },
            CategorySkill::Requirement(requirement) => requirement.clone(),
        }
    }
}

/// The `screening` configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Screening {
    /// The screener plugin.
    pub plugin: String,
    /// Media types screened; `*` for any.
    pub media: Vec<String>,
    /// Category to the skill it requires.
    #[serde(default)]
    pub category_skills: BTreeMap<String, CategorySkill>,
}

impl Screening {
    /// Whether interactions of `media_type` are screened.
    pub fn screens(&self, media_type: &str) -> bool {
        self.media.iter().any(|m| m == "*" || m == media_type)
    }

    /// The skill required by the interaction's `category`, if it maps to one.
    pub fn requirement(&self, interaction: &Interaction) -> Option<Requirement> {
        let category = interaction.attribute(CATEGORY)?.as_text()?;
        self.category_skills
            .get(category)
            .map(CategorySkill::requirement)
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> String {
    text[..text.floor_char_boundary(max)].to_string()
}

/// The changes recording the outcome of screening `interaction` in its
/// attached data.
pub fn changes(interaction: &Interaction, screened: &Result<ScreenResult, Error>) -> Vec<Change> {
    match screened {
        Ok(result) => {
            let mut changes = recorded(result);
            if interaction.attribute(SCREENING_ERROR).is_some() {
                changes.push(Change::RemoveAttribute(SCREENING_ERROR.into()));
            }
            changes
        }
        Err(error) => vec![Change::SetAttribute(Attribute::new(
            SCREENING_ERROR,
            cut(
                &format!("{}: {}", error.kind.as_str(), error.message),
                MAX_FIELD_VALUE,
            ),
        ))],
    }
}

/// The attributes recording a screening result.
fn recorded(result: &ScreenResult) -> Vec<Change> {
    let mut changes = match result.categories.first() {
        Some(best) => vec![
            Change::SetAttribute(Attribute::new(CATEGORY, best.name.as_str())),
            Change::SetAttribute(Attribute::new(CATEGORY_SCORE, best.score)),
        ],
        None => vec![
            Change::RemoveAttribute(CATEGORY.into()),
            Change::RemoveAttribute(CATEGORY_SCORE.into()),
        ],
    };
    let names = result.categories.iter().map(|c| c.name.clone()).collect();
    changes.push(Change::SetAttribute(Attribute::new(
        CATEGORIES,
        Value::Texts(names),
    )));
    let mut seen = Vec::new();
    for field in &result.fields {
        if seen.len() == MAX_FIELDS {
            break;
        }
        if field.name.trim().is_empty() || seen.contains(&field.name.as_str()) {
            continue;
        }
        seen.push(field.name.as_str());
        changes.push(Change::SetAttribute(Attribute::new(
            format!("{FIELD_PREFIX}{}", field.name),
            cut(&field.value, MAX_FIELD_VALUE),
        )));
    }
    changes
}

/// `interaction` with the attached-data changes among `changes` applied:
/// what the strategy decides on before the host writes them.
pub fn apply(interaction: &Interaction, changes: &[Change]) -> Interaction {
    let mut changed = interaction.clone();
    for change in changes {
        match change {
            Change::SetAttribute(attribute) => {
                changed.attached.retain(|a| a.key != attribute.key);
                changed.attached.push(attribute.clone());
            }
            Change::RemoveAttribute(key) => changed.attached.retain(|a| &a.key != key),
            Change::SetPriority(_) | Change::Notify(_) => {}
        }
    }
    changed
}
