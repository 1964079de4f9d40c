// One required skill as configured: `{ skill, level }`.

import * as shape from '../lib/shape.js';

/** `Requirement { skill: String, level: u8 }` (unknown keys ignored). */
export const requirementShape = shape.record({
  skill: [shape.string, shape.REQUIRED],
  level: [shape.u8, shape.REQUIRED],
});
