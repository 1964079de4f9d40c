"""Rust `regex` syntax for Python's `re`.

The Rust reference screener compiles its rules with the `regex` crate
(syntax of regex-syntax 0.8). `compile(pattern)` parses a pattern with the
same grammar, refuses what Rust refuses with Rust's error text, e.g.

    regex parse error:
        (?=x)
        ^^^
    error: look-around, including look-ahead and look-behind, is not supported

and translates the rest into an equivalent `re` pattern: flags scoped as
in Rust (`(?i)` in the middle of a group applies to the rest of it), `$`
only at the end of the text unless `(?m)`, `\\z`, `(?<name>...)`, capture
names with `.`/`[`/`]`, ASCII classes (`[[:alpha:]]`), nested classes and
class set operations (`&&`, `--`, `~~`), `\\x{...}` escapes, special word
boundaries (`\\b{start}`, `\\<`...), swapped greed (`(?U)`).

Known differences: Unicode classes (`\\p{...}`) are refused (Python's `re`
has no Unicode property tables); `\\w` and `\\b` use Python's idea of a word
character (letters and digits, without combining marks); the nesting
limit and compiled-size limit of the Rust crate are not enforced.
"""

import re

WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

META = set("\\.+*?()|[]{}^$#&-~")

ASCII_CLASSES = {
    "alnum": [("0", "9"), ("A", "Z"), ("a", "z")],
    "alpha": [("A", "Z"), ("a", "z")],
    "ascii": [("\x00", "\x7f")],
    "blank": [("\t", "\t"), (" ", " ")],
    "cntrl": [("\x00", "\x1f"), ("\x7f", "\x7f")],
    "digit": [("0", "9")],
    "graph": [("!", "~")],
    "lower": [("a", "z")],
    "print": [(" ", "~")],
    "punct": [("!", "/"), (":", "@"), ("[", "`"), ("{", "~")],
    "space": [("\t", "\r"), (" ", " ")],
    "upper": [("A", "Z")],
    "word": [("0", "9"), ("A", "Z"), ("a", "z"), ("_", "_")],
    "xdigit": [("0", "9"), ("A", "F"), ("a", "f")],
}

MESSAGES = {
    "ClassEscapeInvalid": "invalid escape sequence found in character class",
    "ClassRangeInvalid": "invalid character class range, the start must be <= the end",
    "ClassRangeLiteral": "invalid range boundary, must be a literal",
    "ClassUnclosed": "unclosed character class",
    "DecimalEmpty": "decimal literal empty",
    "DecimalInvalid": "decimal literal invalid",
    "EscapeHexEmpty": "hexadecimal literal empty",
    "EscapeHexInvalid": "hexadecimal literal is not a Unicode scalar value",
    "EscapeHexInvalidDigit": "invalid hexadecimal digit",
    "EscapeUnexpectedEof": "incomplete escape sequence, reached end of pattern prematurely",
    "EscapeUnrecognized": "unrecognized escape sequence",
    "FlagDanglingNegation": "dangling flag negation operator",
    "FlagDuplicate": "duplicate flag",
    "FlagRepeatedNegation": "flag negation operator repeated",
    "FlagUnexpectedEof": "expected flag but got end of regex",
    "FlagUnrecognized": "unrecognized flag",
    "GroupNameDuplicate": "duplicate capture group name",
    "GroupNameEmpty": "empty capture group name",
    "GroupNameInvalid": "invalid capture group character",
    "GroupNameUnexpectedEof": "unclosed capture group name",
    "GroupUnclosed": "unclosed group",
    "GroupUnopened": "unopened group",
    "RepetitionCountInvalid": "invalid repetition count range, the start must be <= the end",
    "RepetitionCountDecimalEmpty": "repetition quantifier expects a valid decimal",
    "RepetitionCountUnclosed": "unclosed counted repetition",
    "RepetitionMissing": "repetition operator missing expression",
    "SpecialWordBoundaryUnclosed": "special word boundary assertion is either unclosed or contains an invalid character",
    "SpecialWordBoundaryUnrecognized": "unrecognized special word boundary assertion, valid choices are: start, end, start-half or end-half",
    "SpecialWordOrRepetitionUnexpectedEof": "found either the beginning of a special word boundary or a bounded repetition on a \\b with an opening brace, but no closing brace",
    "UnicodeClassInvalid": "invalid Unicode character class",
    "UnsupportedBackreference": "backreferences are not supported",
    "UnsupportedLookAround": "look-around, including look-ahead and look-behind, is not supported",
    "NestLimitExceeded": "exceed the maximum number of nested parentheses/brackets (250)",
    "PythonUnsupported": "this pattern is not supported by the Python port of this plugin",
    "UnicodeUnsupported": "Unicode classes (\\p, \\P) are not supported by the Python port of this plugin",
}


class RegexError(Exception):
    """A pattern Rust's `regex` refuses; `str()` is Rust's error text."""

    def __init__(self, pattern, kind, span, aux=None):
        super().__init__(kind)
        self.pattern = pattern
        self.kind = kind
        self.span = span
        self.aux = aux

    def __str__(self):
        return _format_error(self.pattern, MESSAGES[self.kind], [s for s in (self.span, self.aux) if s])


def _line_col(pattern, index):
    line = pattern.count("\n", 0, index) + 1
    start = pattern.rfind("\n", 0, index) + 1
    return line, index - start + 1


def _format_error(pattern, message, spans):
    """regex-syntax's `Formatter`: the pattern with carets under the spans."""
    line_list = pattern.split("\n")
    if pattern.endswith("\n"):
        line_list = line_list[:-1]
    # `str::lines` also drops a `\r` before each `\n`.
    shown = [l[:-1] if l.endswith("\r") else l for l in line_list]
    line_count = len(shown) + (1 if pattern.endswith("\n") else 0)
    if pattern == "":
        shown, line_count = [], 0
    width = 0 if line_count <= 1 else len(str(line_count))
    by_line = [[] for _ in range(line_count)]
    multi = []
    for start, end in spans:
        sl, sc = _line_col(pattern, start)
        el, ec = _line_col(pattern, end)
        if sl == el:
            by_line[sl - 1].append((sc, ec))
            by_line[sl - 1].sort()
        else:
            multi.append(((sl, sc), (el, ec)))
            multi.sort()
    padding = 4 if width == 0 else 2 + width
    notated = []
    for i, text in enumerate(shown):
        if width > 0:
            notated.append(str(i + 1).rjust(width) + ": " + text)
        else:
            notated.append("    " + text)
        if by_line[i]:
            notes = " " * padding
            pos = 0
            for sc, ec in by_line[i]:
                while pos < sc - 1:
                    notes += " "
                    pos += 1
                n = max(1, ec - sc)
                notes += "^" * n
                pos += n
            notated.append(notes)
    body = "".join(line + "\n" for line in notated)
    if "\n" in pattern:
        divider = "~" * 79
        out = "regex parse error:\n" + divider + "\n" + body + divider + "\n"
        if multi:
            out += "\n".join(
                "on line %d (column %d) through line %d (column %d)" % (s[0], s[1], e[0], e[1] - 1)
                for s, e in multi
            ) + "\n"
        return out + "error: " + message
    return "regex parse error:\n" + body + "error: " + message


def _is_alphabetic(c):
    return c.isalpha()


def _is_capture_char(c, first):
    if first:
        return c == "_" or _is_alphabetic(c)
    return c in "_.[]" or c.isalnum()


def _is_hex(c):
    return c in "0123456789abcdefABCDEF"


class _Parser:
    """A port of regex-syntax's AST parser (`ast::parse::ParserI`)."""

    def __init__(self, pattern):
        self.p = pattern
        self.n = len(pattern)
        self.i = 0
        self.ignore_ws = False
        self.capture_index = 0
        self.capture_names = {}  # name -> span
        self.groups = []  # stack of ("group", concat, group, ignore_ws) | ("alt", alts)
        self.classes = []  # stack of ("open", union, set) | ("op", kind, lhs)

    # -- cursor ---------------------------------------------------------------

    def error(self, span, kind, aux=None):
        return RegexError(self.p, kind, span, aux)

    def eof(self):
        return self.i >= self.n

    def char(self):
        return self.p[self.i]

    def bump(self):
        if self.eof():
            return False
        self.i += 1
        return self.i < self.n

    def bump_if(self, prefix):
        if self.p.startswith(prefix, self.i):
            self.i += len(prefix)
            return True
        return False

    def bump_space(self):
        if not self.ignore_ws:
            return
        while not self.eof():
            c = self.char()
            if c in WHITE_SPACE:
                self.bump()
            elif c == "#":
                self.bump()
                while not self.eof():
                    c = self.char()
                    self.bump()
                    if c == "\n":
                        break
            else:
                break

    def bump_and_bump_space(self):
        if not self.bump():
            return False
        self.bump_space()
        return not self.eof()

    def peek(self):
        return self.p[self.i + 1] if self.i + 1 < self.n else None

    def peek_space(self):
        if not self.ignore_ws:
            return self.peek()
        if self.eof():
            return None
        in_comment = False
        for c in self.p[self.i + 1 :]:
            if c in WHITE_SPACE:
                continue
            if not in_comment and c == "#":
                in_comment = True
            elif in_comment and c == "\n":
                in_comment = False
            elif not in_comment:
                return c
        return None

    def span(self):
        return (self.i, self.i)

    def span_char(self):
        return (self.i, self.i + 1)

    # -- the main loop ----------------------------------------------------------

    def parse(self):
        concat = []
        while True:
            self.bump_space()
            if self.eof():
                break
            c = self.char()
            if c == "(":
                concat = self.push_group(concat)
            elif c == ")":
                concat = self.pop_group(concat)
            elif c == "|":
                self.push_alternate(concat)
                self.bump()
                concat = []
            elif c == "[":
                concat.append(self.parse_set_class())
            elif c in "?*+":
                self.parse_uncounted_repetition(concat, c)
            elif c == "{":
                self.parse_counted_repetition(concat)
            else:
                concat.append(self.parse_primitive())
        return self.pop_group_end(concat)

    def push_alternate(self, concat):
        if self.groups and self.groups[-1][0] == "alt":
            self.groups[-1][1].append(("concat", concat))
        else:
            self.groups.append(("alt", [("concat", concat)]))

    def push_group(self, concat):
        result = self.parse_group()
        if isinstance(result, tuple):
            for flag, on in result[1]:
                if flag == "x":
                    self.ignore_ws = on
            concat.append(result)
            return concat
        group = result
        old = self.ignore_ws
        new = old
        for flag, on in group["flags"]:
            if flag == "x":
                new = on
        self.groups.append(("group", concat, group, old))
        self.ignore_ws = new
        return []

    def pop_group(self, group_concat):
        alt = None
        if self.groups and self.groups[-1][0] == "alt":
            alt = self.groups.pop()[1]
        if not self.groups or self.groups[-1][0] != "group":
            raise self.error(self.span_char(), "GroupUnopened")
        _, prior, group, ignore_ws = self.groups.pop()
        self.ignore_ws = ignore_ws
        self.bump()
        group["span"] = (group["span"][0], self.i)
        if alt is not None:
            alt.append(("concat", group_concat))
            group["ast"] = ("alt", alt)
        else:
            group["ast"] = ("concat", group_concat)
        prior.append(("group", group))
        return prior

    def pop_group_end(self, concat):
        ast = ("concat", concat)
        if self.groups:
            top = self.groups.pop()
            if top[0] == "alt":
                top[1].append(ast)
                ast = ("alt", top[1])
            else:
                raise self.error(top[2]["span"], "GroupUnclosed")
        if self.groups:
            raise self.error(self.groups.pop()[2]["span"], "GroupUnclosed")
        return ast

    # -- repetitions ----------------------------------------------------------------

    def parse_uncounted_repetition(self, concat, op):
        if not concat or concat[-1][0] == "flags":
            raise self.error(self.span(), "RepetitionMissing")
        ast = concat.pop()
        greedy = True
        if self.bump() and self.char() == "?":
            greedy = False
            self.bump()
        lo, hi = {"?": (0, 1), "*": (0, None), "+": (1, None)}[op]
        concat.append(("rep", ast, lo, hi, greedy))

    def parse_decimal(self):
        while not self.eof() and self.char() in WHITE_SPACE:
            self.bump()
        start = self.i
        digits = ""
        while not self.eof() and "0" <= self.char() <= "9":
            digits += self.char()
            self.bump_and_bump_space()
        span = (start, self.i)
        while not self.eof() and self.char() in WHITE_SPACE:
            self.bump_and_bump_space()
        if not digits:
            return self.error(span, "DecimalEmpty")
        value = int(digits)
        if value > 0xFFFFFFFF:
            return self.error(span, "DecimalInvalid")
        return value

    def _decimal(self, value):
        """`specialize_err(.., DecimalEmpty, RepetitionCountDecimalEmpty)?`"""
        if isinstance(value, RegexError):
            if value.kind == "DecimalEmpty":
                value.kind = "RepetitionCountDecimalEmpty"
            raise value
        return value

    def parse_counted_repetition(self, concat):
        start = self.i
        if not concat or concat[-1][0] == "flags":
            raise self.error(self.span(), "RepetitionMissing")
        ast = concat.pop()
        if not self.bump_and_bump_space():
            raise self.error((start, self.i), "RepetitionCountUnclosed")
        count_start = self.parse_decimal()
        if isinstance(count_start, RegexError) and count_start.kind == "DecimalEmpty":
            count_start.kind = "RepetitionCountDecimalEmpty"
        if self.eof():
            raise self.error((start, self.i), "RepetitionCountUnclosed")
        if self.char() == ",":
            if not self.bump_and_bump_space():
                raise self.error((start, self.i), "RepetitionCountUnclosed")
            if self.char() != "}":
                lo = self._decimal(count_start)
                hi = self._decimal(self.parse_decimal())
            else:
                lo, hi = self._decimal(count_start), None
        else:
            lo = hi = self._decimal(count_start)
        if self.eof() or self.char() != "}":
            raise self.error((start, self.i), "RepetitionCountUnclosed")
        greedy = True
        if self.bump_and_bump_space() and self.char() == "?":
            greedy = False
            self.bump()
        if hi is not None and lo > hi:
            raise self.error((start, self.i), "RepetitionCountInvalid")
        concat.append(("rep", ast, lo, hi, greedy))

    # -- groups and flags -------------------------------------------------------------

    def parse_group(self):
        open_span = self.span_char()
        self.bump()
        self.bump_space()
        if self.bump_if("?=") or self.bump_if("?!") or self.bump_if("?<=") or self.bump_if("?<!"):
            raise self.error((open_span[0], self.i), "UnsupportedLookAround")
        inner_span = self.span()
        if self.bump_if("?P<") or self.bump_if("?<"):
            self.capture_index += 1
            name = self.parse_capture_name()
            return {"span": open_span, "index": self.capture_index, "name": name, "flags": []}
        if self.bump_if("?"):
            if self.eof():
                raise self.error(open_span, "GroupUnclosed")
            flags = self.parse_flags()
            end = self.char()
            self.bump()
            if end == ")":
                if not flags:
                    raise self.error(inner_span, "RepetitionMissing")
                return ("flags", flags)
            return {"span": open_span, "index": None, "name": None, "flags": flags}
        self.capture_index += 1
        return {"span": open_span, "index": self.capture_index, "name": None, "flags": []}

    def parse_capture_name(self):
        if self.eof():
            raise self.error(self.span(), "GroupNameUnexpectedEof")
        start = self.i
        while True:
            if self.char() == ">":
                break
            if not _is_capture_char(self.char(), self.i == start):
                raise self.error(self.span_char(), "GroupNameInvalid")
            if not self.bump():
                break
        end = self.i
        if self.eof():
            raise self.error(self.span(), "GroupNameUnexpectedEof")
        self.bump()
        name = self.p[start:end]
        if not name:
            raise self.error((start, start), "GroupNameEmpty")
        if name in self.capture_names:
            raise self.error((start, end), "GroupNameDuplicate", self.capture_names[name])
        self.capture_names[name] = (start, end)
        return name

    def parse_flags(self):
        items = []  # (kind, span): kind is a flag letter or "-"
        last_negation = None
        while self.char() != ":" and self.char() != ")":
            if self.char() == "-":
                last_negation = self.span_char()
                for kind, span in items:
                    if kind == "-":
                        raise self.error(self.span_char(), "FlagRepeatedNegation", span)
                items.append(("-", self.span_char()))
            else:
                last_negation = None
                c = self.char()
                if c not in "imsUuRx":
                    raise self.error(self.span_char(), "FlagUnrecognized")
                for kind, span in items:
                    if kind == c:
                        raise self.error(self.span_char(), "FlagDuplicate", span)
                items.append((c, self.span_char()))
            if not self.bump():
                raise self.error(self.span(), "FlagUnexpectedEof")
        if last_negation is not None:
            raise self.error(last_negation, "FlagDanglingNegation")
        flags = []
        on = True
        for kind, _ in items:
            if kind == "-":
                on = False
            else:
                flags.append((kind, on))
        return flags

    # -- primitives and escapes -----------------------------------------------------------

    def parse_primitive(self):
        c = self.char()
        if c == "\\":
            return self.parse_escape()
        span = self.span_char()
        self.bump()
        if c == ".":
            return ("dot", span)
        if c == "^":
            return ("assert", "start_line", span)
        if c == "$":
            return ("assert", "end_line", span)
        return ("lit", c, span)

    def parse_escape(self):
        start = self.i
        if not self.bump():
            raise self.error((start, self.i), "EscapeUnexpectedEof")
        c = self.char()
        if "0" <= c <= "9":
            raise self.error((start, self.i + 1), "UnsupportedBackreference")
        if c in "xuU":
            lit = self.parse_hex()
            return ("lit", lit[1], (start, lit[2][1]))
        if c in "pP":
            return self.parse_unicode_class(start)
        if c in "dswDSW":
            self.bump()
            return ("perl", c.lower(), c.isupper(), (start, self.i))
        self.bump()
        span = (start, self.i)
        if c in META:
            return ("lit", c, span)
        if c.isascii() and not c.isalnum() and c not in "<>":
            return ("lit", c, span)
        special = {"a": "\x07", "f": "\x0c", "t": "\t", "n": "\n", "r": "\r", "v": "\x0b"}
        if c in special:
            return ("lit", special[c], span)
        if c == "A":
            return ("assert", "start_text", span)
        if c == "z":
            return ("assert", "end_text", span)
        if c == "b":
            kind = "wb"
            if not self.eof() and self.char() == "{":
                special_kind = self.maybe_parse_special_word_boundary(start)
                if special_kind is not None:
                    kind = special_kind
                    span = (start, self.i)
            return ("assert", kind, span)
        if c == "B":
            return ("assert", "nwb", span)
        if c == "<":
            return ("assert", "wb_start", span)
        if c == ">":
            return ("assert", "wb_end", span)
        raise self.error(span, "EscapeUnrecognized")

    def maybe_parse_special_word_boundary(self, wb_start):
        valid = lambda ch: ("A" <= ch <= "Z") or ("a" <= ch <= "z") or ch == "-"
        start = self.i
        if not self.bump_and_bump_space():
            raise self.error((wb_start, self.i), "SpecialWordOrRepetitionUnexpectedEof")
        start_contents = self.i
        if not valid(self.char()):
            self.i = start
            return None
        scratch = ""
        while not self.eof() and valid(self.char()):
            scratch += self.char()
            self.bump_and_bump_space()
        if self.eof() or self.char() != "}":
            raise self.error((start, self.i), "SpecialWordBoundaryUnclosed")
        end = self.i
        self.bump()
        kinds = {"start": "wb_start", "end": "wb_end", "start-half": "wb_start_half", "end-half": "wb_end_half"}
        if scratch not in kinds:
            raise self.error((start_contents, end), "SpecialWordBoundaryUnrecognized")
        return kinds[scratch]

    def parse_hex(self):
        digits = {"x": 2, "u": 4, "U": 8}[self.char()]
        if not self.bump_and_bump_space():
            raise self.error(self.span(), "EscapeUnexpectedEof")
        if self.char() == "{":
            return self.parse_hex_brace()
        scratch = ""
        start = self.i
        for k in range(digits):
            if k > 0 and not self.bump_and_bump_space():
                raise self.error(self.span(), "EscapeUnexpectedEof")
            if not _is_hex(self.char()):
                raise self.error(self.span_char(), "EscapeHexInvalidDigit")
            scratch += self.char()
        self.bump_and_bump_space()
        end = self.i
        value = int(scratch, 16)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise self.error((start, end), "EscapeHexInvalid")
        return ("lit", chr(value), (start, end))

    def parse_hex_brace(self):
        brace = self.i
        start = self.i + 1
        scratch = ""
        while self.bump_and_bump_space() and self.char() != "}":
            if not _is_hex(self.char()):
                raise self.error(self.span_char(), "EscapeHexInvalidDigit")
            scratch += self.char()
        if self.eof():
            raise self.error((brace, self.i), "EscapeUnexpectedEof")
        end = self.i
        self.bump_and_bump_space()
        if not scratch:
            raise self.error((brace, self.i), "EscapeHexEmpty")
        value = int(scratch, 16)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise self.error((start, end), "EscapeHexInvalid")
        return ("lit", chr(value), (start, self.i))

    def parse_unicode_class(self, start):
        if not self.bump_and_bump_space():
            raise self.error(self.span(), "EscapeUnexpectedEof")
        if self.char() == "{":
            while self.bump_and_bump_space() and self.char() != "}":
                pass
            if self.eof():
                raise self.error(self.span(), "EscapeUnexpectedEof")
            self.bump()
        else:
            if self.char() == "\\":
                raise self.error(self.span_char(), "UnicodeClassInvalid")
            self.bump_and_bump_space()
        raise self.error((start, self.i), "UnicodeUnsupported")

    # -- character classes ---------------------------------------------------------------

    def parse_set_class(self):
        union = []
        while True:
            self.bump_space()
            if self.eof():
                raise self.unclosed_class_error()
            c = self.char()
            if c == "[":
                if self.classes:
                    ascii_class = self.maybe_parse_ascii_class()
                    if ascii_class is not None:
                        union.append(ascii_class)
                        continue
                union = self.push_class_open(union)
            elif c == "]":
                done, value = self.pop_class(union)
                if done:
                    return value
                union = value
            elif c == "&" and self.peek() == "&":
                self.bump_if("&&")
                union = self.push_class_op("and", union)
            elif c == "-" and self.peek() == "-":
                self.bump_if("--")
                union = self.push_class_op("minus", union)
            elif c == "~" and self.peek() == "~":
                self.bump_if("~~")
                union = self.push_class_op("xor", union)
            else:
                union.append(self.parse_set_class_range())

    def unclosed_class_error(self):
        for state in reversed(self.classes):
            if state[0] == "open":
                return self.error(state[2]["span"], "ClassUnclosed")
        raise AssertionError("no open class")

    def push_class_open(self, parent_union):
        nested_set, nested_union = self.parse_set_class_open()
        self.classes.append(("open", parent_union, nested_set))
        return nested_union

    def parse_set_class_open(self):
        start = self.i
        if not self.bump_and_bump_space():
            raise self.error((start, self.i), "ClassUnclosed")
        negated = False
        if self.char() == "^":
            negated = True
            if not self.bump_and_bump_space():
                raise self.error((start, self.i), "ClassUnclosed")
        union = []
        while self.char() == "-":
            union.append(("lit", "-", self.span_char()))
            if not self.bump_and_bump_space():
                raise self.error((start, start), "ClassUnclosed")
        if not union and self.char() == "]":
            union.append(("lit", "]", self.span_char()))
            if not self.bump_and_bump_space():
                raise self.error((start, self.i), "ClassUnclosed")
        return {"span": (start, self.i), "negated": negated}, union

    def push_class_op(self, kind, union):
        lhs = self.pop_class_op(("union", union))
        self.classes.append(("op", kind, lhs))
        return []

    def pop_class_op(self, rhs):
        if self.classes and self.classes[-1][0] == "op":
            _, kind, lhs = self.classes.pop()
            return ("op", kind, lhs, rhs)
        return rhs

    def pop_class(self, nested_union):
        prevset = self.pop_class_op(("union", nested_union))
        _, union, set_ = self.classes.pop()
        self.bump()
        cls = ("class", set_["negated"], prevset)
        if not self.classes:
            return True, cls
        union.append(cls)
        return False, union

    def maybe_parse_ascii_class(self):
        start = self.i
        negated = False
        if not self.bump() or self.char() != ":":
            self.i = start
            return None
        if not self.bump():
            self.i = start
            return None
        if self.char() == "^":
            negated = True
            if not self.bump():
                self.i = start
                return None
        name_start = self.i
        while self.char() != ":" and self.bump():
            pass
        if self.eof():
            self.i = start
            return None
        name = self.p[name_start : self.i]
        if not self.bump_if(":]") or name not in ASCII_CLASSES:
            self.i = start
            return None
        return ("ascii", name, negated)

    def parse_set_class_range(self):
        prim1 = self.parse_set_class_item()
        self.bump_space()
        if self.eof():
            raise self.unclosed_class_error()
        if self.char() != "-" or self.peek_space() in ("]", "-"):
            return self.into_class_set_item(prim1)
        if not self.bump_and_bump_space():
            raise self.unclosed_class_error()
        prim2 = self.parse_set_class_item()
        span = (prim1[-1][0], prim2[-1][1])
        a = self.into_class_literal(prim1)
        b = self.into_class_literal(prim2)
        if a > b:
            raise self.error(span, "ClassRangeInvalid")
        return ("range", a, b)

    def parse_set_class_item(self):
        if self.char() == "\\":
            return self.parse_escape()
        item = ("lit", self.char(), self.span_char())
        self.bump()
        return item

    def into_class_set_item(self, prim):
        if prim[0] in ("lit", "perl"):
            return prim
        raise self.error(prim[-1], "ClassEscapeInvalid")

    def into_class_literal(self, prim):
        if prim[0] == "lit":
            return prim[1]
        raise self.error(prim[-1], "ClassRangeLiteral")


# -- translation to Python's `re` ----------------------------------------------------------


def _class_char(c):
    if c in "\\]^-[&~|":
        return "\\" + c
    if c == "\n":
        return "\\n"
    return c


_WS_CLASS = "".join(_class_char(c) for c in WHITE_SPACE)


_ATOM = re.compile(r"(?s)\\?.|\[\^?\]?(?:\\.|[^\]\\\[])*\]|\((?:\\.|[^()\\])*\)")


class _Emitter:
    """Writes a parsed pattern as a Python pattern. `base` holds the flags
    the Python pattern is compiled with (those a leading `(?flags)` sets);
    atoms under other flags get scoped flag groups."""

    def __init__(self, base):
        self.flags = {"i": False, "m": False, "s": False, "U": False, "u": True, "R": False, "x": False}
        self.apply(base)
        self.base = dict(self.flags)
        self.names = []  # (index, python group name, rust name or None)

    def apply(self, flags):
        for flag, on in flags:
            self.flags[flag] = on

    def _scoped(self, flag, fragment):
        """`fragment` under the current state of `flag` (i, s or m)."""
        on = self.flags[flag]
        if on == self.base[flag]:
            return fragment
        return "(?%s%s:%s)" % ("" if on else "-", flag, fragment)

    def emit(self, ast):
        kind = ast[0]
        if kind == "concat":
            out = []
            for item in ast[1]:
                if item[0] == "flags":
                    self.apply(item[1])
                else:
                    out.append(self.emit(item))
            return "".join(out)
        if kind == "alt":
            return "|".join(self.emit(branch) for branch in ast[1])
        if kind == "group":
            group = ast[1]
            saved = dict(self.flags)
            self.apply(group["flags"])
            inner = self.emit(group["ast"])
            self.flags = saved
            if group["index"] is None:
                return "(?:" + inner + ")"
            name = "g%d" % group["index"]
            self.names.append((group["index"], name, group["name"]))
            return "(?P<%s>%s)" % (name, inner)
        if kind == "rep":
            _, inner, lo, hi, greedy = ast
            if self.flags["U"]:
                greedy = not greedy
            if (lo, hi) == (0, None):
                op = "*"
            elif (lo, hi) == (1, None):
                op = "+"
            elif (lo, hi) == (0, 1):
                op = "?"
            elif hi is None:
                op = "{%d,}" % lo
            elif lo == hi:
                op = "{%d}" % lo
            else:
                op = "{%d,%d}" % (lo, hi)
            fragment = self.emit(inner)
            if inner[0] in ("rep", "assert") or not _ATOM.fullmatch(fragment):
                fragment = "(?:" + fragment + ")"
            return fragment + op + ("" if greedy else "?")
        if kind == "lit":
            return self.literal(ast[1])
        if kind == "dot":
            if self.flags["R"] and not self.flags["s"]:
                return "[^\\n\\r]"
            return self._scoped("s", ".")
        if kind == "assert":
            return self.assertion(ast[1])
        if kind == "perl":
            return self.perl(ast[1], ast[2])
        if kind == "class":
            return self.char_class(ast)
        raise AssertionError(kind)

    def literal(self, c):
        escaped = re.escape(c)
        folds = c.lower() != c or c.upper() != c or c.casefold() != c
        if not folds:
            return escaped
        if self.flags["i"] and not self.flags["u"]:
            # ASCII-only case folding.
            if c.isascii():
                return "[%s%s]" % (c.lower(), c.upper())
            return "(?-i:%s)" % escaped if self.base["i"] else escaped
        return self._scoped("i", escaped)

    def assertion(self, kind):
        if kind == "start_line":
            return ("^" if self.base["m"] else "(?m:^)") if self.flags["m"] else "\\A"
        if kind == "end_line":
            return ("$" if self.base["m"] else "(?m:$)") if self.flags["m"] else "\\Z"
        if kind == "start_text":
            return "\\A"
        if kind == "end_text":
            return "\\Z"
        w = "\\w" if self.flags["u"] else "[0-9A-Za-z_]"
        if kind == "wb":
            return "\\b" if self.flags["u"] else "(?a:\\b)"
        if kind == "nwb":
            return "\\B" if self.flags["u"] else "(?a:\\B)"
        if kind == "wb_start":
            return "(?<!%s)(?=%s)" % (w, w)
        if kind == "wb_end":
            return "(?<=%s)(?!%s)" % (w, w)
        if kind == "wb_start_half":
            return "(?<!%s)" % w
        if kind == "wb_end_half":
            return "(?!%s)" % w
        raise AssertionError(kind)

    def perl(self, kind, negated):
        if self.flags["u"]:
            positive = {"d": "\\d", "w": "\\w", "s": "[" + _WS_CLASS + "]"}[kind]
            negative = {"d": "\\D", "w": "\\W", "s": "[^" + _WS_CLASS + "]"}[kind]
        else:
            positive = {"d": "[0-9]", "w": "[0-9A-Za-z_]", "s": "[\\t\\n\\x0b\\x0c\\r ]"}[kind]
            negative = {"d": "[^0-9]", "w": "[^0-9A-Za-z_]", "s": "[^\\t\\n\\x0b\\x0c\\r ]"}[kind]
        return negative if negated else positive

    def _members(self, item):
        """The inside of a Python `[...]` for a simple class item, or None."""
        kind = item[0]
        if kind == "lit":
            return _class_char(item[1])
        if kind == "range":
            return _class_char(item[1]) + "-" + _class_char(item[2])
        if kind == "ascii":
            if item[2]:
                return None
            return "".join(_class_char(a) + "-" + _class_char(b) for a, b in ASCII_CLASSES[item[1]])
        if kind == "perl":
            if item[2]:
                return None
            if self.flags["u"]:
                return {"d": "\\d", "w": "\\w", "s": _WS_CLASS}[item[1]]
            return {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\x0b\\x0c\\r "}[item[1]]
        return None

    def _item(self, item):
        """A Python fragment matching one character of a class item."""
        kind = item[0]
        if kind == "class":
            return self.char_class(item)
        if kind == "perl":
            return self.perl(item[1], item[2])
        if kind == "ascii" and item[2]:
            return "[^" + self._members(("ascii", item[1], False)) + "]"
        return "[" + self._members(item) + "]"

    def _set(self, set_):
        """A Python fragment matching one character of a class set."""
        if set_[0] == "union":
            items = set_[1]
            members = [self._members(item) for item in items]
            if all(m is not None for m in members):
                return "[" + "".join(members) + "]" if members else "[^\\s\\S]"
            simple = "".join(m for m in members if m is not None)
            parts = (["[" + simple + "]"] if simple else []) + [
                self._item(item) for item, m in zip(items, members) if m is None
            ]
            return "(?:" + "|".join(parts) + ")"
        _, kind, lhs, rhs = set_
        a, b = self._set(lhs), self._set(rhs)
        if kind == "and":
            return "(?:(?=%s)%s)" % (a, b)
        if kind == "minus":
            return "(?:(?!%s)%s)" % (b, a)
        return "(?:(?!(?=%s)%s)(?:%s|%s))" % (a, b, a, b)

    def char_class(self, ast):
        _, negated, set_ = ast
        fragment = self._set(set_)
        if negated:
            if fragment.startswith("[") and not fragment.startswith("[^") and fragment.count("[") == 1:
                fragment = "[^" + fragment[1:]
            else:
                fragment = "(?:(?!%s)(?s:.))" % fragment
        if self.flags["i"] and not self.flags["u"]:
            return "(?a%s:%s)" % ("" if self.base["i"] else "i", fragment)
        return self._scoped("i", fragment)


class Regex:
    """A compiled pattern: `search`/`is_match` as Rust's `Regex`, and the
    capture group names in group order."""

    def __init__(self, compiled, names):
        self.compiled = compiled
        self._names = names  # [(python name, rust name)] by group index

    def is_match(self, text):
        return self.compiled.search(text) is not None

    def captures(self, text):
        """The first match's named groups that took part, in group order, as
        (rust name, matched text); None without a match."""
        m = self.compiled.search(text)
        if m is None:
            return None
        out = []
        for py_name, rust_name in self._names:
            if rust_name is None:
                continue
            value = m.group(py_name)
            if value is not None:
                out.append((rust_name, value))
        return out


def escape(text):
    """`regex::escape`: `text` with every meta character escaped."""
    return "".join("\\" + c if c in META else c for c in text)


NEST_LIMIT = 250


def _check_nesting(pattern, ast, depth=0):
    """regex-syntax's `NestLimiter`: groups, repetitions, classes and set
    operations, and alternations and concatenations of more than one item
    each nest one level deeper; past 250 the pattern is refused (the span
    is exact for groups, the whole pattern otherwise)."""
    kind = ast[0]
    if kind in ("concat", "alt"):
        if len(ast[1]) > 1:
            depth += 1
            if depth > NEST_LIMIT:
                raise RegexError(pattern, "NestLimitExceeded", (0, len(pattern)))
        for item in ast[1]:
            _check_nesting(pattern, item, depth)
    elif kind == "group":
        if depth + 1 > NEST_LIMIT:
            raise RegexError(pattern, "NestLimitExceeded", ast[1]["span"])
        _check_nesting(pattern, ast[1]["ast"], depth + 1)
    elif kind == "rep":
        if depth + 1 > NEST_LIMIT:
            raise RegexError(pattern, "NestLimitExceeded", (0, len(pattern)))
        _check_nesting(pattern, ast[1], depth + 1)
    elif kind == "class":
        _check_set_nesting(pattern, ast[2], depth + 1)


def _check_set_nesting(pattern, set_, depth):
    if depth > NEST_LIMIT:
        raise RegexError(pattern, "NestLimitExceeded", (0, len(pattern)))
    if set_[0] == "union":
        items = set_[1]
        if len(items) > 1:
            depth += 1
        for item in items:
            if item[0] == "class":
                _check_set_nesting(pattern, item[2], depth + 1)
    else:
        _check_set_nesting(pattern, set_[2], depth + 1)
        _check_set_nesting(pattern, set_[3], depth + 1)


def compile(pattern):
    """`Regex::new(pattern)`; raises `RegexError` as Rust does."""
    try:
        ast = _Parser(pattern).parse()
        _check_nesting(pattern, ast)
        # Flags set at the very start apply to the whole pattern: compile the
        # Python pattern with them rather than scoping every atom.
        base = []
        if ast[0] == "concat" and ast[1] and ast[1][0][0] == "flags":
            base = [(f, on) for f, on in ast[1][0][1] if f in "ims"]
        emitter = _Emitter(base)
        translated = emitter.emit(ast)
        flags = 0
        if emitter.base["i"]:
            flags |= re.IGNORECASE
        if emitter.base["m"]:
            flags |= re.MULTILINE
        if emitter.base["s"]:
            flags |= re.DOTALL
        names = [(py, rust) for _, py, rust in sorted(emitter.names)]
        return Regex(re.compile(translated, flags), names)
    except (RecursionError, re.error, OverflowError):
        # Beyond what Python's `re` handles (nesting, repetition counts).
        raise RegexError(pattern, "PythonUnsupported", (0, len(pattern)))
