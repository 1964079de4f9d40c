// Reference screener for Parley, in JavaScript: a port of
// `plugins/rules-screener` (Rust) with the same configuration, results,
// errors and host calls. Classifies content with rules from the plugin's
// configuration (see `rules.js`) into scored categories and extracted
// fields.
//
// Compiling the rules (regular expressions) is the expensive part, so the
// compiled rule set (or the error it gave) is kept for the life of the
// instance: the manifest declares warm instances.

import { log } from 'parley:plugin/log@0.2.0';
import { get } from 'parley:plugin/config@0.2.0';
import { asResult } from '../lib/plugin.js';
import { RuleSet } from './rules.js';

let rules;

function ruleSet() {
  if (rules === undefined) {
    try {
      rules = { set: RuleSet.fromJson(get('rules') ?? '[]') };
    } catch (e) {
      rules = { error: e };
    }
  }
  if (rules.error !== undefined) throw rules.error;
  return rules.set;
}

export const screening = {
  screen(request) {
    return asResult(() => {
      const result = ruleSet().screen(request);
      log('debug', 'screened', [['matched', result.matchedRules.join(',')]]);
      return result;
    });
  },
};
