// Rust regular expressions (the syntax of the `regex` crate) translated to
// JavaScript ones that match the same text, so that screening rules written
// for the Rust screener work unchanged:
//
// - `(?P<name>...)` and `(?<name>...)` become capture groups (`(?<name>...)`
//   where the name is a JavaScript identifier); captures are read by index;
// - flags (`(?i)`, `(?m)`, `(?s)`, `(?x)`, `(?U)`, `(?R)`, `(?-u)`, scoped
//   `(?i:...)` or set mid-pattern) are applied while translating, so the
//   JavaScript pattern needs only the `u` flag: a leading `(?i)` acts as an
//   `i` flag would, with Rust's simple case folding;
// - `\w`, `\d`, `\s` and `\b` are Unicode-aware as in Rust (the engine has
//   no Unicode property tables, so they become explicit classes);
// - `.`, `^`, `$`, `\A`, `\z`, `\<`, `\>`, `\b{start}`..., POSIX classes
//   `[[:alpha:]]`, nested classes and `&&`, `--`, `~~` are translated too.
//
// Patterns Rust refuses are refused with Rust's message (`regex parse
// error: ... error: unclosed group`). Unicode property classes (`\p{Greek}`)
// cannot be translated and are refused the same way.

import { CASE_FOLD_GROUPS, DIGIT, SPACE, WORD } from './unicode-tables.js';
import { isWhitespace } from '../lib/rust.js';

// ---------------------------------------------------------------------------
// Code point sets: sorted arrays of disjoint [lo, hi] ranges.

const MAX_CP = 0x10ffff;

// Translation runs in an interpreter where every JavaScript operation
// counts, so the hot paths lean on native code (typed-array sorting) and on
// tables computed once when the component is built (module top level runs
// at build time and is part of the snapshot).

const RANGE_SHIFT = 2 ** 21;

function normalize(ranges) {
  // Sort natively: each range packed as one number, lo first.
  const keys = new Float64Array(ranges.length);
  for (let k = 0; k < ranges.length; k++) keys[k] = ranges[k][0] * RANGE_SHIFT + ranges[k][1];
  keys.sort();
  const out = [];
  let last;
  for (let k = 0; k < keys.length; k++) {
    const lo = Math.floor(keys[k] / RANGE_SHIFT);
    const hi = keys[k] - lo * RANGE_SHIFT;
    if (last !== undefined && lo <= last[1] + 1) {
      if (hi > last[1]) last[1] = hi;
    } else {
      last = [lo, hi];
      out.push(last);
    }
  }
  return out;
}

const union = (a, b) => normalize([...a, ...b]);

function intersect(a, b) {
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i][0], b[j][0]);
    const hi = Math.min(a[i][1], b[j][1]);
    if (lo <= hi) out.push([lo, hi]);
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return out;
}

/** The complement within Unicode scalar values (or bytes, `max` 0xFF). */
function negate(set, max = MAX_CP) {
  const out = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= max) out.push([next, max]);
  return max === MAX_CP ? intersect(out, [[0, 0xd7ff], [0xe000, MAX_CP]]) : out;
}

const difference = (a, b, max) => intersect(a, negate(b, max));
const symmetricDifference = (a, b, max) => union(difference(a, b, max), difference(b, a, max));

function contains(set, cp) {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < set[mid][0]) hi = mid - 1;
    else if (cp > set[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The index of the first range of `set` ending at or after `cp`. */
function rangeAt(set, cp) {
  let lo = 0;
  let hi = set.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (set[mid][1] < cp) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether one range of `set` holds all of [lo, hi]. */
function coveredBy(set, lo, hi) {
  const r = set[rangeAt(set, lo)];
  return r !== undefined && r[0] <= lo && hi <= r[1];
}

/** Whether `set` holds any of [lo, hi]. */
function overlaps(set, lo, hi) {
  const r = set[rangeAt(set, lo)];
  return r !== undefined && r[0] <= hi;
}

function parseRanges(text) {
  return normalize(
    text.split(' ').map((item) => {
      const [lo, hi] = item.split('-').map((h) => parseInt(h, 16));
      return [lo, hi ?? lo];
    }),
  );
}

const range = (lo, hi = lo) => [[lo, hi]];

const UNICODE_WORD = parseRanges(WORD);
const UNICODE_DIGIT = parseRanges(DIGIT);
const UNICODE_SPACE = parseRanges(SPACE);
const ASCII_WORD = normalize([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
const ASCII_DIGIT = range(0x30, 0x39);
const ASCII_SPACE = normalize([[0x09, 0x0d], [0x20, 0x20]]);

const FOLD_GROUPS = CASE_FOLD_GROUPS.split(' ').map((g) => g.split(',').map((h) => parseInt(h, 16)));
const FOLD_GROUP_OF = new Map();
for (const group of FOLD_GROUPS) for (const cp of group) FOLD_GROUP_OF.set(cp, group);

/** Every code point that has a case folding counterpart, ascending. */
const FOLDING = [...FOLD_GROUP_OF.keys()].sort((a, b) => a - b);

/** `set` closed under simple case folding (ASCII letters only in bytes mode). */
function caseFold(set, unicode) {
  const added = [];
  if (unicode) {
    for (const [lo, hi] of set) {
      let a = 0;
      let b = FOLDING.length;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (FOLDING[mid] < lo) a = mid + 1;
        else b = mid;
      }
      for (; a < FOLDING.length && FOLDING[a] <= hi; a++) {
        const group = FOLD_GROUP_OF.get(FOLDING[a]);
        for (let g = 0; g < group.length; g++) added.push([group[g], group[g]]);
      }
    }
  } else {
    for (let c = 0x41; c <= 0x5a; c++) {
      if (contains(set, c) || contains(set, c + 0x20)) added.push([c, c], [c + 0x20, c + 0x20]);
    }
  }
  return added.length === 0 ? set : union(set, added);
}

/** The POSIX classes of `[[:name:]]`. */
const ASCII_CLASSES = {
  alnum: normalize([[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]),
  alpha: normalize([[0x41, 0x5a], [0x61, 0x7a]]),
  ascii: range(0, 0x7f),
  blank: normalize([[0x09, 0x09], [0x20, 0x20]]),
  cntrl: normalize([[0, 0x1f], [0x7f, 0x7f]]),
  digit: ASCII_DIGIT,
  graph: range(0x21, 0x7e),
  lower: range(0x61, 0x7a),
  print: range(0x20, 0x7e),
  punct: normalize([[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]),
  space: ASCII_SPACE,
  upper: range(0x41, 0x5a),
  word: ASCII_WORD,
  xdigit: normalize([[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]),
};

// ---------------------------------------------------------------------------
// JavaScript source.

const hex = (cp) => cp.toString(16);

/** Characters that need a backslash in a JavaScript pattern, outside and inside classes. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');
const JS_CLASS_SYNTAX = new Set('\\]-^[');

/**
 * One code point as JavaScript pattern source (`u` mode). Code points are
 * written as themselves where possible: the engine parses a class of
 * hundreds of ranges much faster that way than as `\u{...}` escapes.
 */
function jsChar(cp, inClass = false) {
  const c = String.fromCodePoint(cp);
  if ((inClass ? JS_CLASS_SYNTAX : JS_SYNTAX).has(c)) return `\\${c}`;
  if (cp < 0x20 || cp === 0x7f) return `\\u{${hex(cp)}}`;
  return c;
}

/** A set as a JavaScript class. */
function jsClass(set) {
  let out = '[';
  for (const [lo, hi] of set) {
    out += lo === hi ? jsChar(lo, true) : `${jsChar(lo, true)}-${jsChar(hi, true)}`;
  }
  return `${out}]`;
}

const UNICODE_WORD_JS = jsClass(UNICODE_WORD);
const ASCII_WORD_JS = jsClass(ASCII_WORD);

/** `\d`, `\s`, `\w` and their negations, as sets and JavaScript, per mode. */
const PERL = {};
for (const [kind, unicode, ascii] of [
  ['d', UNICODE_DIGIT, ASCII_DIGIT],
  ['s', UNICODE_SPACE, ASCII_SPACE],
  ['w', UNICODE_WORD, ASCII_WORD],
]) {
  for (const [mode, set, max] of [['u', unicode, MAX_CP], ['b', ascii, 0xff]]) {
    PERL[`${kind}${mode}`] = { set, js: jsClass(set) };
    const negated = negate(set, max);
    PERL[`${kind.toUpperCase()}${mode}`] = { set: negated, js: jsClass(negated) };
  }
}

/** The atom matching the literal `cp`, case-insensitively if `icase` (`unicode`: Unicode folding). */
function literalAtom(cp, icase, unicode) {
  const table = icase ? (unicode ? LITERALS_IU : LITERALS_IB) : LITERALS;
  if (cp < 0x80) return table[cp];
  return makeLiteralAtom(cp, icase, unicode);
}

function makeLiteralAtom(cp, icase, unicode) {
  if (icase) {
    const folded = caseFold(range(cp), unicode);
    if (folded.length > 1 || folded[0][0] !== folded[0][1]) {
      return { kind: 'atom', js: jsClass(folded), first: folded, last: folded };
    }
  }
  return { kind: 'atom', js: jsChar(cp), first: range(cp), last: range(cp) };
}

const ascii = (icase, unicode) => Array.from({ length: 0x80 }, (_, cp) => makeLiteralAtom(cp, icase, unicode));
const LITERALS = ascii(false, true);
const LITERALS_IU = ascii(true, true);
const LITERALS_IB = ascii(true, false);

/** Word-boundary assertions over the word class `w`. */
function boundary(kind, w) {
  switch (kind) {
    case 'word-boundary':
      return `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`;
    case 'not-word-boundary':
      return `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))`;
    case 'word-start':
      return `(?:(?<!${w})(?=${w}))`;
    case 'word-end':
      return `(?:(?<=${w})(?!${w}))`;
    case 'word-start-half':
      return `(?:(?<!${w}))`;
    case 'word-end-half':
      return `(?:(?!${w}))`;
    default:
      throw new Error(`unknown boundary ${kind}`);
  }
}

/**
 * A word-boundary item as JavaScript, given the sets of the characters
 * before and after it where known: a side whose characters are all word
 * (or all non-word) characters decides the other side's test alone.
 */
function resolveBoundary(item, prev, next) {
  const wordSet = item.unicode ? UNICODE_WORD : ASCII_WORD;
  const w = item.unicode ? UNICODE_WORD_JS : ASCII_WORD_JS;
  const wordness = (set) => {
    if (set === undefined || set.length === 0) return undefined;
    if (set.every(([lo, hi]) => coveredBy(wordSet, lo, hi))) return true;
    if (set.every(([lo, hi]) => !overlaps(wordSet, lo, hi))) return false;
    return undefined;
  };
  const before = wordness(prev);
  const after = wordness(next);
  // Before a look-behind over the large word class, a test of the next
  // character against the (small) set it must be in: the engine then
  // rejects most positions of a long text at once.
  const filter = next !== undefined && next.length <= 16 ? `(?=${jsClass(next)})` : '';
  if (item.type === 'word-boundary') {
    if (before !== undefined) return before ? `(?!${w})` : `(?=${w})`;
    if (after !== undefined) return after ? `${filter}(?<!${w})` : `${filter}(?<=${w})`;
  } else if (item.type === 'not-word-boundary') {
    if (before !== undefined) return before ? `(?=${w})` : `(?!${w})`;
    if (after !== undefined) return after ? `${filter}(?<=${w})` : `${filter}(?<!${w})`;
  }
  return boundary(item.type, w);
}

// ---------------------------------------------------------------------------
// Errors, formatted as regex-syntax formats them.

const ERRORS = {
  ClassEscapeInvalid: 'invalid escape sequence found in character class',
  ClassRangeInvalid: 'invalid character class range, the start must be <= the end',
  ClassRangeLiteral: 'invalid range boundary, must be a literal',
  ClassUnclosed: 'unclosed character class',
  DecimalEmpty: 'decimal literal empty',
  DecimalInvalid: 'decimal literal invalid',
  EscapeHexEmpty: 'hexadecimal literal empty',
  EscapeHexInvalid: 'hexadecimal literal is not a Unicode scalar value',
  EscapeHexInvalidDigit: 'invalid hexadecimal digit',
  EscapeUnexpectedEof: 'incomplete escape sequence, reached end of pattern prematurely',
  EscapeUnrecognized: 'unrecognized escape sequence',
  FlagDanglingNegation: 'dangling flag negation operator',
  FlagDuplicate: 'duplicate flag',
  FlagRepeatedNegation: 'flag negation operator repeated',
  FlagUnexpectedEof: 'expected flag but got end of regex',
  FlagUnrecognized: 'unrecognized flag',
  GroupNameDuplicate: 'duplicate capture group name',
  GroupNameEmpty: 'empty capture group name',
  GroupNameInvalid: 'invalid capture group character',
  GroupNameUnexpectedEof: 'unclosed capture group name',
  GroupUnclosed: 'unclosed group',
  GroupUnopened: 'unopened group',
  RepetitionCountInvalid: 'invalid repetition count range, the start must be <= the end',
  RepetitionCountDecimalEmpty: 'repetition quantifier expects a valid decimal',
  RepetitionCountUnclosed: 'unclosed counted repetition',
  RepetitionMissing: 'repetition operator missing expression',
  SpecialWordBoundaryUnclosed:
    'special word boundary assertion is either unclosed or contains an invalid character',
  SpecialWordBoundaryUnrecognized:
    'unrecognized special word boundary assertion, valid choices are: start, end, start-half or end-half',
  SpecialWordOrRepetitionUnexpectedEof:
    'found either the beginning of a special word boundary or a bounded repetition on a \\b with an opening brace, but no closing brace',
  UnicodeClassInvalid: 'invalid Unicode character class',
  UnsupportedBackreference: 'backreferences are not supported',
  UnsupportedLookAround: 'look-around, including look-ahead and look-behind, is not supported',
  UnicodeNotAllowed: 'Unicode not allowed here',
  InvalidUtf8: 'pattern can match invalid UTF-8',
  Untranslatable:
    'Unicode property classes (\\p, \\P) cannot be translated: the JavaScript engine of this plugin has no Unicode property data',
};

/** A pattern refused, with the message regex-syntax gives. */
export class RegexError extends Error {}

/** Positions (UTF-16 index into the pattern) to regex-syntax's line and column. */
function lineColumn(pattern, index) {
  let line = 1;
  let column = 1;
  for (const c of pattern.slice(0, index)) {
    if (c === '\n') {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return { line, column };
}

function formatError(pattern, kind, span, aux) {
  const toPos = ([start, end]) => ({ start: lineColumn(pattern, start), end: lineColumn(pattern, end) });
  const lines = pattern.split('\n');
  const lineCount = pattern.endsWith('\n') ? lines.length : lines.length - (lines.at(-1) === '' ? 1 : 0);
  const shown = pattern.endsWith('\n') ? lines.slice(0, -1) : lines;
  const width = lineCount <= 1 ? 0 : String(lineCount).length;
  const byLine = new Map();
  const multiLine = [];
  for (const s of [span, aux].filter(Boolean).map(toPos)) {
    if (s.start.line === s.end.line) {
      if (!byLine.has(s.start.line)) byLine.set(s.start.line, []);
      byLine.get(s.start.line).push(s);
      byLine.get(s.start.line).sort((a, b) => a.start.column - b.start.column);
    } else {
      multiLine.push(s);
    }
  }
  let notated = '';
  shown.forEach((line, i) => {
    notated += width > 0 ? `${String(i + 1).padStart(width)}: ` : '    ';
    notated += `${line}\n`;
    const spans = byLine.get(i + 1);
    if (spans) {
      let notes = ' '.repeat(width === 0 ? 4 : 2 + width);
      let pos = 0;
      for (const s of spans) {
        for (; pos < s.start.column - 1; pos++) notes += ' ';
        const len = Math.max(1, s.end.column - s.start.column);
        notes += '^'.repeat(len);
        pos += len;
      }
      notated += `${notes}\n`;
    }
  });
  const message = ERRORS[kind];
  if (pattern.includes('\n')) {
    const divider = '~'.repeat(79);
    let out = `regex parse error:\n${divider}\n${notated}${divider}\n`;
    if (multiLine.length > 0) {
      out += `${multiLine
        .map((s) => `on line ${s.start.line} (column ${s.start.column}) through line ${s.end.line} (column ${s.end.column - 1})`)
        .join('\n')}\n`;
    }
    return `${out}error: ${message}`;
  }
  return `regex parse error:\n${notated}error: ${message}`;
}

// ---------------------------------------------------------------------------
// The translator: regex-syntax's parser, emitting JavaScript as it goes.

const META = new Set('\\.+*?()|[]{}^$#&-~');
const isMeta = (c) => META.has(c);
function isEscapeable(c) {
  if (isMeta(c)) return true;
  const cp = c.codePointAt(0);
  if (cp > 0x7f) return false;
  return !/[0-9A-Za-z<>]/.test(c);
}
const isHex = (c) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
/**
 * Whether `c` may appear in a capture name: `_`, letters (and after the
 * first, digits, `.`, `[`, `]`). Beyond ASCII, "letter or digit" is
 * approximated by the `\w` table (which also holds marks and connectors).
 */
function isCaptureChar(c, first) {
  if (c === '_') return true;
  if (!first && (c === '.' || c === '[' || c === ']')) return true;
  const cp = c.codePointAt(0);
  if (cp < 0x80) return first ? /[A-Za-z]/.test(c) : /[A-Za-z0-9]/.test(c);
  return contains(UNICODE_WORD, cp);
}

const DEFAULT_FLAGS = { i: false, m: false, s: false, U: false, u: true, R: false, x: false };

class Translator {
  constructor(pattern) {
    this.pattern = pattern;
    this.chars = Array.from(pattern);
    this.offsets = [];
    let offset = 0;
    for (const c of this.chars) {
      this.offsets.push(offset);
      offset += c.length;
    }
    this.offsets.push(offset);
    this.pos = 0;
    this.flags = { ...DEFAULT_FLAGS };
    this.captureCount = 0;
    this.captureNames = new Map();
    this.names = [];
    this.groupStack = [];
    this.classStack = [];
    this.deferred = undefined;
  }

  // -- cursor ---------------------------------------------------------------

  char() {
    return this.chars[this.pos];
  }

  isEof() {
    return this.pos >= this.chars.length;
  }

  bump() {
    if (this.isEof()) return false;
    this.pos++;
    return !this.isEof();
  }

  /** Consumes `prefix` (ASCII) if the pattern continues with it. */
  bumpIf(prefix) {
    const { chars, pos } = this;
    for (let k = 0; k < prefix.length; k++) if (chars[pos + k] !== prefix[k]) return false;
    this.pos += prefix.length;
    return true;
  }

  bumpSpace() {
    if (!this.flags.x) return;
    while (!this.isEof()) {
      const c = this.char();
      if (isWhitespace(c.codePointAt(0))) {
        this.bump();
      } else if (c === '#') {
        this.bump();
        while (!this.isEof()) {
          const d = this.char();
          this.bump();
          if (d === '\n') break;
        }
      } else {
        break;
      }
    }
  }

  bumpAndBumpSpace() {
    if (!this.bump()) return false;
    this.bumpSpace();
    return !this.isEof();
  }

  peek() {
    return this.chars[this.pos + 1];
  }

  peekSpace() {
    if (!this.flags.x) return this.peek();
    let inComment = false;
    for (let k = this.pos + 1; k < this.chars.length; k++) {
      const c = this.chars[k];
      if (isWhitespace(c.codePointAt(0))) continue;
      if (!inComment && c === '#') inComment = true;
      else if (inComment && c === '\n') inComment = false;
      else if (!inComment) return c;
    }
    return undefined;
  }

  /** A span over char positions [start, end), as UTF-16 indexes. */
  span(start = this.pos, end = start) {
    return [this.offsets[start], this.offsets[end]];
  }

  spanChar() {
    return this.span(this.pos, this.pos + 1);
  }

  error(span, kind, aux) {
    return new RegexError(formatError(this.pattern, kind, span, aux));
  }

  /** A translation error, reported only if the whole pattern parses. */
  defer(span, kind) {
    this.deferred ??= this.error(span, kind);
  }

  // -- the main loop --------------------------------------------------------

  translate() {
    let concat = this.newConcat();
    for (;;) {
      this.bumpSpace();
      if (this.isEof()) break;
      switch (this.char()) {
        case '(':
          concat = this.pushGroup(concat);
          break;
        case ')':
          concat = this.popGroup(concat);
          break;
        case '|':
          concat = this.pushAlternate(concat);
          break;
        case '[':
          concat.items.push(this.charAtom(this.parseSetClass()));
          break;
        case '?':
        case '*':
        case '+':
          this.parseUncountedRepetition(concat);
          break;
        case '{':
          this.parseCountedRepetition(concat);
          break;
        default:
          concat.items.push(this.primitiveAtom(this.parsePrimitive()));
      }
    }
    const js = this.popGroupEnd(concat);
    if (this.deferred) throw this.deferred;
    return { source: js, names: this.names };
  }

  newConcat() {
    return { items: [] };
  }

  /**
   * The JavaScript of a finished concatenation, with the first and last
   * character sets of what it matches where known (for word boundaries).
   *
   * A word boundary next to a character whose class is known needs only
   * one look-around: `\b` before a word character is "not after a word
   * character". That keeps patterns small: the Unicode word class has
   * hundreds of ranges, and the engine parses each copy of it anew.
   */
  finishConcat(concat) {
    const { items } = concat;
    const consumes = (item) => item.kind === 'atom' || item.kind === 'rep';
    let js = '';
    items.forEach((item, k) => {
      if (item.kind !== 'boundary') {
        js += item.js;
        return;
      }
      let prev;
      for (let j = k - 1; j >= 0; j--) {
        if (consumes(items[j])) {
          prev = items[j].last;
          break;
        }
      }
      let next;
      for (let j = k + 1; j < items.length; j++) {
        if (consumes(items[j])) {
          next = items[j].first;
          break;
        }
      }
      js += resolveBoundary(item, prev, next);
    });
    const consuming = items.filter(consumes);
    return { js, first: consuming[0]?.first, last: consuming.at(-1)?.last };
  }

  // -- repetitions ----------------------------------------------------------

  lastRepeatable(concat) {
    const last = concat.items.at(-1);
    if (last === undefined || last.kind === 'flags') throw this.error(this.span(), 'RepetitionMissing');
    concat.items.pop();
    if (last.kind === 'boundary') return { kind: 'zero', js: resolveBoundary(last) };
    return last;
  }

  pushRepetition(concat, atom, op, greedy, min) {
    const base = atom.kind === 'rep' ? `(?:${atom.js})` : atom.js;
    const lazy = this.flags.U ? greedy : !greedy;
    const item = { kind: 'rep', js: `${base}${op}${lazy ? '?' : ''}` };
    if (min > 0 && atom.kind !== 'zero') {
      item.first = atom.first;
      item.last = atom.last;
    }
    concat.items.push(item);
  }

  parseUncountedRepetition(concat) {
    const op = this.char();
    const atom = this.lastRepeatable(concat);
    let greedy = true;
    if (this.bump() && this.char() === '?') {
      greedy = false;
      this.bump();
    }
    this.pushRepetition(concat, atom, op, greedy, op === '+' ? 1 : 0);
  }

  parseDecimal() {
    while (!this.isEof() && isWhitespace(this.char().codePointAt(0))) this.bump();
    const start = this.pos;
    let digits = '';
    while (!this.isEof() && this.char() >= '0' && this.char() <= '9') {
      digits += this.char();
      this.bumpAndBumpSpace();
    }
    const span = this.span(start, this.pos);
    while (!this.isEof() && isWhitespace(this.char().codePointAt(0))) this.bumpAndBumpSpace();
    if (digits === '') return { error: 'DecimalEmpty', span };
    const n = Number(digits);
    if (n > 0xffffffff) return { error: 'DecimalInvalid', span };
    return { value: n };
  }

  decimal(result) {
    if (result.error === undefined) return result.value;
    const kind = result.error === 'DecimalEmpty' ? 'RepetitionCountDecimalEmpty' : result.error;
    throw this.error(result.span, kind);
  }

  parseCountedRepetition(concat) {
    const start = this.pos;
    const atom = this.lastRepeatable(concat);
    if (!this.bumpAndBumpSpace()) throw this.error(this.span(start, this.pos), 'RepetitionCountUnclosed');
    const countStart = this.parseDecimal();
    if (this.isEof()) throw this.error(this.span(start, this.pos), 'RepetitionCountUnclosed');
    let op;
    let min;
    let max;
    if (this.char() === ',') {
      if (!this.bumpAndBumpSpace()) throw this.error(this.span(start, this.pos), 'RepetitionCountUnclosed');
      if (this.char() !== '}') {
        min = this.decimal(countStart);
        max = this.decimal(this.parseDecimal());
        op = `{${min},${max}}`;
      } else {
        min = this.decimal(countStart);
        op = `{${min},}`;
      }
    } else {
      min = this.decimal(countStart);
      op = `{${min}}`;
    }
    if (this.isEof() || this.char() !== '}') {
      throw this.error(this.span(start, this.pos), 'RepetitionCountUnclosed');
    }
    let greedy = true;
    if (this.bumpAndBumpSpace() && this.char() === '?') {
      greedy = false;
      this.bump();
    }
    if (max !== undefined && min > max) throw this.error(this.span(start, this.pos), 'RepetitionCountInvalid');
    this.pushRepetition(concat, atom, op, greedy, min);
  }

  // -- groups and alternations -----------------------------------------------

  pushAlternate(concat) {
    const top = this.groupStack.at(-1);
    if (top?.kind === 'alternation') top.branches.push(this.finishConcat(concat));
    else this.groupStack.push({ kind: 'alternation', branches: [this.finishConcat(concat)] });
    this.bump();
    return this.newConcat();
  }

  parseFlags() {
    const items = [];
    let lastNegation;
    while (this.char() !== ':' && this.char() !== ')') {
      const c = this.char();
      const span = this.spanChar();
      if (c === '-') {
        lastNegation = span;
        const original = items.find((item) => item.c === '-');
        if (original) throw this.error(span, 'FlagRepeatedNegation', original.span);
      } else {
        lastNegation = undefined;
        if (!'imsUuRx'.includes(c)) throw this.error(span, 'FlagUnrecognized');
        const original = items.find((item) => item.c === c);
        if (original) throw this.error(span, 'FlagDuplicate', original.span);
      }
      items.push({ c, span });
      if (!this.bump()) throw this.error(this.span(), 'FlagUnexpectedEof');
    }
    if (lastNegation) throw this.error(lastNegation, 'FlagDanglingNegation');
    return items;
  }

  applyFlags(items) {
    let value = true;
    for (const { c } of items) {
      if (c === '-') value = false;
      else this.flags[c] = value;
    }
  }

  parseCaptureName() {
    if (this.isEof()) throw this.error(this.span(), 'GroupNameUnexpectedEof');
    const start = this.pos;
    for (;;) {
      if (this.char() === '>') break;
      if (!isCaptureChar(this.char(), this.pos === start)) throw this.error(this.spanChar(), 'GroupNameInvalid');
      if (!this.bump()) break;
    }
    const end = this.pos;
    if (this.isEof()) throw this.error(this.span(), 'GroupNameUnexpectedEof');
    this.bump();
    const name = this.chars.slice(start, end).join('');
    const span = this.span(start, end);
    if (name === '') throw this.error(this.span(start, start), 'GroupNameEmpty');
    if (this.captureNames.has(name)) throw this.error(span, 'GroupNameDuplicate', this.captureNames.get(name));
    this.captureNames.set(name, span);
    return name;
  }

  pushGroup(concat) {
    const openPos = this.pos;
    const openSpan = this.spanChar();
    this.bump();
    this.bumpSpace();
    if (this.bumpIf('?=') || this.bumpIf('?!') || this.bumpIf('?<=') || this.bumpIf('?<!')) {
      throw this.error(this.span(openPos, this.pos), 'UnsupportedLookAround');
    }
    const innerPos = this.pos;
    const saved = { ...this.flags };
    let open;
    if (this.bumpIf('?P<') || this.bumpIf('?<')) {
      const index = ++this.captureCount;
      const name = this.parseCaptureName();
      this.names[index] = name;
      open = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `(?<${name}>` : '(';
    } else if (this.bumpIf('?')) {
      if (this.isEof()) throw this.error(openSpan, 'GroupUnclosed');
      const items = this.parseFlags();
      const end = this.char();
      this.bump();
      if (end === ')') {
        if (items.length === 0) throw this.error(this.span(innerPos), 'RepetitionMissing');
        this.applyFlags(items);
        concat.items.push({ kind: 'flags', js: '' });
        return concat;
      }
      this.applyFlags(items);
      open = '(?:';
    } else {
      this.captureCount++;
      open = '(';
    }
    this.groupStack.push({ kind: 'group', concat, open, saved, span: openSpan });
    return this.newConcat();
  }

  popGroup(groupConcat) {
    let top = this.groupStack.pop();
    let alternation;
    if (top?.kind === 'alternation') {
      alternation = top;
      top = this.groupStack.pop();
    }
    if (top?.kind !== 'group') throw this.error(this.spanChar(), 'GroupUnopened');
    this.bump();
    const branches = [...(alternation?.branches ?? []), this.finishConcat(groupConcat)];
    this.flags = top.saved;
    const joined = (key) => (branches.every((b) => b[key] !== undefined) ? normalize(branches.flatMap((b) => b[key])) : undefined);
    top.concat.items.push({
      kind: 'atom',
      js: `${top.open}${branches.map((b) => b.js).join('|')})`,
      first: joined('first'),
      last: joined('last'),
    });
    return top.concat;
  }

  popGroupEnd(concat) {
    let top = this.groupStack.pop();
    let { js } = this.finishConcat(concat);
    if (top?.kind === 'alternation') {
      js = [...top.branches.map((b) => b.js), js].join('|');
      top = this.groupStack.pop();
    }
    if (top?.kind === 'group') throw this.error(top.span, 'GroupUnclosed');
    return js;
  }

  // -- primitives -----------------------------------------------------------

  parsePrimitive() {
    const c = this.chars[this.pos];
    if (c === '\\') return this.parseEscape();
    const span = this.spanChar();
    this.pos++;
    if (c === '.') return { type: 'dot', span };
    if (c === '^') return { type: 'assertion', kind: 'start-line', span };
    if (c === '$') return { type: 'assertion', kind: 'end-line', span };
    return { type: 'literal', kind: 'verbatim', c: c.codePointAt(0), span };
  }

  parseEscape() {
    const start = this.pos;
    if (!this.bump()) throw this.error(this.span(start, this.pos), 'EscapeUnexpectedEof');
    const c = this.char();
    if (c >= '0' && c <= '9') {
      throw this.error(this.span(start, this.pos + 1), 'UnsupportedBackreference');
    }
    if (c === 'x' || c === 'u' || c === 'U') {
      const lit = this.parseHex();
      lit.span = [this.offsets[start], lit.span[1]];
      return lit;
    }
    if (c === 'p' || c === 'P') {
      const cls = this.parseUnicodeClass();
      return { ...cls, span: [this.offsets[start], cls.span[1]] };
    }
    if ('dswDSW'.includes(c)) {
      this.bump();
      return {
        type: 'perl',
        kind: c.toLowerCase(),
        negated: c !== c.toLowerCase(),
        span: this.span(start, this.pos),
      };
    }
    this.bump();
    const span = this.span(start, this.pos);
    if (isMeta(c)) return { type: 'literal', kind: 'meta', c: c.codePointAt(0), span };
    if (isEscapeable(c)) return { type: 'literal', kind: 'superfluous', c: c.codePointAt(0), span };
    const special = { a: 0x07, f: 0x0c, t: 0x09, n: 0x0a, r: 0x0d, v: 0x0b };
    if (c in special) return { type: 'literal', kind: 'special', c: special[c], span };
    const assertion = (kind) => ({ type: 'assertion', kind, span });
    switch (c) {
      case 'A':
        return assertion('start-text');
      case 'z':
        return assertion('end-text');
      case 'b': {
        const wb = assertion('word-boundary');
        if (!this.isEof() && this.char() === '{') {
          const kind = this.maybeParseSpecialWordBoundary(start);
          if (kind) {
            wb.kind = kind;
            wb.span = this.span(start, this.pos);
          }
        }
        return wb;
      }
      case 'B':
        return assertion('not-word-boundary');
      case '<':
        return assertion('word-start');
      case '>':
        return assertion('word-end');
      default:
        throw this.error(span, 'EscapeUnrecognized');
    }
  }

  maybeParseSpecialWordBoundary(wbStart) {
    const isValid = (c) => c !== undefined && /^[A-Za-z-]$/.test(c);
    const start = this.pos;
    if (!this.bumpAndBumpSpace()) {
      throw this.error(this.span(wbStart, this.pos), 'SpecialWordOrRepetitionUnexpectedEof');
    }
    const startContents = this.pos;
    if (!isValid(this.char())) {
      this.pos = start;
      return undefined;
    }
    let name = '';
    while (!this.isEof() && isValid(this.char())) {
      name += this.char();
      this.bumpAndBumpSpace();
    }
    if (this.isEof() || this.char() !== '}') {
      throw this.error(this.span(start, this.pos), 'SpecialWordBoundaryUnclosed');
    }
    const end = this.pos;
    this.bump();
    const kinds = {
      start: 'word-start',
      end: 'word-end',
      'start-half': 'word-start-half',
      'end-half': 'word-end-half',
    };
    if (!(name in kinds)) throw this.error(this.span(startContents, end), 'SpecialWordBoundaryUnrecognized');
    return kinds[name];
  }

  parseHex() {
    const prefix = this.char();
    const digits = { x: 2, u: 4, U: 8 }[prefix];
    if (!this.bumpAndBumpSpace()) throw this.error(this.span(), 'EscapeUnexpectedEof');
    let text = '';
    let start;
    let end;
    if (this.char() === '{') {
      const bracePos = this.pos;
      start = this.pos + 1;
      while (this.bumpAndBumpSpace() && this.char() !== '}') {
        if (!isHex(this.char())) throw this.error(this.spanChar(), 'EscapeHexInvalidDigit');
        text += this.char();
      }
      if (this.isEof()) throw this.error(this.span(bracePos, this.pos), 'EscapeUnexpectedEof');
      end = this.pos;
      this.bumpAndBumpSpace();
      if (text === '') throw this.error(this.span(bracePos, this.pos), 'EscapeHexEmpty');
    } else {
      start = this.pos;
      for (let k = 0; k < digits; k++) {
        if (k > 0 && !this.bumpAndBumpSpace()) throw this.error(this.span(), 'EscapeUnexpectedEof');
        if (!isHex(this.char())) throw this.error(this.spanChar(), 'EscapeHexInvalidDigit');
        text += this.char();
      }
      this.bumpAndBumpSpace();
      end = this.pos;
    }
    const cp = text.length > 8 ? NaN : parseInt(text, 16);
    if (!(cp <= MAX_CP) || (cp >= 0xd800 && cp <= 0xdfff)) {
      throw this.error(this.span(start, end), 'EscapeHexInvalid');
    }
    return { type: 'literal', kind: prefix === 'x' ? 'hex-x' : 'hex', c: cp, span: this.span(start, this.pos) };
  }

  parseUnicodeClass() {
    const negated = this.char() === 'P';
    if (!this.bumpAndBumpSpace()) throw this.error(this.span(), 'EscapeUnexpectedEof');
    let start;
    if (this.char() === '{') {
      start = this.pos + 1;
      while (this.bumpAndBumpSpace() && this.char() !== '}') {
        /* the name */
      }
      if (this.isEof()) throw this.error(this.span(), 'EscapeUnexpectedEof');
      this.bump();
    } else {
      start = this.pos;
      if (this.char() === '\\') throw this.error(this.spanChar(), 'UnicodeClassInvalid');
      this.bumpAndBumpSpace();
    }
    return { type: 'unicode', negated, span: this.span(start, this.pos) };
  }

  // -- atoms ----------------------------------------------------------------

  /** The set of a Perl class (`\d`, `\s`, `\w`), not negated. */
  /** A Perl class (`\d`, `\s`, `\w`, negated or not) in the current mode: `{ set, js }`. */
  perl(node) {
    return PERL[`${node.negated ? node.kind.toUpperCase() : node.kind}${this.flags.u ? 'u' : 'b'}`];
  }

  /** A literal code point, checked against bytes mode (`(?-u)`). */
  literalCp(lit) {
    if (!this.flags.u && lit.c > 0x7f) {
      this.defer(lit.span, lit.kind === 'hex-x' && lit.c <= 0xff ? 'InvalidUtf8' : 'UnicodeNotAllowed');
    }
    return lit.c;
  }

  primitiveAtom(p) {
    const { flags } = this;
    switch (p.type) {
      case 'literal': {
        return literalAtom(this.literalCp(p), flags.i, flags.u);
      }
      case 'dot':
        if (!flags.u) this.defer(p.span, 'InvalidUtf8');
        if (flags.s) return { kind: 'atom', js: '[\\s\\S]' };
        return { kind: 'atom', js: flags.R ? '[^\\n\\r]' : '[^\\n]' };
      case 'perl': {
        if (p.negated && !flags.u) this.defer(p.span, 'InvalidUtf8');
        const { set, js } = this.perl(p);
        return { kind: 'atom', js, first: set, last: set };
      }
      case 'unicode':
        this.defer(p.span, 'Untranslatable');
        return { kind: 'atom', js: '' };
      case 'assertion':
        return this.assertion(p);
      default:
        throw new Error(`unexpected primitive ${p.type}`);
    }
  }

  assertion(p) {
    const { m, R, u } = this.flags;
    const zero = (js) => ({ kind: 'zero', js });
    switch (p.kind) {
      case 'start-text':
        return zero('(?:^)');
      case 'end-text':
        return zero('(?:$)');
      case 'start-line':
        if (!m) return zero('(?:^)');
        return zero(R ? '(?:^|(?<=\\n)|(?<=\\r)(?!\\n))' : '(?:^|(?<=\\n))');
      case 'end-line':
        if (!m) return zero('(?:$)');
        return zero(R ? '(?:$|(?=\\r)|(?<!\\r)(?=\\n))' : '(?:$|(?=\\n))');
      default:
        if (!u && p.kind === 'not-word-boundary') this.defer(p.span, 'InvalidUtf8');
        return { kind: 'boundary', type: p.kind, unicode: u };
    }
  }

  /** An atom matching one character of `set`. */
  charAtom(set) {
    return { kind: 'atom', js: jsClass(set), first: set, last: set };
  }

  // -- character classes ----------------------------------------------------

  parseSetClass() {
    const outerStart = this.pos;
    let union = this.openClass();
    for (;;) {
      this.bumpSpace();
      if (this.isEof()) throw this.unclosedClassError();
      const c = this.char();
      if (c === '[') {
        if (this.classStack.length > 0) {
          const ascii = this.maybeParseAsciiClass();
          if (ascii) {
            union.items.push(ascii);
            continue;
          }
        }
        union = this.openClass(union);
      } else if (c === ']') {
        const done = this.popClass(union);
        if (done.finished) {
          const set = this.evaluateBracketed(done.set);
          if (!this.flags.u && set.some(([, hi]) => hi > 0x7f)) {
            this.defer(this.span(outerStart, this.pos), 'InvalidUtf8');
          }
          return set;
        }
        union = done.union;
      } else if (c === '&' && this.peek() === '&') {
        this.pos += 2;
        union = this.pushClassOp('intersection', union);
      } else if (c === '-' && this.peek() === '-') {
        this.pos += 2;
        union = this.pushClassOp('difference', union);
      } else if (c === '~' && this.peek() === '~') {
        this.pos += 2;
        union = this.pushClassOp('symmetric-difference', union);
      } else {
        union.items.push(this.parseSetClassRange());
      }
    }
  }

  /** Opens a (nested) class at `[`; returns the union of its first items. */
  openClass(parentUnion) {
    const start = this.pos;
    if (!this.bumpAndBumpSpace()) throw this.error(this.span(start, this.pos), 'ClassUnclosed');
    let negated = false;
    if (this.char() === '^') {
      negated = true;
      if (!this.bumpAndBumpSpace()) throw this.error(this.span(start, this.pos), 'ClassUnclosed');
    }
    const union = { type: 'union', items: [] };
    while (this.char() === '-') {
      union.items.push({ type: 'literal', c: 0x2d, span: this.spanChar() });
      if (!this.bumpAndBumpSpace()) throw this.error(this.span(start, start), 'ClassUnclosed');
    }
    if (union.items.length === 0 && this.char() === ']') {
      union.items.push({ type: 'literal', c: 0x5d, span: this.spanChar() });
      if (!this.bumpAndBumpSpace()) throw this.error(this.span(start, this.pos), 'ClassUnclosed');
    }
    this.classStack.push({ kind: 'open', union: parentUnion, negated, span: this.span(start, this.pos) });
    return union;
  }

  popClassOp(rhs) {
    const top = this.classStack.at(-1);
    if (top?.kind !== 'op') return rhs;
    this.classStack.pop();
    return { type: 'op', op: top.op, lhs: top.lhs, rhs };
  }

  pushClassOp(op, union) {
    const lhs = this.popClassOp(union);
    this.classStack.push({ kind: 'op', op, lhs });
    return { type: 'union', items: [] };
  }

  popClass(union) {
    const set = this.popClassOp(union);
    const open = this.classStack.pop();
    this.bump();
    const bracketed = { type: 'bracketed', negated: open.negated, set };
    if (this.classStack.length === 0) return { finished: true, set: bracketed };
    open.union.items.push(bracketed);
    return { finished: false, union: open.union };
  }

  unclosedClassError() {
    for (let k = this.classStack.length - 1; k >= 0; k--) {
      if (this.classStack[k].kind === 'open') return this.error(this.classStack[k].span, 'ClassUnclosed');
    }
    return this.error(this.span(), 'ClassUnclosed');
  }

  maybeParseAsciiClass() {
    const start = this.pos;
    const back = () => {
      this.pos = start;
      return undefined;
    };
    if (!this.bump() || this.char() !== ':') return back();
    if (!this.bump()) return back();
    let negated = false;
    if (this.char() === '^') {
      negated = true;
      if (!this.bump()) return back();
    }
    const nameStart = this.pos;
    while (this.char() !== ':' && this.bump()) {
      /* the name */
    }
    if (this.isEof()) return back();
    const name = this.chars.slice(nameStart, this.pos).join('');
    if (!this.bumpIf(':]')) return back();
    if (!Object.hasOwn(ASCII_CLASSES, name)) return back();
    return { type: 'ascii', name, negated, span: this.span(start, this.pos) };
  }

  parseSetClassItem() {
    if (this.char() === '\\') return this.parseEscape();
    const item = { type: 'literal', kind: 'verbatim', c: this.char().codePointAt(0), span: this.spanChar() };
    this.bump();
    return item;
  }

  parseSetClassRange() {
    const first = this.parseSetClassItem();
    this.bumpSpace();
    if (this.isEof()) throw this.unclosedClassError();
    if (this.char() !== '-' || this.peekSpace() === ']' || this.peekSpace() === '-') {
      return this.classItem(first);
    }
    if (!this.bumpAndBumpSpace()) throw this.unclosedClassError();
    const second = this.parseSetClassItem();
    const span = [first.span[0], second.span[1]];
    if (first.type !== 'literal') throw this.error(first.span, 'ClassRangeLiteral');
    if (second.type !== 'literal') throw this.error(second.span, 'ClassRangeLiteral');
    if (first.c > second.c) throw this.error(span, 'ClassRangeInvalid');
    return { type: 'range', lo: first, hi: second, span };
  }

  classItem(p) {
    if (p.type === 'literal' || p.type === 'perl' || p.type === 'unicode') return p;
    throw this.error(p.span, 'ClassEscapeInvalid');
  }

  /** The set of a class AST node, with the flags in force. */
  evaluate(node) {
    const { u, i } = this.flags;
    const max = u ? MAX_CP : 0xff;
    switch (node.type) {
      case 'literal':
        return range(this.literalCp(node));
      case 'range':
        return range(this.literalCp(node.lo), this.literalCp(node.hi));
      case 'perl': {
        return this.perl(node).set;
      }
      case 'ascii': {
        const set = ASCII_CLASSES[node.name];
        return node.negated ? negate(set, max) : set;
      }
      case 'unicode':
        this.defer(node.span, 'Untranslatable');
        return [];
      case 'union':
        return normalize(node.items.flatMap((item) => this.evaluate(item)));
      case 'bracketed':
        return this.evaluateBracketed(node);
      case 'op': {
        let lhs = this.evaluate(node.lhs);
        let rhs = this.evaluate(node.rhs);
        if (i) {
          lhs = caseFold(lhs, u);
          rhs = caseFold(rhs, u);
        }
        if (node.op === 'intersection') return intersect(lhs, rhs);
        if (node.op === 'difference') return difference(lhs, rhs, max);
        return symmetricDifference(lhs, rhs, max);
      }
      default:
        throw new Error(`unexpected class node ${node.type}`);
    }
  }

  evaluateBracketed(node) {
    let set = this.evaluate(node.set);
    if (this.flags.i) set = caseFold(set, this.flags.u);
    return node.negated ? negate(set, this.flags.u ? MAX_CP : 0xff) : set;
  }
}

/**
 * Translates a Rust pattern: `{ regex, names }`, where `names[k]` is the
 * name of capture group `k` (if named). Throws `RegexError` with Rust's
 * message for a pattern Rust refuses (or that cannot be translated).
 */
export function translate(pattern) {
  const { source, names } = translateSource(pattern);
  return { regex: new RegExp(source, 'u'), names, source };
}

/** The JavaScript source of a Rust pattern, and its capture names. */
export function translateSource(pattern) {
  return new Translator(pattern).translate();
}

/** Rust's `regex::escape`. */
export function escape(text) {
  return Array.from(text, (c) => (isMeta(c) ? `\\${c}` : c)).join('');
}
