"""Pages against instances that speak another dialect, with DeskDirector mocked: string ids,
lists the server does not page or sort, statuses per queue, v4 words, replies of unknown shape."""

from __future__ import annotations

import json
import re

import pytest
import responses

from ddsite import create_app

from .conftest import HOST, LeakCheckingClient, sign_in

API = HOST + "/api/v4/tech"
V4_PORTAL = HOST + "/api/v4/client-portal"


@pytest.fixture
def signed_in_with(config, tmp_path, dd):
    """signed_in_with(endpoints, audience): a client signed in to an app told `endpoints`."""
    apps = []

    def sign_in_with(endpoints: dict, audience: str = "tech"):
        path = tmp_path / f"endpoints-{len(apps)}.json"
        path.write_text(json.dumps(endpoints))
        app = create_app({**config, "ENDPOINTS_FILE": str(path)})
        app.test_client_class = LeakCheckingClient
        apps.append(app)
        client = app.test_client()
        sign_in(client, dd, audience)
        return client

    yield sign_in_with
    for app in apps:
        app.extensions["ddsite"].close()

@pytest.fixture
def agent(client, dd):
    sign_in(client, dd, "tech")
    return client


def _hidden_fields(page: str, form_name: str) -> dict:
    form = page.split(f'value="{form_name}"')[1].split("</form>")[0]
    head = page.split(f'value="{form_name}"')[0].rsplit("<form", 1)[1]
    fields = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', head + form))
    fields.update(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', head + form))
    return {**fields, "form_name": form_name}


def _post_fields(page: str) -> dict:
    """The hidden fields of a page's only form (contact pages have one each)."""
    return dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', page))


def _patches(dd) -> list:
    return [json.loads(c.request.body) for c in dd.calls if c.request.method == "PATCH"]


# ---- string ids, end to end ------------------------------------------------------------------
STRING_TICKET = {
    "id": "1005", "summary": "VPN drops", "status": {"id": "12", "name": "In progress"},
    "priority": {"id": "2", "name": "Medium"}, "assignedAgents": [{"id": "201", "name": "Sam"}],
    "modifiedOn": "2026-11-27T10:00:00.1234567Z", "comments": []}
STRING_LOOKUPS = {
    "/statuses": [{"id": "11", "name": "New"}, {"id": "12", "name": "In progress"},
                  {"id": "16", "name": "Closed", "isClosed": True}],
    "/priorities": {"results": [{"id": "1", "name": "Low"}, {"id": "2", "name": "Medium"}],
                    "totalResults": 2},
    "/agents": {"total": 2, "resultsCount": 2, "results": [{"id": "201", "name": "Sam"},
                                                           {"id": "202", "name": "Priya"}]},
}


def _string_id_page(agent, dd, ticket=None):
    dd.add(responses.GET, API + "/tickets/1005", json=ticket or STRING_TICKET)
    for path, reply in STRING_LOOKUPS.items():
        dd.add(responses.GET, API + path, json=reply)
    return agent.get("/tech/tickets/1005")


def test_string_ids_are_selected_compared_and_sent_back_as_strings(agent, dd):
    page = _string_id_page(agent, dd)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<option selected value="12">In progress</option>' in text
    assert '<option selected value="2">Medium</option>' in text
    assert re.search(r'checked[^>]*value="201"|value="201"[^>]*checked', text)
    form = {**_hidden_fields(text, "update"), "status": "12", "priority": "2", "assignees": ["201"]}

    # Update pressed as the page came: nothing changed, nothing is sent (nothing cleared).
    _string_id_page(agent, dd)
    unchanged = agent.post("/tech/tickets/1005", data=form)
    assert unchanged.status_code == 303 and _patches(dd) == []

    # A real change: exactly that, with DeskDirector's own string ids.
    _string_id_page(agent, dd)
    dd.add(responses.PATCH, API + "/tickets/1005", json={**STRING_TICKET, "status": {"id": "11"}})
    changed = agent.post("/tech/tickets/1005", data={**form, "status": "11",
                                                     "assignees": ["201", "202"]})
    assert changed.status_code == 303
    assert _patches(dd) == [{"status": {"id": "11"},
                             "assignedAgents": [{"id": "201"}, {"id": "202"}]}]


def test_a_number_and_its_string_are_the_same_id(agent, dd):
    mixed = {**STRING_TICKET, "status": {"id": 12, "name": "In progress"},
             "priority": {"id": 2, "name": "Medium"}, "assignedAgents": [{"id": 201}]}
    text = _string_id_page(agent, dd, mixed).get_data(as_text=True)
    assert '<option selected value="12">In progress</option>' in text
    assert '<option selected value="2">Medium</option>' in text


def test_take_sends_my_id_the_way_the_instance_writes_ids(agent, dd):
    unassigned = {**STRING_TICKET, "assignedAgents": [{"id": "203", "name": "Tom"}]}
    dd.add(responses.GET, API + "/tickets/1005", json=unassigned)
    dd.add(responses.PATCH, API + "/tickets/1005", json=unassigned)
    response = agent.post("/tech/tickets/1005/take", data={
        "confirmed": "yes", "csrf_token": _csrf_token(agent, dd, unassigned)})
    assert response.status_code == 303
    assert _patches(dd) == [{"assignedAgents": [{"id": "203"}, {"id": "2"}]}]


def _csrf_token(agent, dd, ticket) -> str:
    dd.add(responses.GET, API + "/tickets/1005", json=ticket)
    page = agent.get("/tech/tickets/1005/take").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


# ---- lists the server does not page or sort ---------------------------------------------------
def _rows(count: int) -> list[dict]:
    return [{"id": 1000 + n, "summary": f"Ticket {n}", "createdOn": "2026-01-01T00:00:00Z",
             "modifiedOn": f"2026-02-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"} for n in range(count)]


def _shown(response) -> list[int]:
    return [int(n) for n in re.findall(r"<td>#(\d+)</td>", response.get_data(as_text=True))]


def test_a_server_that_ignores_skip_and_take_is_paged_here(agent, dd):
    for _ in range(3):
        dd.add(responses.GET, API + "/tickets", json={"total": 45, "resultsCount": 45,
                                                      "results": _rows(45)})
    pages = [agent.get(f"/tech/queue?view=open&page={n}") for n in (1, 2, 3)]
    shown = [_shown(page) for page in pages]
    assert [len(rows) for rows in shown] == [20, 20, 5]
    assert len({i for rows in shown for i in rows}) == 45  # no ticket twice, none missing
    assert 'rel="next"' in pages[0].get_data(as_text=True)
    assert "Showing 21–40 of 45" in pages[1].get_data(as_text=True)
    assert 'rel="next"' not in pages[2].get_data(as_text=True)


def test_without_paging_or_sort_in_the_table_neither_is_sent_and_ddsite_sorts(
        signed_in_with, dd):
    agent = signed_in_with({"tech.tickets": "GET /api/v4/tech/tickets"})
    rows = _rows(30)
    rows[7]["priority"] = {"id": 4, "name": "Critical"}
    for _ in range(2):
        dd.add(responses.GET, API + "/tickets", json=list(reversed(rows)))
    by_activity = _shown(agent.get("/tech/queue?view=open"))
    by_priority = _shown(agent.get("/tech/queue?view=open&sort=priority"))
    for call in dd.calls[1:]:
        assert not re.search(r"[?&](skip|take|orderBy)=", call.request.url)
    newest_first = sorted(rows, key=lambda r: r["modifiedOn"], reverse=True)
    assert by_activity == [r["id"] for r in newest_first[:20]]
    assert by_priority[0] == 1007


def test_a_sort_parameter_of_the_instances_own_is_sent(signed_in_with, dd):
    agent = signed_in_with({"tech.tickets": "GET /api/v4/tech/tickets?sortBy={sort}&page_size={take}"})
    dd.add(responses.GET, API + "/tickets", json=_rows(3))
    agent.get("/tech/queue?view=open&sort=age")
    # the queue's own list (the other views are counted with one row each)
    [url] = [c.request.url for c in dd.calls
             if "/tickets?" in c.request.url and "page_size=1&" not in c.request.url + "&"]
    assert "sortBy=age" in url and "page_size=20" in url and "skip" not in url


# ---- statuses per queue ------------------------------------------------------------------------
def test_statuses_are_asked_for_the_tickets_queue(signed_in_with, dd):
    agent = signed_in_with({"tech.statuses": "GET /api/v2/statuses?boardId={queue_id}"})
    on_board = {**STRING_TICKET, "board": {"id": 7, "name": "Projects"}}
    dd.add(responses.GET, API + "/tickets/1005", json=on_board)
    dd.add(responses.GET, HOST + "/api/v2/statuses", json=STRING_LOOKUPS["/statuses"])
    dd.add(responses.GET, API + "/priorities", json=STRING_LOOKUPS["/priorities"])
    dd.add(responses.GET, API + "/agents", json=STRING_LOOKUPS["/agents"])
    assert agent.get("/tech/tickets/1005").status_code == 200
    assert [c.request.url for c in dd.calls if "statuses" in c.request.url] == [
        HOST + "/api/v2/statuses?boardId=7"]

    # No queue on the ticket: no statuses to ask for; its own status is still offered.
    dd.add(responses.GET, API + "/tickets/1005", json=STRING_TICKET)
    dd.add(responses.GET, API + "/priorities", json=STRING_LOOKUPS["/priorities"])
    dd.add(responses.GET, API + "/agents", json=STRING_LOOKUPS["/agents"])
    text = agent.get("/tech/tickets/1005").get_data(as_text=True)
    assert '<option selected value="12">In progress</option>' in text


def test_close_reads_closed_ness_from_the_ticket_and_its_queues_statuses(signed_in_with, dd):
    agent = signed_in_with({"tech.statuses": "GET /api/v2/statuses?boardId={queue_id}"})
    on_board = {**STRING_TICKET, "board": {"id": "7", "name": "Projects"}, "isClosed": False}
    token = _csrf_token(agent, dd, on_board)
    dd.add(responses.GET, API + "/tickets/1005", json=on_board)
    dd.add(responses.GET, HOST + "/api/v2/statuses", json=STRING_LOOKUPS["/statuses"])
    dd.add(responses.PATCH, API + "/tickets/1005", json=on_board)
    closed = agent.post("/tech/tickets/1005/close", data={"confirmed": "yes", "csrf_token": token})
    assert closed.status_code == 303 and _patches(dd) == [{"status": {"id": "16"}}]
    dd.add(responses.GET, API + "/tickets/1005", json={**on_board, "isClosed": True})
    again = agent.post("/tech/tickets/1005/close", data={"confirmed": "yes", "csrf_token": token},
                       follow_redirects=True)
    assert "#1005 is already closed." in again.get_data(as_text=True) and len(_patches(dd)) == 1


# ---- the v4 words --------------------------------------------------------------------------
@pytest.fixture
def v4_contact(signed_in_with):
    return signed_in_with({"dialect": "v4"}, "portal")


def test_a_v4_reply_is_a_comment_and_its_refusal_lands_on_the_field(v4_contact, dd):
    ticket = {"id": "1005", "summary": "VPN", "comments": [
        {"id": "1", "comment": "We are looking", "isPublic": True, "author": {"name": "Sam"}}]}
    dd.add(responses.GET, V4_PORTAL + "/tickets/1005", json=ticket)
    text = v4_contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "We are looking" in text and "No messages yet" not in text
    dd.add(responses.POST, V4_PORTAL + "/tickets/1005/comments", status=422,
           json={"errors": {"Comment": ["Comments cannot contain images."]}})
    dd.add(responses.GET, V4_PORTAL + "/tickets/1005", json=ticket)
    refused = v4_contact.post("/portal/tickets/1005", data={
        **_post_fields(text), "note": "<img>"})
    assert refused.status_code == 422
    assert json.loads(dd.calls[-2].request.body) == {"comment": "<img>"}
    assert '<ul class="errors" id="note-errors"><li>Comments cannot contain images.</li>' in \
        refused.get_data(as_text=True)


def test_a_v4_request_names_a_service_type_by_its_string_id(v4_contact, dd):
    def lookups():
        dd.add(responses.GET, V4_PORTAL + "/service-types",
               json={"results": [{"id": "st-7", "name": "Hardware"}], "totalResults": 1})
        dd.add(responses.GET, V4_PORTAL + "/priorities", json=[{"id": "3", "name": "High"}])

    lookups()
    text = v4_contact.get("/portal/new").get_data(as_text=True)
    assert '<option value="st-7">Hardware</option>' in text
    lookups()
    dd.add(responses.POST, V4_PORTAL + "/tickets", status=201, json={"id": "1077"})
    created = v4_contact.post("/portal/new", data={**_post_fields(text), "summary": "Laptop",
                                                   "request_type": "st-7", "priority": "3"})
    assert created.status_code == 303 and created.headers["Location"] == "/portal/tickets/1077"
    assert json.loads(dd.calls[-1].request.body) == {
        "summary": "Laptop", "description": "", "serviceType": {"id": "st-7"},
        "priority": {"id": "3"}}


# ---- replies of a shape ddsite does not know ---------------------------------------------------
@pytest.mark.parametrize("path, mocked, reply", [
    ("/tech/queue", API + "/tickets", {"json": {"items": [], "count": 0}}),
    ("/tech/queue", API + "/tickets", {"body": "<html>TECH</html>"}),
    ("/tech/tickets/1005", API + "/tickets/1005", {"json": [{"id": 1005}]}),
    ("/tech/tickets/1005", API + "/tickets/1005", {"json": {"id": "T-1005"}}),
    ("/tech/queue", API + "/tickets", {"json": [{"id": 1}, {"summary": "no id"}]}),
    ("/tech/queue", API + "/tickets", {"json": ["1005"]}),
])
def test_a_reply_of_unknown_shape_gets_a_page_naming_the_operation(agent, dd, path, mocked,
                                                                    reply):
    dd.assert_all_requests_are_fired = False
    dd.add(responses.GET, mocked, **reply)
    for lookup in STRING_LOOKUPS:
        dd.add(responses.GET, API + lookup, json=[])
    response = agent.get(path)
    text = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "DeskDirector answered in a form ddsite does not know" in text
    operation = "tech.tickets" if path == "/tech/queue" else "tech.ticket"
    assert f"“{operation}”" in text and "DDSITE_ENDPOINTS_FILE" in text
