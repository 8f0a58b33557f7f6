"""Models parsed from camelCase, tolerant of missing and extra fields."""

from __future__ import annotations

import operator
from datetime import UTC, datetime

import pytest

from ddsite.deskdirector.models import (
    Id,
    Note,
    Notes,
    Page,
    Ref,
    Ticket,
    TicketSummary,
    User,
    list_rows,
    parse_datetime,
    parse_refs,
    sort_tickets,
)


@pytest.mark.parametrize("raw, expected", [
    ("2018-06-28T05:18:26.9468948Z", datetime(2018, 6, 28, 5, 18, 26, 946894, tzinfo=UTC)),
    ("2018-06-28T05:18:26Z", datetime(2018, 6, 28, 5, 18, 26, tzinfo=UTC)),
    ("2018-06-28T05:18:26.5", datetime(2018, 6, 28, 5, 18, 26, 500000, tzinfo=UTC)),
    ("2018-06-28T15:18:26.1+10:00", datetime(2018, 6, 28, 5, 18, 26, 100000, tzinfo=UTC)),
    (" 2018-06-28T05:18:26.1234567890-0230 ", datetime(2018, 6, 28, 7, 48, 26, 123456, tzinfo=UTC)),
    ("yesterday", None), (None, None), (42, None), ("2018-13-40T00:00:00Z", None),
    ("2018-06-28 05:18:26Z", None), ("2018-W26-4T05:18:26Z", None), ("2018-06-28", None),
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
    page = Page(items=[TicketSummary.parse({"id": i}) for i in range(20)], total=45, skip=20, take=20)
    assert (page.first, page.last, page.total) == (21, 40, 45)
    assert page.has_previous and page.has_next
    empty = Page(items=[], total=0, skip=0, take=20)
    assert (empty.first, empty.last, empty.has_next, empty.has_previous) == (0, 0, False, False)


@pytest.mark.parametrize("reply, rows, total", [
    ([{"id": 1}, {"id": 2}], 2, 2),  # a bare array
    ({"results": [{"id": 1}], "totalResults": 9}, 1, 9),  # admin connector
    ({"total": 45, "resultsCount": 1, "results": [{"id": 1}]}, 1, 45),  # TECH connector
    ({"results": [{"id": 1}, {"id": 2}]}, 2, 2),  # no total: what is there
])
def test_every_known_list_envelope(reply, rows, total):
    found_rows, found_total = list_rows(reply)
    assert (len(found_rows), found_total) == (rows, total)


@pytest.mark.parametrize("reply", [{"items": []}, {"results": "x"}, "text", None, 7])
def test_an_unknown_list_shape_is_said_to_be_unknown(reply):
    assert list_rows(reply) is None
def test_user_round_trips_through_the_session():
    user = User.parse({"id": "a~c~1", "firstName": "Pat", "lastName": "Lee", "userName": "pat",
                       "company": {"id": 3, "name": "Acme"}})
    assert User.from_session(user.to_session()) == user and user.name == "Pat Lee"


def test_parse_refs_reads_rows_and_names_in_any_form():
    refs = parse_refs([{"id": 1, "name": "Open"}, "junk", {"id": "7", "firstName": "Sam",
                                                           "lastName": "Reyes"}])
    assert [(r.id, r.name) for r in refs] == [(1, "Open"), ("7", "Sam Reyes")]


def test_ids_compare_by_their_text_and_keep_their_wire_form():
    assert Id(21) == Id("21") == 21 == Id("21") and Id(21) == "21"
    assert operator.ne(Id("21"), 21) is False and operator.ne(21, Id("21")) is False
    assert Id("21") != 22 and Id("21") != None  # noqa: E711
    assert 21 in [Id("21")] and Id(21) in {"21"} and hash(Id(21)) == hash("21")
    assert Id(21).wire == 21 and Id("21").wire == "21" and Id(Id(5)).wire == 5
    assert Id.like(201, Id("3")).wire == "201" and Id.like(201, Id(3)).wire == 201
    assert Id.like(201, None).wire == 201


def test_the_v4_vocabulary_parses_to_the_same_models():
    ticket = Ticket.parse({
        "id": "21", "summary": "VPN", "serviceType": {"id": "4", "name": "Network"},
        "status": {"id": "1-2", "name": "In progress"}, "queue": {"id": "1", "name": "Service desk"},
        "assignedAgents": [{"id": "201", "name": "Sam"}], "isClosed": False,
        "latestComment": {"id": "9", "commentPreview": "Try now", "author": {"id": "a~m~201"}},
        "comments": [{"id": "9", "comment": "Try now", "isPublic": True,
                      "createdOn": "2026-01-02T00:00:00Z", "author": {"id": "a~m~201", "name": "Sam"}},
                     {"id": "8", "comment": "Agents only", "isPublic": False,
                      "createdOn": "2026-01-01T00:00:00Z"}],
    })
    assert ticket.id == 21 and ticket.request_type.name == "Network" and ticket.queue.id == 1
    assert ticket.status.id == "1-2" and ticket.assigned_agents[0].id == 201
    assert [(n.text, n.is_internal) for n in ticket.notes] == [("Agents only", True),
                                                               ("Try now", False)]
    assert ticket.notes[1].created_by.name == "Sam" and ticket.latest_note.preview == "Try now"
    v2 = Ticket.parse({"id": 21, "requestType": {"id": 4, "name": "Network"},
                       "board": {"id": 1, "name": "Service desk"}, "assignedMembers": [{"id": 201}]})
    assert v2.request_type == ticket.request_type and v2.queue.id == ticket.queue.id
    assert v2.assigned_agents[0].id == ticket.assigned_agents[0].id


@pytest.mark.parametrize("data, closed", [
    ({"isClosed": True, "status": {"id": 1, "isClosed": False}}, True),  # the ticket's own word
    ({"isClosed": False, "closedOn": "2026-01-01T00:00:00Z"}, False),
    ({"status": {"id": 6, "name": "Closed", "isClosed": True}}, True),  # else its status
    ({"status": {"id": 2}, "closedOn": "2026-01-01T00:00:00Z"}, True),  # else a closing date
    ({"status": {"id": 2}}, False),
])
def test_closed_ness(data, closed):
    assert TicketSummary.parse(data).is_closed is closed


def test_tickets_sort_locally_in_each_order():
    rows = [TicketSummary.parse(r) for r in (
        {"id": 1, "createdOn": "2026-01-01T00:00:00Z", "priority": {"id": "2"}},
        {"id": 2, "createdOn": "2026-03-01T00:00:00Z", "priority": {"id": "4"}},
        {"id": 3, "createdOn": "2026-02-01T00:00:00Z"})]
    assert [t.id for t in sort_tickets(rows, "activity")] == [2, 3, 1]
    assert [t.id for t in sort_tickets(rows, "age")] == [1, 3, 2]
    assert [t.id for t in sort_tickets(rows, "priority")] == [2, 1, 3]


class CountingRow(dict):
    """A note row that records which of its fields were read."""

    read: list[str] = []

    def get(self, key, default=None):
        CountingRow.read.append(key)
        return super().get(key, default)


def test_only_the_notes_read_are_parsed():
    rows = [CountingRow(id=n, note=f"note {n}", createdOn=f"2026-01-01T00:{n // 60:02}:{n % 60:02}Z",
                        createdBy={"name": "Sam"}) for n in range(1000)]
    CountingRow.read = []
    notes = Notes.parse(rows)
    assert len(notes) == 1000 and "note" not in CountingRow.read  # ordered by time alone
    newest = notes[-20:]
    assert [note.text for note in newest] == [f"note {n}" for n in range(980, 1000)]
    assert CountingRow.read.count("note") == 20
    assert notes[-1] is newest[-1]  # parsed once, kept


def test_notes_are_ordered_by_time_untimed_first_ties_as_sent():
    notes = Notes.parse([{"id": 1, "createdOn": "2026-01-02T00:00:00Z"}, {"id": 2},
                         {"id": 3, "createdOn": "2026-01-01T10:00:00+10:00"},
                         {"id": 4, "createdOn": "2026-01-01T00:00:00.0000000Z"}, "not a note"])
    assert [note.id for note in notes] == [2, None, 3, 4, 1]
    assert list(reversed(notes))[0].id == 1 and notes[-5].id == 2
    with pytest.raises(IndexError):
        notes[5]


def test_contacts_lose_internal_notes_in_either_dialect_before_counting():
    rows = [{"id": 1, "isInternal": True}, {"id": 2, "isInternal": False}, {"id": 3, "isPublic": False},
            {"id": 4, "isPublic": True}, {"id": 5, "type": "Internal"}, {"id": 6, "type": "Public"}]
    notes = Notes.parse(rows)
    assert [note.id for note in notes.public()] == [2, 4, 6] and len(notes.public()) == 3
    assert [note.is_internal for note in notes] == [True, False, True, False, True, False]
    assert notes.public() == [Note.parse(rows[1]), Note.parse(rows[3]), Note.parse(rows[5])]


@pytest.mark.parametrize("times, order", [
    (["2026-01-01T09:00:00.0000000Z", "2026-01-01T10:00:00.0000000Z", "2026-01-01T08:00:00.0000000Z"],
     [3, 1, 2]),  # DeskDirector's own shape, out of order
    (["2026-01-01T08:00:00Z", "2026-01-01T08:00:00Z", "2026-01-01T09:00:00Z"], [1, 2, 3]),  # in order, a tie
    (["2026-01-01T09:00:00.5Z", "2026-01-01T09:00:00.25Z", "2026-01-01T09:00:00.125Z"], [3, 2, 1]),
    (["2026-01-01T10:00:00+02:00", "2026-01-01T09:00:00Z", "2026-01-01T07:30:00Z"], [3, 1, 2]),
])
def test_notes_are_in_time_order_whatever_shape_their_times_take(times, order):
    notes = Notes.parse([{"id": n, "createdOn": t} for n, t in enumerate(times, 1)])
    assert [note.id for note in notes] == order


def test_a_plain_reference_is_made_once_and_keeps_how_its_id_was_written():
    from ddsite.deskdirector import models

    first = Ref.parse({"id": 21, "name": "High"})
    assert Ref.parse({"id": 21, "name": "High"}) is first  # the same row in every list
    as_text = Ref.parse({"id": "21", "name": "High"})
    assert as_text == first and as_text.id.wire == "21" and first.id.wire == 21
    assert Ref.parse({"id": 21.0, "name": "High"}) == Ref(id=None, name="High")  # as before
    assert Ref.parse({"id": True, "name": "High"}) == Ref(id=None, name="High")
    assert Ref.parse({"id": [21], "name": "High"}) == Ref(id=None, name="High")  # no crash
    assert Ref.parse({"id": 21, "name": None}) == Ref(id=21, name="")
    assert Ref.parse({"id": None, "name": ""}) is None
    for number in range(models._REFS_KEPT + 5):  # the memory stays bounded
        Ref.parse({"id": number, "name": "Agent"})
    assert len(models._REFS) <= models._REFS_KEPT
