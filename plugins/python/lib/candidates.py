"""Agents as a strategy reads them, the same whether they come from the
columns of `pick-agent`'s `candidate-set` or are the `agent-candidate`
record of `pick-interaction`: `id`, `idle_ms`, `skill_level(name)` and
`load(media_type)` (`(active, capacity)`). An agent of a set reads its
skills and loads in place from the columns instead of copying them into
records and lists; the set's names are decoded once."""


def _names(candidates):
    """The names of a set, by number."""
    names = bytes(candidates.names)
    starts = [0] + list(candidates.name_ends)
    return [names[start:end].decode() for start, end in zip(starts, candidates.name_ends)]


class SetAgent:
    """Agent `a` of a `candidate-set` whose names are `names`."""

    __slots__ = ("set", "names", "id", "idle_ms", "skills", "loads")

    def __init__(self, candidates, names, a):
        self.set = candidates
        self.names = names
        self.id = names[candidates.ids[a]]
        self.idle_ms = candidates.idle_ms[a]
        self.skills = range(candidates.skill_ends[a - 1] if a else 0, candidates.skill_ends[a])
        self.loads = range(candidates.load_ends[a - 1] if a else 0, candidates.load_ends[a])

    def skill_level(self, skill):
        """The agent's level in `skill`, or None."""
        for s in self.skills:
            if self.names[self.set.skill_names[s]] == skill:
                return self.set.skill_levels[s]
        return None

    def load(self, media_type):
        """`(active, capacity)` on `media_type`, or None if the agent does
        not take that media type."""
        for l in self.loads:
            if self.names[self.set.load_media_types[l]] == media_type:
                return self.set.load_active[l], self.set.load_capacity[l]
        return None


class RecordAgent:
    """An `agent-candidate` record, read the way a `SetAgent` is."""

    __slots__ = ("record", "id", "idle_ms")

    def __init__(self, record):
        self.record = record
        self.id = record.id
        self.idle_ms = record.idle_ms

    def skill_level(self, skill):
        """The agent's level in `skill`, or None."""
        return next((s.level for s in self.record.skills if s.name == skill), None)

    def load(self, media_type):
        """`(active, capacity)` on `media_type`, or None if the agent does
        not take that media type."""
        return next(
            ((l.active, l.capacity) for l in self.record.load if l.media_type == media_type),
            None,
        )


def agents(candidates):
    """The agents of a `candidate-set`, in the host's order."""
    names = _names(candidates)
    return [SetAgent(candidates, names, a) for a in range(len(candidates.ids))]
