"""Screening rules and their evaluation (a port of
`plugins/rules-screener/src/rules.rs`).

`rules` in the manifest's `[config]` is a list of tables:

    rules = [
      { name = "refund", category = "billing", keywords = ["refund", "money back"], score = 0.9 },
      { name = "order", category = "orders", pattern = '(?i)order\\s*#?\\s*(?P<order_number>[A-Z0-9]{6,})' },
      { name = "vip", category = "priority", attribute = "segment", equals = "vip" },
    ]

A rule matches when every condition it has holds: `keywords` (any of them,
case-insensitive, as whole words), `all-keywords` (all of them), `pattern`
(a regular expression, compiled and run by the host's pattern engine with
Rust `regex` syntax; its named groups become extracted fields) and `attribute` + `equals` (attached data). Text
conditions look at the subject and the content (HTML tags removed). A
category's score combines its matching rules' scores as independent
evidence: `1 - prod(1 - score)`.
"""

from componentize_py_types import Err
from wit_world.imports import types
from wit_world.imports.patterns import Regex

import shape
from rustlike import eq_ignore_ascii_case, find_attribute, invalid_input, round_half_away, texts, trim

RULES = shape.array(
    shape.record(
        {
            "name": (shape.string, shape.REQUIRED),
            "category": (shape.optional(shape.string), None),
            "score": (shape.number, 1.0),
            "keywords": (shape.array(shape.string), list),
            "all-keywords": (shape.array(shape.string), list),
            "pattern": (shape.optional(shape.string), None),
            "attribute": (shape.optional(shape.string), None),
            "equals": (shape.optional(shape.string), None),
        },
        deny_unknown=True,
    )
)

# What `regex::escape` escapes (`regex_syntax::is_meta_character`).
META_CHARACTERS = frozenset("\\.+*?()|[]{}^$#&-~")


def escape(text):
    """`regex::escape`: `text` as a pattern matching it literally."""
    return "".join("\\" + c if c in META_CHARACTERS else c for c in text)


def word_regex(words):
    """Any of `words`, case-insensitive, as whole words."""
    return Regex.compile("(?i)\\b(?:%s)\\b" % "|".join(escape(trim(w)) for w in words))


class Rule:
    """A rule ready to evaluate."""

    def __init__(self, config):
        name = config["name"]

        def compiled(what, make):
            try:
                return make()
            except Err as e:
                raise invalid_input("rule `%s`: %s: %s" % (name, what, e.value.message))

        score = config["score"]
        if not 0.0 <= score <= 1.0:
            raise invalid_input("rule `%s`: score must be between 0 and 1" % name)
        score = float(score)
        keywords = config["keywords"]
        self.any_of = compiled("keywords", lambda: word_regex(keywords)) if keywords else None
        self.all_of = [compiled("all-keywords", lambda w=w: word_regex([w])) for w in config["all-keywords"]]
        pattern = config["pattern"]
        self.pattern = compiled("pattern", lambda: Regex.compile(pattern)) if pattern is not None else None
        attribute = config["attribute"]
        self.attribute = (attribute, config["equals"]) if attribute is not None else None
        if self.any_of is None and not self.all_of and self.pattern is None and self.attribute is None:
            raise invalid_input("rule `%s` has no condition" % name)
        self.name = name
        self.category = config["category"]
        self.score = score

    def evaluate(self, text, request):
        """None when the rule does not match; else the fields its pattern
        extracts, as (name, value) pairs."""
        if self.attribute is not None:
            key, equals = self.attribute
            value = find_attribute(request.attached, key)
            if value is None:
                return None
            if equals is not None and not any(eq_ignore_ascii_case(t, equals) for t in texts(value)):
                return None
        if self.any_of is not None and not self.any_of.is_match(text):
            return None
        if any(not r.is_match(text) for r in self.all_of):
            return None
        if self.pattern is None:
            return []
        groups = self.pattern.captures(text)
        if groups is None:
            return None
        return [
            (g.name.replace("_", "-"), trim(g.span.text))
            for g in groups
            if g.name is not None and g.span is not None
        ]


def strip_tags(html):
    """Removes HTML tags, keeping the text between them."""
    out = []
    in_tag = False
    for c in html:
        if c == "<":
            in_tag = True
        elif c == ">" and in_tag:
            in_tag = False
            out.append(" ")
        elif not in_tag:
            out.append(c)
    return "".join(out)


class RuleSet:
    """A compiled set of rules."""

    def __init__(self, rules):
        self.rules = rules

    @staticmethod
    def from_json(text):
        """Compiles the rules from their JSON configuration. Every error names
        the rule it is about."""
        try:
            configs = shape.load(text, RULES)
        except shape.ShapeError as e:
            raise invalid_input("config `rules`: %s" % e)
        return RuleSet([Rule(c) for c in configs])

    def screen(self, request):
        """Screens one request."""
        body = request.content.text
        if request.content.content_type == "text/html":
            body = strip_tags(body)
        text = body if request.subject is None else request.subject + "\n" + body
        miss_probability = {}
        fields = []
        field_names = set()
        matched_rules = []
        for rule in self.rules:
            extracted = rule.evaluate(text, request)
            if extracted is None:
                continue
            matched_rules.append(rule.name)
            if rule.category is not None:
                miss_probability[rule.category] = miss_probability.get(rule.category, 1.0) * (1.0 - rule.score)
            for name, value in extracted:
                if name not in field_names:
                    field_names.add(name)
                    fields.append(types.ExtractedField(name, value))
        categories = [
            types.CategoryMatch(name, round_half_away((1.0 - miss) * 10000.0) / 10000.0)
            for name, miss in sorted(miss_probability.items())
        ]
        # Score descending (`f64::total_cmp`), then name.
        categories.sort(key=lambda c: c.name)
        categories.sort(key=lambda c: c.score, reverse=True)
        return types.ScreenResult(categories, fields, matched_rules)
