"""Insights: figures against hand-counted sandbox tickets, permission, SVG, tables, CSV, paging."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses

from ddsite import create_app
from ddsite.demo import ServerThread
from ddsite.deskdirector.models import Ref, TicketSummary
from ddsite.insights import views
from ddsite.insights.figures import compute
from ddsite.sandbox import create_sandbox

from .conftest import HOST, ISSUED_TOKENS, LeakCheckingClient, sign_in

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday; this week starts Monday 23 Nov
HARBOUR, NORTHWIND = 11, 12  # seeded companies; contacts 101 (manager) and 102 (not) belong to them


def _ticket(ticket_id, company, status, priority, created_days_ago, closed_days_ago=None):
    created = NOW - timedelta(days=created_days_ago)
    closed = NOW - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    return {"id": ticket_id, "summary": f"Ticket {ticket_id}", "description": "",
            "contactId": 101 if company == HARBOUR else 102, "companyId": company,
            "statusId": status, "priorityId": priority, "requestTypeId": 1,
            "assignedAgentIds": [], "createdOn": created, "modifiedOn": closed or created,
            "closedOn": closed, "tags": [], "notes": [], "tasks": None}


# Statuses: 1 New, 2 In progress, 3 Waiting on client, 5 Resolved, 6 Closed (5 and 6 close).
# Priorities: 1 Low, 2 Medium, 3 High, 4 Critical, None = no priority.
HAND_MADE = [
    _ticket(1, HARBOUR, 1, 3, 2 / 24),       # open, under a day old; created week of 23 Nov
    _ticket(2, HARBOUR, 2, 2, 3),            # open, Sun 22 Nov: week of 16 Nov
    _ticket(3, HARBOUR, 2, 1, 20),           # open, Thu 5 Nov: week of 2 Nov
    _ticket(4, NORTHWIND, 3, 2, 50),         # open, Tue 6 Oct: week of 5 Oct
    _ticket(5, NORTHWIND, 1, None, 200),     # open, 9 May: before every period
    _ticket(6, HARBOUR, 5, 2, 10, 9),        # closed in 24 h: created 15 Nov, closed Mon 16 Nov
    _ticket(7, HARBOUR, 6, 3, 30, 26),       # closed in 96 h: Mon 26 Oct → Fri 30 Oct
    _ticket(8, NORTHWIND, 6, 4, 100, 60),    # closed in 960 h: 17 Aug → Sat 26 Sep
    _ticket(9, NORTHWIND, 5, 1, 120, 100),   # closed in 480 h, on 17 Aug: outside 12 weeks
]
WEEKS_12 = ["7 Sep", "14 Sep", "21 Sep", "28 Sep", "5 Oct", "12 Oct", "19 Oct", "26 Oct", "2 Nov",
            "9 Nov", "16 Nov", "23 Nov"]


def _serve(sandbox):
    server = ServerThread("localhost", 0, sandbox).start()
    return server, f"http://localhost:{server.port}"


@pytest.fixture(scope="module", params=["v2", "v4"])
def hand_made(request):
    """A sandbox whose tickets are the nine above, on loopback, in each dialect."""
    sandbox = create_sandbox(dialect=request.param)
    sandbox.extensions["sandbox"]["desk"].tickets = {t["id"]: dict(t) for t in HAND_MADE}
    server, url = _serve(sandbox)
    yield sandbox, url
    server.stop()


@pytest.fixture(scope="module", params=["v2", "v4"])
def seeded(request):
    """The demo's own seeded sandbox, on loopback, in each dialect."""
    sandbox = create_sandbox(dialect=request.param)
    server, url = _serve(sandbox)
    yield sandbox, url
    server.stop()


@pytest.fixture
def fixed_now(monkeypatch):
    monkeypatch.setattr(views, "current_time", lambda: NOW)


def _open(config, sandbox_and_url, kind: str, user_id: int, path: str):
    """ddsite pointed at the sandbox (told its dialect), opened at `path` as DeskDirector would."""
    sandbox, url = sandbox_and_url
    endpoints = Path(config["SESSION_DIR"]).parent / "endpoints.json"
    endpoints.write_text(json.dumps({"dialect": sandbox.extensions["sandbox"]["wire"].dialect}))
    app = create_app({**config, "DESKDIRECTOR_HOSTS": [url], "ENDPOINTS_FILE": str(endpoints)})
    app.test_client_class = LeakCheckingClient
    client = app.test_client()
    token = sandbox.extensions["sandbox"]["tokens"].mint(kind, user_id, None)
    ISSUED_TOKENS.add(token)
    response = client.get(f"{path}?access_token={token}&host={url}")
    while response.status_code == 303:
        response = client.get(response.headers["Location"])
    return client, response


def _table(page: str, key: str) -> list[list[str]]:
    fragment = re.search(rf'<table class="chart-data" id="table-{key}">.*?</table>', page, re.S).group(0)
    rows = ElementTree.fromstring(fragment).iter("tr")
    return [["".join(cell.itertext()).strip() for cell in row] for row in rows][1:]


def _svg(page: str, key: str) -> ElementTree.Element:
    return ElementTree.fromstring(re.search(rf'<svg class="chart chart-{key}".*?</svg>', page, re.S).group(0))


def test_agent_figures_for_all_companies_match_the_hand_count(config, hand_made, fixed_now):
    client, response = _open(config, hand_made, "m", 201, "/tech/insights/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Counted 9 tickets, read in 1 page; 5 open." in " ".join(page.split())
    assert _table(page, "status") == [["In progress", "2"], ["New", "2"], ["Waiting on client", "1"]]
    assert _table(page, "priority") == [["Low", "1"], ["Medium", "2"], ["High", "1"], ["Critical", "0"],
                                        ["No priority", "1"]]
    assert _table(page, "age") == [["Under a day", "1"], ["1–7 days", "1"], ["1–4 weeks", "1"],
                                   ["1–3 months", "1"], ["Over 3 months", "1"]]
    created = {"23 Nov": "1", "16 Nov": "1", "9 Nov": "1", "2 Nov": "1", "26 Oct": "1", "5 Oct": "1"}
    closed = {"16 Nov": "1", "26 Oct": "1", "21 Sep": "1"}
    assert _table(page, "weekly") == [[week, created.get(week, "0"), closed.get(week, "0")]
                                      for week in WEEKS_12]
    assert '<dd id="median-close">4 days</dd>' in page  # median of 24 h, 96 h and 960 h
    assert '<dd id="closed-count">3</dd>' in page


def test_agent_filters_by_company_and_period(config, hand_made, fixed_now):
    client, _ = _open(config, hand_made, "m", 201, "/tech/insights/")
    page = client.get(f"/tech/insights/?company={HARBOUR}").get_data(as_text=True)
    assert "<h1>Insights: Harbour Dental</h1>" in page and "Counted 5 tickets of Harbour Dental" in page
    assert _table(page, "status") == [["In progress", "2"], ["New", "1"]]
    assert _table(page, "priority") == [["Low", "1"], ["Medium", "1"], ["High", "1"], ["Critical", "0"]]
    assert '<dd id="median-close">2 days 12 hours</dd>' in page  # 24 h and 96 h
    half_year = client.get("/tech/insights/?period=26").get_data(as_text=True)
    assert len(_table(half_year, "weekly")) == 26
    assert sum(int(row[1]) for row in _table(half_year, "weekly")) == 8  # all but ticket 5
    assert '<dd id="closed-count">4</dd>' in half_year
    assert '<dd id="median-close">12 days</dd>' in half_year  # (96 h + 480 h) / 2
    bad = client.get("/tech/insights/?period=5&company=999")
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)
    assert "Counted 9 tickets" in bad.get_data(as_text=True)


def test_a_company_manager_sees_the_company_figures(config, hand_made, fixed_now):
    client, response = _open(config, hand_made, "c", 101, "/portal/insights/")
    page = response.get_data(as_text=True)
    assert "<h1>Insights: Harbour Dental</h1>" in page and "Counted 5 tickets" in page
    assert _table(page, "age") == [["Under a day", "1"], ["1–7 days", "1"], ["1–4 weeks", "1"],
                                   ["1–3 months", "0"], ["Over 3 months", "0"]]
    assert 'name="company"' not in page  # a contact has no company filter
    assert 'aria-current="page">Insights</a>' in page


def test_a_contact_without_company_permission_is_refused_with_a_clear_page(config, hand_made):
    client, response = _open(config, hand_made, "c", 102, "/portal/insights/")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Insights are for company managers" in page
    assert "ask your administrator to let you see your company" in page
    assert client.get("/portal/insights/insights.csv").status_code == 403
    assert ">Insights</a>" not in client.get("/portal/").get_data(as_text=True)


def test_an_empty_company(config, seeded):
    client, response = _open(config, seeded, "c", 115, "/portal/insights/")
    page = " ".join(response.get_data(as_text=True).split())
    assert "<h1>Insights: Quiet Bakery</h1>" in page and "Counted 0 tickets, read in 1 page; 0 open." in page
    assert '<dd id="median-close">—</dd>' in page and '<dd id="closed-count">0</dd>' in page
    assert _table(page, "status") == [["None"]]
    assert "No open tickets." in page and "Nothing to show" in page
    assert all(row[1:] == ["0", "0"] for row in _table(page, "weekly"))
    rows = list(csv.reader(io.StringIO(client.get("/portal/insights/insights.csv").get_data(as_text=True))))
    assert rows[-3:] == [["Summary", "Tickets counted", "", "0"], ["Summary", "Closed in the last 12 weeks", "", "0"],
                         ["Summary", "Median time to close (hours)", "", ""]]
    assert {row[3] for row in rows[1:-3]} == {"0"}


def test_a_single_ticket(config, seeded):
    client, response = _open(config, seeded, "c", 116, "/portal/insights/")
    page = " ".join(response.get_data(as_text=True).split())
    assert "Counted 1 ticket, read in 1 page; 1 open." in page
    assert _table(page, "status") == [["In progress", "1"]]
    assert _table(page, "priority") == [["Low", "0"], ["Medium", "0"], ["High", "1"], ["Critical", "0"]]
    assert ["1–4 weeks", "1"] in _table(page, "age")  # raised 9 days ago
    assert sum(int(row[1]) for row in _table(page, "weekly")) == 1
    assert '<dd id="median-close">—</dd>' in page
    assert "1 open ticket; the most, 1, is In progress." in page


def test_every_chart_has_a_title_a_description_and_bars_that_match_its_table(config, hand_made, fixed_now):
    _, response = _open(config, hand_made, "m", 201, "/tech/insights/")
    page = response.get_data(as_text=True)
    for key in ("status", "priority", "age", "weekly"):
        svg = _svg(page, key)
        title, desc = svg.find("title"), svg.find("desc")
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert title.text and desc.text and desc.text != title.text
        table = _table(page, key)
        series = ["Created", "Closed"] if key == "weekly" else ["Open tickets"]
        expected = sorted(f"{row[0]}: {value}" + (f" {name.lower()}" if key == "weekly" else "")
                          for row in table for name, value in zip(series, row[1:], strict=True))
        bars = [rect for rect in svg.iter("rect") if rect.find("title") is not None]
        assert sorted(rect.find("title").text for rect in bars) == expected
        lengths = {float(rect.get("width" if key != "weekly" else "height")) / int(value)
                   for rect, value in ((r, r.find("title").text.split(": ")[1].split()[0]) for r in bars)
                   if int(value)}
        assert max(lengths) - min(lengths) < 0.1  # bar length proportional to the number
    assert "Open tickets by status" in _svg(page, "status").find("title").text
    assert _svg(page, "status").find("desc").text == "5 open tickets; the most, 2, are In progress."


def test_csv_download_has_the_numbers_of_the_page(config, hand_made, fixed_now):
    client, page = _open(config, hand_made, "m", 201, "/tech/insights/")
    assert 'href="/tech/insights/insights.csv">Download the numbers (CSV)' in page.get_data(as_text=True)
    response = client.get(f"/tech/insights/insights.csv?company={HARBOUR}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="insights-2026-11-25.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["chart", "category", "series", "value"]
    assert ["Open tickets by status", "In progress", "Open tickets", "2"] in rows
    assert ["Created and closed per week", "16 Nov", "Closed", "1"] in rows
    assert rows[-3:] == [["Summary", "Tickets counted", "", "5"],
                         ["Summary", "Closed in the last 12 weeks", "", "2"],
                         ["Summary", "Median time to close (hours)", "", "60.0"]]


def test_csv_cells_from_deskdirector_never_run_as_formulas():
    ticket = TicketSummary.parse({"id": 1, "isClosed": False, "createdOn": "2026-11-24T10:00:00Z",
                                  "status": {"id": 9, "name": "=HYPERLINK(\"http://x\")"}})
    text = views.as_csv(compute([ticket], now=NOW, period_weeks=4, priority_order=[Ref(1, "Low")]))
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def _rows(count: int, start: int = 1) -> list[dict]:
    return [{"id": n, "summary": f"T{n}", "isClosed": False, "createdOn": "2026-11-20T10:00:00Z",
             "status": {"id": 1, "name": "New"}, "account": {"id": 3, "name": "Acme Pty"}}
            for n in range(start, start + count)]


def test_more_tickets_than_one_page_are_read_concurrently_and_counted(client, dd):
    sign_in(client, dd, "tech")
    tickets = HOST + "/api/v4/tech/tickets"
    both_waiting = threading.Barrier(2, timeout=5)

    def later_page(request):
        skip = int(request.params["skip"])
        both_waiting.wait()  # returns only when the other later page is being read at the same time
        return 200, {}, json.dumps({"total": 250, "results": _rows(min(100, 250 - skip), skip + 1)})

    dd.add(responses.GET, tickets, json={"total": 250, "results": _rows(100)},
           match=[responses.matchers.query_param_matcher({"status": "any", "skip": "0", "take": "100"}, strict_match=False)])
    for skip in ("100", "200"):
        dd.add_callback(responses.GET, tickets, callback=later_page,
                        match=[responses.matchers.query_param_matcher({"status": "any", "skip": skip, "take": "100"}, strict_match=False)])
    dd.add(responses.GET, HOST + "/api/v4/tech/priorities", json=[{"id": 1, "name": "Low"}])
    page = " ".join(client.get("/tech/insights/").get_data(as_text=True).split())
    assert "Counted 250 tickets, read in 3 pages; 250 open." in page


def test_beyond_the_cap_the_page_says_how_many_it_counted_of_how_many(client, dd, monkeypatch):
    from ddsite.insights import source

    monkeypatch.setattr(source, "MAX_TICKETS", 150)
    sign_in(client, dd, "tech")
    tickets = HOST + "/api/v4/tech/tickets"
    for skip in (0, 100):
        dd.add(responses.GET, tickets, json={"total": 250, "results": _rows(100, skip + 1)},
               match=[responses.matchers.query_param_matcher({"status": "any", "skip": str(skip), "take": "100"}, strict_match=False)])
    dd.add(responses.GET, HOST + "/api/v4/tech/priorities", json=[])
    page = " ".join(client.get("/tech/insights/").get_data(as_text=True).split())
    assert "Counted 150 tickets (the first 150 of 250 DeskDirector has), read in 2 pages; 150 open." in page


def test_a_server_that_ignores_skip_and_take_is_still_counted_once_per_ticket(client, dd):
    sign_in(client, dd, "tech")
    dd.add(responses.GET, HOST + "/api/v4/tech/tickets", json=_rows(130))  # every call: all 130
    dd.add(responses.GET, HOST + "/api/v4/tech/priorities", json=[])
    page = " ".join(client.get("/tech/insights/").get_data(as_text=True).split())
    assert "Counted 130 tickets, read in 2 pages; 130 open." in page


def test_an_instance_that_does_not_page_lists_is_read_in_one_call(config, tmp_path, dd):
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text('{"tech.tickets": "GET /api/v4/tech/tickets"}')
    app = create_app({**config, "ENDPOINTS_FILE": str(endpoints)})
    app.test_client_class = LeakCheckingClient
    client = app.test_client()
    sign_in(client, dd, "tech")
    dd.add(responses.GET, HOST + "/api/v4/tech/tickets", json=_rows(450))
    dd.add(responses.GET, HOST + "/api/v4/tech/priorities", json=[])
    page = " ".join(client.get("/tech/insights/").get_data(as_text=True).split())
    assert "Counted 450 tickets, read in 1 page; 450 open." in page
    lists = [c.request.url for c in dd.calls if "/tickets" in c.request.url]
    assert len(lists) == 1 and "skip=" not in lists[0] and "take=" not in lists[0]
    app.extensions["ddsite"].close()


def test_the_seeded_demo_history_spans_enough_weeks_to_chart(config, seeded):
    client, response = _open(config, seeded, "m", 202, "/tech/insights/")
    weekly = _table(response.get_data(as_text=True), "weekly")
    assert len(weekly) == 12 and all(int(created) > 0 for _, created, _ in weekly)
    assert sum(int(closed) > 0 for _, _, closed in weekly) >= 10
    # The v2 sandbox pages its lists (161 tickets: two reads at once); the v4 one sends them all.
    pages = "2 pages" if seeded[0].extensions["sandbox"]["wire"].dialect == "v2" else "1 page"
    assert f"Counted 161 tickets, read in {pages}" in " ".join(response.get_data(as_text=True).split())


@pytest.mark.parametrize("span, text", [(None, "—"), (timedelta(seconds=20), "under a minute"),
                                        (timedelta(minutes=40), "40 minutes"),
                                        (timedelta(hours=5), "5 hours"),
                                        (timedelta(hours=1, minutes=1), "1 hour 1 minute"),
                                        (timedelta(days=2, hours=12), "2 days 12 hours"),
                                        (timedelta(days=1, minutes=30), "1 day")])
def test_durations_read_as_words(span, text):
    from ddsite.insights.figures import duration_text

    assert duration_text(span) == text


def test_weeks_start_on_monday_midnight_utc_and_end_with_this_week():
    from ddsite.insights.figures import week_starts

    weeks = week_starts(datetime(2026, 11, 23, 0, 0, tzinfo=UTC), 3)  # a Monday, at midnight
    assert [f"{w:%a %d %b %H:%M}" for w in weeks] == ["Mon 09 Nov 00:00", "Mon 16 Nov 00:00", "Mon 23 Nov 00:00"]
    assert week_starts(datetime(2026, 11, 29, 23, 59, tzinfo=UTC), 1)[0].day == 23  # Sunday night
