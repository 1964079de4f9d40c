// The `candidate-set` of `pick-agent` read back as a list of
// `agent-candidate` records, so a strategy handles the agents of
// `pick-agent` and the agent of `pick-interaction` alike. Each name the
// host wrote is decoded once, however many agents refer to it.

const utf8 = new TextDecoder();

/** The agents of a `candidate-set`, in the host's order. */
export function agentsOf(set) {
  const names = [];
  let start = 0;
  for (const end of set.nameEnds) {
    names.push(utf8.decode(set.names.subarray(start, end)));
    start = end;
  }
  /** The indexes of agent `a`'s entries in a column whose ends are `ends`. */
  const range = (ends, a) => {
    const indexes = [];
    for (let i = a === 0 ? 0 : ends[a - 1]; i < ends[a]; i++) indexes.push(i);
    return indexes;
  };
  return Array.from(set.ids, (id, a) => ({
    id: names[id],
    skills: range(set.skillEnds, a).map((s) => ({ name: names[set.skillNames[s]], level: set.skillLevels[s] })),
    groups: range(set.groupEnds, a).map((g) => names[set.groupNames[g]]),
    load: range(set.loadEnds, a).map((l) => ({
      mediaType: names[set.loadMediaTypes[l]],
      active: set.loadActive[l],
      capacity: set.loadCapacity[l],
    })),
    idleMs: set.idleMs[a],
  }));
}
