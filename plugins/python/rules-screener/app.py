"""Reference screener for Parley, in Python (a port of
`plugins/rules-screener`): classifies content with rules from the plugin's
configuration (see `rules`) into scored categories and extracted fields.

Compiling the rules (regular expressions) is the expensive part, so the
compiled rule set is kept for the life of the instance, like the Rust
original's `OnceLock`: the manifest asks for warm instances.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import config
from wit_world.imports.log import Level

from rules import RuleSet
from rustlike import log

_rules = None  # (rule set, error): the first call's outcome, kept


class Screening(exports.Screening):
    """The exported screener."""

    def screen(self, request):
        global _rules
        if _rules is None:
            text = config.get("rules")
            try:
                _rules = (RuleSet.from_json("[]" if text is None else text), None)
            except Err as e:
                _rules = (None, e.value)
        rules, error = _rules
        if error is not None:
            raise Err(error)
        result = rules.screen(request)
        log(Level.DEBUG, "screened", [("matched", ",".join(result.matched_rules))])
        return result
