// Screening rules and their evaluation; the same rules, matching, scores
// and errors as `plugins/rules-screener/src/rules.rs`, except that
// malformed configuration is described in this port's own words (after
// the same `config \`rules\`: ` prefix).
//
// `rules` in the manifest's `[config]` is a list of tables:
//
//   rules = [
//     { name = "refund", category = "billing", keywords = ["refund", "money back"], score = 0.9 },
//     { name = "order", category = "orders", pattern = '(?i)order\s*#?\s*(?P<order_number>[A-Z0-9]{6,})' },
//     { name = "vip", category = "priority", attribute = "segment", equals = "vip" },
//   ]
//
// A rule matches when every condition it has holds: `keywords` (any of
// them, case-insensitive, as whole words), `all-keywords` (all of them),
// `pattern` (a regular expression, compiled and run by the host's pattern
// engine with Rust `regex` syntax; its named groups become extracted
// fields) and `attribute` + `equals` (attached data). Text conditions look
// at the subject and the content (HTML tags removed). A category's score
// combines its matching rules' scores as independent evidence:
// `1 - Π(1 - score)`.

import { Regex } from 'parley:plugin/patterns@0.2.0';
import * as shape from '../lib/shape.js';
import { cmpStr, eqIgnoreAsciiCase, trim } from '../lib/rust.js';
import { invalidInput } from '../lib/plugin.js';

/** The rules as configured. */
const rulesShape = shape.array(
  shape.record(
    {
      name: [shape.string, shape.REQUIRED],
      category: [shape.optional(shape.string), () => undefined],
      score: [shape.number, () => 1.0],
      keywords: [shape.array(shape.string), () => []],
      'all-keywords': [shape.array(shape.string), () => []],
      pattern: [shape.optional(shape.string), () => undefined],
      attribute: [shape.optional(shape.string), () => undefined],
      equals: [shape.optional(shape.string), () => undefined],
    },
    { denyUnknown: true },
  ),
);

/** What `regex::escape` escapes (`regex_syntax::is_meta_character`). */
const META_CHARACTERS = new Set('\\.+*?()|[]{}^$#&-~');

/** Rust's `regex::escape`: `text` as a pattern matching it literally. */
function escape(text) {
  return Array.from(text, (c) => (META_CHARACTERS.has(c) ? `\\${c}` : c)).join('');
}

/** Rust's `word_regex`: any of `words`, case-insensitive, as whole words. */
function wordRegex(words) {
  return Regex.compile(`(?i)\\b(?:${words.map((w) => escape(trim(w))).join('|')})\\b`);
}

/** The first attached-data value under `key`. */
function findAttribute(attributes, key) {
  return attributes.find((a) => a.key === key)?.value;
}

/** The texts of a `texts` value, or the one text of a `text` value. */
function texts(value) {
  if (value.tag === 'text') return [value.val];
  if (value.tag === 'texts') return value.val;
  return [];
}

/** A rule ready to evaluate. */
class Rule {
  static compile(config) {
    const name = config.name;
    const compiled = (what, build) => {
      try {
        return build();
      } catch (e) {
        // The host's `error` record, which the bindings throw as `payload`.
        const error = e?.payload;
        if (error?.message === undefined) throw e;
        throw invalidInput(`rule \`${name}\`: ${what}: ${error.message}`);
      }
    };
    if (!(config.score >= 0 && config.score <= 1)) {
      throw invalidInput(`rule \`${name}\`: score must be between 0 and 1`);
    }
    const rule = new Rule();
    rule.name = name;
    rule.category = config.category;
    rule.score = config.score;
    rule.anyOf = config.keywords.length === 0 ? undefined : compiled('keywords', () => wordRegex(config.keywords));
    rule.allOf = config['all-keywords'].map((w) => compiled('all-keywords', () => wordRegex([w])));
    rule.pattern = config.pattern === undefined ? undefined : compiled('pattern', () => Regex.compile(config.pattern));
    rule.attribute = config.attribute === undefined ? undefined : [config.attribute, config.equals];
    if (rule.anyOf === undefined && rule.allOf.length === 0 && rule.pattern === undefined && rule.attribute === undefined) {
      throw invalidInput(`rule \`${name}\` has no condition`);
    }
    return rule;
  }

  /** Whether the rule matches; on a match, the fields its pattern extracts. */
  evaluate(text, request) {
    if (this.attribute !== undefined) {
      const [key, equals] = this.attribute;
      const value = findAttribute(request.attached, key);
      if (value === undefined) return undefined;
      if (equals !== undefined && !texts(value).some((t) => eqIgnoreAsciiCase(t, equals))) return undefined;
    }
    if (this.anyOf !== undefined && !this.anyOf.isMatch(text)) return undefined;
    if (this.allOf.some((re) => !re.isMatch(text))) return undefined;
    if (this.pattern === undefined) return [];
    const groups = this.pattern.captures(text);
    if (groups === undefined) return undefined;
    return groups
      .filter((g) => g.name !== undefined && g.span !== undefined)
      .map((g) => ({ name: g.name.replaceAll('_', '-'), value: trim(g.span.text) }));
  }
}

/**
 * Removes HTML tags, keeping the text between them: from a `<` to the next
 * `>` is a tag, replaced by a space; a tag left open runs to the end.
 * (The Rust plugin's loop, done with one native regular expression.)
 */
function stripTags(html) {
  return html.replace(/<[^>]*>?/g, (tag) => (tag.endsWith('>') ? ' ' : ''));
}

/** A compiled set of rules. */
export class RuleSet {
  /** Compiles the rules from their JSON configuration; every error names the rule it is about. */
  static fromJson(json) {
    let configs;
    try {
      configs = shape.load(json, rulesShape);
    } catch (e) {
      if (e instanceof shape.ShapeError) throw invalidInput(`config \`rules\`: ${e.message}`);
      throw e;
    }
    const set = new RuleSet();
    set.rules = configs.map((config) => Rule.compile(config));
    return set;
  }

  /** Screens one request. */
  screen(request) {
    const body = request.content.contentType === 'text/html' ? stripTags(request.content.text) : request.content.text;
    const text = request.subject === undefined ? body : `${request.subject}\n${body}`;
    const missProbability = new Map();
    const fields = [];
    const matchedRules = [];
    for (const rule of this.rules) {
      const extracted = rule.evaluate(text, request);
      if (extracted === undefined) continue;
      matchedRules.push(rule.name);
      if (rule.category !== undefined) {
        missProbability.set(rule.category, (missProbability.get(rule.category) ?? 1.0) * (1.0 - rule.score));
      }
      for (const field of extracted) {
        if (!fields.some((f) => f.name === field.name)) fields.push(field);
      }
    }
    const categories = [...missProbability.keys()]
      .sort(cmpStr)
      .map((name) => ({ name, score: Math.round((1.0 - missProbability.get(name)) * 10_000) / 10_000 }));
    categories.sort((a, b) => (b.score > a.score ? 1 : b.score < a.score ? -1 : cmpStr(a.name, b.name)));
    return { categories, fields, matchedRules };
  }
}
