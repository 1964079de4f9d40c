//! Agent candidates as a router sees them: the [`Candidate`] questions a
//! strategy asks of an agent, answered alike by an [`AgentCandidate`]
//! record and by an agent of the columnar `CandidateSet` that
//! `pick-agent` receives from contract 0.2.0 on.

use crate::AgentCandidate;
#[cfg(not(feature = "contract-v0-1"))]
pub use crate::router::bindings::exports::parley::plugin::routing::CandidateSet;

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
    use std::ops::Range;

    /// The range of item `index`'s entries in a column whose ends are
    /// `ends` (empty if the host sent inconsistent columns, which it does
    /// not).
    fn range(ends: &[u32], index: usize) -> Range<usize> {
        let start = match index {
            0 => 0,
            i => ends.get(i - 1).map_or(0, |e| *e as usize),
        };
        let end = ends.get(index).map_or(start, |e| *e as usize);
        start..end.max(start)
    }

    impl CandidateSet {
        /// The agents, in the host's order.
        pub fn iter(&self) -> impl ExactSizeIterator<Item = CandidateRef<'_>> {
            (0..self.ids.len()).map(|index| CandidateRef { set: self, index })
        }

        /// How many agents there are.
        pub fn len(&self) -> usize {
            self.ids.len()
        }

        /// Whether there are none.
        pub fn is_empty(&self) -> bool {
            self.ids.is_empty()
        }

        /// The bytes of name number `name`.
        fn name_bytes(&self, name: u32) -> &[u8] {
            self.names
                .get(range(&self.name_ends, name as usize))
                .unwrap_or_default()
        }

        /// Name number `name` (empty if the host sent invalid UTF-8, which
        /// it does not).
        fn name(&self, name: u32) -> &str {
            std::str::from_utf8(self.name_bytes(name)).unwrap_or_default()
        }

        /// The set of `agents`, in their order: what the host builds for
        /// `pick-agent` (without sharing repeated names), for tests and
        /// native runs of a strategy.
        pub fn from_agents(agents: &[AgentCandidate]) -> CandidateSet {
            let mut set = CandidateSet {
                names: Vec::new(),
                name_ends: Vec::new(),
                ids: Vec::new(),
                idle_ms: Vec::new(),
                skill_ends: Vec::new(),
                skill_names: Vec::new(),
                skill_levels: Vec::new(),
                group_ends: Vec::new(),
                group_names: Vec::new(),
                load_ends: Vec::new(),
                load_media_types: Vec::new(),
                load_active: Vec::new(),
                load_capacity: Vec::new(),
            };
            let name = |set: &mut CandidateSet, text: &str| {
                set.names.extend_from_slice(text.as_bytes());
                set.name_ends.push(set.names.len() as u32);
                (set.name_ends.len() - 1) as u32
            };
            for agent in agents {
                let id = name(&mut set, &agent.id);
                set.ids.push(id);
                set.idle_ms.push(agent.idle_ms);
                for skill in &agent.skills {
                    let n = name(&mut set, &skill.name);
                    set.skill_names.push(n);
                    set.skill_levels.push(skill.level);
                }
                set.skill_ends.push(set.skill_names.len() as u32);
                for group in &agent.groups {
                    let n = name(&mut set, group);
                    set.group_names.push(n);
                }
                set.group_ends.push(set.group_names.len() as u32);
                for load in &agent.load {
                    let n = name(&mut set, &load.media_type);
                    set.load_media_types.push(n);
                    set.load_active.push(load.active);
                    set.load_capacity.push(load.capacity);
                }
                set.load_ends.push(set.load_media_types.len() as u32);
            }
            set
        }
    }

    /// One agent of a [`CandidateSet`].
    #[derive(Debug, Clone, Copy)]
    pub struct CandidateRef<'a> {
        set: &'a CandidateSet,
        index: usize,
    }

    impl<'a> CandidateRef<'a> {
        /// The agent id, borrowed from the set.
        pub fn id(&self) -> &'a str {
            self.set.name(self.set.ids[self.index])
        }

        /// The agent's skills and levels.
        pub fn skills(&self) -> impl Iterator<Item = (&'a str, u8)> + 'a {
            let set = self.set;
            range(&set.skill_ends, self.index)
                .map(move |s| (set.name(set.skill_names[s]), set.skill_levels[s]))
        }

        /// The agent groups the agent belongs to.
        pub fn groups(&self) -> impl Iterator<Item = &'a str> + 'a {
            let set = self.set;
            range(&set.group_ends, self.index).map(move |g| set.name(set.group_names[g]))
        }

        /// The agent's loads, by media type.
        pub fn loads(&self) -> impl Iterator<Item = (&'a str, Load)> + 'a {
            let set = self.set;
            range(&set.load_ends, self.index).map(move |l| {
                (
                    set.name(set.load_media_types[l]),
                    Load {
                        active: set.load_active[l],
                        capacity: set.load_capacity[l],
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
            self.set.idle_ms[self.index]
        }

        fn skill_level(&self, skill: &str) -> Option<u8> {
            let set = self.set;
            range(&set.skill_ends, self.index)
                .find(|s| set.name_bytes(set.skill_names[*s]) == skill.as_bytes())
                .map(|s| set.skill_levels[s])
        }

        fn in_group(&self, group: &str) -> bool {
            let set = self.set;
            range(&set.group_ends, self.index)
                .any(|g| set.name_bytes(set.group_names[g]) == group.as_bytes())
        }

        fn load_for(&self, media_type: &str) -> Option<Load> {
            let set = self.set;
            range(&set.load_ends, self.index)
                .find(|l| set.name_bytes(set.load_media_types[*l]) == media_type.as_bytes())
                .map(|l| Load {
                    active: set.load_active[l],
                    capacity: set.load_capacity[l],
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
