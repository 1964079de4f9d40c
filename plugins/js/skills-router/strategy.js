// The skills-routing policy, as plain functions over the WIT values; the
// same configuration keys, defaults and decisions as
// `plugins/skills-router/src/strategy.rs`:
//
// | key | meaning | default |
// |---|---|---|
// | `requirements` | table: media type (or `*` for any) to a list of `{ skill, level }` | no requirement |
// | `skills-attribute` | attached-data key whose texts (`"billing:5"`) replace the requirements | `skills` |
// | `relax-after-ms` | waiting time after which each required level drops by `relax-step`; `0` never relaxes | `0` |
// | `relax-step` | levels dropped per relaxation | `1` |
// | `relax-floor` | lowest level relaxation reaches | `0` |
// | `queued-messages` | table: media type to a message for the customer when the interaction enters the queue | none |
// | `screening` | table: screen interactions before routing them, see `screening.js` | no screening |
//
// u64 values (ages, delays) are bigints, as the component bindings give them.

import * as shape from '../lib/shape.js';
import { cmp, cmpStr, parseUnsigned, trim } from '../lib/rust.js';
import { invalidInput } from '../lib/plugin.js';
import { RecordAgent } from '../lib/candidates.js';
import { requirementShape } from './requirement.js';
import * as screening from './screening.js';

/** The tag of the timer that relaxes the required levels. */
export const RELAX_TIMER = 'relax';

const U64_MAX = (1n << 64n) - 1n;

/** Rust's `raw.trim().parse()` into an unsigned type, or the plugin's error naming `key`. */
function parse(key, raw, bits) {
  const value = parseUnsigned(trim(raw), bits);
  if (value === undefined) throw invalidInput(`config \`${key}\`: cannot parse \`${raw}\``);
  return value;
}

/** A JSON config value of the expected shape, or the plugin's error naming `key`. */
function json(key, raw, check) {
  try {
    return shape.load(raw, check);
  } catch (e) {
    if (e instanceof shape.ShapeError) throw invalidInput(`config \`${key}\`: ${e.message}`);
    throw e;
  }
}

const requirementsShape = shape.mapping(shape.array(requirementShape));
const queuedMessagesShape = shape.mapping(shape.string);

/** The texts of a `texts` value, or the one text of a `text` value. */
function texts(value) {
  if (value.tag === 'text') return [value.val];
  if (value.tag === 'texts') return value.val;
  return [];
}

/**
 * Compares the shares of capacity in use of two loads (`{ active,
 * capacity }`, with room left) by cross products: as numbers while they
 * are exact, as bigints past 2^53 (two u32 multiplied).
 */
function cmpFill(x, y) {
  const a = x.active * y.capacity;
  const b = y.active * x.capacity;
  if (a <= Number.MAX_SAFE_INTEGER && b <= Number.MAX_SAFE_INTEGER) return cmp(a, b);
  return cmp(BigInt(x.active) * BigInt(y.capacity), BigInt(y.active) * BigInt(x.capacity));
}

/** A decision to route to `target`, with a relaxation timer after `afterMs` if given. */
function route(target, afterMs) {
  const timer = afterMs === undefined ? undefined : { afterMs, tag: RELAX_TIMER };
  return { action: { tag: 'route', val: { target, timer } }, changes: [] };
}

/** The routing policy, read from the plugin's configuration. */
export class Policy {
  /** Reads the policy from configuration entries (`[key, value text]`, sorted by key). */
  static fromEntries(entries) {
    const policy = new Policy();
    policy.requirements = new Map();
    policy.skillsAttribute = 'skills';
    policy.relaxAfterMs = 0n;
    policy.relaxStep = 1n;
    policy.relaxFloor = 0n;
    policy.queuedMessages = new Map();
    policy.screening = undefined;
    for (const [key, value] of entries) {
      switch (key) {
        case 'requirements':
          policy.requirements = json(key, value, requirementsShape);
          break;
        case 'skills-attribute':
          policy.skillsAttribute = value;
          break;
        case 'relax-after-ms':
          policy.relaxAfterMs = parse(key, value, 64);
          break;
        case 'relax-step':
          policy.relaxStep = parse(key, value, 8);
          break;
        case 'relax-floor':
          policy.relaxFloor = parse(key, value, 8);
          break;
        case 'queued-messages':
          policy.queuedMessages = json(key, value, queuedMessagesShape);
          break;
        case 'screening':
          policy.screening = new screening.Screening(json(key, value, screening.screeningShape));
          break;
        default:
          break;
      }
    }
    return policy;
  }

  /**
   * The requirements before relaxation (`{ skill, level }`, level a bigint):
   * from the skills attribute if the interaction has one, else for its media
   * type, else for `*`; plus the skill its screened category requires.
   */
  baseRequirements(interaction) {
    const attribute = screening.findAttribute(interaction.attached, this.skillsAttribute);
    let requirements;
    if (attribute !== undefined) {
      requirements = texts(attribute).map((text) => {
        const colon = text.indexOf(':');
        const [skill, level] = colon < 0 ? [text, '0'] : [text.slice(0, colon), text.slice(colon + 1)];
        return { skill: trim(skill), level: parse(this.skillsAttribute, level, 8) };
      });
    } else {
      const configured = this.requirements.get(interaction.mediaType) ?? this.requirements.get('*') ?? [];
      requirements = configured.map((r) => ({ skill: r.skill, level: BigInt(r.level) }));
    }
    const required = this.screening?.requirement(interaction);
    if (required !== undefined) {
      const level = BigInt(required.level);
      const existing = requirements.find((r) => r.skill === required.skill);
      if (existing) existing.level = existing.level > level ? existing.level : level;
      else requirements.push({ skill: required.skill, level });
    }
    return requirements;
  }

  /** How many relaxation steps have passed for this interaction. */
  relaxSteps(interaction) {
    return this.relaxAfterMs === 0n ? 0n : interaction.queueAgeMs / this.relaxAfterMs;
  }

  /** `level` lowered by `steps` relaxations, never below the floor (nor raised to it). */
  relaxed(level, steps) {
    let drop = steps * this.relaxStep;
    if (drop > U64_MAX) drop = U64_MAX;
    const lowered = level > drop ? level - drop : 0n;
    const floor = this.relaxFloor < level ? this.relaxFloor : level;
    return lowered > floor ? lowered : floor;
  }

  /** The requirements in force for the interaction now, after relaxation. */
  requirementsInForce(interaction) {
    const steps = this.relaxSteps(interaction);
    return this.baseRequirements(interaction).map((r) => ({
      skill: r.skill,
      minLevel: Number(this.relaxed(r.level, steps)),
    }));
  }

  /** Routes to the skills in force now, with a timer for the next relaxation while any level can still drop. */
  decide(interaction) {
    const base = this.baseRequirements(interaction);
    const steps = this.relaxSteps(interaction);
    const target = { tag: 'skills', val: this.requirementsInForce(interaction) };
    // `steps + 1` wraps in a Rust release build.
    const next = BigInt.asUintN(64, steps + 1n);
    const canRelaxFurther =
      this.relaxAfterMs > 0n && base.some((r) => this.relaxed(r.level, steps) > this.relaxed(r.level, next));
    if (!canRelaxFurther) return route(target);
    return route(target, this.relaxAfterMs - (interaction.queueAgeMs % this.relaxAfterMs));
  }

  /** The screener to ask about an interaction entering the queue, if its media type is screened. */
  screenerFor(interaction) {
    return this.screening?.screens(interaction.mediaType) ? this.screening.plugin : undefined;
  }

  /**
   * The decision for an interaction entering the queue: the outcome of
   * screening it (`{ ok }` or `{ err }`, if it was) recorded in attached
   * data, `decide` on the interaction as it is with them, and the message
   * for the customer configured for its media type.
   */
  onQueued(interaction, screened) {
    const recorded = screened === undefined ? [] : screening.changes(interaction, screened);
    const decision = this.decide(screening.apply(interaction, recorded));
    decision.changes = [...recorded, ...decision.changes];
    const message = this.queuedMessages.get(interaction.mediaType);
    if (message !== undefined) decision.changes.push({ tag: 'notify', val: message });
    return decision;
  }

  /**
   * The agent's load on `mediaType` if it meets `requirements` and can
   * take one more interaction of `mediaType` (an agent read as
   * `lib/candidates.js` reads agents).
   */
  static qualifyingLoad(agent, requirements, mediaType) {
    const load = agent.load(mediaType);
    if (load === undefined || load.active >= load.capacity) return undefined;
    for (const r of requirements) {
      const level = agent.skillLevel(r.skill);
      if (level === undefined || level < r.minLevel) return undefined;
    }
    return load;
  }

  /** The qualifying agent with the lowest share of its capacity on the media type in use, then the longest idle (ties: lowest id). */
  pickAgent(interaction, candidates) {
    const requirements = this.requirementsInForce(interaction);
    const media = interaction.mediaType;
    let best;
    let bestLoad;
    for (const agent of candidates) {
      const load = Policy.qualifyingLoad(agent, requirements, media);
      if (load === undefined) continue;
      const order =
        best === undefined
          ? -1
          : cmpFill(load, bestLoad) || cmp(best.idleMs, agent.idleMs) || cmpStr(agent.id, best.id);
      if (order < 0) {
        best = agent;
        bestLoad = load;
      }
    }
    return best?.id;
  }

  /** The waiting interaction the agent qualifies for with the highest priority, then the longest wait (ties: lowest id). */
  pickInteraction(record, waiting) {
    const agent = new RecordAgent(record);
    let best;
    for (const interaction of waiting) {
      const requirements = this.requirementsInForce(interaction);
      if (Policy.qualifyingLoad(agent, requirements, interaction.mediaType) === undefined) continue;
      const better =
        best === undefined ||
        (cmp(interaction.priority, best.priority) ||
          cmp(interaction.ageMs, best.ageMs) ||
          cmpStr(best.id, interaction.id)) > 0;
      if (better) best = interaction;
    }
    return best?.id;
  }
}
