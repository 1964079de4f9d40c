"""The `candidate-set` of `pick-agent` read back as a list of
`agent-candidate` records, so a strategy handles the agents of
`pick-agent` and the agent of `pick-interaction` alike. Each name the
host wrote is decoded once, however many agents refer to it."""

from wit_world.imports.types import AgentCandidate, MediaLoad, SkillLevel


def agents(candidates):
    """The agents of a `candidate-set`, in the host's order."""
    names = bytes(candidates.names)
    starts = [0] + list(candidates.name_ends)
    decoded = [names[start:end].decode() for start, end in zip(starts, candidates.name_ends)]

    def ranges(ends):
        return zip([0] + list(ends), ends)

    skills = ranges(candidates.skill_ends)
    groups = ranges(candidates.group_ends)
    loads = ranges(candidates.load_ends)
    out = []
    for id_, idle_ms in zip(candidates.ids, candidates.idle_ms):
        first, last = next(skills)
        agent_skills = [
            SkillLevel(name=decoded[candidates.skill_names[s]], level=candidates.skill_levels[s])
            for s in range(first, last)
        ]
        first, last = next(groups)
        agent_groups = [decoded[candidates.group_names[g]] for g in range(first, last)]
        first, last = next(loads)
        agent_loads = [
            MediaLoad(
                media_type=decoded[candidates.load_media_types[l]],
                active=candidates.load_active[l],
                capacity=candidates.load_capacity[l],
            )
            for l in range(first, last)
        ]
        out.append(
            AgentCandidate(id=decoded[id_], skills=agent_skills, groups=agent_groups, load=agent_loads, idle_ms=idle_ms)
        )
    return out
