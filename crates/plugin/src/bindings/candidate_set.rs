//! The flat `candidate-set` of contract 0.2.0, built from the host's list
//! of candidates: every name written once into one byte buffer, every
//! agent's skills, groups and loads as runs of shared lists, so lowering
//! the set into a plugin costs a handful of allocations whatever the
//! number of agents.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::collections::HashMap;

use super::routing::{CandidateRow, CandidateSet, LoadRow, Run, SkillRow};
use super::types::{AgentCandidate, MediaLoad, SkillLevel};

/// Names written once into a byte buffer, each known by its run.
#[derive(Default)]
struct Names<'a> {
    bytes: Vec<u8>,
    runs: HashMap<&'a str, Run>,
}

impl<'a> Names<'a> {
    fn run(&mut self, name: &'a str) -> Run {
        *self.runs.entry(name).or_insert_with(|| {
            let run = Run {
                start: self.bytes.len() as u32,
                len: name.len() as u32,
            };
            self.bytes.extend_from_slice(name.as_bytes());
            run
        })
    }
}

/// The run of the rows `push` adds to `list`.
fn rows<T>(list: &mut Vec<T>, push: impl FnOnce(&mut Vec<T>)) -> Run {
    let start = list.len();
    push(list);
    Run {
        start: start as u32,
        len: (list.len() - start) as u32,
    }
}

impl CandidateSet {
    /// The set of `agents`, in their order.
    pub fn from_agents(agents: &[AgentCandidate]) -> CandidateSet {
        let mut names = Names::default();
        let mut set = CandidateSet {
            names: Vec::new(),
            agents: Vec::with_capacity(agents.len()),
            skills: Vec::new(),
            groups: Vec::new(),
            loads: Vec::new(),
        };
        for agent in agents {
            let row = CandidateRow {
                id: names.run(&agent.id),
                idle_ms: agent.idle_ms,
                skills: rows(&mut set.skills, |skills| {
                    skills.extend(agent.skills.iter().map(|s| SkillRow {
                        name: names.run(&s.name),
                        level: s.level,
                    }))
                }),
                groups: rows(&mut set.groups, |groups| {
                    groups.extend(agent.groups.iter().map(|g| names.run(g)))
                }),
                loads: rows(&mut set.loads, |loads| {
                    loads.extend(agent.load.iter().map(|l| LoadRow {
                        media_type: names.run(&l.media_type),
                        active: l.active,
                        capacity: l.capacity,
                    }))
                }),
            };
            set.agents.push(row);
        }
        set.names = names.bytes;
        set
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

fn run_json(run: Run) -> Json {
    json!({"start": run.start, "len": run.len})
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
        "agents": set.agents.iter().map(|a| json!({
            "id": run_json(a.id),
            "idle-ms": a.idle_ms,
            "skills": run_json(a.skills),
            "groups": run_json(a.groups),
            "loads": run_json(a.loads),
        })).collect::<Vec<_>>(),
        "skills": set.skills.iter().map(|s| json!({"name": run_json(s.name), "level": s.level})).collect::<Vec<_>>(),
        "groups": set.groups.iter().copied().map(run_json).collect::<Vec<_>>(),
        "loads": set.loads.iter().map(|l| json!({
            "media-type": run_json(l.media_type),
            "active": l.active,
            "capacity": l.capacity,
        })).collect::<Vec<_>>(),
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

    fn text(set: &CandidateSet, run: Run) -> &str {
        std::str::from_utf8(&set.names[run.start as usize..][..run.len as usize]).unwrap()
    }

    #[test]
    fn every_agent_reads_back_and_shared_names_are_written_once() {
        let agents = [
            agent("a-1", &[("billing", 5), ("español", 3)], 10),
            agent("a-2", &[("billing", 7)], 20),
            agent("a-3", &[], 30),
        ];
        let set = CandidateSet::from_agents(&agents);
        assert_eq!(set.agents.len(), 3);
        for (agent, row) in agents.iter().zip(&set.agents) {
            assert_eq!(text(&set, row.id), agent.id);
            assert_eq!(row.idle_ms, agent.idle_ms);
            let skills: Vec<(&str, u8)> = set.skills[row.skills.start as usize..]
                [..row.skills.len as usize]
                .iter()
                .map(|s| (text(&set, s.name), s.level))
                .collect();
            let expected: Vec<(&str, u8)> = agent
                .skills
                .iter()
                .map(|s| (s.name.as_str(), s.level))
                .collect();
            assert_eq!(skills, expected);
            let groups = &set.groups[row.groups.start as usize..][..row.groups.len as usize];
            assert_eq!(groups.len(), 1);
            assert_eq!(text(&set, groups[0]), "support");
            let loads = &set.loads[row.loads.start as usize..][..row.loads.len as usize];
            assert_eq!(
                (
                    text(&set, loads[0].media_type),
                    loads[0].active,
                    loads[0].capacity
                ),
                ("chat", 1, 3)
            );
        }
        let written = String::from_utf8(set.names.clone()).unwrap();
        assert_eq!(written.matches("billing").count(), 1, "{written}");
        assert_eq!(written.matches("support").count(), 1, "{written}");
        assert_eq!(written.matches("chat").count(), 1, "{written}");
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
        assert_eq!(set["agents"][1]["id"], json!({"start": 21, "len": 3}));
        assert_eq!(set["agents"][1]["idle-ms"], 9);
        assert_eq!(set["skills"][0]["name"], json!({"start": 3, "len": 7}));
        assert_eq!(set["loads"][0]["capacity"], 2);
        let bad = candidate_set_json(&json!([{"id": "a-1"}])).unwrap_err();
        assert!(bad.contains("missing field `skills`"), "{bad}");
    }

    #[test]
    fn no_agents_make_an_empty_set() {
        let set = CandidateSet::from_agents(&[]);
        assert!(set.names.is_empty() && set.agents.is_empty());
    }
}
