"""Contract: ddsite's real client against the real sandbox over HTTP on loopback, no mocks,
in each dialect the sandbox speaks (v2, and v4: comments, service types, string ids, statuses per
queue, no server paging)."""

from __future__ import annotations

import jwt
import pytest
import requests

from ddsite.demo import ServerThread
from ddsite.deskdirector.client import Client
from ddsite.deskdirector.endpoints import DIALECTS
from ddsite.deskdirector.errors import Forbidden, Invalid, NotFound, TokenRejected, Unavailable
from ddsite.deskdirector.models import Page, Ticket, TicketSummary, User
from ddsite.deskdirector.signing_keys import parse_key_list
from ddsite.sandbox import create_sandbox

from .conftest import ISSUED_TOKENS


@pytest.fixture(scope="module", params=["v2", "v4"])
def sandbox(request):
    app = create_sandbox(dialect=request.param)
    server = ServerThread("localhost", 0, app).start()
    yield app, f"http://localhost:{server.port}"
    server.stop()


def _table(sandbox):
    return DIALECTS[sandbox[0].extensions["sandbox"]["wire"].dialect]


def _client(sandbox, transport, kind: str, user_id: int, ttl: int | None = None) -> Client:
    app, url = sandbox
    token = app.extensions["sandbox"]["tokens"].mint(kind, user_id, ttl)
    ISSUED_TOKENS.add(token)
    return Client(transport, _table(sandbox), url, token)


@pytest.fixture
def contact(sandbox, transport):
    return _client(sandbox, transport, "c", 101)


@pytest.fixture
def agent(sandbox, transport):
    return _client(sandbox, transport, "m", 201)


def test_who_am_i_parses_for_both_apps(contact, agent):
    me = contact.portal.me()
    assert isinstance(me, User) and me.user_name.endswith(".example") and me.company.name
    assert agent.tech.me().name == "Sam Reyes"


def test_wrong_app_is_forbidden(contact, agent):
    with pytest.raises(Forbidden):
        contact.tech.me()
    with pytest.raises(Forbidden):
        agent.portal.me()


def test_portal_ticket_list_ticket_and_lookups(contact):
    page = contact.portal.tickets(status="any", take=5)
    assert isinstance(page, Page) and page.total >= len(page.items) > 0
    assert all(isinstance(t, TicketSummary) and t.id and t.status for t in page.items)
    ticket = contact.portal.ticket(page.items[0].id)
    assert isinstance(ticket, Ticket) and ticket.created_on and ticket.notes
    assert not any(note.is_internal for note in ticket.notes)
    assert contact.portal.request_types() and contact.portal.priorities()


def test_portal_note_and_new_ticket(contact):
    ticket_id = contact.portal.tickets(status="any").items[0].id
    contact.portal.add_note(ticket_id, "Thanks, that fixed it.")
    assert contact.portal.ticket(ticket_id).notes[-1].text == "Thanks, that fixed it."
    request_type = contact.portal.request_types()[0]
    created = contact.portal.create_ticket(summary="Keyboard missing keys", description="The Q key.",
                                    request_type=request_type.id)
    assert created.id and created.summary == "Keyboard missing keys"
    assert created.request_type.id == request_type.id


def test_invalid_input_keeps_field_errors(contact):
    ticket_id = contact.portal.tickets(status="any").items[0].id
    with pytest.raises(Invalid) as caught:
        contact.portal.add_note(ticket_id, "   ")
    assert "text" in caught.value.field_errors
    with pytest.raises(Invalid) as caught:
        contact.portal.create_ticket(summary="", description="", request_type=999)
    assert set(caught.value.field_errors) >= {"summary", "request_type"}


def test_tech_queue_ticket_patch_note_and_lookups(agent):
    queue = agent.tech.tickets(status="open", assigned="any", take=10)
    assert queue.total > 10 and len(queue.items) == 10
    ticket_id = queue.items[0].id
    choices = agent.tech.ticket_with_choices(ticket_id)
    statuses, agents = choices.statuses, choices.agents
    assert choices.priorities and len(agents) == 5 and len(statuses) == 6
    updated = agent.tech.update_ticket(ticket_id, status=statuses[1].id, assignees=[agents[0].id])
    assert updated.status.id == statuses[1].id and [a.id for a in updated.assigned_agents] == [agents[0].id]
    agent.tech.add_note(ticket_id, "Checked remotely.", internal=True)
    notes = agent.tech.ticket(ticket_id).notes
    assert notes[-1].is_internal and notes[-1].text == "Checked remotely."


def test_unknown_ticket_is_not_found(contact, agent):
    with pytest.raises(NotFound):
        contact.portal.ticket(999999)
    with pytest.raises(NotFound):
        agent.tech.update_ticket(999999, priority=1)


def test_expired_and_forged_tokens_are_rejected(sandbox, transport):
    import time

    expired = _client(sandbox, transport, "c", 101, ttl=1)
    time.sleep(1.1)
    with pytest.raises(TokenRejected):
        expired.portal.me()
    forged = Client(transport, _table(sandbox), sandbox[1], "eyJhbGciOiJub25lIn0.e30.")
    with pytest.raises(TokenRejected):
        forged.portal.tickets()


def test_injected_faults_map_to_unavailable(sandbox, contact):
    faults = sandbox[0].extensions["sandbox"]["faults"]
    faults.set(error_rate=1.0, kinds=("503",))
    try:
        with pytest.raises(Unavailable):
            contact.portal.tickets()
    finally:
        faults.set(error_rate=0.0, kinds=("500", "503", "timeout"))


def test_public_key_endpoint_verifies_the_sandbox_tokens(sandbox, tmp_path):
    app, url = sandbox
    response = requests.get(url + _table(sandbox)["public_keys"].path, timeout=5)
    token = app.extensions["sandbox"]["tokens"].mint("c", 101)
    ISSUED_TOKENS.add(token)
    keys = parse_key_list(response)
    [key] = keys.pick(jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(token, key, algorithms=["RS256"])
    assert claims["sub"] == "acme~c~101"


def test_pages_of_the_queue_do_not_overlap_and_cover_every_ticket(agent):
    first = agent.tech.tickets(status="any", take=20)
    seen = [t.id for t in first.items]
    skip = 20
    while skip < first.total:
        seen += [t.id for t in agent.tech.tickets(status="any", skip=skip, take=20).items]
        skip += 20
    assert len(seen) == len(set(seen)) == first.total >= 60


@pytest.mark.parametrize("sort, key, newest_first", [
    ("activity", "last_activity", True), ("age", "created_on", False)])
def test_each_sort_comes_back_in_order(agent, sort, key, newest_first):
    items = agent.tech.tickets(status="any", sort=sort, take=30).items
    moments = [getattr(t, key) for t in items]
    assert moments == sorted(moments, reverse=newest_first)


def test_statuses_fit_the_tickets_queue_and_closing_is_read_from_the_ticket(agent, sandbox):
    queues = {}
    for ticket in agent.tech.tickets(status="any", take=100).items:
        queues.setdefault(ticket.queue.id if ticket.queue else None, ticket.id)
    for ticket_id in queues.values():
        choices = agent.tech.ticket_with_choices(ticket_id)
        closing = next(s for s in choices.statuses if s.is_closed)
        closed = agent.tech.update_ticket(ticket_id, status=closing.id)
        assert closed.is_closed and closed.status.id == closing.id
    dialect = sandbox[0].extensions["sandbox"]["wire"].dialect
    assert len(queues) == (2 if dialect == "v4" else 1)


def test_an_update_sends_ids_back_as_the_instance_wrote_them(agent, sandbox):
    ticket = agent.tech.tickets(status="open", assigned="unassigned").items[0]
    agents = agent.tech.agents()
    updated = agent.tech.update_ticket(ticket.id, priority=None, assignees=[agents[1].id])
    assert updated.priority is None and updated.assigned_agents == [agents[1]]
    dialect = sandbox[0].extensions["sandbox"]["wire"].dialect
    assert type(agents[1].id.wire) is (str if dialect == "v4" else int)
