"""Contract: ddsite's real client against the real sandbox over HTTP on loopback, no mocks."""

from __future__ import annotations

import jwt
import pytest
import requests

from ddsite.demo import ServerThread
from ddsite.deskdirector.client import Client
from ddsite.deskdirector.endpoints import DEFAULT_ENDPOINTS
from ddsite.deskdirector.errors import Forbidden, Invalid, NotFound, TokenRejected, Unavailable
from ddsite.deskdirector.models import Page, Ticket, TicketSummary, User
from ddsite.deskdirector.signing_keys import parse_key_list
from ddsite.sandbox import create_sandbox

from .conftest import ISSUED_TOKENS


@pytest.fixture(scope="module")
def sandbox():
    app = create_sandbox()
    server = ServerThread("localhost", 0, app).start()
    yield app, f"http://localhost:{server.port}"
    server.stop()


def _client(sandbox, transport, kind: str, user_id: int, ttl: int | None = None) -> Client:
    app, url = sandbox
    token = app.extensions["sandbox"]["tokens"].mint(kind, user_id, ttl)
    ISSUED_TOKENS.add(token)
    return Client(transport, DEFAULT_ENDPOINTS, url, token)


@pytest.fixture
def contact(sandbox, transport):
    return _client(sandbox, transport, "c", 101)


@pytest.fixture
def agent(sandbox, transport):
    return _client(sandbox, transport, "m", 201)


def test_who_am_i_parses_for_both_apps(contact, agent):
    me = contact.me("portal")
    assert isinstance(me, User) and me.user_name.endswith(".example") and me.company.name
    assert agent.me("tech").name == "Sam Reyes"


def test_wrong_app_is_forbidden(contact, agent):
    with pytest.raises(Forbidden):
        contact.me("tech")
    with pytest.raises(Forbidden):
        agent.me("portal")


def test_portal_ticket_list_ticket_and_lookups(contact):
    page = contact.tickets("portal", status="any", take=5)
    assert isinstance(page, Page) and page.total >= len(page.items) > 0
    assert all(isinstance(t, TicketSummary) and t.id and t.status for t in page.items)
    ticket = contact.ticket("portal", page.items[0].id)
    assert isinstance(ticket, Ticket) and ticket.created_on and ticket.notes
    assert not any(note.is_internal for note in ticket.notes)
    assert contact.lookup("portal.request_types") and contact.lookup("portal.priorities")


def test_portal_note_and_new_ticket(contact):
    ticket_id = contact.tickets("portal", status="any").items[0].id
    contact.add_note("portal", ticket_id, "Thanks, that fixed it.")
    assert contact.ticket("portal", ticket_id).notes[-1].text == "Thanks, that fixed it."
    request_type = contact.lookup("portal.request_types")[0]
    created = contact.create_ticket(summary="Keyboard missing keys", description="The Q key.",
                                    request_type_id=request_type.id)
    assert created.id and created.summary == "Keyboard missing keys"
    assert created.request_type.id == request_type.id


def test_invalid_input_keeps_field_errors(contact):
    ticket_id = contact.tickets("portal", status="any").items[0].id
    with pytest.raises(Invalid) as caught:
        contact.add_note("portal", ticket_id, "   ")
    assert "note" in caught.value.field_errors
    with pytest.raises(Invalid) as caught:
        contact.create_ticket(summary="", description="", request_type_id=999)
    assert set(caught.value.field_errors) >= {"summary", "requestType"}


def test_tech_queue_ticket_patch_note_and_lookups(agent):
    queue = agent.tickets("tech", status="open", assigned="any", take=10)
    assert queue.total > 10 and len(queue.items) == 10
    ticket_id = queue.items[0].id
    statuses = agent.lookup("tech.statuses")
    agents = agent.lookup("tech.agents")
    assert agent.lookup("tech.priorities") and len(agents) == 5
    updated = agent.update_ticket(ticket_id, {"status": {"id": statuses[1].id},
                                              "assignedAgents": [{"id": agents[0].id}]})
    assert updated.status.id == statuses[1].id and [a.id for a in updated.assigned_agents] == [agents[0].id]
    agent.add_note("tech", ticket_id, "Checked remotely.", internal=True)
    notes = agent.ticket("tech", ticket_id).notes
    assert notes[-1].is_internal and notes[-1].text == "Checked remotely."


def test_unknown_ticket_is_not_found(contact, agent):
    with pytest.raises(NotFound):
        contact.ticket("portal", 999999)
    with pytest.raises(NotFound):
        agent.update_ticket(999999, {"priority": {"id": 1}})


def test_expired_and_forged_tokens_are_rejected(sandbox, transport):
    import time

    expired = _client(sandbox, transport, "c", 101, ttl=1)
    time.sleep(1.1)
    with pytest.raises(TokenRejected):
        expired.me("portal")
    forged = Client(transport, DEFAULT_ENDPOINTS, sandbox[1], "eyJhbGciOiJub25lIn0.e30.")
    with pytest.raises(TokenRejected):
        forged.tickets("portal")


def test_injected_faults_map_to_unavailable(sandbox, contact):
    faults = sandbox[0].extensions["sandbox"]["faults"]
    faults.set(error_rate=1.0, kinds=("503",))
    try:
        with pytest.raises(Unavailable):
            contact.tickets("portal")
    finally:
        faults.set(error_rate=0.0, kinds=("500", "503", "timeout"))


def test_public_key_endpoint_verifies_the_sandbox_tokens(sandbox, tmp_path):
    app, url = sandbox
    response = requests.get(url + DEFAULT_ENDPOINTS["public_keys"].path, timeout=5)
    token = app.extensions["sandbox"]["tokens"].mint("c", 101)
    ISSUED_TOKENS.add(token)
    keys = parse_key_list(response)
    [key] = keys.pick(jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(token, key, algorithms=["RS256"])
    assert claims["sub"] == "acme~c~101"
