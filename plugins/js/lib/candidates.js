// Agents as a strategy reads them, the same whether they come from the
// columns of `pick-agent`'s `candidate-set` or are the `agent-candidate`
// record of `pick-interaction`: `id`, `idleMs`, `skillLevel(name)` and
// `load(mediaType)` (`{ active, capacity }`). An agent of a set reads
// its skills and loads in place from the columns instead of copying them
// into records and lists; the set's names are decoded once.

const utf8 = new TextDecoder();

/**
 * The names of a set, by number. When every name is ASCII (bytes and
 * UTF-16 units then line up) the buffer is decoded once and cut.
 */
function namesOf(set) {
  const ends = set.nameEnds;
  const names = new Array(ends.length);
  const text = utf8.decode(set.names);
  const ascii = text.length === set.names.length;
  let start = 0;
  for (let n = 0; n < ends.length; n++) {
    const end = ends[n];
    names[n] = ascii ? text.slice(start, end) : utf8.decode(set.names.subarray(start, end));
    start = end;
  }
  return names;
}

/** Where agent `a`'s entries start in a column whose ends are `ends`. */
function start(ends, a) {
  return a === 0 ? 0 : ends[a - 1];
}

/** Agent `a` of a `candidate-set` whose names are `names`. */
class SetAgent {
  constructor(set, names, a) {
    this.set = set;
    this.names = names;
    this.id = names[set.ids[a]];
    this.idleMs = set.idleMs[a];
    this.skills = [start(set.skillEnds, a), set.skillEnds[a]];
    this.loads = [start(set.loadEnds, a), set.loadEnds[a]];
  }

  /** The agent's level in `skill`, if it has it. */
  skillLevel(skill) {
    for (let s = this.skills[0]; s < this.skills[1]; s++) {
      if (this.names[this.set.skillNames[s]] === skill) return this.set.skillLevels[s];
    }
    return undefined;
  }

  /** `{ active, capacity }` on `mediaType`, if the agent takes that media type. */
  load(mediaType) {
    for (let l = this.loads[0]; l < this.loads[1]; l++) {
      if (this.names[this.set.loadMediaTypes[l]] === mediaType) {
        return { active: this.set.loadActive[l], capacity: this.set.loadCapacity[l] };
      }
    }
    return undefined;
  }
}

/** An `agent-candidate` record, read the way a `SetAgent` is. */
export class RecordAgent {
  constructor(record) {
    this.record = record;
    this.id = record.id;
    this.idleMs = record.idleMs;
  }

  /** The agent's level in `skill`, if it has it. */
  skillLevel(skill) {
    return this.record.skills.find((s) => s.name === skill)?.level;
  }

  /** `{ active, capacity }` on `mediaType`, if the agent takes that media type. */
  load(mediaType) {
    return this.record.load.find((l) => l.mediaType === mediaType);
  }
}

/** The agents of a `candidate-set`, in the host's order. */
export function agentsOf(set) {
  const names = namesOf(set);
  return Array.from(set.ids, (_, a) => new SetAgent(set, names, a));
}
