// Typed JSON decoding with the behaviour and error messages of Rust's
// `serde_json::from_str` into `#[derive(Deserialize)]` types, so that a
// configuration value the Rust plugins refuse is refused here with the same
// words ("invalid type: string \"x\", expected u8 at line 1 column 12").
//
// Types are described with the constructors at the end of this file
// (`string`, `u8`, `f64`, `option`, `vec`, `map`, `struct`, `untagged`) and
// decoded with `fromStr(text, type)`.

import { debugStr, utf8Length } from './rust.js';

/** A decoding error; `line` 0 means "position not known yet". */
export class SerdeError extends Error {
  constructor(message, line = 0, column = 0) {
    super(line === 0 ? message : `${message} at line ${line} column ${column}`);
    this.code = message;
    this.line = line;
    this.column = column;
  }
}

const EOF_LIST = 'EOF while parsing a list';
const EOF_OBJECT = 'EOF while parsing an object';
const EOF_STRING = 'EOF while parsing a string';
const EOF_VALUE = 'EOF while parsing a value';
const EXPECTED_COLON = 'expected `:`';
const EXPECTED_LIST_COMMA_OR_END = 'expected `,` or `]`';
const EXPECTED_OBJECT_COMMA_OR_END = 'expected `,` or `}`';
const EXPECTED_IDENT = 'expected ident';
const EXPECTED_VALUE = 'expected value';
const INVALID_ESCAPE = 'invalid escape';
const INVALID_NUMBER = 'invalid number';
const NUMBER_OUT_OF_RANGE = 'number out of range';
const CONTROL_CHARACTER = 'control character (\\u0000-\\u001F) found while parsing a string';
const KEY_MUST_BE_A_STRING = 'key must be a string';
const LONE_LEADING_SURROGATE = 'lone leading surrogate in hex escape';
const TRAILING_COMMA = 'trailing comma';
const TRAILING_CHARACTERS = 'trailing characters';
const UNEXPECTED_END_OF_HEX_ESCAPE = 'unexpected end of hex escape';

/** The byte each one-letter JSON escape stands for. */
const SIMPLE_ESCAPES = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN_MAGNITUDE = 1n << 63n;

const isDigit = (b) => b !== undefined && b >= 0x30 && b <= 0x39;

/** How serde_json shows a float in an error: like Rust's shortest repr. */
function formatFloat(x) {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) {
    return Object.is(x, -0) ? '-0.0' : `${x}.0`;
  }
  return String(x).replace('e+', 'e');
}

/** serde's `Unexpected` of a parsed number, as serde_json prints it. */
function unexpectedNumber(n) {
  return n.kind === 'f64' ? `floating point \`${formatFloat(n.value)}\`` : `integer \`${n.value}\``;
}

const invalidType = (unexpected, expecting) =>
  new SerdeError(`invalid type: ${unexpected}, expected ${expecting}`);
const invalidValue = (unexpected, expecting) =>
  new SerdeError(`invalid value: ${unexpected}, expected ${expecting}`);

const utf8 = new TextEncoder();

/** Strings without escapes, up to the closing quote (the fast path). */
const PLAIN_STRING = /[^"\\\u0000-\u001f]*"/y;
/** Strings with valid escapes, up to the closing quote. */
const ESCAPED_STRING = /(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
/** An unpaired surrogate, which serde_json refuses in a `\u` escape. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The deserializer: a cursor over the text (in UTF-16 units), reporting
 * positions as serde_json's `SliceRead` does (lines and byte columns).
 */
class Deserializer {
  constructor(text) {
    this.text = text;
    this.index = 0;
  }

  peek() {
    return this.index < this.text.length ? this.text.charCodeAt(this.index) : undefined;
  }

  eat() {
    this.index++;
  }

  next() {
    return this.index < this.text.length ? this.text.charCodeAt(this.index++) : undefined;
  }

  /** UTF-8 length of the text before UTF-16 index `i`. */
  byteOffset(i) {
    return utf8Length(this.text.slice(0, i));
  }

  /** An error at byte offset `b`, as serde_json's `position_of_index`. */
  errorAtByte(code, b) {
    const bytes = (this.bytes ??= utf8.encode(this.text));
    let line = 1;
    let startOfLine = 0;
    for (let j = 0; j < b; j++) {
      if (bytes[j] === 0x0a) {
        line++;
        startOfLine = j + 1;
      }
    }
    return new SerdeError(code, line, b - startOfLine);
  }

  /** An error at the current position (caused by a byte already read). */
  error(code) {
    return this.errorAtByte(code, this.byteOffset(this.index));
  }

  /**
   * An error caused by the unit just read with `next()`, of which serde_json
   * (reading bytes) would have read only the first byte.
   */
  errorAfter(unit, code) {
    if (unit === undefined || unit < 0x80) return this.error(code);
    return this.errorAtByte(code, this.byteOffset(this.index - 1) + 1);
  }

  /** An error caused by the byte peeked at. */
  peekError(code) {
    const b = this.byteOffset(this.index);
    return this.errorAtByte(code, this.index < this.text.length ? b + 1 : b);
  }

  /** Gives an error without a position the current one. */
  fix(err) {
    if (err instanceof SerdeError && err.line === 0) return this.error(err.code);
    return err;
  }

  /** Skips JSON whitespace and returns the next unit without consuming it. */
  whitespace() {
    const { text } = this;
    let i = this.index;
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) c = text.charCodeAt(++i);
    this.index = i;
    return i < text.length ? c : undefined;
  }

  parseIdent(rest) {
    for (const expected of rest) {
      const c = this.next();
      if (c === undefined) throw this.error(EOF_VALUE);
      if (c !== expected.charCodeAt(0)) throw this.errorAfter(c, EXPECTED_IDENT);
    }
  }

  /** A number whose sign (if any) was consumed: `{kind: u64|i64|f64, value}`. */
  parseNumber(positive) {
    const start = this.index;
    const first = this.next();
    if (first === undefined) throw this.error(EOF_VALUE);
    let float = false;
    if (first === 0x30) {
      if (isDigit(this.peek())) throw this.peekError(INVALID_NUMBER);
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(this.peek())) this.eat();
    } else {
      throw this.errorAfter(first, INVALID_NUMBER);
    }
    if (this.peek() === 0x2e) {
      float = true;
      this.eat();
      if (!isDigit(this.peek())) {
        throw this.peekError(this.peek() === undefined ? EOF_VALUE : INVALID_NUMBER);
      }
      while (isDigit(this.peek())) this.eat();
    }
    if (this.peek() === 0x65 || this.peek() === 0x45) {
      float = true;
      this.eat();
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.eat();
      const digit = this.next();
      if (digit === undefined) throw this.error(EOF_VALUE);
      if (!isDigit(digit)) throw this.errorAfter(digit, INVALID_NUMBER);
      while (isDigit(this.peek())) this.eat();
    }
    const lexeme = this.text.slice(start, this.index);
    if (!float) {
      const magnitude = BigInt(lexeme);
      if (magnitude <= U64_MAX) {
        if (positive) return { kind: 'u64', value: magnitude };
        if (magnitude <= I64_MIN_MAGNITUDE) return { kind: 'i64', value: -magnitude };
        return { kind: 'f64', value: -Number(magnitude) };
      }
    }
    const value = Number(lexeme);
    if (!Number.isFinite(value)) throw this.error(NUMBER_OUT_OF_RANGE);
    return { kind: 'f64', value: positive ? value : -value };
  }

  /** A string whose opening quote was consumed. */
  parseStr() {
    PLAIN_STRING.lastIndex = this.index;
    if (PLAIN_STRING.test(this.text)) {
      const value = this.text.slice(this.index, PLAIN_STRING.lastIndex - 1);
      this.index = PLAIN_STRING.lastIndex;
      return value;
    }
    ESCAPED_STRING.lastIndex = this.index;
    if (ESCAPED_STRING.test(this.text)) {
      const value = JSON.parse(this.text.slice(this.index - 1, ESCAPED_STRING.lastIndex));
      if (!LONE_SURROGATE.test(value)) {
        this.index = ESCAPED_STRING.lastIndex;
        return value;
      }
    }
    return this.parseStrSlowly();
  }

  /** `parseStr` unit by unit, for the exact error of an invalid string. */
  parseStrSlowly() {
    let out = '';
    for (;;) {
      const c = this.next();
      if (c === undefined) throw this.error(EOF_STRING);
      if (c === 0x22) return out;
      if (c < 0x20) throw this.error(CONTROL_CHARACTER);
      if (c !== 0x5c) {
        out += String.fromCharCode(c);
        continue;
      }
      const e = this.next();
      if (e === undefined) throw this.error(EOF_STRING);
      if (e in SIMPLE_ESCAPES) {
        out += String.fromCharCode(SIMPLE_ESCAPES[e]);
        continue;
      }
      if (e !== 0x75) throw this.errorAfter(e, INVALID_ESCAPE);
      let n = this.decodeHexEscape();
      if (n >= 0xdc00 && n <= 0xdfff) throw this.error(LONE_LEADING_SURROGATE);
      if (n >= 0xd800 && n <= 0xdbff) {
        for (const expected of [0x5c, 0x75]) {
          const c2 = this.peek();
          if (c2 === undefined) throw this.error(EOF_STRING);
          this.eat();
          if (c2 !== expected) throw this.errorAfter(c2, UNEXPECTED_END_OF_HEX_ESCAPE);
        }
        const n2 = this.decodeHexEscape();
        if (n2 < 0xdc00 || n2 > 0xdfff) throw this.error(LONE_LEADING_SURROGATE);
        n = ((n - 0xd800) << 10) + (n2 - 0xdc00) + 0x10000;
      }
      out += String.fromCodePoint(n);
    }
  }

  /** Four hex digits of a `\u` escape (serde_json reads four bytes). */
  decodeHexEscape() {
    const hex = this.text.slice(this.index, this.index + 4);
    if (/^[0-9a-fA-F]{4}$/.test(hex)) {
      this.index += 4;
      return parseInt(hex, 16);
    }
    const at = this.byteOffset(this.index);
    const total = this.byteOffset(this.text.length);
    if (total - at < 4) {
      this.index = this.text.length;
      throw this.error(EOF_STRING);
    }
    throw this.errorAtByte(INVALID_ESCAPE, at + 4);
  }

  /** serde_json's `peek_invalid_type`: the error for a value of the wrong type (returned, not thrown). */
  peekInvalidType(expecting) {
    let unexpected;
    try {
      switch (this.peek()) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          unexpected = 'null';
          break;
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          unexpected = 'boolean `true`';
          break;
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          unexpected = 'boolean `false`';
          break;
        case 0x2d:
          this.eat();
          unexpected = unexpectedNumber(this.parseNumber(false));
          break;
        case 0x22:
          this.eat();
          unexpected = `string ${debugStr(this.parseStr())}`;
          break;
        case 0x5b:
          unexpected = 'sequence';
          break;
        case 0x7b:
          unexpected = 'map';
          break;
        default:
          if (isDigit(this.peek())) {
            unexpected = unexpectedNumber(this.parseNumber(true));
            break;
          }
          return this.peekError(EXPECTED_VALUE);
      }
    } catch (err) {
      return err;
    }
    return this.fix(invalidType(unexpected, expecting));
  }

  parseObjectColon() {
    const b = this.whitespace();
    if (b === 0x3a) return this.eat();
    throw this.peekError(b === undefined ? EOF_OBJECT : EXPECTED_COLON);
  }

  endSeq() {
    const b = this.whitespace();
    if (b === 0x5d) return this.eat();
    if (b === 0x2c) {
      this.eat();
      throw this.peekError(this.whitespace() === 0x5d ? TRAILING_COMMA : TRAILING_CHARACTERS);
    }
    throw this.peekError(b === undefined ? EOF_LIST : TRAILING_CHARACTERS);
  }

  endMap() {
    const b = this.whitespace();
    if (b === 0x7d) return this.eat();
    if (b === 0x2c) throw this.peekError(TRAILING_COMMA);
    throw this.peekError(b === undefined ? EOF_OBJECT : TRAILING_CHARACTERS);
  }

  /** serde_json's `SeqAccess` test for another element. */
  hasNextElement(state) {
    const b = this.whitespace();
    if (b === undefined) throw this.peekError(EOF_LIST);
    if (b === 0x5d) return false;
    if (state.first) {
      state.first = false;
      return true;
    }
    if (b !== 0x2c) throw this.peekError(EXPECTED_LIST_COMMA_OR_END);
    this.eat();
    const after = this.whitespace();
    if (after === 0x5d) throw this.peekError(TRAILING_COMMA);
    if (after === undefined) throw this.peekError(EOF_VALUE);
    return true;
  }

  /** serde_json's `MapAccess` test for another key. */
  hasNextKey(state) {
    const b = this.whitespace();
    if (b === undefined) throw this.peekError(EOF_OBJECT);
    if (b === 0x7d) return false;
    if (state.first) {
      state.first = false;
      if (b === 0x22) return true;
      throw this.peekError(KEY_MUST_BE_A_STRING);
    }
    if (b !== 0x2c) throw this.peekError(EXPECTED_OBJECT_COMMA_OR_END);
    this.eat();
    const after = this.whitespace();
    if (after === 0x22) return true;
    if (after === 0x7d) throw this.peekError(TRAILING_COMMA);
    if (after === undefined) throw this.peekError(EOF_VALUE);
    throw this.peekError(KEY_MUST_BE_A_STRING);
  }

  /** A map key (the peeked byte is its opening quote). */
  parseKey() {
    this.eat();
    return this.parseStr();
  }

  /**
   * Runs `visit` on the contents of a `[...]` or `{...}` whose opening
   * bracket is next, then consumes the closing one, reporting errors as
   * serde_json does (the visitor's error first, positioned after the close).
   */
  container(visit) {
    this.eat();
    let value;
    let failure;
    try {
      value = visit();
    } catch (err) {
      if (!(err instanceof SerdeError)) throw err;
      failure = err;
    }
    return { value, failure };
  }

  seq(visit) {
    const { value, failure } = this.container(() => visit({ first: true }));
    let endFailure;
    try {
      this.endSeq();
    } catch (err) {
      endFailure = err;
    }
    if (failure) throw this.fix(failure);
    if (endFailure) throw endFailure;
    return value;
  }

  map(visit) {
    const { value, failure } = this.container(() => visit({ first: true }));
    let endFailure;
    try {
      this.endMap();
    } catch (err) {
      endFailure = err;
    }
    if (failure) throw this.fix(failure);
    if (endFailure) throw endFailure;
    return value;
  }

  /** serde_json's `deserialize_any` into serde's buffered `Content`. */
  parseContent() {
    const b = this.whitespace();
    if (b === undefined) throw this.peekError(EOF_VALUE);
    try {
      switch (b) {
        case 0x6e:
          this.eat();
          this.parseIdent('ull');
          return { kind: 'unit' };
        case 0x74:
          this.eat();
          this.parseIdent('rue');
          return { kind: 'bool', value: true };
        case 0x66:
          this.eat();
          this.parseIdent('alse');
          return { kind: 'bool', value: false };
        case 0x2d:
          this.eat();
          return this.parseNumber(false);
        case 0x22:
          this.eat();
          return { kind: 'str', value: this.parseStr() };
        case 0x5b:
          return {
            kind: 'seq',
            value: this.seq((state) => {
              const items = [];
              while (this.hasNextElement(state)) items.push(this.parseContent());
              return items;
            }),
          };
        case 0x7b:
          return {
            kind: 'map',
            value: this.map((state) => {
              const entries = [];
              while (this.hasNextKey(state)) {
                const key = this.parseKey();
                this.parseObjectColon();
                entries.push([{ kind: 'str', value: key }, this.parseContent()]);
              }
              return entries;
            }),
          };
        default:
          if (isDigit(b)) return this.parseNumber(true);
          throw this.peekError(EXPECTED_VALUE);
      }
    } catch (err) {
      throw this.fix(err);
    }
  }
}

/** Thrown by `fromContent` when buffered content does not fit a type. */
class NoMatch extends Error {}
const noMatch = () => new NoMatch('no match');

/** Decodes `text` as `type`, like `serde_json::from_str`; throws `SerdeError`. */
export function fromStr(text, type) {
  const de = new Deserializer(text);
  const value = type.de(de);
  if (de.whitespace() !== undefined) throw de.peekError(TRAILING_CHARACTERS);
  return value;
}

/** Deserializes a leaf value: `parse` handles the accepted first byte. */
function leaf(de, expecting, accepts, parse) {
  const b = de.whitespace();
  if (b === undefined) throw de.peekError(EOF_VALUE);
  try {
    if (accepts(b)) return parse();
    throw de.peekInvalidType(expecting);
  } catch (err) {
    throw de.fix(err);
  }
}

/** `String`. */
export const string = {
  expecting: 'a string',
  de(de) {
    return leaf(de, this.expecting, (b) => b === 0x22, () => {
      de.eat();
      return de.parseStr();
    });
  },
  fromContent(content) {
    if (content.kind !== 'str') throw noMatch();
    return content.value;
  },
};

function unsigned(name, bits) {
  const max = (1n << BigInt(bits)) - 1n;
  const visit = (n) => {
    if (n.kind === 'f64') throw invalidType(unexpectedNumber(n), name);
    if (n.value < 0n || n.value > max) throw invalidValue(unexpectedNumber(n), name);
    return bits <= 32 ? Number(n.value) : n.value;
  };
  return {
    expecting: name,
    de(de) {
      return leaf(de, name, (b) => b === 0x2d || isDigit(b), () => {
        const negative = de.peek() === 0x2d;
        if (negative) de.eat();
        return visit(de.parseNumber(!negative));
      });
    },
    fromContent(content) {
      if (content.kind !== 'u64' && content.kind !== 'i64') throw noMatch();
      try {
        return visit(content);
      } catch {
        throw noMatch();
      }
    },
  };
}

/** `u8`, as a number. */
export const u8 = unsigned('u8', 8);

/** `f64`. */
export const f64 = {
  expecting: 'f64',
  de(de) {
    return leaf(de, 'f64', (b) => b === 0x2d || isDigit(b), () => {
      const negative = de.peek() === 0x2d;
      if (negative) de.eat();
      return Number(de.parseNumber(!negative).value);
    });
  },
  fromContent(content) {
    if (!['u64', 'i64', 'f64'].includes(content.kind)) throw noMatch();
    return Number(content.value);
  },
};

/** `Option<T>`: `null` is `undefined`. */
export function option(inner) {
  return {
    expecting: `option`, // never shown: `null` and the inner type decide
    isOption: true,
    de(de) {
      if (de.whitespace() === 0x6e) {
        de.eat();
        de.parseIdent('ull');
        return undefined;
      }
      return inner.de(de);
    },
    fromContent(content) {
      return content.kind === 'unit' ? undefined : inner.fromContent(content);
    },
  };
}

/** `Vec<T>`, as an array. */
export function vec(inner) {
  return {
    expecting: 'a sequence',
    de(de) {
      return leaf(de, this.expecting, (b) => b === 0x5b, () =>
        de.seq((state) => {
          const items = [];
          while (de.hasNextElement(state)) items.push(inner.de(de));
          return items;
        }),
      );
    },
    fromContent(content) {
      if (content.kind !== 'seq') throw noMatch();
      return content.value.map((item) => inner.fromContent(item));
    },
  };
}

/** `BTreeMap<String, V>`, as a `Map` (a repeated key replaces the earlier value). */
export function map(inner) {
  return {
    expecting: 'a map',
    de(de) {
      return leaf(de, this.expecting, (b) => b === 0x7b, () =>
        de.map((state) => {
          const result = new Map();
          while (de.hasNextKey(state)) {
            const key = de.parseKey();
            de.parseObjectColon();
            result.set(key, inner.de(de));
          }
          return result;
        }),
      );
    },
    fromContent(content) {
      if (content.kind !== 'map') throw noMatch();
      const result = new Map();
      for (const [key, value] of content.value) result.set(key.value, inner.fromContent(value));
      return result;
    },
  };
}

function oneOf(names) {
  if (names.length === 0) return 'there are no fields';
  const quoted = names.map((n) => `\`${n}\``);
  if (quoted.length === 1) return `expected ${quoted[0]}`;
  if (quoted.length === 2) return `expected ${quoted[0]} or ${quoted[1]}`;
  return `expected one of ${quoted.join(', ')}`;
}

/**
 * A `#[derive(Deserialize)]` struct. `fields` is a list of
 * `{ name, type, default }` in declaration order, with the names as
 * serialized (after `rename_all`); `default` is a function for fields with
 * `#[serde(default)]`. The result is a plain object keyed by those names.
 */
export function struct(name, fields, { denyUnknownFields = false } = {}) {
  const expecting = `struct ${name}`;
  const names = fields.map((f) => f.name);
  const lengthError = (i) =>
    new SerdeError(`invalid length ${i}, expected struct ${name} with ${fields.length} elements`);

  function finish(values, missing) {
    const result = {};
    for (const field of fields) {
      if (values.has(field.name)) result[field.name] = values.get(field.name);
      else if (field.default) result[field.name] = field.default();
      else if (field.type.isOption) result[field.name] = undefined;
      else throw missing(field.name);
    }
    return result;
  }

  return {
    expecting,
    de(de) {
      return leaf(de, expecting, (b) => b === 0x5b || b === 0x7b, () => {
        if (de.peek() === 0x5b) {
          return de.seq((state) => {
            const result = {};
            fields.forEach((field, i) => {
              if (de.hasNextElement(state)) result[field.name] = field.type.de(de);
              else if (field.default) result[field.name] = field.default();
              else throw lengthError(i);
            });
            return result;
          });
        }
        return de.map((state) => {
          const values = new Map();
          while (de.hasNextKey(state)) {
            const key = de.parseKey();
            const field = fields.find((f) => f.name === key);
            if (!field) {
              if (denyUnknownFields) {
                throw new SerdeError(`unknown field \`${key}\`, ${oneOf(names)}`);
              }
              de.parseObjectColon();
              de.parseContent();
              continue;
            }
            if (values.has(key)) throw new SerdeError(`duplicate field \`${key}\``);
            de.parseObjectColon();
            values.set(key, field.type.de(de));
          }
          return finish(values, (f) => new SerdeError(`missing field \`${f}\``));
        });
      });
    },
    fromContent(content) {
      if (content.kind === 'seq') {
        const items = content.value;
        if (items.length > fields.length) throw noMatch();
        const result = {};
        fields.forEach((field, i) => {
          if (i < items.length) result[field.name] = field.type.fromContent(items[i]);
          else if (field.default) result[field.name] = field.default();
          else throw noMatch();
        });
        return result;
      }
      if (content.kind !== 'map') throw noMatch();
      const values = new Map();
      for (const [key, value] of content.value) {
        const field = fields.find((f) => f.name === key.value);
        if (!field) {
          if (denyUnknownFields) throw noMatch();
          continue;
        }
        if (values.has(key.value)) throw noMatch();
        values.set(key.value, field.type.fromContent(value));
      }
      return finish(values, noMatch);
    },
  };
}

/** An `#[serde(untagged)]` enum: the first variant type that fits the value. */
export function untagged(name, variants) {
  return {
    expecting: `untagged enum ${name}`,
    de(de) {
      return this.fromContent(de.parseContent(), true);
    },
    fromContent(content, top = false) {
      for (const variant of variants) {
        try {
          return variant.fromContent(content);
        } catch (err) {
          if (!(err instanceof NoMatch)) throw err;
        }
      }
      if (top) throw new SerdeError(`data did not match any variant of untagged enum ${name}`);
      throw noMatch();
    },
  };
}
