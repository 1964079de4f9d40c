//! The columnar `candidate-set` of contract 0.2.0, built from the host's
//! list of candidates: every name written into one byte buffer and
//! numbered (the names agents share written once), every field a list of
//! integers, so lowering the set into a plugin is a few allocations and
//! copies whatever the number of agents.

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::routing::CandidateSet;
use super::types::{AgentCandidate, MediaLoad, SkillLevel};

/// How many distinct shared names (skills, groups, media types) a set
/// remembers and writes once; any further distinct name is written each
/// time it occurs. A contact center uses a handful, and scanning a handful
/// costs less than hashing every name.
const SHARED_NAMES: usize = 32;

/// The shared names written so far, with their numbers.
struct SharedNames<'a>(Vec<(&'a str, u32)>);

impl<'a> SharedNames<'a> {
    /// The number of `text` in `set`, written the first time it occurs.
    fn number(&mut self, set: &mut CandidateSet, text: &'a str) -> u32 {
        if let Some((_, number)) = self.0.iter().find(|(known, _)| *known == text) {
            return *number;
        }
        let number = set.push_name(text);
        if self.0.len() < SHARED_NAMES {
            self.0.push((text, number));
        }
        number
    }
}

impl CandidateSet {
    /// The set of `agents`, in their order: ids written as they come (each
    /// agent's is its own), names agents share written once.
    pub fn from_agents(agents: &[AgentCandidate]) -> CandidateSet {
        let (mut skills, mut groups, mut loads) = (0, 0, 0);
        for agent in agents {
            skills += agent.skills.len();
            groups += agent.groups.len();
            loads += agent.load.len();
        }
        let id_bytes: usize = agents.iter().map(|a| a.id.len()).sum();
        let mut set = CandidateSet {
            names: Vec::with_capacity(id_bytes + 256),
            name_ends: Vec::with_capacity(agents.len() + SHARED_NAMES),
            ids: Vec::with_capacity(agents.len()),
            idle_ms: Vec::with_capacity(agents.len()),
            skill_ends: Vec::with_capacity(agents.len()),
            skill_names: Vec::with_capacity(skills),
            skill_levels: Vec::with_capacity(skills),
            group_ends: Vec::with_capacity(agents.len()),
            group_names: Vec::with_capacity(groups),
            load_ends: Vec::with_capacity(agents.len()),
            load_media_types: Vec::with_capacity(loads),
            load_active: Vec::with_capacity(loads),
            load_capacity: Vec::with_capacity(loads),
        };
        let mut shared = SharedNames(Vec::with_capacity(SHARED_NAMES));
        for agent in agents {
            let id = set.push_name(&agent.id);
            set.ids.push(id);
            set.idle_ms.push(agent.idle_ms);
            for skill in &agent.skills {
                let name = shared.number(&mut set, &skill.name);
                set.skill_names.push(name);
                set.skill_levels.push(skill.level);
            }
            set.skill_ends.push(set.skill_names.len() as u32);
            for group in &agent.groups {
                let name = shared.number(&mut set, group);
                set.group_names.push(name);
            }
            set.group_ends.push(set.group_names.len() as u32);
            for load in &agent.load {
                let media = shared.number(&mut set, &load.media_type);
                set.load_media_types.push(media);
                set.load_active.push(load.active);
                set.load_capacity.push(load.capacity);
            }
            set.load_ends.push(set.load_media_types.len() as u32);
        }
        set
    }

    /// Writes `text` as the next name and returns its number.
    fn push_name(&mut self, text: &str) -> u32 {
        self.names.extend_from_slice(text.as_bytes());
        self.name_ends.push(self.names.len() as u32);
        (self.name_ends.len() - 1) as u32
    }
}

/// An `agent-candidate` as fixture cases, recordings and invoke calls
/// write it.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct CandidateJson {
    id: String,
    skills: Vec<SkillJson>,
    groups: Vec<String>,
    load: Vec<LoadJson>,
    idle_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkillJson {
    name: String,
    level: u8,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct LoadJson {
    media_type: String,
    active: u32,
    capacity: u32,
}

impl From<CandidateJson> for AgentCandidate {
    fn from(c: CandidateJson) -> Self {
        AgentCandidate {
            id: c.id,
            skills: c
                .skills
                .into_iter()
                .map(|s| SkillLevel {
                    name: s.name,
                    level: s.level,
                })
                .collect(),
            groups: c.groups,
            load: c
                .load
                .into_iter()
                .map(|l| MediaLoad {
                    media_type: l.media_type,
                    active: l.active,
                    capacity: l.capacity,
                })
                .collect(),
            idle_ms: c.idle_ms,
        }
    }
}

/// The `candidate-set` JSON of `agents`, a JSON list of agent candidates:
/// cases and recordings write candidates as a list whatever the encoding
/// of the contract the plugin was built against.
pub fn candidate_set_json(agents: &Json) -> Result<Json, String> {
    let agents: Vec<AgentCandidate> = serde_json::from_value::<Vec<CandidateJson>>(agents.clone())
        .map_err(|e| format!("a list of agent candidates: {e}"))?
        .into_iter()
        .map(AgentCandidate::from)
        .collect();
    let set = CandidateSet::from_agents(&agents);
    Ok(json!({
        // Built from strings, so valid UTF-8; a string reads as its bytes.
        "names": String::from_utf8_lossy(&set.names),
        "name-ends": set.name_ends,
        "ids": set.ids,
        "idle-ms": set.idle_ms,
        "skill-ends": set.skill_ends,
        "skill-names": set.skill_names,
        "skill-levels": set.skill_levels,
        "group-ends": set.group_ends,
        "group-names": set.group_names,
        "load-ends": set.load_ends,
        "load-media-types": set.load_media_types,
        "load-active": set.load_active,
        "load-capacity": set.load_capacity,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::{MediaLoad, SkillLevel};

    fn agent(id: &str, skills: &[(&str, u8)], idle_ms: u64) -> AgentCandidate {
        AgentCandidate {
            id: id.into(),
            skills: skills
                .iter()
                .map(|(name, level)| SkillLevel {
                    name: (*name).into(),
                    level: *level,
                })
                .collect(),
            groups: vec!["support".into()],
            load: vec![MediaLoad {
                media_type: "chat".into(),
                active: 1,
                capacity: 3,
            }],
            idle_ms,
        }
    }

    /// Name `n` of the set.
    fn name(set: &CandidateSet, n: u32) -> &str {
        let n = n as usize;
        let start = if n == 0 {
            0
        } else {
            set.name_ends[n - 1] as usize
        };
        std::str::from_utf8(&set.names[start..set.name_ends[n] as usize]).unwrap()
    }

    /// The range of agent `a`'s items in a column whose ends are `ends`.
    fn range(ends: &[u32], a: usize) -> std::ops::Range<usize> {
        let start = if a == 0 { 0 } else { ends[a - 1] as usize };
        start..ends[a] as usize
    }

    #[test]
    fn every_agent_reads_back_and_shared_names_are_written_once() {
        let agents = [
            agent("a-1", &[("billing", 5), ("español", 3)], 10),
            agent("a-2", &[("billing", 7)], 20),
            agent("a-3", &[], 30),
        ];
        let set = CandidateSet::from_agents(&agents);
        assert_eq!(set.ids.len(), 3);
        for (a, agent) in agents.iter().enumerate() {
            assert_eq!(name(&set, set.ids[a]), agent.id);
            assert_eq!(set.idle_ms[a], agent.idle_ms);
            let skills: Vec<(&str, u8)> = range(&set.skill_ends, a)
                .map(|s| (name(&set, set.skill_names[s]), set.skill_levels[s]))
                .collect();
            let expected: Vec<(&str, u8)> = agent
                .skills
                .iter()
                .map(|s| (s.name.as_str(), s.level))
                .collect();
            assert_eq!(skills, expected);
            let groups: Vec<&str> = range(&set.group_ends, a)
                .map(|g| name(&set, set.group_names[g]))
                .collect();
            assert_eq!(groups, ["support"]);
            let loads: Vec<(&str, u32, u32)> = range(&set.load_ends, a)
                .map(|l| {
                    (
                        name(&set, set.load_media_types[l]),
                        set.load_active[l],
                        set.load_capacity[l],
                    )
                })
                .collect();
            assert_eq!(loads, [("chat", 1, 3)]);
        }
        let written = String::from_utf8(set.names.clone()).unwrap();
        assert_eq!(written.matches("billing").count(), 1, "{written}");
        assert_eq!(written.matches("support").count(), 1, "{written}");
        assert_eq!(written.matches("chat").count(), 1, "{written}");
    }

    #[test]
    fn names_past_the_shared_ones_are_written_each_time_and_read_back_alike() {
        let skills: Vec<SkillLevel> = (0..SHARED_NAMES + 8)
            .map(|i| SkillLevel {
                name: format!("skill-{i}"),
                level: 1,
            })
            .collect();
        let with_every_skill = |id| AgentCandidate {
            skills: skills.clone(),
            ..agent(id, &[], 0)
        };
        let set = CandidateSet::from_agents(&[with_every_skill("a-1"), with_every_skill("a-2")]);
        for a in 0..2 {
            let read: Vec<&str> = range(&set.skill_ends, a)
                .map(|s| name(&set, set.skill_names[s]))
                .collect();
            let expected: Vec<&str> = skills.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(read, expected);
        }
        let written = String::from_utf8(set.names.clone()).unwrap();
        let times = |text: &str| written.split(text).count() - 1;
        assert_eq!(times("skill-0skill-1"), 1, "the first names are shared");
        let last = format!("skill-{}", SHARED_NAMES + 7);
        assert_eq!(times(&last), 2, "past them, each agent's names are its own");
    }

    #[test]
    fn a_json_list_of_agents_becomes_the_set_json() {
        let agents = json!([
            {"id": "a-1", "skills": [{"name": "billing", "level": 5}], "groups": ["support"],
             "load": [{"media-type": "chat", "active": 0, "capacity": 2}], "idle-ms": 7},
            {"id": "a-2", "skills": [], "groups": [], "load": [], "idle-ms": 9}
        ]);
        let set = candidate_set_json(&agents).unwrap();
        assert_eq!(set["names"], "a-1billingsupportchata-2");
        assert_eq!(set["name-ends"], json!([3, 10, 17, 21, 24]));
        assert_eq!(set["ids"], json!([0, 4]));
        assert_eq!(set["idle-ms"], json!([7, 9]));
        assert_eq!(set["skill-ends"], json!([1, 1]));
        assert_eq!(set["load-capacity"], json!([2]));
        let bad = candidate_set_json(&json!([{"id": "a-1"}])).unwrap_err();
        assert!(bad.contains("missing field `skills`"), "{bad}");
    }

    #[test]
    fn no_agents_make_an_empty_set() {
        let set = CandidateSet::from_agents(&[]);
        assert!(set.names.is_empty() && set.ids.is_empty() && set.skill_ends.is_empty());
    }
}
