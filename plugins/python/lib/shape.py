"""Configuration values: JSON text read with `json.loads`, then checked
against the shape the plugin expects. Each checker takes a decoded value
and its path (`[0].keywords`, `["*"][1].level`; empty at the top) and
returns the value to use, or raises `ShapeError` naming the path.
Messages use JSON's names for types, so they read the same in every
language."""

import json


class ShapeError(Exception):
    """JSON text that does not parse, or a value of the wrong shape."""


def load(text, check):
    """`text` decoded with `json.loads` (its own error messages), then checked."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ShapeError(str(e))
    return check(value, "")


def describe(value):
    """The value as an error message names it."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return json.dumps(value)  # null, true, false or the number


def fail(path, message):
    raise ShapeError("%s: %s" % (path, message) if path else message)


def expected(path, what, value):
    fail(path, "expected %s, found %s" % (what, describe(value)))


def string(value, path):
    if not isinstance(value, str):
        expected(path, "a string", value)
    return value


def number(value, path):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        expected(path, "a number", value)
    return value


def u8(value, path):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        expected(path, "an integer from 0 to 255", value)
    return value


def optional(check):
    """`check`, or None for null."""
    return lambda value, path: None if value is None else check(value, path)


def array(check):
    """An array whose items pass `check`."""

    def checked(value, path):
        if not isinstance(value, list):
            expected(path, "an array", value)
        return [check(item, "%s[%d]" % (path, i)) for i, item in enumerate(value)]

    return checked


def mapping(check):
    """An object whose values pass `check`, as a dict."""

    def checked(value, path):
        if not isinstance(value, dict):
            expected(path, "an object", value)
        return {
            key: check(item, "%s[%s]" % (path, json.dumps(key, ensure_ascii=False)))
            for key, item in value.items()
        }

    return checked


REQUIRED = object()


def record(fields, deny_unknown=False):
    """An object with the given fields, as a dict: `fields` maps each name
    to `(check, default)`, where the default is REQUIRED, a value, or a
    function making one. Unknown fields are ignored unless `deny_unknown`."""

    def checked(value, path):
        if not isinstance(value, dict):
            expected(path, "an object", value)
        if deny_unknown:
            for key in value:
                if key not in fields:
                    fail(path, "unknown field `%s`; the fields are %s" % (key, ", ".join(fields)))
        out = {}
        for name, (check, default) in fields.items():
            field_path = "%s.%s" % (path, name) if path else name
            if name in value:
                out[name] = check(value[name], field_path)
            elif default is REQUIRED:
                fail(path, "missing field `%s`" % name)
            else:
                out[name] = default() if callable(default) else default
        return out

    return checked
