// The `candidate-set` of `pick-agent` read back as a list of
// `agent-candidate` records, so a strategy handles the agents of
// `pick-agent` and the agent of `pick-interaction` alike. Each name is
// decoded once however many agents share it.

const utf8 = new TextDecoder();

/** The agents of a `candidate-set`, in the host's order. */
export function agentsOf(candidates) {
  const decoded = new Map();
  const name = (run) => {
    let text = decoded.get(run.start);
    if (text === undefined) {
      text = utf8.decode(candidates.names.subarray(run.start, run.start + run.len));
      decoded.set(run.start, text);
    }
    return text;
  };
  const rows = (items, run) => items.slice(run.start, run.start + run.len);
  return candidates.agents.map((row) => ({
    id: name(row.id),
    skills: rows(candidates.skills, row.skills).map((s) => ({ name: name(s.name), level: s.level })),
    groups: rows(candidates.groups, row.groups).map(name),
    load: rows(candidates.loads, row.loads).map((l) => ({
      mediaType: name(l.mediaType),
      active: l.active,
      capacity: l.capacity,
    })),
    idleMs: row.idleMs,
  }));
}
