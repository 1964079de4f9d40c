"""Screening before routing (a port of `plugins/skills-router/src/screening.rs`;
opt-in, the `screening` config key): on `on-queued`, interactions of the
configured media types are screened by a screener plugin through the host
(`plugins.screen-interaction`). The result is recorded in attached data and
the best category can require a skill:

    screening = { plugin = "rules-screener", media = ["email"], category-skills = { billing = "billing", orders = { skill = "orders", level = 3 } } }

Attached data set from the result (replacing an earlier screening's):
`category` (text, removed when none matched), `category-score` (decimal,
removed when none matched), `categories` (texts, best first) and
`field.<name>` (text: the first 16 distinct names, values cut to 1024
bytes). A screening that fails is recorded as `screening-error`
(`<error kind>: <message>`), which the next successful screening removes.
"""

from wit_world.exports import routing
from wit_world.imports import types

import shape
from rustlike import as_text, cut, find_attribute, kind_name, trim

CATEGORY = "category"
CATEGORY_SCORE = "category-score"
CATEGORIES = "categories"
SCREENING_ERROR = "screening-error"
FIELD_PREFIX = "field."
MAX_FIELDS = 16
"""Most extracted fields recorded (a decision carries at most 64 changes)."""
MAX_FIELD_VALUE = 1024
"""Longest extracted value (or error message) recorded, in bytes."""


REQUIREMENT = shape.record({"skill": (shape.string, shape.REQUIRED), "level": (shape.u8, shape.REQUIRED)})
"""`{ skill, level }` (other fields ignored)."""


def _category_skill(value, path):
    """A skill name (level 1) or `{ skill, level }`, as `(skill, level)`."""
    if isinstance(value, str):
        return (value, 1)
    if isinstance(value, dict):
        r = REQUIREMENT(value, path)
        return (r["skill"], r["level"])
    shape.expected(path, "a skill name or an object `{ skill, level }`", value)


SCREENING = shape.record(
    {
        "plugin": (shape.string, shape.REQUIRED),
        "media": (shape.array(shape.string), shape.REQUIRED),
        "category-skills": (shape.mapping(_category_skill), dict),
    },
    deny_unknown=True,
)


class Screening:
    """The `screening` configuration."""

    def __init__(self, parsed):
        self.plugin = parsed["plugin"]
        self.media = parsed["media"]
        # category -> (skill, level)
        self.category_skills = parsed["category-skills"]

    def screens(self, media_type):
        """Whether interactions of `media_type` are screened."""
        return any(m == "*" or m == media_type for m in self.media)

    def requirement(self, interaction):
        """The `(skill, level)` required by the interaction's `category`, if
        it maps to one."""
        value = find_attribute(interaction.attached, CATEGORY)
        category = as_text(value) if value is not None else None
        if category is None:
            return None
        return self.category_skills.get(category)


def _set(key, value):
    return routing.Change_SetAttribute(types.Attribute(key, value))


def changes(interaction, screened):
    """The changes recording the outcome of screening `interaction` in its
    attached data; `screened` is `(True, screen_result)` or `(False, error)`."""
    ok, outcome = screened
    if ok:
        recorded_changes = recorded(outcome)
        if find_attribute(interaction.attached, SCREENING_ERROR) is not None:
            recorded_changes.append(routing.Change_RemoveAttribute(SCREENING_ERROR))
        return recorded_changes
    text = "%s: %s" % (kind_name(outcome.kind), outcome.message)
    return [_set(SCREENING_ERROR, types.Value_Text(cut(text, MAX_FIELD_VALUE)))]


def recorded(result):
    """The attributes recording a screening result."""
    if result.categories:
        best = result.categories[0]
        out = [
            _set(CATEGORY, types.Value_Text(best.name)),
            _set(CATEGORY_SCORE, types.Value_Decimal(best.score)),
        ]
    else:
        out = [
            routing.Change_RemoveAttribute(CATEGORY),
            routing.Change_RemoveAttribute(CATEGORY_SCORE),
        ]
    out.append(_set(CATEGORIES, types.Value_Texts([c.name for c in result.categories])))
    seen = []
    for field in result.fields:
        if len(seen) == MAX_FIELDS:
            break
        if not trim(field.name) or field.name in seen:
            continue
        seen.append(field.name)
        out.append(_set(FIELD_PREFIX + field.name, types.Value_Text(cut(field.value, MAX_FIELD_VALUE))))
    return out


def apply(interaction, changes_):
    """`interaction` with the attached-data changes among `changes_` applied:
    what the strategy decides on before the host writes them."""
    attached = list(interaction.attached)
    for change in changes_:
        if isinstance(change, routing.Change_SetAttribute):
            attached = [a for a in attached if a.key != change.value.key]
            attached.append(change.value)
        elif isinstance(change, routing.Change_RemoveAttribute):
            attached = [a for a in attached if a.key != change.value]
    return types.Interaction(
        interaction.id,
        interaction.tenant,
        interaction.media_type,
        interaction.queue,
        interaction.priority,
        interaction.age_ms,
        interaction.queue_age_ms,
        interaction.subject,
        attached,
        interaction.contact,
        interaction.thread_id,
    )
