// One required skill as configured: `{ skill, level }`.

import * as serde from '../lib/serde-json.js';

/** `Requirement { skill: String, level: u8 }` (unknown keys ignored). */
export const requirementType = serde.struct('Requirement', [
  { name: 'skill', type: serde.string },
  { name: 'level', type: serde.u8 },
]);
