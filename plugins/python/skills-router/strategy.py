"""The skills-routing policy (a port of `plugins/skills-router/src/strategy.rs`),
as plain functions over the WIT types.

Configuration (the `[config]` table of the manifest):

| key | meaning | default |
|---|---|---|
| `requirements` | table: media type (or `*` for any) to a list of `{ skill, level }` | no requirement |
| `skills-attribute` | attached-data key whose texts (`"billing:5"`) replace the requirements | `skills` |
| `relax-after-ms` | waiting time after which each required level drops by `relax-step`; `0` never relaxes | `0` |
| `relax-step` | levels dropped per relaxation | `1` |
| `relax-floor` | lowest level relaxation reaches | `0` |
| `queued-messages` | table: media type to a message for the customer when the interaction enters the queue | none |
| `screening` | table: screen interactions before routing them, see `screening` | no screening |
"""

from wit_world.exports import routing

from candidates import RecordAgent
import rustlike
import screening
import shape
from rustlike import find_attribute, invalid_input, texts, trim

RELAX_TIMER = "relax"
"""The tag of the timer that relaxes the required levels."""

REQUIREMENTS = shape.mapping(shape.array(screening.REQUIREMENT))
QUEUED_MESSAGES = shape.mapping(shape.string)


def parse(key, raw, bits):
    """`raw.trim().parse::<uN>()`, the error naming the key."""
    value = rustlike.parse_uint(trim(raw), bits)
    if value is None:
        raise invalid_input("config `%s`: cannot parse `%s`" % (key, raw))
    return value


def _json(key, value, check):
    try:
        return shape.load(value, check)
    except shape.ShapeError as e:
        raise invalid_input("config `%s`: %s" % (key, e))


class Requirement:
    """One required skill: name and minimum level before relaxation."""

    __slots__ = ("skill", "level")

    def __init__(self, skill, level):
        self.skill = skill
        self.level = level


class Policy:
    """The routing policy, read from the plugin's configuration."""

    def __init__(self):
        self.requirements = {}
        self.skills_attribute = "skills"
        self.relax_after_ms = 0
        self.relax_step = 1
        self.relax_floor = 0
        self.queued_messages = {}
        self.screening = None

    @staticmethod
    def from_entries(entries):
        """Reads the policy from configuration entries (key, value text)."""
        policy = Policy()
        for key, value in entries:
            if key == "requirements":
                parsed = _json("requirements", value, REQUIREMENTS)
                policy.requirements = {
                    media: [Requirement(r["skill"], r["level"]) for r in reqs]
                    for media, reqs in parsed.items()
                }
            elif key == "skills-attribute":
                policy.skills_attribute = value
            elif key == "relax-after-ms":
                policy.relax_after_ms = parse(key, value, 64)
            elif key == "relax-step":
                policy.relax_step = parse(key, value, 8)
            elif key == "relax-floor":
                policy.relax_floor = parse(key, value, 8)
            elif key == "queued-messages":
                policy.queued_messages = _json("queued-messages", value, QUEUED_MESSAGES)
            elif key == "screening":
                policy.screening = screening.Screening(_json("screening", value, screening.SCREENING))
        return policy

    def base_requirements(self, interaction):
        """The requirements before relaxation: from the skills attribute if
        the interaction has one, else for its media type, else for `*`;
        plus the skill its screened category requires."""
        value = find_attribute(interaction.attached, self.skills_attribute)
        if value is not None:
            requirements = []
            for text in texts(value):
                skill, sep, level = text.partition(":")
                if not sep:
                    skill, level = text, "0"
                requirements.append(Requirement(trim(skill), parse(self.skills_attribute, level, 8)))
        else:
            configured = self.requirements.get(interaction.media_type)
            if configured is None:
                configured = self.requirements.get("*", [])
            requirements = [Requirement(r.skill, r.level) for r in configured]
        screened = self.screening.requirement(interaction) if self.screening is not None else None
        if screened is not None:
            required = Requirement(*screened)
            for r in requirements:
                if r.skill == required.skill:
                    r.level = max(r.level, required.level)
                    break
            else:
                requirements.append(required)
        return requirements

    def relax_steps(self, interaction):
        """How many relaxation steps have passed for this interaction."""
        if self.relax_after_ms == 0:
            return 0
        return interaction.queue_age_ms // self.relax_after_ms

    def relaxed(self, level, steps):
        """`level` lowered by `steps` relaxations, never below the floor (and
        never raised when it was configured below the floor)."""
        lowered = max(level - steps * self.relax_step, 0)
        return max(lowered, min(self.relax_floor, level))

    def requirements_now(self, interaction):
        """The requirements in force for the interaction now, after relaxation."""
        steps = self.relax_steps(interaction)
        return [
            routing.SkillRequirement(r.skill, self.relaxed(r.level, steps))
            for r in self.base_requirements(interaction)
        ]

    def decide(self, interaction):
        """Routes to the skills in force now, with a timer for the next
        relaxation while any level can still drop."""
        base = self.base_requirements(interaction)
        steps = self.relax_steps(interaction)
        target = routing.Target_Skills(self.requirements_now(interaction))
        can_relax_further = self.relax_after_ms > 0 and any(
            self.relaxed(r.level, steps) > self.relaxed(r.level, steps + 1) for r in base
        )
        timer = None
        if can_relax_further:
            after = self.relax_after_ms - interaction.queue_age_ms % self.relax_after_ms
            timer = routing.Timer(after, RELAX_TIMER)
        return routing.Decision(routing.Action_Route(routing.RouteRequest(target, timer)), [])

    def screener_for(self, interaction):
        """The screener to ask about an interaction entering the queue, if
        its media type is screened."""
        if self.screening is not None and self.screening.screens(interaction.media_type):
            return self.screening.plugin
        return None

    def on_queued(self, interaction, screened):
        """The decision for an interaction entering the queue: the outcome of
        screening it (if it was: `screened` is `(ok, result_or_error)`)
        recorded in attached data, `decide` on the interaction as it is with
        them, and the message for the customer configured for its media type."""
        recorded = screening.changes(interaction, screened) if screened is not None else []
        decision = self.decide(screening.apply(interaction, recorded))
        decision.changes = recorded + decision.changes
        message = self.queued_messages.get(interaction.media_type)
        if message is not None:
            decision.changes.append(routing.Change_Notify(message))
        return decision

    @staticmethod
    def qualifies(agent, requirements, media_type):
        """Whether `agent` (read as `lib/candidates.py` reads agents) meets
        `requirements` and can take one more interaction of `media_type`."""
        load = agent.load(media_type)
        if load is None or not load[0] < load[1]:
            return False
        for r in requirements:
            level = agent.skill_level(r.skill)
            if level is None or level < r.min_level:
                return False
        return True

    def pick_agent(self, interaction, candidates):
        """The qualifying agent with the lowest share of its capacity on the
        media type in use, then the longest idle (ties: lowest id)."""
        requirements = self.requirements_now(interaction)
        media_type = interaction.media_type
        best = best_load = None
        for agent in candidates:
            if not self.qualifies(agent, requirements, media_type):
                continue
            load = agent.load(media_type)
            if best is not None:
                # Shares of capacity compared by cross products (exact);
                # Python's str order is code-point order, as Rust's is.
                mine, theirs = load[0] * best_load[1], best_load[0] * load[1]
                if (mine, -agent.idle_ms, agent.id) >= (theirs, -best.idle_ms, best.id):
                    continue
            best, best_load = agent, load
        return None if best is None else best.id

    def pick_interaction(self, record, waiting):
        """The waiting interaction the agent qualifies for with the highest
        priority, then the longest wait (ties: lowest id)."""
        agent = RecordAgent(record)
        best = None
        for interaction in waiting:
            requirements = self.requirements_now(interaction)
            if not self.qualifies(agent, requirements, interaction.media_type):
                continue
            if best is None:
                better = True
            else:
                mine = (interaction.priority, interaction.age_ms)
                theirs = (best.priority, best.age_ms)
                better = mine > theirs or (mine == theirs and interaction.id < best.id)
            if better:
                best = interaction
        return None if best is None else best.id
