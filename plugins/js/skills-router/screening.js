// Screening before routing (opt-in, the `screening` config key): on
// `on-queued`, interactions of the configured media types are screened by a
// screener plugin through the host (`plugins.screen-interaction`). The result
// is recorded in attached data and the best category can require a skill.
// Same keys, attributes and limits as `plugins/skills-router/src/screening.rs`.

import * as shape from '../lib/shape.js';
import { cutUtf8, trim } from '../lib/rust.js';
import { requirementShape } from './requirement.js';

/** Attribute holding the best category. */
export const CATEGORY = 'category';
/** Attribute holding the best category's score. */
export const CATEGORY_SCORE = 'category-score';
/** Attribute holding every matching category, best first. */
export const CATEGORIES = 'categories';
/** Attribute holding why the last screening failed. */
export const SCREENING_ERROR = 'screening-error';
/** Prefix of the attributes holding extracted fields. */
export const FIELD_PREFIX = 'field.';
/** Most extracted fields recorded (a decision carries at most 64 changes). */
export const MAX_FIELDS = 16;
/** Longest extracted value (or error message) recorded, in bytes. */
export const MAX_FIELD_VALUE = 1024;

/** A category's skill: a skill name (level 1) or `{ skill, level }`. */
function categorySkill(value, path) {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return requirementShape(value, path);
  return shape.expected(path, 'a skill name or an object `{ skill, level }`', value);
}

/** The `screening` configuration. */
export const screeningShape = shape.record(
  {
    plugin: [shape.string, shape.REQUIRED],
    media: [shape.array(shape.string), shape.REQUIRED],
    'category-skills': [shape.mapping(categorySkill), () => new Map()],
  },
  { denyUnknown: true },
);

/** The first attached-data value under `key`. */
export function findAttribute(attributes, key) {
  return attributes.find((a) => a.key === key)?.value;
}

/** A `set-attribute` change. */
export const setAttribute = (key, value) => ({ tag: 'set-attribute', val: { key, value } });
/** A `remove-attribute` change. */
export const removeAttribute = (key) => ({ tag: 'remove-attribute', val: key });
const text = (val) => ({ tag: 'text', val });

export class Screening {
  constructor(config) {
    this.plugin = config.plugin;
    this.media = config.media;
    this.categorySkills = config['category-skills'];
  }

  /** Whether interactions of `mediaType` are screened. */
  screens(mediaType) {
    return this.media.some((m) => m === '*' || m === mediaType);
  }

  /** The skill required by the interaction's `category`, if it maps to one. */
  requirement(interaction) {
    const value = findAttribute(interaction.attached, CATEGORY);
    if (value?.tag !== 'text') return undefined;
    const skill = this.categorySkills.get(value.val);
    if (skill === undefined) return undefined;
    return typeof skill === 'string' ? { skill, level: 1 } : { ...skill };
  }
}

/** The attributes recording a screening result. */
function recorded(result) {
  const best = result.categories[0];
  const changes = best
    ? [setAttribute(CATEGORY, text(best.name)), setAttribute(CATEGORY_SCORE, { tag: 'decimal', val: best.score })]
    : [removeAttribute(CATEGORY), removeAttribute(CATEGORY_SCORE)];
  changes.push(setAttribute(CATEGORIES, { tag: 'texts', val: result.categories.map((c) => c.name) }));
  const seen = [];
  for (const field of result.fields) {
    if (seen.length === MAX_FIELDS) break;
    if (trim(field.name) === '' || seen.includes(field.name)) continue;
    seen.push(field.name);
    changes.push(setAttribute(`${FIELD_PREFIX}${field.name}`, text(cutUtf8(field.value, MAX_FIELD_VALUE))));
  }
  return changes;
}

/**
 * The changes recording the outcome of screening `interaction`:
 * `outcome` is `{ ok: result }` or `{ err: error }`.
 */
export function changes(interaction, outcome) {
  if ('ok' in outcome) {
    const result = recorded(outcome.ok);
    if (findAttribute(interaction.attached, SCREENING_ERROR) !== undefined) {
      result.push(removeAttribute(SCREENING_ERROR));
    }
    return result;
  }
  const { kind, message } = outcome.err;
  return [setAttribute(SCREENING_ERROR, text(cutUtf8(`${kind}: ${message}`, MAX_FIELD_VALUE)))];
}

/** `interaction` with the attached-data changes among `changes` applied. */
export function apply(interaction, changes) {
  let attached = interaction.attached.slice();
  for (const change of changes) {
    if (change.tag === 'set-attribute') {
      attached = attached.filter((a) => a.key !== change.val.key);
      attached.push(change.val);
    } else if (change.tag === 'remove-attribute') {
      attached = attached.filter((a) => a.key !== change.val);
    }
  }
  return { ...interaction, attached };
}
