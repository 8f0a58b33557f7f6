"""Long conversations: the newest notes first, older ones a page at a time when asked for."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import responses

from .conftest import HOST, sign_in

START = datetime(2026, 1, 1, tzinfo=UTC)


def notes(count: int, internal_every: int = 0) -> list[dict]:
    return [{"id": n, "note": f"Message number {n}.", "createdOn": (START + timedelta(hours=n)).isoformat(),
             "isInternal": bool(internal_every and n % internal_every == 0),
             "createdBy": {"id": "acme~m~2", "name": "Sam Agent"}} for n in range(1, count + 1)]


def ticket(count: int, internal_every: int = 0) -> dict:
    return {"id": 1005, "summary": "Long one", "notes": notes(count, internal_every)}


def shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"Message number (\d+)\.", html)]


@pytest.fixture
def config(config):
    return {**config, "NOTES_PAGE_SIZE": 20}


@pytest.fixture
def agent(client, dd):
    sign_in(client, dd, "tech")
    for name in ("statuses", "priorities", "agents"):
        dd.add(responses.GET, f"{HOST}/api/v4/tech/{name}", json=[])
    return client


def test_a_long_conversation_opens_at_its_newest_notes(agent, dd):
    dd.add(responses.GET, HOST + "/api/v4/tech/tickets/1005", json=ticket(1000))
    html = agent.get("/tech/tickets/1005").get_data(as_text=True)
    assert shown(html) == list(range(981, 1001))  # newest twenty, oldest of them first
    assert 'id="latest"' in html
    link = re.search(r'<a href="([^"]+)">Show 20 earlier notes</a>', html).group(1)
    assert link == "/tech/tickets/1005?notes=40#conversation"
    assert "980 not shown" in html


def test_older_notes_come_a_page_at_a_time_on_request(agent, dd):
    dd.add(responses.GET, HOST + "/api/v4/tech/tickets/1005", json=ticket(45))
    html = agent.get("/tech/tickets/1005?notes=40").get_data(as_text=True)
    assert shown(html) == list(range(6, 46))
    assert "Show 5 earlier notes" in html and "5 not shown" in html
    html = agent.get("/tech/tickets/1005?notes=60").get_data(as_text=True)
    assert shown(html) == list(range(1, 46)) and "earlier note" not in html


@pytest.mark.parametrize("bad", ["abc", "-3", "0", "1e9"])
def test_a_bad_notes_value_shows_the_first_page(agent, dd, bad):
    dd.add(responses.GET, HOST + "/api/v4/tech/tickets/1005", json=ticket(30))
    response = agent.get(f"/tech/tickets/1005?notes={bad}")
    assert response.status_code == 200
    assert shown(response.get_data(as_text=True)) == list(range(11, 31))


def test_a_short_conversation_is_shown_whole_without_a_link(agent, dd):
    dd.add(responses.GET, HOST + "/api/v4/tech/tickets/1005", json=ticket(5))
    html = agent.get("/tech/tickets/1005").get_data(as_text=True)
    assert shown(html) == [1, 2, 3, 4, 5] and "earlier note" not in html


def test_contacts_page_through_public_notes_only(client, dd):
    sign_in(client, dd)
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets/1005", json=ticket(50, internal_every=2))
    html = client.get("/portal/tickets/1005").get_data(as_text=True)
    assert shown(html) == list(range(11, 50, 2))  # the newest twenty public notes
    assert "Show 5 earlier notes" in html and "5 not shown" in html
    html = client.get("/portal/tickets/1005?notes=40").get_data(as_text=True)
    assert shown(html) == list(range(1, 50, 2))
