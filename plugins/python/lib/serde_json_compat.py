"""Decodes JSON into typed values the way the Rust reference plugins do with
`serde_json::from_str` and `#[derive(Deserialize)]` (serde_json 1.0.154,
serde 1.0.229): the same inputs are accepted and refused, and refusals
carry the same message, e.g. ``invalid type: string "x", expected u8 at
line 1 column 14``. Configuration errors name these messages, so a plugin
ported to Python reports bad configuration exactly as its original.

A type is described by a schema object (`STRING`, `U8`, `Seq(...)`,
`Map(...)`, `Struct(...)`, `Untagged(...)`...); `from_str(text, schema)`
returns plain Python values (str, int, float, list, dict) or raises
`JsonError`.

The structure follows serde_json's `Deserializer` closely, including where
an error's position is taken, since positions are part of the messages.
"""

from rustlike import debug_str

EOF_LIST = "EOF while parsing a list"
EOF_OBJECT = "EOF while parsing an object"
EOF_STRING = "EOF while parsing a string"
EOF_VALUE = "EOF while parsing a value"
EXPECTED_COLON = "expected `:`"
EXPECTED_LIST_COMMA_OR_END = "expected `,` or `]`"
EXPECTED_OBJECT_COMMA_OR_END = "expected `,` or `}`"
EXPECTED_IDENT = "expected ident"
EXPECTED_VALUE = "expected value"
INVALID_ESCAPE = "invalid escape"
INVALID_NUMBER = "invalid number"
NUMBER_OUT_OF_RANGE = "number out of range"
CONTROL_CHARACTER = "control character (\\u0000-\\u001F) found while parsing a string"
KEY_MUST_BE_A_STRING = "key must be a string"
LONE_LEADING_SURROGATE = "lone leading surrogate in hex escape"
TRAILING_COMMA = "trailing comma"
TRAILING_CHARACTERS = "trailing characters"
UNEXPECTED_END_OF_HEX_ESCAPE = "unexpected end of hex escape"
RECURSION_LIMIT = "recursion limit exceeded"

U64_MAX = (1 << 64) - 1
I32_MAX = (1 << 31) - 1
I32_MIN = -(1 << 31)

POW10 = [float("1e%d" % i) for i in range(309)]


class JsonError(Exception):
    """A serde_json error: a message and, once known, a position (line 0
    means none yet, as for errors raised by a visitor)."""

    def __init__(self, message, line=0, column=0):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self):
        if self.line == 0:
            return self.message
        return "%s at line %d column %d" % (self.message, self.line, self.column)


class _NoMatch(Exception):
    """A variant of an untagged enum that does not fit (its reason is never
    shown: serde reports that no variant matched)."""


def format_float(x):
    """A float as serde_json shows it in errors (the `zmij` crate): shortest
    round-trip digits, plain notation for exponents -5..=15."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    sign = "-" if str(x).startswith("-") else ""
    x = abs(x)
    if x == 0:
        return sign + "0.0"
    text = repr(x)
    exponent = 0
    if "e" in text:
        text, exp_text = text.split("e")
        exponent = int(exp_text)
    whole, _, fraction = text.partition(".")
    all_digits = whole + fraction
    stripped = all_digits.lstrip("0")
    lead = len(all_digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    dec_exp = exponent + len(whole) - 1 - lead
    length = len(digits)
    if -5 <= dec_exp <= 15:
        if length - 1 <= dec_exp:
            out = digits + "0" * (dec_exp + 1 - length) + ".0"
        elif dec_exp >= 0:
            out = digits[: dec_exp + 1] + "." + digits[dec_exp + 1 :]
        else:
            out = "0." + "0" * (-dec_exp - 1) + digits
    else:
        out = digits[0] + ("." + digits[1:] if length > 1 else "")
        out += "e" + ("+" if dec_exp >= 0 else "-") + str(abs(dec_exp))
    return sign + out


def _unexpected(kind, value=None):
    """serde's `Unexpected`, as serde_json displays it."""
    if kind == "u" or kind == "i":
        return "integer `%d`" % value
    if kind == "f":
        return "floating point `%s`" % format_float(value)
    if kind == "str":
        return "string " + debug_str(value)
    if kind == "bool":
        return "boolean `%s`" % ("true" if value else "false")
    if kind == "unit":
        return "null"
    if kind == "seq":
        return "sequence"
    if kind == "map":
        return "map"
    raise AssertionError(kind)


def invalid_type(kind, value, expected):
    return JsonError("invalid type: %s, expected %s" % (_unexpected(kind, value), expected))


def invalid_value(kind, value, expected):
    return JsonError("invalid value: %s, expected %s" % (_unexpected(kind, value), expected))


def _overflows(a, b, limit):
    """serde_json's `overflow!(a * 10 + b, limit)`."""
    return a >= limit // 10 and (a > limit // 10 or b > limit % 10)


def _sat_i32(x):
    return max(I32_MIN, min(I32_MAX, x))


class Deserializer:
    """serde_json's `Deserializer<StrRead>`."""

    def __init__(self, text):
        self.data = text.encode("utf-8")
        self.n = len(self.data)
        self.i = 0
        self.depth = 128

    # -- reading ---------------------------------------------------------

    def peek(self):
        return self.data[self.i] if self.i < self.n else None

    def peek_or_null(self):
        return self.data[self.i] if self.i < self.n else 0

    def eat(self):
        self.i += 1

    def next(self):
        if self.i < self.n:
            b = self.data[self.i]
            self.i += 1
            return b
        return None

    def _position(self, i):
        start = self.data.rfind(b"\n", 0, i) + 1
        return 1 + self.data.count(b"\n", 0, start), i - start

    def error(self, message):
        line, column = self._position(self.i)
        return JsonError(message, line, column)

    def peek_error(self, message):
        line, column = self._position(min(self.n, self.i + 1))
        return JsonError(message, line, column)

    def fix(self, err):
        """`fix_position`: a position-less error gets the current one."""
        if err.line == 0:
            return self.error(err.message)
        return err

    def ws(self):
        """`parse_whitespace`."""
        data, n = self.data, self.n
        while self.i < n and data[self.i] in b" \n\t\r":
            self.i += 1
        return data[self.i] if self.i < n else None

    def end(self):
        if self.ws() is not None:
            raise self.peek_error(TRAILING_CHARACTERS)

    def enter(self):
        self.depth -= 1
        if self.depth == 0:
            raise self.peek_error(RECURSION_LIMIT)

    def leave(self):
        self.depth += 1

    # -- idents, strings ---------------------------------------------------

    def parse_ident(self, ident):
        for expected in ident:
            b = self.next()
            if b is None:
                raise self.error(EOF_VALUE)
            if b != expected:
                raise self.error(EXPECTED_IDENT)

    def parse_str(self):
        """After an opening quote: the string, validated as serde_json does
        for `str` (control characters and lone surrogates refused)."""
        data, n = self.data, self.n
        out = bytearray()
        start = self.i
        while True:
            i = self.i
            while i < n:
                b = data[i]
                if b == 0x22 or b == 0x5C or b < 0x20:
                    break
                i += 1
            self.i = i
            if i == n:
                raise self.error(EOF_STRING)
            b = data[i]
            if b == 0x22:
                out += data[start:i]
                self.i = i + 1
                return out.decode("utf-8")
            if b == 0x5C:
                out += data[start:i]
                self.i = i + 1
                self.parse_escape(out)
                start = self.i
            else:
                self.i = i + 1
                raise self.error(CONTROL_CHARACTER)

    def _next_or_eof(self):
        b = self.next()
        if b is None:
            raise self.error(EOF_STRING)
        return b

    def _peek_or_eof(self):
        b = self.peek()
        if b is None:
            raise self.error(EOF_STRING)
        return b

    def parse_escape(self, out):
        b = self._next_or_eof()
        simple = {
            0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x62: b"\x08",
            0x66: b"\x0c", 0x6E: b"\n", 0x72: b"\r", 0x74: b"\t",
        }
        if b in simple:
            out += simple[b]
        elif b == 0x75:
            self.parse_unicode_escape(out)
        else:
            raise self.error(INVALID_ESCAPE)

    def decode_hex_escape(self):
        if self.n - self.i < 4:
            self.i = self.n
            raise self.error(EOF_STRING)
        digits = self.data[self.i : self.i + 4]
        self.i += 4
        value = 0
        for d in digits:
            if 0x30 <= d <= 0x39:
                v = d - 0x30
            elif 0x41 <= d <= 0x46:
                v = d - 0x41 + 10
            elif 0x61 <= d <= 0x66:
                v = d - 0x61 + 10
            else:
                raise self.error(INVALID_ESCAPE)
            value = value * 16 + v
        return value

    def parse_unicode_escape(self, out):
        n = self.decode_hex_escape()
        if 0xDC00 <= n <= 0xDFFF:
            raise self.error(LONE_LEADING_SURROGATE)
        if n < 0xD800 or n > 0xDBFF:
            out += chr(n).encode("utf-8")
            return
        if self._peek_or_eof() == 0x5C:
            self.eat()
        else:
            self.eat()
            raise self.error(UNEXPECTED_END_OF_HEX_ESCAPE)
        if self._peek_or_eof() == 0x75:
            self.eat()
        else:
            self.eat()
            raise self.error(UNEXPECTED_END_OF_HEX_ESCAPE)
        n2 = self.decode_hex_escape()
        if n2 < 0xDC00 or n2 > 0xDFFF:
            raise self.error(LONE_LEADING_SURROGATE)
        code = (((n - 0xD800) << 10) | (n2 - 0xDC00)) + 0x10000
        out += chr(code).encode("utf-8")

    # -- numbers (serde_json without `float_roundtrip`) ---------------------

    def parse_integer(self, positive):
        b = self.next()
        if b is None:
            raise self.error(EOF_VALUE)
        if b == 0x30:
            if 0x30 <= self.peek_or_null() <= 0x39:
                raise self.peek_error(INVALID_NUMBER)
            return self.parse_number(positive, 0)
        if 0x31 <= b <= 0x39:
            significand = b - 0x30
            while True:
                c = self.peek_or_null()
                if 0x30 <= c <= 0x39:
                    digit = c - 0x30
                    if _overflows(significand, digit, U64_MAX):
                        return ("f", self.parse_long_integer(positive, significand))
                    self.eat()
                    significand = significand * 10 + digit
                else:
                    return self.parse_number(positive, significand)
        raise self.error(INVALID_NUMBER)

    def parse_number(self, positive, significand):
        c = self.peek_or_null()
        if c == 0x2E:
            return ("f", self.parse_decimal(positive, significand, 0))
        if c in (0x65, 0x45):
            return ("f", self.parse_exponent(positive, significand, 0))
        if positive:
            return ("u", significand)
        if significand == 0 or significand > 1 << 63:
            # `-0`, or below i64::MIN: a float.
            return ("f", -float(significand))
        return ("i", -significand)

    def parse_decimal(self, positive, significand, exponent_before):
        self.eat()
        exponent_after = 0
        while True:
            c = self.peek_or_null()
            if not 0x30 <= c <= 0x39:
                break
            digit = c - 0x30
            if _overflows(significand, digit, U64_MAX):
                return self.parse_decimal_overflow(
                    positive, significand, exponent_before + exponent_after
                )
            self.eat()
            significand = significand * 10 + digit
            exponent_after -= 1
        if exponent_after == 0:
            if self.peek() is not None:
                raise self.peek_error(INVALID_NUMBER)
            raise self.peek_error(EOF_VALUE)
        exponent = exponent_before + exponent_after
        if self.peek_or_null() in (0x65, 0x45):
            return self.parse_exponent(positive, significand, exponent)
        return self.f64_from_parts(positive, significand, exponent)

    def parse_exponent(self, positive, significand, starting_exp):
        self.eat()
        positive_exp = True
        c = self.peek_or_null()
        if c == 0x2B:
            self.eat()
        elif c == 0x2D:
            self.eat()
            positive_exp = False
        b = self.next()
        if b is None:
            raise self.error(EOF_VALUE)
        if not 0x30 <= b <= 0x39:
            raise self.error(INVALID_NUMBER)
        exp = b - 0x30
        while True:
            c = self.peek_or_null()
            if not 0x30 <= c <= 0x39:
                break
            self.eat()
            digit = c - 0x30
            if _overflows(exp, digit, I32_MAX):
                return self.parse_exponent_overflow(positive, significand == 0, positive_exp)
            exp = exp * 10 + digit
        final = _sat_i32(starting_exp + exp if positive_exp else starting_exp - exp)
        return self.f64_from_parts(positive, significand, final)

    def f64_from_parts(self, positive, significand, exponent):
        f = float(significand)
        while True:
            index = abs(exponent) if exponent != I32_MIN else None
            if index is not None and index < len(POW10):
                if exponent >= 0:
                    f *= POW10[index]
                    if f in (float("inf"), float("-inf")):
                        raise self.error(NUMBER_OUT_OF_RANGE)
                else:
                    f /= POW10[index]
                break
            if f == 0.0:
                break
            if exponent >= 0:
                raise self.error(NUMBER_OUT_OF_RANGE)
            f /= 1e308
            exponent += 308
        return f if positive else -f

    def parse_long_integer(self, positive, significand):
        exponent = 0
        while True:
            c = self.peek_or_null()
            if 0x30 <= c <= 0x39:
                self.eat()
                exponent += 1
            elif c == 0x2E:
                return self.parse_decimal(positive, significand, exponent)
            elif c in (0x65, 0x45):
                return self.parse_exponent(positive, significand, exponent)
            else:
                return self.f64_from_parts(positive, significand, exponent)

    def parse_decimal_overflow(self, positive, significand, exponent):
        while 0x30 <= self.peek_or_null() <= 0x39:
            self.eat()
        if self.peek_or_null() in (0x65, 0x45):
            return self.parse_exponent(positive, significand, exponent)
        return self.f64_from_parts(positive, significand, exponent)

    def parse_exponent_overflow(self, positive, zero_significand, positive_exp):
        if not zero_significand and positive_exp:
            raise self.error(NUMBER_OUT_OF_RANGE)
        while 0x30 <= self.peek_or_null() <= 0x39:
            self.eat()
        return 0.0 if positive else -0.0

    # -- values of the wrong type, ignored values -----------------------------

    def peek_invalid_type(self, expected):
        b = self.peek_or_null()
        if b == 0x6E:
            self.eat()
            self.parse_ident(b"ull")
            err = invalid_type("unit", None, expected)
        elif b == 0x74:
            self.eat()
            self.parse_ident(b"rue")
            err = invalid_type("bool", True, expected)
        elif b == 0x66:
            self.eat()
            self.parse_ident(b"alse")
            err = invalid_type("bool", False, expected)
        elif b == 0x2D:
            self.eat()
            kind, value = self.parse_integer(False)
            err = invalid_type(kind, value, expected)
        elif 0x30 <= b <= 0x39:
            kind, value = self.parse_integer(True)
            err = invalid_type(kind, value, expected)
        elif b == 0x22:
            self.eat()
            err = invalid_type("str", self.parse_str(), expected)
        elif b == 0x5B:
            err = invalid_type("seq", None, expected)
        elif b == 0x7B:
            err = invalid_type("map", None, expected)
        else:
            return self.peek_error(EXPECTED_VALUE)
        return self.fix(err)

    def ignore_value(self):
        """`ignore_value`: skips any value (checking its syntax only)."""
        stack = []
        enclosing = None
        while True:
            peek = self.ws()
            if peek is None:
                raise self.peek_error(EOF_VALUE)
            frame = None
            if peek == 0x6E:
                self.eat()
                self.parse_ident(b"ull")
            elif peek == 0x74:
                self.eat()
                self.parse_ident(b"rue")
            elif peek == 0x66:
                self.eat()
                self.parse_ident(b"alse")
            elif peek == 0x2D:
                self.eat()
                self.ignore_integer()
            elif 0x30 <= peek <= 0x39:
                self.ignore_integer()
            elif peek == 0x22:
                self.eat()
                self.parse_str_ignored()
            elif peek in (0x5B, 0x7B):
                if enclosing is not None:
                    stack.append(enclosing)
                    enclosing = None
                self.eat()
                frame = peek
            else:
                raise self.peek_error(EXPECTED_VALUE)

            if frame is not None:
                accept_comma = False
            elif enclosing is not None:
                accept_comma, frame, enclosing = True, enclosing, None
            elif stack:
                accept_comma, frame = True, stack.pop()
            else:
                return

            while True:
                b = self.ws()
                if b == 0x2C and accept_comma:
                    self.eat()
                    break
                if b == 0x5D and frame == 0x5B:
                    pass
                elif b == 0x7D and frame == 0x7B:
                    pass
                elif b is not None:
                    if accept_comma:
                        raise self.peek_error(
                            EXPECTED_LIST_COMMA_OR_END if frame == 0x5B else EXPECTED_OBJECT_COMMA_OR_END
                        )
                    break
                else:
                    raise self.peek_error(EOF_LIST if frame == 0x5B else EOF_OBJECT)
                self.eat()
                if not stack:
                    return
                frame = stack.pop()
                accept_comma = True

            if frame == 0x7B:
                b = self.ws()
                if b == 0x22:
                    self.eat()
                elif b is not None:
                    raise self.peek_error(KEY_MUST_BE_A_STRING)
                else:
                    raise self.peek_error(EOF_OBJECT)
                self.parse_str_ignored()
                b = self.ws()
                if b == 0x3A:
                    self.eat()
                elif b is not None:
                    raise self.peek_error(EXPECTED_COLON)
                else:
                    raise self.peek_error(EOF_OBJECT)
            enclosing = frame

    def parse_str_ignored(self):
        """`ignore_str`: escapes are checked for form only."""
        data, n = self.data, self.n
        while True:
            i = self.i
            while i < n:
                b = data[i]
                if b == 0x22 or b == 0x5C or b < 0x20:
                    break
                i += 1
            self.i = i
            if i == n:
                raise self.error(EOF_STRING)
            b = data[i]
            if b == 0x22:
                self.i = i + 1
                return
            if b == 0x5C:
                self.i = i + 1
                c = self._next_or_eof()
                if c == 0x75:
                    self.decode_hex_escape()
                elif c not in b'"\\/bfnrt':
                    raise self.error(INVALID_ESCAPE)
            else:
                raise self.error(CONTROL_CHARACTER)

    def ignore_integer(self):
        b = self.next()
        if b is None:
            b = 0
        if b == 0x30:
            if 0x30 <= self.peek_or_null() <= 0x39:
                raise self.peek_error(INVALID_NUMBER)
        elif 0x31 <= b <= 0x39:
            while 0x30 <= self.peek_or_null() <= 0x39:
                self.eat()
        else:
            raise self.error(INVALID_NUMBER)
        c = self.peek_or_null()
        if c == 0x2E:
            self.eat()
            digits = False
            while 0x30 <= self.peek_or_null() <= 0x39:
                self.eat()
                digits = True
            if not digits:
                raise self.peek_error(INVALID_NUMBER)
            if self.peek_or_null() in (0x65, 0x45):
                self.ignore_exponent()
        elif c in (0x65, 0x45):
            self.ignore_exponent()

    def ignore_exponent(self):
        self.eat()
        if self.peek_or_null() in (0x2B, 0x2D):
            self.eat()
        b = self.next()
        if b is None or not 0x30 <= b <= 0x39:
            raise self.error(INVALID_NUMBER)
        while 0x30 <= self.peek_or_null() <= 0x39:
            self.eat()

    # -- compound values -------------------------------------------------------

    def end_seq(self):
        b = self.ws()
        if b == 0x5D:
            self.eat()
            return None
        if b == 0x2C:
            self.eat()
            if self.ws() == 0x5D:
                return self.peek_error(TRAILING_COMMA)
            return self.peek_error(TRAILING_CHARACTERS)
        if b is not None:
            return self.peek_error(TRAILING_CHARACTERS)
        return self.peek_error(EOF_LIST)

    def end_map(self):
        b = self.ws()
        if b == 0x7D:
            self.eat()
            return None
        if b == 0x2C:
            return self.peek_error(TRAILING_COMMA)
        if b is not None:
            return self.peek_error(TRAILING_CHARACTERS)
        return self.peek_error(EOF_OBJECT)

    def compound(self, visit, end):
        """`check_recursion! { eat; visit }` then `match (ret, end())`."""
        self.enter()
        self.eat()
        try:
            value = visit(self)
        except JsonError as err:
            self.leave()
            end()
            raise err
        self.leave()
        err = end()
        if err is not None:
            raise err
        return value


class SeqAccess:
    def __init__(self, de):
        self.de = de
        self.first = True

    def has_next(self):
        de = self.de
        b = de.ws()
        if b is None:
            raise de.peek_error(EOF_LIST)
        if b == 0x5D:
            return False
        if self.first:
            self.first = False
            return True
        if b == 0x2C:
            de.eat()
            b = de.ws()
            if b == 0x5D:
                raise de.peek_error(TRAILING_COMMA)
            if b is None:
                raise de.peek_error(EOF_VALUE)
            return True
        raise de.peek_error(EXPECTED_LIST_COMMA_OR_END)


class MapAccess:
    def __init__(self, de):
        self.de = de
        self.first = True

    def next_key(self):
        """The next key (a string), or None at the end of the object."""
        de = self.de
        b = de.ws()
        if b is None:
            raise de.peek_error(EOF_OBJECT)
        if b == 0x7D:
            return None
        if self.first:
            self.first = False
            if b != 0x22:
                raise de.peek_error(KEY_MUST_BE_A_STRING)
        elif b == 0x2C:
            de.eat()
            b = de.ws()
            if b == 0x7D:
                raise de.peek_error(TRAILING_COMMA)
            if b is None:
                raise de.peek_error(EOF_VALUE)
            if b != 0x22:
                raise de.peek_error(KEY_MUST_BE_A_STRING)
        else:
            raise de.peek_error(EXPECTED_OBJECT_COMMA_OR_END)
        de.eat()
        return de.parse_str()

    def colon(self):
        de = self.de
        b = de.ws()
        if b == 0x3A:
            de.eat()
        elif b is not None:
            raise de.peek_error(EXPECTED_COLON)
        else:
            raise de.peek_error(EOF_OBJECT)


# -- schemas ---------------------------------------------------------------------


class _Scalar:
    def deserialize(self, de):
        peek = de.ws()
        if peek is None:
            raise de.peek_error(EOF_VALUE)
        try:
            return self.parse(de, peek)
        except JsonError as err:
            raise de.fix(err)


class _String(_Scalar):
    expected = "a string"

    def parse(self, de, peek):
        if peek == 0x22:
            de.eat()
            return de.parse_str()
        raise de.peek_invalid_type(self.expected)


class _Number(_Scalar):
    def parse(self, de, peek):
        if peek == 0x2D:
            de.eat()
            kind, value = de.parse_integer(False)
        elif 0x30 <= peek <= 0x39:
            kind, value = de.parse_integer(True)
        else:
            raise de.peek_invalid_type(self.expected)
        return self.visit(kind, value)


class _Unsigned(_Number):
    def __init__(self, bits):
        self.expected = "u%d" % bits
        self.max = (1 << bits) - 1

    def visit(self, kind, value):
        if kind == "u":
            if value <= self.max:
                return value
            raise invalid_value("u", value, self.expected)
        if kind == "i":
            if 0 <= value <= self.max:
                return value
            raise invalid_value("i", value, self.expected)
        raise invalid_type(kind, value, self.expected)


class _F64(_Number):
    expected = "f64"

    def visit(self, kind, value):
        return float(value)


STRING = _String()
U8 = _Unsigned(8)
U64 = _Unsigned(64)
F64 = _F64()


class Seq:
    """`Vec<T>`."""

    expected = "a sequence"

    def __init__(self, element):
        self.element = element

    def deserialize(self, de):
        peek = de.ws()
        if peek is None:
            raise de.peek_error(EOF_VALUE)
        try:
            if peek != 0x5B:
                raise de.peek_invalid_type(self.expected)
            return de.compound(self.visit_seq, de.end_seq)
        except JsonError as err:
            raise de.fix(err)

    def visit_seq(self, de):
        seq = SeqAccess(de)
        values = []
        while seq.has_next():
            values.append(self.element.deserialize(de))
        return values


class Map:
    """`BTreeMap<String, V>` (a later duplicate key replaces the value)."""

    expected = "a map"

    def __init__(self, value):
        self.value = value

    def deserialize(self, de):
        peek = de.ws()
        if peek is None:
            raise de.peek_error(EOF_VALUE)
        try:
            if peek != 0x7B:
                raise de.peek_invalid_type(self.expected)
            return de.compound(self.visit_map, de.end_map)
        except JsonError as err:
            raise de.fix(err)

    def visit_map(self, de):
        access = MapAccess(de)
        values = {}
        while True:
            key = access.next_key()
            if key is None:
                return values
            access.colon()
            values[key] = self.value.deserialize(de)


class Option:
    """`Option<T>`: `null` is None."""

    def __init__(self, inner):
        self.inner = inner

    def deserialize(self, de):
        if de.ws() == 0x6E:
            de.eat()
            de.parse_ident(b"ull")
            return None
        return self.inner.deserialize(de)


class _IgnoredAny:
    def deserialize(self, de):
        de.ignore_value()
        return None


IGNORED = _IgnoredAny()

REQUIRED = object()
"""A field without a default: missing is an error."""
OPTIONAL = object()
"""An `Option` field without a default: missing is None in an object, an
error in an array."""


class Field:
    """A struct field: its JSON name, schema and what a missing field is:
    `REQUIRED`, `OPTIONAL`, or a function giving the `#[serde(default)]`."""

    def __init__(self, name, schema, missing=REQUIRED):
        self.name = name
        self.schema = schema
        self.missing = missing


class Struct:
    """`#[derive(Deserialize)] struct`, from an object or an array; values
    are dicts keyed by the JSON field names."""

    def __init__(self, name, fields, deny_unknown_fields=False):
        self.name = name
        self.expected = "struct " + name
        self.fields = fields
        self.by_name = {f.name: f for f in fields}
        self.deny_unknown_fields = deny_unknown_fields
        count = len(fields)
        self.expected_seq = "%s with %d element%s" % (
            self.expected, count, "" if count == 1 else "s")

    def deserialize(self, de):
        peek = de.ws()
        if peek is None:
            raise de.peek_error(EOF_VALUE)
        try:
            if peek == 0x5B:
                return de.compound(self.visit_seq, de.end_seq)
            if peek == 0x7B:
                return de.compound(self.visit_map, de.end_map)
            raise de.peek_invalid_type(self.expected)
        except JsonError as err:
            raise de.fix(err)

    def unknown_field(self, key):
        names = [f.name for f in self.fields]
        if len(names) == 1:
            expected = "`%s`" % names[0]
        elif len(names) == 2:
            expected = "`%s` or `%s`" % tuple(names)
        else:
            expected = "one of " + ", ".join("`%s`" % n for n in names)
        return JsonError("unknown field `%s`, expected %s" % (key, expected))

    def visit_map(self, de):
        access = MapAccess(de)
        values = {}
        while True:
            key = access.next_key()
            if key is None:
                break
            field = self.by_name.get(key)
            if field is None:
                if self.deny_unknown_fields:
                    raise self.unknown_field(key)
                access.colon()
                IGNORED.deserialize(de)
                continue
            if key in values:
                raise JsonError("duplicate field `%s`" % key)
            access.colon()
            values[key] = field.schema.deserialize(de)
        for field in self.fields:
            if field.name in values:
                continue
            if field.missing is REQUIRED:
                raise JsonError("missing field `%s`" % field.name)
            values[field.name] = None if field.missing is OPTIONAL else field.missing()
        return values

    def visit_seq(self, de):
        seq = SeqAccess(de)
        values = {}
        for index, field in enumerate(self.fields):
            if seq.has_next():
                values[field.name] = field.schema.deserialize(de)
            elif field.missing is REQUIRED or field.missing is OPTIONAL:
                raise JsonError("invalid length %d, expected %s" % (index, self.expected_seq))
            else:
                values[field.name] = field.missing()
        return values


# -- untagged enums: values buffered as serde's `Content`, then matched -------------

class _Content:
    """Any JSON value, as `(kind, value)`: ("u"|"i"|"f", number), ("str", s),
    ("bool", b), ("unit", None), ("seq", [content]), ("map", [(key, content)])."""

    def deserialize(self, de):
        peek = de.ws()
        if peek is None:
            raise de.peek_error(EOF_VALUE)
        try:
            if peek == 0x6E:
                de.eat()
                de.parse_ident(b"ull")
                return ("unit", None)
            if peek == 0x74:
                de.eat()
                de.parse_ident(b"rue")
                return ("bool", True)
            if peek == 0x66:
                de.eat()
                de.parse_ident(b"alse")
                return ("bool", False)
            if peek == 0x2D:
                de.eat()
                return de.parse_integer(False)
            if 0x30 <= peek <= 0x39:
                return de.parse_integer(True)
            if peek == 0x22:
                de.eat()
                return ("str", de.parse_str())
            if peek == 0x5B:
                return de.compound(self.visit_seq, de.end_seq)
            if peek == 0x7B:
                return de.compound(self.visit_map, de.end_map)
            raise de.peek_error(EXPECTED_VALUE)
        except JsonError as err:
            raise de.fix(err)

    def visit_seq(self, de):
        seq = SeqAccess(de)
        values = []
        while seq.has_next():
            values.append(self.deserialize(de))
        return ("seq", values)

    def visit_map(self, de):
        access = MapAccess(de)
        entries = []
        while True:
            key = access.next_key()
            if key is None:
                return ("map", entries)
            access.colon()
            entries.append((key, self.deserialize(de)))


CONTENT = _Content()


def content_string(content):
    """`String` from buffered content (`ContentRefDeserializer`)."""
    kind, value = content
    if kind != "str":
        raise _NoMatch()
    return value


def content_unsigned(content, bits):
    kind, value = content
    if kind in ("u", "i") and 0 <= value < 1 << bits:
        return value
    raise _NoMatch()


def content_struct(content, fields):
    """A struct (no `deny_unknown_fields`) from buffered content; `fields`
    are (name, convert) pairs, every one required."""
    kind, value = content
    result = {}
    if kind == "map":
        known = dict(fields)
        for key, item in value:
            if key not in known:
                continue
            if key in result:
                raise _NoMatch()
            result[key] = known[key](item)
        for name, _ in fields:
            if name not in result:
                raise _NoMatch()
        return result
    if kind == "seq":
        if len(value) != len(fields):
            raise _NoMatch()
        for (name, convert), item in zip(fields, value):
            result[name] = convert(item)
        return result
    raise _NoMatch()


class Untagged:
    """`#[serde(untagged)] enum`: `variants` are functions from buffered
    content to a value, raising `_NoMatch` when the variant does not fit."""

    def __init__(self, name, variants):
        self.message = "data did not match any variant of untagged enum " + name
        self.variants = variants

    def deserialize(self, de):
        content = CONTENT.deserialize(de)
        for variant in self.variants:
            try:
                return variant(content)
            except _NoMatch:
                continue
        raise JsonError(self.message)


NoMatch = _NoMatch


def from_str(text, schema):
    """`serde_json::from_str::<T>(text)`."""
    de = Deserializer(text)
    value = schema.deserialize(de)
    de.end()
    return value
