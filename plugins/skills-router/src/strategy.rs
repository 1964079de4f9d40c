//! The skills-routing policy, as plain functions over the SDK types.
//!
//! Configuration (the `[config]` table of the manifest):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `requirements` | table: media type (or `*` for any) to a list of `{ skill, level }` | no requirement |
//! | `skills-attribute` | attached-data key whose texts (`"billing:5"`) replace the requirements | `skills` |
//! | `relax-after-ms` | waiting time after which each required level drops by `relax-step`; `0` never relaxes | `0` |
//! | `relax-step` | levels dropped per relaxation | `1` |
//! | `relax-floor` | lowest level relaxation reaches | `0` |
//! | `queued-messages` | table: media type to a message for the customer when the interaction enters the queue (the host fills in `{position}` and `{estimated-wait}`) | none |
//! | `screening` | table: screen interactions before routing them, see [`screening`](super::screening) | no screening |

use parley_sdk::router::{Candidate, Decision, SkillRequirement, Target};
use parley_sdk::{Error, Interaction, ScreenResult};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::screening::{self, Screening};

/// The tag of the timer that relaxes the required levels.
pub const RELAX_TIMER: &str = "relax";

/// One required skill as configured.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Requirement {
    /// Skill name.
    pub skill: String,
    /// Minimum level before relaxation.
    pub level: u8,
}

/// The routing policy, read from the plugin's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    requirements: BTreeMap<String, Vec<Requirement>>,
    skills_attribute: String,
    relax_after_ms: u64,
    relax_step: u8,
    relax_floor: u8,
    queued_messages: BTreeMap<String, String>,
    screening: Option<Screening>,
}

fn parse<T: std::str::FromStr>(key: &str, raw: &str) -> Result<T, Error> {
    raw.trim()
        .parse()
        .map_err(|_| Error::invalid_input(format!("config `{key}`: cannot parse `{raw}`")))
}

impl Policy {
    /// Reads the policy from configuration entries (key, value text).
    pub fn from_entries(entries: &[(String, String)]) -> Result<Self, Error> {
        let mut policy = Policy {
            requirements: BTreeMap::new(),
            skills_attribute: "skills".to_string(),
            relax_after_ms: 0,
            relax_step: 1,
            relax_floor: 0,
            queued_messages: BTreeMap::new(),
            screening: None,
        };
        for (key, value) in entries {
            match key.as_str() {
                "requirements" => {
                    policy.requirements = serde_json::from_str(value)
                        .map_err(|e| Error::invalid_input(format!("config `requirements`: {e}")))?
                }
                "skills-attribute" => policy.skills_attribute = value.clone(),
                "relax-after-ms" => policy.relax_after_ms = parse(key, value)?,
                "relax-step" => policy.relax_step = parse(key, value)?,
                "relax-floor" => policy.relax_floor = parse(key, value)?,
                "queued-messages" => {
                    policy.queued_messages = serde_json::from_str(value).map_err(|e| {
                        Error::invalid_input(format!("config `queued-messages`: {e}"))
                    })?
                }
                "screening" => {
                    policy.screening =
                        Some(serde_json::from_str(value).map_err(|e| {
                            Error::invalid_input(format!("config `screening`: {e}"))
                        })?)
                }
                _ => {}
            }
        }
        Ok(policy)
    }

    /// The requirements before relaxation: from the skills attribute if the
    /// interaction has one, else for its media type, else for `*`; plus
    /// the skill its screened category requires.
    fn base_requirements(&self, interaction: &Interaction) -> Result<Vec<Requirement>, Error> {
        let mut requirements = match interaction.attribute(&self.skills_attribute) {
            Some(value) => value
                .texts()
                .into_iter()
                .map(|text| {
                    let (skill, level) = text.split_once(':').unwrap_or((text, "0"));
                    Ok(Requirement {
                        skill: skill.trim().to_string(),
                        level: parse(&self.skills_attribute, level)?,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?,
            None => self
                .requirements
                .get(&interaction.media_type)
                .or_else(|| self.requirements.get("*"))
                .cloned()
                .unwrap_or_default(),
        };
        let screened = self
            .screening
            .as_ref()
            .and_then(|s| s.requirement(interaction));
        if let Some(required) = screened {
            match requirements.iter_mut().find(|r| r.skill == required.skill) {
                Some(r) => r.level = r.level.max(required.level),
                None => requirements.push(required),
            }
        }
        Ok(requirements)
    }

    /// How many relaxation steps have passed for this interaction.
    fn relax_steps(&self, interaction: &Interaction) -> u64 {
        match self.relax_after_ms {
            0 => 0,
            after => interaction.queue_age_ms / after,
        }
    }

    /// `level` lowered by `steps` relaxations, never below the floor (and
    /// never raised when it was configured below the floor).
    fn relaxed(&self, level: u8, steps: u64) -> u8 {
        let drop = steps.saturating_mul(u64::from(self.relax_step));
        let lowered = u64::from(level).saturating_sub(drop);
        lowered.max(u64::from(self.relax_floor.min(level))) as u8
    }

    /// The requirements in force for the interaction now, after relaxation.
    pub fn requirements(&self, interaction: &Interaction) -> Result<Vec<SkillRequirement>, Error> {
        let steps = self.relax_steps(interaction);
        Ok(self
            .base_requirements(interaction)?
            .iter()
            .map(|r| SkillRequirement::new(&r.skill, self.relaxed(r.level, steps)))
            .collect())
    }

    /// Routes to the skills in force now, with a timer for the next
    /// relaxation while any level can still drop.
    pub fn decide(&self, interaction: &Interaction) -> Result<Decision, Error> {
        let base = self.base_requirements(interaction)?;
        let steps = self.relax_steps(interaction);
        let target = Target::Skills(self.requirements(interaction)?);
        let can_relax_further = self.relax_after_ms > 0
            && base
                .iter()
                .any(|r| self.relaxed(r.level, steps) > self.relaxed(r.level, steps + 1));
        Ok(if can_relax_further {
            let next = self.relax_after_ms - interaction.queue_age_ms % self.relax_after_ms;
            Decision::route_with_timer(target, next, RELAX_TIMER)
        } else {
            Decision::route(target)
        })
    }

    /// The screener to ask about an interaction entering the queue, if its
    /// media type is screened.
    pub fn screener_for(&self, interaction: &Interaction) -> Option<&str> {
        self.screening
            .as_ref()
            .filter(|s| s.screens(&interaction.media_type))
            .map(|s| s.plugin.as_str())
    }

    /// The decision for an interaction entering the queue: the outcome of
    /// screening it (if it was) recorded in attached data,
    /// [`Policy::decide`] on the interaction as it is with them, and the
    /// message for the customer configured for its media type.
    pub fn on_queued(
        &self,
        interaction: &Interaction,
        screened: Option<&Result<ScreenResult, Error>>,
    ) -> Result<Decision, Error> {
        let recorded = screened
            .map(|outcome| screening::changes(interaction, outcome))
            .unwrap_or_default();
        let mut decision = self.decide(&screening::apply(interaction, &recorded))?;
        decision.changes = [recorded, decision.changes].concat();
        Ok(match self.queued_messages.get(&interaction.media_type) {
            Some(message) => decision.notify(message),
            None => decision,
        })
    }

    /// Whether `agent` meets `requirements` and can take one more
    /// interaction of `media_type`.
    fn qualifies(
        agent: &impl Candidate,
        requirements: &[SkillRequirement],
        media_type: &str,
    ) -> bool {
        agent.has_free_capacity(media_type)
            && requirements.iter().all(|r| {
                agent
                    .skill_level(&r.skill)
                    .is_some_and(|l| l >= r.min_level)
            })
    }

    /// The qualifying agent with the lowest share of its capacity on the
    /// media type in use, then the longest idle (ties: lowest id).
    pub fn pick_agent<C: Candidate>(
        &self,
        interaction: &Interaction,
        candidates: impl IntoIterator<Item = C>,
    ) -> Result<Option<String>, Error> {
        let requirements = self.requirements(interaction)?;
        let media = interaction.media_type.as_str();
        // Qualifying agents have a load entry with room on `media`.
        let fill = |agent: &C| {
            agent.load_for(media).map_or((1, 1), |l| {
                (u64::from(l.active), u64::from(l.capacity.max(1)))
            })
        };
        Ok(candidates
            .into_iter()
            .filter(|a| Self::qualifies(a, &requirements, media))
            .min_by(|a, b| {
                let ((a_active, a_capacity), (b_active, b_capacity)) = (fill(a), fill(b));
                (a_active * b_capacity)
                    .cmp(&(b_active * a_capacity))
                    .then_with(|| b.idle_ms().cmp(&a.idle_ms()))
                    .then_with(|| a.id().cmp(b.id()))
            })
            .map(|a| a.id().to_string()))
    }

    /// The waiting interaction the agent qualifies for with the highest
    /// priority, then the longest wait (ties: lowest id).
    pub fn pick_interaction(
        &self,
        agent: &impl Candidate,
        waiting: &[Interaction],
    ) -> Result<Option<String>, Error> {
        let mut best: Option<&Interaction> = None;
        for interaction in waiting {
            let requirements = self.requirements(interaction)?;
            if !Self::qualifies(agent, &requirements, &interaction.media_type) {
                continue;
            }
            let better = best.is_none_or(|b| {
                (
                    interaction.priority,
                    interaction.age_ms,
                    std::cmp::Reverse(&interaction.id),
                ) > (b.priority, b.age_ms, std::cmp::Reverse(&b.id))
            });
            if better {
                best = Some(interaction);
            }
        }
        Ok(best.map(|i| i.id.clone()))
    }
}
