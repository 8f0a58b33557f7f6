"""Agent pages, as an agent uses them, with DeskDirector mocked."""

from __future__ import annotations

import html
import json
import re

import pytest
import requests
import responses
from flask import g, session, url_for

from ddsite import create_app
from ddsite.tech.forms import VIEWS
from ddsite.tech.views import view_urls

from .conftest import AGENT, CONTACT, HOST, PROXIED_HOST, LeakCheckingClient, PrefixProxy, sign_in

API = HOST + "/api/v4/tech"
STATUSES = [{"id": 1, "name": "New"}, {"id": 2, "name": "In progress"},
            {"id": 6, "name": "Closed", "isClosed": True}]
PRIORITIES = [{"id": 1, "name": "Low"}, {"id": 3, "name": "High"}]
AGENTS = [{"id": 2, "name": "Sam Agent"}, {"id": 5, "name": "Priya Shah"}, {"id": 7, "name": "Tom Becker"}]


def row(ticket_id=1005, **extra) -> dict:
    return {"id": ticket_id, "summary": f"Ticket {ticket_id}", "status": {"id": 1, "name": "New"},
            "priority": {"id": 1, "name": "Low"}, "assignedAgents": [],
            "contact": {"id": 7, "name": "Pat Lee"}, "account": {"id": 3, "name": "Acme Pty"},
            "createdOn": "2026-11-01T10:00:00Z", "modifiedOn": "2026-11-27T10:00:00.1234567Z", **extra}


def ticket(ticket_id=1005, **extra) -> dict:
    return {**row(ticket_id), "description": "Broken", "requestType": {"id": 1, "name": "Hardware"},
            "taskProgress": {"done": 1, "total": 3},
            "notes": [{"id": 1, "note": "Public words", "isInternal": False, "createdBy": {"name": "Pat Lee", "userType": "Client"}},
                      {"id": 2, "note": "Agents only words", "isInternal": True,
                       "createdBy": {"name": "Sam Agent", "userType": "Member"}}],
            **extra}


@pytest.fixture
def agent(client, dd):
    sign_in(client, dd, "tech")
    return client


def lookups(dd):
    dd.add(responses.GET, API + "/statuses", json=STATUSES)
    dd.add(responses.GET, API + "/priorities", json=PRIORITIES)
    dd.add(responses.GET, API + "/agents", json=AGENTS)


def open_ticket(agent, dd, **extra) -> str:
    dd.add(responses.GET, API + "/tickets/1005", json=ticket(**extra))
    lookups(dd)
    response = agent.get("/tech/tickets/1005")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def form_data(html: str, name: str) -> dict:
    """The hidden fields of the form named `name` on the page."""
    form = html.split(f'name="form_name" value="{name}"')[0].rsplit("<form", 1)[1] + \
        html.split(f'name="form_name" value="{name}"')[1].split("</form>")[0]
    fields = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', form))
    fields.update(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields["form_name"] = name
    return fields


def patches(dd) -> list[dict]:
    return [json.loads(c.request.body) for c in dd.calls if c.request.method == "PATCH"]


# ---- queue ----------------------------------------------------------------------------------
def list_calls(dd) -> list[str]:
    """The queue's list requests, without the one-row requests that count the other views."""
    return [c.request.url for c in dd.calls if "/tickets?" in c.request.url and not re.search(r"take=1(&|$)", c.request.url)]


@pytest.mark.parametrize("view, status, assigned", [
    ("mine", "open", "me"), ("unassigned", "open", "unassigned"), ("open", "open", "any"),
    ("closed", "closed", "any")])
def test_queue_views_map_to_deskdirector_filters(agent, dd, view, status, assigned):
    dd.add(responses.GET, API + "/tickets", json={"total": 1, "results": [row()]})
    text = agent.get(f"/tech/queue?view={view}&sort=priority&q=printer").get_data(as_text=True)
    [url] = list_calls(dd)
    assert f"status={status}" in url and f"assigned={assigned}" in url
    assert "orderBy=priority" in url and "search=printer" in url
    assert "#1005" in text and "Pat Lee" in text and "Acme Pty" in text


def test_queue_defaults_to_my_tickets_by_last_activity(agent, dd):
    dd.add(responses.GET, API + "/tickets", json={"total": 0, "results": []})
    text = agent.get("/tech/queue").get_data(as_text=True)
    [url] = list_calls(dd)
    assert "assigned=me" in url and "orderBy=activity" in url and "take=20" in url
    assert "Nothing is assigned to you right now." in text


def test_stale_tickets_are_marked(agent, dd, app):
    app.config["STALE_DAYS"] = 3
    rows = [row(1, modifiedOn="2020-01-01T00:00:00Z", createdOn="2020-01-01T00:00:00Z"),
            row(2, modifiedOn="2099-01-01T00:00:00Z")]
    dd.add(responses.GET, API + "/tickets", json={"total": 2, "results": rows})
    text = agent.get("/tech/queue?view=open").get_data(as_text=True)
    first, second = text.split("<td>#1</td>")[1].split("<td>#2</td>")
    assert ">Stale<" in first and "Stale" not in second.split("</tr>")[0]


def test_queue_paging_and_bad_filters(agent, dd):
    dd.add(responses.GET, API + "/tickets", json={"total": 30, "results": [row(i) for i in range(10)]})
    text = agent.get("/tech/queue?view=open&page=2").get_data(as_text=True)
    assert "skip=20" in list_calls(dd)[-1] and "Showing 21–30 of 30" in text
    dd.add(responses.GET, API + "/tickets", json={"total": 0, "results": []})
    bad = agent.get("/tech/queue?view=everything&page=x")
    assert bad.status_code == 200 and 'role="alert"' in bad.get_data(as_text=True)
    assert "assigned=me" in list_calls(dd)[-1] and "skip=0" in list_calls(dd)[-1]


def test_quick_actions_are_offered_and_csrf_protected(agent, dd):
    dd.add(responses.GET, API + "/tickets", json={"total": 1, "results": [row()]})
    text = agent.get("/tech/queue?view=open").get_data(as_text=True)
    assert "Yes, assign #1005 to me" in text and "Yes, close #1005" in text
    response = agent.post("/tech/tickets/1005/take", data={"confirmed": "yes"})
    assert response.status_code == 400 and not patches(dd)


def _csrf(agent, dd) -> str:
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    page = agent.get("/tech/tickets/1005/take").get_data(as_text=True)
    assert "Take #1005?" in page and "Yes, take it" in page
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_a_post_checks_its_csrf_token_once_and_a_get_none(agent, dd, monkeypatch):
    import flask_wtf.csrf

    checked, real = [], flask_wtf.csrf.validate_csrf
    monkeypatch.setattr(flask_wtf.csrf, "validate_csrf",
                        lambda data, *args, **kwargs: checked.append(data) or real(data, *args, **kwargs))
    csrf = _csrf(agent, dd)
    assert checked == []
    unconfirmed = agent.post("/tech/tickets/1005/take", data={"csrf_token": csrf, "confirmed": ""})
    assert unconfirmed.status_code == 200 and "Take #1005?" in unconfirmed.get_data(as_text=True)
    assert checked == [csrf]
    forged = agent.post("/tech/tickets/1005/take", data={"csrf_token": csrf[:-2], "confirmed": "yes"})
    assert forged.status_code == 400 and not patches(dd)


def test_take_asks_first_then_assigns_me_alongside_others(agent, dd):
    csrf = _csrf(agent, dd)
    unconfirmed = agent.post("/tech/tickets/1005/take", data={"csrf_token": csrf, "confirmed": ""})
    assert unconfirmed.status_code == 200 and "Take #1005?" in unconfirmed.get_data(as_text=True)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket(assignedAgents=[{"id": 5, "name": "Priya"}]))
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    done = agent.post("/tech/tickets/1005/take?next=/tech/queue?view=open",
                      data={"csrf_token": csrf, "confirmed": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == "/tech/queue?view=open"
    assert patches(dd) == [{"assignedAgents": [{"id": 5}, {"id": 2}]}]


def test_behind_a_proxy_under_a_path_prefix_a_quick_action_comes_back_under_it(config, dd):
    config.update(PROXY_FIX=1, TRUSTED_HOSTS=[PROXIED_HOST])
    app = create_app(config)
    PrefixProxy(app, "/ddsite")
    agent = app.test_client()
    sign_in(agent, dd, "tech", prefix="/ddsite")
    dd.add(responses.GET, API + "/tickets", json={"total": 1, "results": [row()]})
    queue = html.unescape(agent.get("/ddsite/tech/queue?view=open").get_data(as_text=True))
    take = re.search(r'action="(/ddsite/tech/tickets/1005/take\?next=[^"]+)"', queue).group(1)
    assert take.endswith("next=/ddsite/tech/queue?view%3Dopen")
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    confirm = agent.get("/ddsite/tech/tickets/1005/take").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', confirm).group(1)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    # the proxy says the request came over TLS, so flask-wtf also checks where it came from
    agent.environ_base["HTTP_REFERER"] = f"https://{PROXIED_HOST}/ddsite/tech/queue"
    done = agent.post(take, data={"csrf_token": csrf, "confirmed": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == "/ddsite/tech/queue?view=open"
    # an address outside the site's prefix is not one of its pages
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    outside = agent.post("/ddsite/tech/tickets/1005/take?next=/tech/queue", data={"csrf_token": csrf})
    assert 'action="/ddsite/tech/tickets/1005/take?next=/ddsite/tech/queue"' in (
        outside.get_data(as_text=True))


def test_close_uses_the_closing_status(agent, dd):
    csrf = _csrf(agent, dd)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    dd.add(responses.GET, API + "/statuses", json=STATUSES)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    done = agent.post("/tech/tickets/1005/close?next=https://evil.example/",
                      data={"csrf_token": csrf, "confirmed": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == "/tech/queue"
    assert patches(dd) == [{"status": {"id": 6}}]


# ---- ticket ---------------------------------------------------------------------------------
def test_ticket_page_shows_internal_notes_marked_and_agent_details(agent, dd):
    text = open_ticket(agent, dd)
    assert "Agents only words" in text and "Public words" in text
    internal = text.split("Agents only words")[0].rsplit('<li class="note', 1)[1]
    assert internal.startswith(" from-agent internal") and 'class="badge internal">Internal' in internal
    assert "Pat Lee" in text and "Acme Pty" in text and "Hardware" in text and "1 of 3 done" in text


def test_ticket_reads_run_concurrently(agent, dd):
    import threading
    import time

    barrier = threading.Barrier(4, timeout=5)

    def together(body):
        def reply(request):
            barrier.wait()
            return 200, {}, json.dumps(body)
        return reply

    dd.add_callback(responses.GET, API + "/tickets/1005", callback=together(ticket()))
    dd.add_callback(responses.GET, API + "/statuses", callback=together(STATUSES))
    dd.add_callback(responses.GET, API + "/priorities", callback=together(PRIORITIES))
    dd.add_callback(responses.GET, API + "/agents", callback=together(AGENTS))
    started = time.monotonic()
    assert agent.get("/tech/tickets/1005").status_code == 200
    assert time.monotonic() - started < 5


def test_internal_note_by_default(agent, dd):
    page = open_ticket(agent, dd)
    assert re.search(r'<input checked id="visibility-\d" name="visibility" [^>]*value="internal">', page)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    lookups(dd)
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    response = agent.post("/tech/tickets/1005", data={**form_data(page, "note"), "note": "Checked",
                                                      "visibility": "internal"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#note-9")
    assert json.loads(dd.calls[-1].request.body) == {"note": "Checked", "isInternal": True}


def test_public_note_is_sent_as_public_and_only_once(agent, dd):
    page = open_ticket(agent, dd)
    data = {**form_data(page, "note"), "note": "We are on it", "visibility": "public"}
    for _ in range(2):
        dd.add(responses.GET, API + "/tickets/1005", json=ticket())
        lookups(dd)
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    assert agent.post("/tech/tickets/1005", data=data).status_code == 303
    assert agent.post("/tech/tickets/1005", data=data).status_code == 303
    posts = [json.loads(c.request.body) for c in dd.calls if c.request.method == "POST"]
    assert posts == [{"note": "We are on it", "isInternal": False}]


def test_blank_note_is_refused_on_the_field(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    lookups(dd)
    response = agent.post("/tech/tickets/1005", data={**form_data(page, "note"), "note": "  ",
                                                      "visibility": "internal"})
    assert response.status_code == 422 and "Write something" in response.get_data(as_text=True)


# ---- the composer: a note and, in the same submit, a status ---------------------------------
def _compose(agent, dd, page, current=None, **fields):
    dd.add(responses.GET, API + "/tickets/1005", json=current or ticket())
    lookups(dd)
    data = {**form_data(page, "note"), "note": "Replaced the toner", "visibility": "public", **fields}
    return agent.post("/tech/tickets/1005", data=data)


def _confirmation(agent, dd) -> str:
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    lookups(dd)
    page = agent.get("/tech/tickets/1005").get_data(as_text=True)
    return re.search(r'<p class="notice notice-success sent-confirmation" role="status">([^<]*)</p>',
                     page).group(1)


def test_send_and_set_status_posts_the_note_then_patches_only_the_status(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    response = _compose(agent, dd, page, send="with_status", then_status="2")
    assert response.status_code == 303 and response.headers["Location"].endswith("#note-9")
    assert patches(dd) == [{"status": {"id": 2}}]
    sent = [(c.request.method, c.request.url.rsplit("/", 1)[1]) for c in dd.calls
            if c.request.method in ("POST", "PATCH")]
    assert sent == [("POST", "notes"), ("PATCH", "1005")]  # the note first, then the status
    assert _confirmation(agent, dd) == ("Your reply was sent to the contact. "
                                        "Status set to In progress.")


def test_plain_send_never_touches_the_status(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    assert _compose(agent, dd, page, send="plain", then_status="2").status_code == 303
    assert patches(dd) == []


def test_send_and_set_status_without_a_status_sends_nothing(agent, dd):
    page = open_ticket(agent, dd)
    response = _compose(agent, dd, page, send="with_status", then_status="")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose the status to set, or press Send." in text
    assert re.search(r'<select aria-describedby="then_status-errors" aria-invalid="true" id="then_status"', text)
    assert not any(c.request.method == "POST" for c in dd.calls)


def test_a_status_someone_else_set_meanwhile_is_not_overwritten(agent, dd):
    page = open_ticket(agent, dd)  # loaded with status 1 (New)
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    moved = ticket(status={"id": 3, "name": "Waiting on client"})
    assert _compose(agent, dd, page, current=moved, send="with_status",
                    then_status="2").status_code == 303
    assert patches(dd) == []
    assert "someone set it to Waiting on client meanwhile" in _confirmation(agent, dd)


def test_a_refused_status_change_is_told_and_the_note_is_not_sent_again(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    dd.add(responses.PATCH, API + "/tickets/1005", status=403, json={"message": "Not your team"})
    data = {"send": "with_status", "then_status": "2"}
    assert _compose(agent, dd, page, **data).status_code == 303
    assert "The status was not changed: Not your team" in _confirmation(agent, dd)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    lookups(dd)
    again = agent.post("/tech/tickets/1005", data={**form_data(page, "note"), "note": "Replaced the toner",
                                                   "visibility": "public", **data})
    assert again.status_code == 303
    assert sum(c.request.method == "POST" for c in dd.calls) == 1


# ---- lists: counts, state, a number opens the ticket ----------------------------------------
def test_queue_tabs_count_each_view_with_one_row_asked(agent, dd):
    def reply(request):
        totals = {"me": 4, "unassigned": 7, "any&": 45}
        status = "closed" if "status=closed" in request.url else "open"
        total = 19 if status == "closed" else next(t for k, t in totals.items()
                                                  if f"assigned={k}" in request.url + "&")
        return 200, {}, json.dumps({"total": total, "results": [row()]})

    dd.add_callback(responses.GET, API + "/tickets", callback=reply)
    text = agent.get("/tech/queue?view=open").get_data(as_text=True)
    counts = re.findall(r'<span class="count">(\d+)<', text)
    assert counts == ["4", "7", "45", "19"]
    one_row = [c.request.url for c in dd.calls if "take=1&" in c.request.url]
    assert len(one_row) == 3 and not any("view=open" in url for url in one_row)


# ---- the queue's tab counts, kept per agent for a while --------------------------------------
PRIYA = {**AGENT, "id": "acme~m~5", "name": "Priya Shah", "userName": "priya@msp.test"}
COUNTS = {"mine": 4, "unassigned": 7, "open": 45, "closed": 19}


def answer_lists(dd, totals: dict, *, for_search: dict | None = None, for_token: tuple = ()):
    """DeskDirector's queue lists, their totals read from `totals` (view → total) when asked, so
    a test may change them; `for_search` answers a search's, `for_token` (token, totals) one
    agent's."""
    def reply(request):
        query = dict(re.findall(r"[?&](\w+)=([^&]*)", request.url))
        view = next(v for v, (status, assigned) in VIEWS.items()
                    if query["status"] == status and query["assigned"] == assigned)
        answer = for_search if "search" in query else totals
        if for_token and for_token[0] in request.headers["Authorization"]:
            answer = for_token[1]
        return 200, {}, json.dumps({"total": answer[view], "results": [row()]})

    dd.add_callback(responses.GET, API + "/tickets", callback=reply)


def tabs(browser, dd, query: str = "view=open") -> tuple[list[int], int]:
    """The tab counts a queue page shows (mine, unassigned, open, closed) and how many lists it
    asked DeskDirector for."""
    before = len(dd.calls)
    text = browser.get(f"/tech/queue?{query}").get_data(as_text=True)
    return [int(n) for n in re.findall(r'<span class="count">(\d+)<', text)], len(dd.calls) - before


def test_a_second_queue_page_reads_only_its_own_list_and_shows_the_same_counts(agent, dd):
    answer_lists(dd, COUNTS)
    assert tabs(agent, dd) == ([4, 7, 45, 19], 4)
    assert tabs(agent, dd) == ([4, 7, 45, 19], 1)
    assert "take=20" in dd.calls[-1].request.url  # the page itself, not a one-row count


def test_the_open_tabs_count_is_always_fresh_and_renews_the_kept_one(agent, dd):
    totals = dict(COUNTS)
    answer_lists(dd, totals)
    tabs(agent, dd, "view=open")
    totals.update(mine=5, open=46)
    # Mine is read with its list; the others are the kept ones, up to the counts' life old.
    assert tabs(agent, dd, "view=mine") == ([5, 7, 45, 19], 1)
    # Back on All open: its own count fresh, and mine's as the mine page left it.
    assert tabs(agent, dd, "view=open") == ([5, 7, 46, 19], 1)


def test_after_their_life_the_counts_are_read_again(agent, dd, clock):
    totals = dict(COUNTS)
    answer_lists(dd, totals)
    tabs(agent, dd)
    totals.update(unassigned=8, closed=20)
    clock(30)
    assert tabs(agent, dd) == ([4, 7, 45, 19], 1)
    clock(25)  # near their end, still kept, and not read again behind the agent's back
    assert tabs(agent, dd) == ([4, 7, 45, 19], 1)
    clock(6)  # 61 seconds since they were read; the default life is 60
    assert tabs(agent, dd) == ([4, 8, 45, 20], 4)


def test_zero_seconds_reads_every_count_every_time(config, dd):
    app = create_app({**config, "QUEUE_COUNTS_TTL": 0})
    app.test_client_class = LeakCheckingClient
    try:
        agent = app.test_client()
        sign_in(agent, dd, "tech")
        answer_lists(dd, COUNTS)
        assert tabs(agent, dd) == ([4, 7, 45, 19], 4)
        assert tabs(agent, dd) == ([4, 7, 45, 19], 4)
    finally:
        app.extensions["ddsite"].close()


def _take(agent, dd):
    csrf = _csrf(agent, dd)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    return agent.post("/tech/tickets/1005/take", data={"csrf_token": csrf, "confirmed": "yes"})


def _close(agent, dd):
    csrf = _csrf(agent, dd)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    dd.add(responses.GET, API + "/statuses", json=STATUSES)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    return agent.post("/tech/tickets/1005/close", data={"csrf_token": csrf, "confirmed": "yes"})


def _properties(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    return _update(agent, dd, page, {"status": "2"})


def _note_and_status(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.POST, API + "/tickets/1005/notes", json={"id": 9}, status=201)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    return _compose(agent, dd, page, send="with_status", then_status="2")


@pytest.mark.parametrize("change", [_take, _close, _properties, _note_and_status])
def test_the_agents_own_change_drops_their_counts(agent, dd, change):
    totals = dict(COUNTS)
    answer_lists(dd, totals)
    tabs(agent, dd)
    totals.update(mine=5, unassigned=6)
    assert change(agent, dd).status_code == 303 and len(patches(dd)) == 1
    assert tabs(agent, dd) == ([5, 6, 45, 19], 4)


def test_a_refused_change_drops_the_counts_too(agent, dd):
    totals = dict(COUNTS)
    answer_lists(dd, totals)
    tabs(agent, dd)
    page = open_ticket(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", status=409, json={"message": "It moved"})
    totals.update(mine=5)  # perhaps it did move: the counts are read again either way
    _update(agent, dd, page, {"status": "2"})
    assert tabs(agent, dd) == ([5, 7, 45, 19], 4)


def test_agents_never_see_each_others_counts(app, dd):
    sam, priya = app.test_client(), app.test_client()
    sign_in(sam, dd, "tech")
    priyas_token = sign_in(priya, dd, "tech", user=PRIYA)
    answer_lists(dd, COUNTS, for_token=(priyas_token, {"mine": 1, "unassigned": 2, "open": 3,
                                                       "closed": 4}))
    assert tabs(sam, dd) == ([4, 7, 45, 19], 4)
    assert tabs(priya, dd) == ([1, 2, 3, 4], 4)
    assert tabs(sam, dd) == ([4, 7, 45, 19], 1)
    assert tabs(priya, dd) == ([1, 2, 3, 4], 1)


def test_one_agents_change_leaves_anothers_counts_kept(app, dd):
    sam, priya = app.test_client(), app.test_client()
    sign_in(sam, dd, "tech")
    sign_in(priya, dd, "tech", user=PRIYA)
    answer_lists(dd, COUNTS)
    tabs(sam, dd), tabs(priya, dd)
    assert _properties(priya, dd).status_code == 303
    assert tabs(sam, dd)[1] == 1 and tabs(priya, dd)[1] == 4


def test_a_search_has_counts_of_its_own(agent, dd):
    searched = {"mine": 1, "unassigned": 5, "open": 2, "closed": 3}
    answer_lists(dd, COUNTS, for_search=searched)
    assert tabs(agent, dd) == ([4, 7, 45, 19], 4)
    assert tabs(agent, dd, "view=open&q=printer") == ([1, 5, 2, 3], 4)
    assert all("search=printer" in c.request.url for c in dd.calls[-4:])
    assert tabs(agent, dd, "view=closed&q=printer") == ([1, 5, 2, 3], 1)
    assert tabs(agent, dd, "view=open") == ([4, 7, 45, 19], 1)


def test_a_ticket_number_in_the_queue_search_opens_the_ticket(agent):
    for query in ("1005", "#1005", "# 1005"):
        response = agent.get("/tech/queue", query_string={"q": query})
        assert response.status_code == 303 and response.headers["Location"] == "/tech/tickets/1005"


def test_the_way_back_to_the_queue_keeps_view_sort_and_page(agent, dd):
    dd.add(responses.GET, API + "/tickets", json={"total": 45, "results": [row()]})
    agent.get("/tech/queue?view=open&sort=priority&page=2")
    text = open_ticket(agent, dd)
    back = re.search(r'<p class="back"><a href="([^"]+)">← Queue</a>', text).group(1)
    in_top_bar = re.search(r'<a href="([^"]+)" aria-current="page">Queue</a>', text).group(1)
    assert html.unescape(back) == html.unescape(in_top_bar) == "/tech/queue?view=open&sort=priority&page=2"


def test_a_bad_filter_is_named(agent, dd):
    dd.add(responses.GET, API + "/tickets", json={"total": 0, "results": []})
    text = agent.get("/tech/queue?sort=sideways").get_data(as_text=True)
    assert "Sort by: Not a valid choice." in text


# ---- updates by PATCH -----------------------------------------------------------------------
def _update(agent, dd, page, changes, current=None):
    dd.add(responses.GET, API + "/tickets/1005", json=current or ticket())
    lookups(dd)
    data = {**form_data(page, "update"), "status": "1", "priority": "1", **changes}
    return agent.post("/tech/tickets/1005", data=data)


def test_patch_carries_only_the_changed_status(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    response = _update(agent, dd, page, {"status": "2"})
    assert response.status_code == 303
    assert patches(dd) == [{"status": {"id": 2}}]
    assert dd.calls[-1].request.headers["Content-Type"] == "application/json"


def test_patch_clears_the_priority_with_null_and_sets_assignees(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    response = _update(agent, dd, page, {"priority": "", "assignees": ["5", "2"]})
    assert response.status_code == 303
    assert patches(dd) == [{"priority": None, "assignedAgents": [{"id": 5}, {"id": 2}]}]


def test_the_confirmation_says_what_changed(agent, dd):
    page = open_ticket(agent, dd, assignedAgents=PRIYA_AND_TOM)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    response = _update(agent, dd, page, {"status": "2", "priority": "", "assignees": ["5", "2"]},
                       current=ticket(assignedAgents=PRIYA_AND_TOM))
    assert response.status_code == 303
    assert patches(dd) == [{"status": {"id": 2}, "priority": None,
                            "assignedAgents": [{"id": 5}, {"id": 2}]}]
    shown = open_ticket(agent, dd)
    assert ("The ticket was updated. Status: In progress. Priority cleared. Assigned: Sam Agent. "
            "No longer assigned: Tom Becker.") in shown


def test_nothing_changed_sends_nothing(agent, dd):
    page = open_ticket(agent, dd)
    response = _update(agent, dd, page, {})
    assert response.status_code == 303 and patches(dd) == []


def test_no_put_is_ever_sent(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    _update(agent, dd, page, {"status": "2", "priority": "3"})
    assert not any(c.request.method == "PUT" for c in dd.calls)


PRIYA_ONLY = [{"id": 5, "name": "Priya Shah"}]
PRIYA_AND_TOM = [{"id": 5, "name": "Priya Shah"}, {"id": 7, "name": "Tom Becker"}]


def _meanwhile(**changes) -> dict:
    """#1005 as Tom left it, after Priya opened it (a later modifiedOn)."""
    return ticket(modifiedOn="2026-11-28T01:00:00Z", **changes)


def test_merge_without_overlap_sends_only_her_changes(agent, dd):
    page = open_ticket(agent, dd, assignedAgents=PRIYA_ONLY)
    moved = _meanwhile(assignedAgents=PRIYA_AND_TOM)  # Tom added himself
    dd.add(responses.PATCH, API + "/tickets/1005", json=moved)
    response = _update(agent, dd, page, {"status": "2", "priority": "3", "assignees": ["5"]}, current=moved)
    assert response.status_code == 303
    assert patches(dd) == [{"status": {"id": 2}, "priority": {"id": 3}}]  # Tom stays assigned
    shown = open_ticket(agent, dd, assignedAgents=PRIYA_AND_TOM)
    assert "Someone else changed it meanwhile; their changes were kept." in shown


def test_merge_overlap_on_status_asks_and_keeps_the_colleague(agent, dd):
    # The story: Tom sets In progress and adds himself; Priya changes status and priority.
    page = open_ticket(agent, dd, assignedAgents=PRIYA_ONLY)
    moved = _meanwhile(status={"id": 2, "name": "In progress"}, assignedAgents=PRIYA_AND_TOM)
    response = _update(agent, dd, page, {"status": "6", "priority": "3", "assignees": ["5"]}, current=moved)
    assert response.status_code == 409 and patches(dd) == []
    text = response.get_data(as_text=True)
    assert "Status: you chose Closed; meanwhile it was changed to In progress (it was New)." in text
    form = text.split('id="update-heading"')[1].split("</form>")[0]
    assert '<option selected value="6">Closed</option>' in form  # her choice, to confirm
    assert '<option selected value="3">High</option>' in form  # her other change, kept
    assert re.search(r'<input checked id="assignees-\d" name="assignees" type="checkbox" value="7">', form)
    # Update again as the form now stands: her status and priority, Tom untouched.
    dd.add(responses.PATCH, API + "/tickets/1005", json=moved)
    again = _update(agent, dd, text, {"status": "6", "priority": "3", "assignees": ["5", "7"]}, current=moved)
    assert again.status_code == 303 and patches(dd) == [{"status": {"id": 6}, "priority": {"id": 3}}]


def test_merge_overlap_on_status_can_take_theirs(agent, dd):
    page = open_ticket(agent, dd)
    moved = _meanwhile(status={"id": 2, "name": "In progress"})
    first = _update(agent, dd, page, {"status": "6", "priority": "3"}, current=moved)
    assert first.status_code == 409
    dd.add(responses.PATCH, API + "/tickets/1005", json=moved)
    again = _update(agent, dd, first.get_data(as_text=True), {"status": "2", "priority": "3"}, current=moved)
    assert again.status_code == 303 and patches(dd) == [{"priority": {"id": 3}}]


def test_merge_both_changing_assignees_keeps_both_changes(agent, dd):
    page = open_ticket(agent, dd, assignedAgents=PRIYA_ONLY)
    moved = _meanwhile(assignedAgents=PRIYA_AND_TOM)
    dd.add(responses.PATCH, API + "/tickets/1005", json=moved)
    response = _update(agent, dd, page, {"assignees": ["5", "2"]}, current=moved)  # Priya adds Sam
    assert response.status_code == 303
    assert patches(dd) == [{"assignedAgents": [{"id": 5}, {"id": 7}, {"id": 2}]}]


def test_merge_removal_removes_only_who_she_removed(agent, dd):
    page = open_ticket(agent, dd, assignedAgents=PRIYA_ONLY)
    moved = _meanwhile(assignedAgents=PRIYA_AND_TOM)
    dd.add(responses.PATCH, API + "/tickets/1005", json=moved)
    response = _update(agent, dd, page, {"assignees": []}, current=moved)  # Priya steps off
    assert response.status_code == 303 and patches(dd) == [{"assignedAgents": [{"id": 7}]}]


def test_string_ids_upstream_are_the_same_ids(agent, dd):
    strings = ticket(status={"id": "1", "name": "New"}, priority={"id": "1", "name": "Low"},
                     assignedAgents=[{"id": "5", "name": "Priya Shah"}])
    dd.add(responses.GET, API + "/tickets/1005", json=strings)
    lookups(dd)
    page = agent.get("/tech/tickets/1005").get_data(as_text=True)
    response = _update(agent, dd, page, {"assignees": ["5"]}, current=strings)
    assert response.status_code == 303 and patches(dd) == []  # nothing changed: "5" is 5


def test_deskdirector_refusal_lands_on_the_field(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", status=422,
           json={"message": "Invalid", "errors": {"Status": ["Cannot reopen a closed ticket."]}})
    response = _update(agent, dd, page, {"status": "2"})
    assert response.status_code == 422 and "Cannot reopen a closed ticket." in response.get_data(as_text=True)


def test_forged_choice_is_refused(agent, dd):
    page = open_ticket(agent, dd)
    response = _update(agent, dd, page, {"status": "99"})
    assert response.status_code == 422 and patches(dd) == []


@pytest.mark.parametrize("failure, status", [
    ({"body": requests.ConnectionError()}, 502), ({"body": requests.ReadTimeout()}, 504),
    ({"status": 401, "json": {}}, 401), ({"status": 403, "json": {}}, 403),
    ({"status": 404, "json": {}}, 404), ({"status": 500, "body": ""}, 502)])
@pytest.mark.parametrize("path, mocked", [("/tech/queue", API + "/tickets"),
                                          ("/tech/tickets/1005", API + "/tickets/1005")])
def test_each_upstream_failure_on_each_agent_page(agent, dd, failure, status, path, mocked):
    dd.assert_all_requests_are_fired = False
    for _ in range(3):
        dd.add(responses.GET, mocked, **failure)
    lookups(dd)
    assert agent.get(path).status_code == status


def test_agent_pages_refuse_a_contact_session(client, dd):
    sign_in(client, dd, "portal", user=CONTACT)
    for path in ("/tech/", "/tech/queue", "/tech/tickets/1005"):
        response = client.get(path)
        assert response.status_code == 403
        assert "these pages are for agents" in response.get_data(as_text=True)
    assert len(dd.calls) == 1  # only the intake's who-am-I


def test_contact_pages_refuse_an_agent_session(agent, dd):
    for path in ("/portal/", "/portal/tickets", "/portal/tickets/1005", "/portal/new"):
        response = agent.get(path)
        assert response.status_code == 403
        assert "these pages are for contacts" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["take", "close"])
@pytest.mark.parametrize("failure, status, words", [
    ({"status": 503}, 502, "HTTP 503"), ({"body": requests.ReadTimeout()}, 504, "took too long"),
    ({"status": 403, "json": {"message": "Not your team"}}, 403, "Not your team"),
    ({"status": 422, "json": {"message": "Closed tickets stay closed"}}, 502, "Closed tickets stay closed"),
])
def test_quick_action_failures_are_explained_and_not_retried(agent, dd, action, failure, status, words):
    csrf = _csrf(agent, dd)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    if action == "close":
        dd.add(responses.GET, API + "/statuses", json=STATUSES)
    dd.add(responses.PATCH, API + "/tickets/1005", **failure)
    response = agent.post(f"/tech/tickets/1005/{action}", data={"csrf_token": csrf, "confirmed": "yes"})
    assert response.status_code == status and words in response.get_data(as_text=True)
    assert sum(c.request.method == "PATCH" for c in dd.calls) == 1


def test_quick_action_on_a_missing_ticket(agent, dd):
    dd.add(responses.GET, API + "/tickets/999", status=404, json={})
    assert agent.get("/tech/tickets/999/take").status_code == 404


def test_refusal_of_the_assignees_lands_on_their_field(agent, dd):
    page = open_ticket(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", status=422,
           json={"message": "Invalid", "errors": {"AssignedAgents": ["Priya is on leave."]}})
    response = _update(agent, dd, page, {"assignees": ["5"]})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert '<ul class="errors"><li>Priya is on leave.</li></ul>' in text
    assert "assignees: Priya" not in text  # on the field, not in the form's own errors


# ---- hardening: tampered remembered values, redirect targets checked before the change -----
@pytest.mark.parametrize("loaded", ["²", "٣", "1,,2", "-1", "2 ,5", "x"])
def test_tampered_remembered_assignees_are_refused_with_a_message(agent, dd, loaded):
    page = open_ticket(agent, dd)
    response = _update(agent, dd, page, {"status": "2", "loaded_assignees": loaded})
    assert response.status_code == 422
    assert "changed outside this page" in response.get_data(as_text=True)
    assert not patches(dd)


@pytest.mark.parametrize("target", ["/tech/\r\nSet-Cookie:x=1", "/tech/queue\nX: y", "//evil.example/tech/",
                                    "/\\evil.example", "https://evil.example/tech/", "/tech/nowhere",
                                    "/portal/", "/tech/../portal/", "javascript:alert(1)", "/tech/queue#x",
                                    "/tech/quéue", "/tech/" + "a" * 3000])
def test_close_with_a_bad_next_closes_then_goes_to_the_queue(agent, dd, target):
    csrf = _csrf(agent, dd)
    dd.add(responses.GET, API + "/tickets/1005", json=ticket())
    dd.add(responses.GET, API + "/statuses", json=STATUSES)
    dd.add(responses.PATCH, API + "/tickets/1005", json=ticket())
    done = agent.post("/tech/tickets/1005/close", query_string={"next": target},
                      data={"csrf_token": csrf, "confirmed": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == "/tech/queue"
    assert patches(dd) == [{"status": {"id": 6}}]


def test_a_change_to_a_value_not_in_the_list_is_named_not_called_cleared():
    from types import SimpleNamespace

    from ddsite.tech.updates import describe_changes

    def field(*choices):
        return SimpleNamespace(choices=[SimpleNamespace(value=v, label=label) for v, label in choices])

    form = SimpleNamespace(status=field(("1", "New")), priority=field(("3", "High")),
                           assignees=field(("5", "Priya Shah")))
    lines = describe_changes(form, {"status": "9", "priority": None, "assignees": ("5",)}, ())
    assert lines == ["Status: 9.", "Priority cleared.", "Assigned: Priya Shah."]


@pytest.mark.parametrize("cookieless", [False, True])
@pytest.mark.parametrize("sort, q", [("activity", ""), ("age", "printer & 'jam' <x>?#"),
                                     ("priority", "ddsite-view-probe"), ("activity", "日本 100% +")])
def test_queue_tab_urls_are_what_url_for_writes(app, sort, q, cookieless):
    with app.test_request_context("/tech/queue"):
        if cookieless:  # the session handle rides in every URL
            g.session_in_url, session.handle = True, "handle-1"
        urls = view_urls(sort, q)
        assert urls == {view: url_for("tech.queue", view=view, sort=sort, q=q) for view in VIEWS}
        assert ("ddsid=handle-1" in urls["closed"]) == cookieless
