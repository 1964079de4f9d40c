// Screening rules and their evaluation; the same rules, matching, scores
// and errors as `plugins/rules-screener/src/rules.rs`.
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
// `pattern` (a regular expression in Rust's syntax, translated by
// `regex.js`; its named groups become extracted fields) and `attribute` +
// `equals` (attached data). Text conditions look at the subject and the
// content (HTML tags removed). A category's score combines its matching
// rules' scores as independent evidence: `1 - Π(1 - score)`.

import * as serde from '../lib/serde-json.js';
import { cmpStr, eqIgnoreAsciiCase, trim } from '../lib/rust.js';
import { invalidInput } from '../lib/plugin.js';
import { escape, RegexError, translate } from './regex.js';

/** One rule as configured. */
const ruleConfigType = serde.struct(
  'RuleConfig',
  [
    { name: 'name', type: serde.string },
    { name: 'category', type: serde.option(serde.string) },
    { name: 'score', type: serde.f64, default: () => 1.0 },
    { name: 'keywords', type: serde.vec(serde.string), default: () => [] },
    { name: 'all-keywords', type: serde.vec(serde.string), default: () => [] },
    { name: 'pattern', type: serde.option(serde.string) },
    { name: 'attribute', type: serde.option(serde.string) },
    { name: 'equals', type: serde.option(serde.string) },
  ],
  { denyUnknownFields: true },
);

const rulesType = serde.vec(ruleConfigType);

/** Rust's `word_regex`: any of `words`, case-insensitive, as whole words. */
function wordRegex(words) {
  return translate(`(?i)\\b(?:${words.map((w) => escape(trim(w))).join('|')})\\b`);
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
        if (e instanceof RegexError || e instanceof SyntaxError) {
          throw invalidInput(`rule \`${name}\`: ${what}: ${e.message}`);
        }
        throw e;
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
    rule.pattern = config.pattern === undefined ? undefined : compiled('pattern', () => translate(config.pattern));
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
    if (this.anyOf !== undefined && !this.anyOf.regex.test(text)) return undefined;
    if (this.allOf.some((re) => !re.regex.test(text))) return undefined;
    if (this.pattern === undefined) return [];
    const captures = this.pattern.regex.exec(text);
    if (captures === null) return undefined;
    const fields = [];
    this.pattern.names.forEach((name, index) => {
      if (name !== undefined && captures[index] !== undefined) {
        fields.push({ name: name.replaceAll('_', '-'), value: trim(captures[index]) });
      }
    });
    return fields;
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
      configs = serde.fromStr(json, rulesType);
    } catch (e) {
      if (e instanceof serde.SerdeError) throw invalidInput(`config \`rules\`: ${e.message}`);
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
