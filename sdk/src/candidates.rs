//! Agent candidates as a router sees them: the [`Candidate`] questions a
//! strategy asks of an agent, answered alike by an [`AgentCandidate`]
//! record and by a row of the flat [`CandidateSet`] that `pick-agent`
//! receives from contract 0.2.0 on.

use crate::AgentCandidate;
#[cfg(not(feature = "contract-v0-1"))]
pub use crate::router::bindings::exports::parley::plugin::routing::{
    CandidateRow, CandidateSet, LoadRow, Run, SkillRow,
};

/// An agent's load on one media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Interactions of the media type the agent handles now.
    pub active: u32,
    /// How many its capacity rule allows at once.
    pub capacity: u32,
}

impl Load {
    /// Whether the agent can take one more.
    pub fn has_room(self) -> bool {
        self.active < self.capacity
    }
}

/// What a routing strategy asks of an agent candidate.
pub trait Candidate {
    /// The agent id.
    fn id(&self) -> &str;
    /// Milliseconds since the agent was last offered an interaction,
    /// finished one or became ready, whichever is latest.
    fn idle_ms(&self) -> u64;
    /// The agent's level in `skill`, if it has the skill.
    fn skill_level(&self, skill: &str) -> Option<u8>;
    /// Whether the agent belongs to agent group `group`.
    fn in_group(&self, group: &str) -> bool;
    /// The agent's load on `media_type`, if it has a capacity for it.
    fn load_for(&self, media_type: &str) -> Option<Load>;
    /// Whether the agent can take one more interaction of `media_type`.
    fn has_free_capacity(&self, media_type: &str) -> bool {
        self.load_for(media_type).is_some_and(Load::has_room)
    }
}

impl Candidate for AgentCandidate {
    fn id(&self) -> &str {
        &self.id
    }

    fn idle_ms(&self) -> u64 {
        self.idle_ms
    }

    fn skill_level(&self, skill: &str) -> Option<u8> {
        self.skills
            .iter()
            .find(|s| s.name == skill)
            .map(|s| s.level)
    }

    fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    fn load_for(&self, media_type: &str) -> Option<Load> {
        self.load
            .iter()
            .find(|l| l.media_type == media_type)
            .map(|l| Load {
                active: l.active,
                capacity: l.capacity,
            })
    }
}

impl<T: Candidate + ?Sized> Candidate for &T {
    fn id(&self) -> &str {
        (**self).id()
    }

    fn idle_ms(&self) -> u64 {
        (**self).idle_ms()
    }

    fn skill_level(&self, skill: &str) -> Option<u8> {
        (**self).skill_level(skill)
    }

    fn in_group(&self, group: &str) -> bool {
        (**self).in_group(group)
    }

    fn load_for(&self, media_type: &str) -> Option<Load> {
        (**self).load_for(media_type)
    }
}

#[cfg(not(feature = "contract-v0-1"))]
mod set {
    use super::*;

    /// The items of `list` that `run` covers (none if it points outside).
    fn rows<T>(list: &[T], run: Run) -> &[T] {
        let start = run.start as usize;
        list.get(start..start.saturating_add(run.len as usize))
            .unwrap_or_default()
    }

    impl CandidateSet {
        /// The agents, in the host's order.
        pub fn iter(&self) -> impl ExactSizeIterator<Item = CandidateRef<'_>> {
            self.agents
                .iter()
                .map(|row| CandidateRef { set: self, row })
        }

        /// How many agents there are.
        pub fn len(&self) -> usize {
            self.agents.len()
        }

        /// Whether there are none.
        pub fn is_empty(&self) -> bool {
            self.agents.is_empty()
        }

        /// The bytes of a name.
        fn name_bytes(&self, run: Run) -> &[u8] {
            rows(&self.names, run)
        }

        /// A name (empty if the host sent invalid UTF-8, which it does not).
        fn name(&self, run: Run) -> &str {
            std::str::from_utf8(self.name_bytes(run)).unwrap_or_default()
        }

        /// The set of `agents`, in their order: what the host builds for
        /// `pick-agent`, for tests and native runs of a strategy.
        pub fn from_agents(agents: &[AgentCandidate]) -> CandidateSet {
            let mut set = CandidateSet {
                names: Vec::new(),
                agents: Vec::with_capacity(agents.len()),
                skills: Vec::new(),
                groups: Vec::new(),
                loads: Vec::new(),
            };
            let name = |names: &mut Vec<u8>, text: &str| {
                let run = Run {
                    start: names.len() as u32,
                    len: text.len() as u32,
                };
                names.extend_from_slice(text.as_bytes());
                run
            };
            for agent in agents {
                let skills_start = set.skills.len() as u32;
                for skill in &agent.skills {
                    let run = name(&mut set.names, &skill.name);
                    set.skills.push(SkillRow {
                        name: run,
                        level: skill.level,
                    });
                }
                let groups_start = set.groups.len() as u32;
                for group in &agent.groups {
                    let run = name(&mut set.names, group);
                    set.groups.push(run);
                }
                let loads_start = set.loads.len() as u32;
                for load in &agent.load {
                    let run = name(&mut set.names, &load.media_type);
                    set.loads.push(LoadRow {
                        media_type: run,
                        active: load.active,
                        capacity: load.capacity,
                    });
                }
                let id = name(&mut set.names, &agent.id);
                set.agents.push(CandidateRow {
                    id,
                    idle_ms: agent.idle_ms,
                    skills: Run {
                        start: skills_start,
                        len: agent.skills.len() as u32,
                    },
                    groups: Run {
                        start: groups_start,
                        len: agent.groups.len() as u32,
                    },
                    loads: Run {
                        start: loads_start,
                        len: agent.load.len() as u32,
                    },
                });
            }
            set
        }
    }

    /// One agent of a [`CandidateSet`].
    #[derive(Debug, Clone, Copy)]
    pub struct CandidateRef<'a> {
        set: &'a CandidateSet,
        row: &'a CandidateRow,
    }

    impl<'a> CandidateRef<'a> {
        /// The agent id, borrowed from the set.
        pub fn id(&self) -> &'a str {
            self.set.name(self.row.id)
        }

        /// The agent's skills and levels.
        pub fn skills(&self) -> impl Iterator<Item = (&'a str, u8)> + 'a {
            let set = self.set;
            rows(&set.skills, self.row.skills)
                .iter()
                .map(move |s| (set.name(s.name), s.level))
        }

        /// The agent groups the agent belongs to.
        pub fn groups(&self) -> impl Iterator<Item = &'a str> + 'a {
            let set = self.set;
            rows(&set.groups, self.row.groups)
                .iter()
                .map(move |g| set.name(*g))
        }

        /// The agent's loads, by media type.
        pub fn loads(&self) -> impl Iterator<Item = (&'a str, Load)> + 'a {
            let set = self.set;
            rows(&set.loads, self.row.loads).iter().map(move |l| {
                (
                    set.name(l.media_type),
                    Load {
                        active: l.active,
                        capacity: l.capacity,
                    },
                )
            })
        }
    }

    impl Candidate for CandidateRef<'_> {
        fn id(&self) -> &str {
            CandidateRef::id(self)
        }

        fn idle_ms(&self) -> u64 {
            self.row.idle_ms
        }

        fn skill_level(&self, skill: &str) -> Option<u8> {
            rows(&self.set.skills, self.row.skills)
                .iter()
                .find(|s| self.set.name_bytes(s.name) == skill.as_bytes())
                .map(|s| s.level)
        }

        fn in_group(&self, group: &str) -> bool {
            rows(&self.set.groups, self.row.groups)
                .iter()
                .any(|g| self.set.name_bytes(*g) == group.as_bytes())
        }

        fn load_for(&self, media_type: &str) -> Option<Load> {
            rows(&self.set.loads, self.row.loads)
                .iter()
                .find(|l| self.set.name_bytes(l.media_type) == media_type.as_bytes())
                .map(|l| Load {
                    active: l.active,
                    capacity: l.capacity,
                })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::{MediaLoad, SkillLevel};

        #[test]
        fn a_set_answers_like_the_agents_it_was_made_of() {
            let agents = vec![
                AgentCandidate {
                    id: "ann".into(),
                    skills: vec![SkillLevel {
                        name: "français".into(),
                        level: 4,
                    }],
                    groups: vec!["support".into(), "vip".into()],
                    load: vec![MediaLoad {
                        media_type: "chat".into(),
                        active: 2,
                        capacity: 2,
                    }],
                    idle_ms: 5,
                },
                AgentCandidate {
                    id: "bob".into(),
                    skills: Vec::new(),
                    groups: Vec::new(),
                    load: vec![MediaLoad {
                        media_type: "email".into(),
                        active: 0,
                        capacity: 1,
                    }],
                    idle_ms: 9,
                },
            ];
            let set = CandidateSet::from_agents(&agents);
            assert_eq!(set.len(), 2);
            for (agent, view) in agents.iter().zip(set.iter()) {
                assert_eq!(Candidate::id(&view), agent.id);
                assert_eq!(view.idle_ms(), agent.idle_ms());
                for skill in ["français", "english"] {
                    assert_eq!(view.skill_level(skill), agent.skill_level(skill));
                }
                for group in ["support", "vip", "sales"] {
                    assert_eq!(view.in_group(group), agent.in_group(group));
                }
                for media in ["chat", "email"] {
                    assert_eq!(view.load_for(media), agent.load_for(media));
                    assert_eq!(
                        view.has_free_capacity(media),
                        agent.has_free_capacity(media)
                    );
                }
            }
            let ann = set.iter().next().unwrap();
            assert_eq!(ann.skills().collect::<Vec<_>>(), [("français", 4)]);
            assert_eq!(ann.groups().collect::<Vec<_>>(), ["support", "vip"]);
        }
    }
}

#[cfg(not(feature = "contract-v0-1"))]
pub use set::CandidateRef;
