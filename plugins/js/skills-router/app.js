// Reference routing strategy for Parley, in JavaScript: a port of
// `plugins/skills-router` (Rust) with the same configuration, decisions,
// errors and host calls. Routes each interaction to agents having the
// required skills at minimum levels, relaxes the levels the longer it
// waits, serves higher priority then older interactions first, and gives
// each interaction to the longest-idle agent with free capacity.
// Optionally it screens interactions of some media types first and routes
// on the category found (`screening.js`).

import { log } from 'parley:plugin/log@0.2.0';
import { entries } from 'parley:plugin/config@0.2.0';
import { screenInteraction } from 'parley:plugin/plugins@0.2.0';
import { agentsOf } from '../lib/candidates.js';
import { asResult, invalidInput } from '../lib/plugin.js';
import { Policy, RELAX_TIMER } from './strategy.js';

/** The policy, or the error it gave, from the instance's first call. */
let cached;

/**
 * The policy, parsed from the configuration on the instance's first call
 * and kept for its later ones (a version's configuration never changes).
 */
function policy() {
  if (cached === undefined) {
    cached = {};
    try {
      cached.policy = Policy.fromEntries(entries());
    } catch (e) {
      cached.error = e;
    }
  }
  if (cached.error !== undefined) throw cached.error;
  return cached.policy;
}

/**
 * Screens the interaction with `screener`: `{ ok }` or `{ err }`. A failure
 * is logged, and the interaction routed without screening.
 */
function screen(screener, interaction) {
  try {
    return { ok: screenInteraction(screener, interaction.id) };
  } catch (e) {
    if (e === null || typeof e !== 'object' || !('payload' in e)) throw e;
    const error = e.payload;
    log('warn', 'screening failed; routing without it', [
      ['interaction', interaction.id],
      ['screener', screener],
      ['kind', error.kind],
      ['error', error.message],
    ]);
    return { err: error };
  }
}

export const routing = {
  onQueued(interaction) {
    return asResult(() => {
      const p = policy();
      const screener = p.screenerFor(interaction);
      const screened = screener === undefined ? undefined : screen(screener, interaction);
      const decision = p.onQueued(interaction, screened);
      log('debug', 'queued', [
        ['interaction', interaction.id],
        ['queue', interaction.queue],
      ]);
      return decision;
    });
  },

  onTimer(interaction, tag) {
    return asResult(() => {
      if (tag !== RELAX_TIMER) throw invalidInput(`unknown timer \`${tag}\``);
      return policy().decide(interaction);
    });
  },

  pickAgent(interaction, candidates) {
    return asResult(() => policy().pickAgent(interaction, agentsOf(candidates)));
  },

  pickInteraction(agent, waiting) {
    return asResult(() => policy().pickInteraction(agent, waiting));
  },
};
