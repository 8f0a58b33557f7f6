"""Models parsed from camelCase, tolerant of missing and extra fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ddsite.deskdirector.models import Page, Ticket, TicketSummary, User, parse_datetime, parse_refs


@pytest.mark.parametrize("raw, expected", [
    ("2018-06-28T05:18:26.9468948Z", datetime(2018, 6, 28, 5, 18, 26, 946894, tzinfo=UTC)),
    ("2018-06-28T05:18:26Z", datetime(2018, 6, 28, 5, 18, 26, tzinfo=UTC)),
    ("2018-06-28T05:18:26.5", datetime(2018, 6, 28, 5, 18, 26, 500000, tzinfo=UTC)),
    ("2018-06-28T15:18:26.1+10:00", datetime(2018, 6, 28, 5, 18, 26, 100000, tzinfo=UTC)),
    ("yesterday", None), (None, None), (42, None), ("2018-13-40T00:00:00Z", None),
])
def test_parse_datetime(raw, expected):
    assert parse_datetime(raw) == expected


def test_ticket_parses_camel_case_and_ignores_extra_fields():
    ticket = Ticket.parse({
        "id": 12, "summary": "Printer", "status": {"id": 1, "name": "Open"},
        "priority": {"id": 2, "name": "High"}, "requestType": {"id": 3, "name": "Hardware"},
        "assignedAgents": [{"id": 4, "name": "Sam"}, None], "createdOn": "2024-01-02T03:04:05.1234567Z",
        "description": "It jams", "taskProgress": {"done": 1, "total": 3}, "$info": {"x": 1},
        "notes": [{"id": 2, "note": "later", "createdOn": "2024-01-03T00:00:00Z", "isInternal": True},
                  {"id": 1, "note": "first", "createdOn": "2024-01-02T00:00:00Z",
                   "createdBy": {"id": "acme~c~7", "name": "Pat", "userType": "Client"}}],
    })
    assert ticket.id == 12 and ticket.status.name == "Open" and ticket.request_type.name == "Hardware"
    assert [a.name for a in ticket.assigned_agents] == ["Sam"]
    assert [n.text for n in ticket.notes] == ["first", "later"]
    assert ticket.notes[1].is_internal and ticket.notes[0].created_by.user_type == "Client"
    assert ticket.task_progress.total == 3 and ticket.raw_modified_on == ""


def test_missing_everything_still_parses():
    summary = TicketSummary.parse({})
    assert summary.id is None and summary.status is None and summary.assigned_agents == []
    assert Ticket.parse(None).notes == []
    assert User.parse({"userName": "pat"}).name == "pat"


def test_page_counts():
    page = Page.parse({"total": 45, "resultsCount": 20, "results": [{"id": i} for i in range(20)]},
                      TicketSummary, skip=20, take=20)
    assert (page.first, page.last, page.total) == (21, 40, 45)
    assert page.has_previous and page.has_next
    empty = Page.parse({"total": 0, "results": []}, TicketSummary, skip=0, take=20)
    assert (empty.first, empty.last, empty.has_next, empty.has_previous) == (0, 0, False, False)


def test_user_round_trips_through_the_session():
    user = User.parse({"id": "a~c~1", "firstName": "Pat", "lastName": "Lee", "userName": "pat",
                       "company": {"id": 3, "name": "Acme"}})
    assert User.from_session(user.to_session()) == user and user.name == "Pat Lee"


def test_parse_refs_accepts_bare_and_wrapped_lists():
    assert [r.name for r in parse_refs([{"id": 1, "name": "Open"}])] == ["Open"]
    assert [r.id for r in parse_refs({"results": [{"id": 2, "name": "x"}, "junk"]})] == [2]
