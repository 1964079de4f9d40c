// Behaviour of the few Rust standard-library functions the reference
// plugins rely on, so that the JavaScript ports give the same results.

/** Unicode `White_Space` code points: what Rust's `char::is_whitespace` and `str::trim` use. */
const WHITE_SPACE = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f,
  0x3000,
];
const WHITE_SPACE_SET = new Set(WHITE_SPACE);

/** Rust's `char::is_whitespace` on a code point. */
function isWhitespace(cp) {
  return WHITE_SPACE_SET.has(cp);
}

/** Rust's `str::trim` (Unicode `White_Space`, unlike `String.prototype.trim`). */
export function trim(text) {
  const chars = Array.from(text);
  let start = 0;
  let end = chars.length;
  while (start < end && isWhitespace(chars[start].codePointAt(0))) start++;
  while (end > start && isWhitespace(chars[end - 1].codePointAt(0))) end--;
  return chars.slice(start, end).join('');
}

/** Rust's `Ord` on strings: byte-wise UTF-8, that is code point order. */
export function cmpStr(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      // A surrogate (a code point above U+FFFF) sorts after every BMP unit.
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** A three-way comparison of numbers or bigints. */
export function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Rust's `FromStr` for an unsigned integer type of `bits` bits, as a bigint;
 * `undefined` where Rust returns an error (empty, a sign alone, `-`, any
 * non-digit, overflow).
 */
export function parseUnsigned(text, bits) {
  const digits = text.startsWith('+') ? text.slice(1) : text;
  if (!/^[0-9]+$/.test(digits)) return undefined;
  const value = BigInt(digits);
  return value < 1n << BigInt(bits) ? value : undefined;
}

/** `text` cut to at most `max` UTF-8 bytes, on a character boundary. */
export function cutUtf8(text, max) {
  let n = 0;
  let end = 0;
  for (const c of text) {
    const cp = c.codePointAt(0);
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n > max) break;
    end += c.length;
  }
  return text.slice(0, end);
}

/** Rust's `str::eq_ignore_ascii_case`. */
export function eqIgnoreAsciiCase(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}
