"""Small helpers that reproduce the Rust standard library's behaviour where
the reference plugins depend on it (trimming, integer parsing, UTF-8 cuts,
rounding, ASCII case), plus the Parley SDK conveniences the plugins
use (errors, structured logging, attribute look-ups)."""

from componentize_py_types import Err
from wit_world.imports import log as _log
from wit_world.imports import types

# Characters with the Unicode White_Space property: what `str::trim` removes.
# (Python's `str.strip()` also removes U+001C..U+001F, which Rust keeps.)
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def trim(text):
    """`str::trim`."""
    return text.strip(WHITE_SPACE)


def parse_uint(text, bits):
    """`<uN as FromStr>::from_str`: an optional `+`, then ASCII digits only,
    in range. Returns None where Rust returns an error."""
    digits = text[1:] if text.startswith("+") else text
    if not digits or not all("0" <= c <= "9" for c in digits):
        return None
    value = int(digits)
    if value >= 1 << bits:
        return None
    return value


def cut(text, max_bytes):
    """`text` cut to at most `max_bytes` UTF-8 bytes, on a character boundary
    (`&text[..text.floor_char_boundary(max)]`)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    end = max_bytes
    while end > 0 and (data[end] & 0xC0) == 0x80:
        end -= 1
    return data[:end].decode("utf-8")


def round_half_away(x):
    """`f64::round`: halves away from zero (Python's `round` goes to even)."""
    if x != x or x in (float("inf"), float("-inf")):
        return x
    if x >= 0:
        r = float(int(x))
        if x - r >= 0.5:
            r += 1.0
        return r
    return -round_half_away(-x)


def ascii_lower(text):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def eq_ignore_ascii_case(a, b):
    """`str::eq_ignore_ascii_case`."""
    return len(a) == len(b) and ascii_lower(a) == ascii_lower(b)


# --- Parley SDK conveniences -------------------------------------------------

_KIND_NAMES = {
    types.ErrorKind.INVALID_INPUT: "invalid-input",
    types.ErrorKind.NOT_FOUND: "not-found",
    types.ErrorKind.DENIED: "denied",
    types.ErrorKind.UNAVAILABLE: "unavailable",
    types.ErrorKind.TIMEOUT: "timeout",
    types.ErrorKind.INTERNAL: "internal",
}


def kind_name(kind):
    """`ErrorKind::as_str`: the kind as the WIT spells it."""
    return _KIND_NAMES[kind]


def invalid_input(message):
    """An `Err` to raise from an export returning `result<_, error>`."""
    return Err(types.Error(types.ErrorKind.INVALID_INPUT, message))


def log(level, message, fields=()):
    """`log::with_fields`."""
    _log.log(level, message, [(k, v) for k, v in fields])


def find_attribute(attributes, key):
    """The value of the first attribute named `key`, or None."""
    for attribute in attributes:
        if attribute.key == key:
            return attribute.value
    return None


def texts(value):
    """`Value::texts`: the texts of `texts`, the one text of `text`, else none."""
    if isinstance(value, types.Value_Text):
        return [value.value]
    if isinstance(value, types.Value_Texts):
        return list(value.value)
    return []


def as_text(value):
    """`Value::as_text`."""
    if isinstance(value, types.Value_Text):
        return value.value
    return None
