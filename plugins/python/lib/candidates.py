"""The `candidate-set` of `pick-agent` read back as a list of
`agent-candidate` records, so a strategy handles the agents of
`pick-agent` and the agent of `pick-interaction` alike. Each name is
decoded once however many agents share it."""

from wit_world.imports.types import AgentCandidate, MediaLoad, SkillLevel


def agents(candidates):
    """The agents of a `candidate-set`, in the host's order."""
    names = bytes(candidates.names)
    decoded = {}

    def name(run):
        text = decoded.get(run.start)
        if text is None:
            text = names[run.start:run.start + run.len].decode()
            decoded[run.start] = text
        return text

    def rows(items, run):
        return items[run.start:run.start + run.len]

    return [
        AgentCandidate(
            id=name(row.id),
            skills=[SkillLevel(name=name(s.name), level=s.level) for s in rows(candidates.skills, row.skills)],
            groups=[name(g) for g in rows(candidates.groups, row.groups)],
            load=[
                MediaLoad(media_type=name(l.media_type), active=l.active, capacity=l.capacity)
                for l in rows(candidates.loads, row.loads)
            ],
            idle_ms=row.idle_ms,
        )
        for row in candidates.agents
    ]
