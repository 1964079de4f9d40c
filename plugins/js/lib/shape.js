// Configuration values: JSON text read with `JSON.parse`, then checked
// against the shape the plugin expects. Each checker takes a decoded value
// and its path (`[0].keywords`, `["*"][1].level`; empty at the top) and
// returns the value to use, or throws a `ShapeError` naming the path.
// Messages use JSON's names for types, so they read the same in every
// language.

/** JSON text that does not parse, or a value of the wrong shape. */
export class ShapeError extends Error {}

/** `text` decoded with `JSON.parse` (its own error messages), then checked. */
export function load(text, check) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ShapeError(e.message);
  }
  return check(value, '');
}

/** The value as an error message names it. */
export function describe(value) {
  if (typeof value === 'string') return 'a string';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return JSON.stringify(value); // null, true, false or the number
}

export function fail(path, message) {
  throw new ShapeError(path ? `${path}: ${message}` : message);
}

export function expected(path, what, value) {
  fail(path, `expected ${what}, found ${describe(value)}`);
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

export function string(value, path) {
  if (typeof value !== 'string') expected(path, 'a string', value);
  return value;
}

export function number(value, path) {
  if (typeof value !== 'number') expected(path, 'a number', value);
  return value;
}

export function u8(value, path) {
  if (!Number.isInteger(value) || value < 0 || value > 255) expected(path, 'an integer from 0 to 255', value);
  return value;
}

/** `check`, or `undefined` for null. */
export const optional = (check) => (value, path) => (value === null ? undefined : check(value, path));

/** An array whose items pass `check`. */
export const array = (check) => (value, path) => {
  if (!Array.isArray(value)) expected(path, 'an array', value);
  return value.map((item, i) => check(item, `${path}[${i}]`));
};

/** An object whose values pass `check`, as a `Map`. */
export const mapping = (check) => (value, path) => {
  if (!isObject(value)) expected(path, 'an object', value);
  return new Map(Object.entries(value).map(([key, item]) => [key, check(item, `${path}[${JSON.stringify(key)}]`)]));
};

/** Marks a field that must be present. */
export const REQUIRED = Symbol('required');

/**
 * An object with the given fields, as a plain object: `fields` maps each
 * name to `[check, default]`, where the default is `REQUIRED` or a function
 * making the value. Unknown fields are ignored unless `denyUnknown`.
 */
export const record =
  (fields, { denyUnknown = false } = {}) =>
  (value, path) => {
    if (!isObject(value)) expected(path, 'an object', value);
    const names = Object.keys(fields);
    if (denyUnknown) {
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(fields, key)) fail(path, `unknown field \`${key}\`; the fields are ${names.join(', ')}`);
      }
    }
    const out = {};
    for (const name of names) {
      const [check, fallback] = fields[name];
      if (Object.hasOwn(value, name)) out[name] = check(value[name], path ? `${path}.${name}` : name);
      else if (fallback === REQUIRED) fail(path, `missing field \`${name}\``);
      else out[name] = fallback();
    }
    return out;
  };
