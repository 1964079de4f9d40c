"""Reference routing strategy for Parley, in Python (a port of
`plugins/skills-router`): routes each interaction to agents having the
required skills at minimum levels, relaxes the levels the longer it waits,
serves higher priority then older interactions first, and gives each
interaction to the longest-idle agent with free capacity. Optionally it
screens interactions of some media types first and routes on the category
found (`screening`).

The decision logic lives in `strategy` and `screening`; this module holds
the exports and the host calls.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import config, plugins
from wit_world.imports.log import Level

import strategy
from candidates import agents
from rustlike import invalid_input, kind_name, log

_cached = None  # (policy, error), from the first call of the instance


def policy():
    """The policy, parsed from the configuration on the instance's first
    call and kept for its later ones (a version's configuration never
    changes)."""
    global _cached
    if _cached is None:
        try:
            _cached = (strategy.Policy.from_entries(config.entries()), None)
        except Err as e:
            _cached = (None, e.value)
    if _cached[1] is not None:
        raise Err(_cached[1])
    return _cached[0]


def screen(screener, interaction):
    """Screens the interaction with `screener`: `(True, result)`, or
    `(False, error)` after logging the failure (the interaction is then
    routed without screening)."""
    try:
        return (True, plugins.screen_interaction(screener, interaction.id))
    except Err as e:
        error = e.value
        log(
            Level.WARN,
            "screening failed; routing without it",
            [
                ("interaction", interaction.id),
                ("screener", screener),
                ("kind", kind_name(error.kind)),
                ("error", error.message),
            ],
        )
        return (False, error)


class Routing(exports.Routing):
    """The exported routing strategy."""

    def on_queued(self, interaction):
        p = policy()
        screener = p.screener_for(interaction)
        screened = screen(screener, interaction) if screener is not None else None
        decision = p.on_queued(interaction, screened)
        log(Level.DEBUG, "queued", [("interaction", interaction.id), ("queue", interaction.queue)])
        return decision

    def on_timer(self, interaction, tag):
        if tag != strategy.RELAX_TIMER:
            raise invalid_input("unknown timer `%s`" % tag)
        return policy().decide(interaction)

    def pick_agent(self, interaction, candidates):
        return policy().pick_agent(interaction, agents(candidates))

    def pick_interaction(self, agent, waiting):
        return policy().pick_interaction(agent, waiting)
