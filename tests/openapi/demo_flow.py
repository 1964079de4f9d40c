"""The README's demo flow, run with a client generated from the served
OpenAPI document (tests/all/openapi.rs generates it into `parley_client`
on PYTHONPATH): create agent ann with skills and capacity, log her in, make
her ready for chat, submit a chat to the demo process's `inbound` queue,
wait until it is offered to her, accept it, complete it with a
disposition, and read the queue statistics. PARLEY_URL is the server,
PARLEY_ADMIN_TOKEN its admin token."""

import os
import time

from parley_client import AuthenticatedClient, Client
from parley_client.api.accounts import create_agent, log_in, set_presence
from parley_client.api.interactions import (
    accept_interaction,
    complete_interaction,
    show_interaction,
    submit_interaction,
)
from parley_client.api.statistics import queue_stats
from parley_client.models import (
    AgentSpec,
    Completion,
    InteractionState,
    LogIn,
    NewInteraction,
    PresenceChange,
)

PATIENCE_S = 20

base = os.environ["PARLEY_URL"]
# Undocumented answers raise instead of passing unnoticed.
admin = AuthenticatedClient(
    base_url=base, token=os.environ["PARLEY_ADMIN_TOKEN"], raise_on_unexpected_status=True
)
anonymous = Client(base_url=base, raise_on_unexpected_status=True)


def expect(response, status):
    assert response.status_code == status, (response.status_code, response.content)
    return response.parsed


spec = AgentSpec.from_dict(
    {
        "id": "ann",
        "password": "ann-secret-1",
        "skills": [{"name": "support", "level": 3}],
        "capacity": {"limits": {"chat": 3, "email": 1}, "blocks": {"chat": ["email"]}},
    }
)
agent = expect(create_agent.sync_detailed(client=admin, body=spec), 201)
assert agent.id == "ann" and agent.skills[0].name == "support", agent

session = expect(
    log_in.sync_detailed(client=anonymous, body=LogIn(id="ann", password="ann-secret-1")), 201
)
assert session.agent.id == "ann"
ann = AuthenticatedClient(base_url=base, token=session.token, raise_on_unexpected_status=True)

presence = expect(
    set_presence.sync_detailed(
        id="ann", client=ann, body=PresenceChange(media=["chat"], state="ready")
    ),
    200,
)
assert presence.additional_properties["chat"].state.value == "ready", presence

chat = expect(
    submit_interaction.sync_detailed(
        client=admin, body=NewInteraction(tenant="acme", media_type="chat", queue="inbound")
    ),
    201,
)

# The router offers it to ann: read it (as the administrator: ann sees it
# once it is offered to her) until it is offered, a bounded wait.
deadline = time.monotonic() + PATIENCE_S
while True:
    routed = expect(show_interaction.sync_detailed(id=chat.id, client=admin), 200)
    if routed.state == InteractionState.OFFERED:
        break
    assert routed.state in (InteractionState.QUEUED, InteractionState.ROUTING), routed
    assert time.monotonic() < deadline, f"never offered: {routed}"
    time.sleep(0.02)
offered = expect(show_interaction.sync_detailed(id=chat.id, client=ann), 200)
assert offered.state == InteractionState.OFFERED and offered.owner == "ann", offered

accepted = expect(accept_interaction.sync_detailed(id=chat.id, client=ann), 200)
assert accepted.state == InteractionState.ACCEPTED, accepted

completed = expect(
    complete_interaction.sync_detailed(
        id=chat.id, client=ann, body=Completion(disposition="resolved")
    ),
    200,
)
assert completed.state == InteractionState.COMPLETED and completed.disposition == "resolved"

queues = expect(queue_stats.sync_detailed(client=admin), 200)
inbound = [q for q in queues if q.queue == "inbound"]
assert len(inbound) == 1 and inbound[0].waiting == 0, queues

print("demo flow done")
