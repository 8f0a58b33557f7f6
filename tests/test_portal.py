"""Contact pages, as a contact uses them, with DeskDirector mocked."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import requests
import responses

from .conftest import HOST, expect_home, sign_in

TICKETS = HOST + "/api/v4/portal/tickets"
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">x</a>'


def row(ticket_id: int = 1005, **extra) -> dict:
    return {"id": ticket_id, "summary": f"Ticket {ticket_id}", "status": {"id": 1, "name": "New"},
            "priority": {"id": 2, "name": "Medium"}, "assignedAgents": [{"id": 4, "name": "Sam Reyes"}],
            "createdOn": "2026-11-01T10:00:00.1234567Z", "modifiedOn": "2026-11-20T10:00:00Z", **extra}


def ticket(ticket_id: int = 1005, notes=None, **extra) -> dict:
    return {**row(ticket_id), "description": "It broke.\nTwice.", "requestType": {"id": 1, "name": "Hardware"},
            "notes": notes if notes is not None else [
                {"id": 1, "note": "First message", "createdOn": "2026-11-02T10:00:00Z",
                 "createdBy": {"id": "acme~c~7", "name": "Pat Lee", "userType": "Client"}}],
            **extra}


@pytest.fixture
def contact(client, dd):
    sign_in(client, dd, "portal")
    return client


def form_fields(html: str) -> dict:
    return dict(re.findall(r'name="(csrf_token|form_key)" type="hidden" value="([^"]+)"', html))


# ---- home -----------------------------------------------------------------------------------
def test_home_shows_open_tickets_and_recent_activity_with_the_new_request_action(contact, dd):
    open_rows = [row(1005, status={"id": 2, "name": "In progress"})]
    recent = [row(1001, isClosed=True, latestNote={"notePreview": "All fixed now, closing.",
                                                   "createdBy": {"name": "Sam Reyes"}})]
    dd.add(responses.GET, TICKETS, json={"total": 3, "results": open_rows},
           match=[responses.matchers.query_param_matcher({"status": "open"}, strict_match=False)])
    dd.add(responses.GET, TICKETS, json={"total": 9, "results": recent},
           match=[responses.matchers.query_param_matcher({"status": "any"}, strict_match=False)])
    text = contact.get("/portal/").get_data(as_text=True)
    assert "Your open tickets (3)" in text and "#1005 Ticket 1005" in text
    assert 'class="badge badge-status tone-progress">In progress<' in text
    assert "Sam Reyes: All fixed now, closing." in text and "All 3 open tickets" in text
    assert 'href="/portal/new"' in text and "Raise a new request" in text
    assert all("orderBy=activity" in c.request.url and "take=5" in c.request.url
               for c in dd.calls if "/tickets" in c.request.url)


def test_home_without_open_tickets_says_what_to_do(contact, dd):
    expect_home(dd)
    text = contact.get("/portal/").get_data(as_text=True)
    assert "You have no open tickets" in text and "Raise a new request" in text


# ---- the ticket list ------------------------------------------------------------------------
def test_a_ticket_number_in_the_search_opens_the_ticket(contact):
    response = contact.get("/portal/tickets", query_string={"q": "#1005", "status": "any"})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/tickets/1005"


def test_the_way_back_keeps_the_list_filter_and_page(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 45, "results": [row()]})
    contact.get("/portal/tickets?status=closed&q=printer&page=2")
    fields = _open_ticket(contact, dd)
    assert fields
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    text = contact.get("/portal/tickets/1005").get_data(as_text=True)
    back = re.search(r'<p class="back"><a href="([^"]+)">← My tickets</a>', text).group(1)
    assert back.replace("&amp;", "&") == "/portal/tickets?status=closed&q=printer&page=2"


def test_a_bad_filter_is_named(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 0, "results": []})
    text = contact.get("/portal/tickets?status=everything").get_data(as_text=True)
    assert "Show: Not a valid choice. Showing the first page of open tickets instead." in text


def test_an_error_page_keeps_the_navigation_and_leads_back_to_the_list(contact, dd):
    dd.add(responses.GET, TICKETS + "/999", status=404, json={})
    text = contact.get("/portal/tickets/999").get_data(as_text=True)
    assert text.count("<h1") == 1 and "This ticket or page is not there" in text
    assert '<nav aria-label="Sections">' in text and ">New request</a>" in text
    assert ">Back to my tickets</a>" in text and '<p class="muted detail">Error 404</p>' in text


def test_an_upstream_failure_says_one_thing_with_the_detail_small(contact, dd):
    dd.add(responses.GET, TICKETS, status=500, body="boom")
    text = contact.get("/portal/tickets").get_data(as_text=True)
    assert "<h1 id=\"problem-heading\">DeskDirector had a problem</h1>" in text
    assert "<p>Try again in a moment.</p>" in text
    assert '<p class="muted detail">DeskDirector answered with an error (HTTP 500). · Error 502</p>' in text



def test_ticket_list_shows_rows_with_everything_a_contact_needs(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 1, "resultsCount": 1, "results": [row()]})
    text = contact.get("/portal/tickets").get_data(as_text=True)
    assert "#1005" in text and "Ticket 1005" in text and "New" in text and "Medium" in text
    assert "Sam Reyes" in text and 'title="20 Nov 2026, 10:00 UTC"' in text
    assert "Showing 1–1 of 1" in text
    sent = dd.calls[-1].request
    assert "status=open" in sent.url and "skip=0" in sent.url and "take=20" in sent.url
    assert "orderBy=activity" in sent.url


def test_company_tickets_say_who_raised_them(contact, dd):
    rows = [row(1, contact={"id": 7, "name": "Pat Lee"}), row(2, contact={"id": 9, "name": "Kim Other"})]
    dd.add(responses.GET, TICKETS, json={"total": 2, "results": rows})
    text = contact.get("/portal/tickets").get_data(as_text=True)
    assert "Raised by Kim Other" in text and "Raised by Pat Lee" not in text


def test_filters_search_and_paging_are_passed_on(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 45, "results": [row(i) for i in range(20)]})
    text = contact.get("/portal/tickets?status=closed&q=printer&page=2").get_data(as_text=True)
    url = dd.calls[-1].request.url
    assert "status=closed" in url and "search=printer" in url and "skip=20" in url
    assert "Showing 21–40 of 45" in text
    assert 'href="/portal/tickets?page=1&amp;status=closed&amp;q=printer" rel="prev"' in text
    assert 'href="/portal/tickets?page=3&amp;status=closed&amp;q=printer" rel="next"' in text


def test_last_page_has_no_next_link(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 41, "results": [row(1)]})
    text = contact.get("/portal/tickets?page=3").get_data(as_text=True)
    assert "Showing 41–41 of 41" in text and 'rel="next"' not in text and 'rel="prev"' in text


def test_page_past_the_end_offers_the_first_page(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 5, "results": []})
    text = contact.get("/portal/tickets?page=9").get_data(as_text=True)
    assert "no tickets on page 9" in text and "Go to the first page" in text


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=-3", "status=deleted", "q=" + "x" * 101])
def test_bad_filters_get_a_message_and_a_sensible_list(contact, dd, query):
    dd.add(responses.GET, TICKETS, json={"total": 1, "results": [row()]})
    response = contact.get(f"/portal/tickets?{query}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text and "#1005" in text
    assert "skip=0" in dd.calls[-1].request.url and "status=open" in dd.calls[-1].request.url


def test_empty_list_says_what_to_do_next(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 0, "results": []})
    text = contact.get("/portal/tickets").get_data(as_text=True)
    assert "You have no open tickets" in text and 'href="/portal/new"' in text


def test_empty_search_offers_to_search_everything(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 0, "results": []})
    text = contact.get("/portal/tickets?q=zebra").get_data(as_text=True)
    assert "No open tickets match “zebra”" in text and "status=any" in text


def test_summaries_are_escaped(contact, dd):
    dd.add(responses.GET, TICKETS, json={"total": 1, "results": [row(summary=XSS)]})
    text = contact.get("/portal/tickets").get_data(as_text=True)
    assert "<script>" not in text and "<img" not in text and "&lt;script&gt;" in text


# ---- one ticket -----------------------------------------------------------------------------
def test_ticket_page_shows_details_conversation_and_a_portal_link(contact, dd):
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    text = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "#1005 Ticket 1005" in text and "Hardware" in text and "Medium" in text
    assert "It broke.<br>\nTwice." in text and "First message" in text and "Pat Lee" in text
    assert f'href="{HOST}/portal/deeplink?name=ticket&amp;ticket_id=1005" target="_top"' in text
    assert text.count(">New</span>") == 1  # the status once, beside its label


def test_internal_notes_are_never_shown_to_a_contact(contact, dd):
    notes = [{"id": 1, "note": "Visible", "isInternal": False},
             {"id": 2, "note": "SECRET-INTERNAL", "isInternal": True}]
    dd.add(responses.GET, TICKETS + "/1005", json=ticket(notes=notes))
    text = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "Visible" in text and "SECRET-INTERNAL" not in text


def test_notes_are_sanitized_and_links_made_clickable(contact, dd):
    notes = [{"id": 1, "note": XSS + "<p>kept <b>bold</b></p>", "createdOn": "2026-11-02T00:00:00Z"},
             {"id": 2, "note": "see https://example.com/kb?a=1&b=2.\nnext line",
              "createdOn": "2026-11-03T00:00:00Z"}]
    dd.add(responses.GET, TICKETS + "/1005", json=ticket(notes=notes, description=XSS))
    text = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "onerror" not in text and "<script>" not in text and "javascript:" not in text
    assert "<p>kept <b>bold</b></p>" in text
    assert '<a href="https://example.com/kb?a=1&amp;b=2" target="_blank" rel="noopener noreferrer nofollow">' in text
    assert "<br>\nnext line" in text


@pytest.mark.parametrize("failure, status, words", [
    ({"body": requests.ConnectionError()}, 502, "could not be reached"),
    ({"body": requests.ReadTimeout()}, 504, "took too long"),
    ({"status": 401, "json": {"errorCode": "Unauthorized"}}, 401, "session has ended"),
    ({"status": 403, "json": {"message": "Not your company"}}, 403, "Not your company"),
    ({"status": 404, "json": {}}, 404, "has no such item"),
    ({"status": 422, "json": {"message": "Bad id"}}, 502, "unexpected answer"),
    ({"status": 500, "body": "boom"}, 502, "HTTP 500"),
    ({"status": 503, "body": ""}, 502, "HTTP 503"),
])
@pytest.mark.parametrize("path, mocked", [
    ("/portal/tickets", TICKETS), ("/portal/tickets/1005", TICKETS + "/1005"),
    ("/portal/new", HOST + "/api/v4/portal/request-types"),
])
def test_each_upstream_failure_on_each_page(contact, dd, failure, status, words, path, mocked):
    dd.assert_all_requests_are_fired = False
    retried = status == 502 and failure.get("status") in (None, 503)
    for _ in range(3 if retried else 1):
        dd.add(responses.GET, mocked, **failure)
    dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[])
    response = contact.get(path)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert words in text
    if status in (502, 504) and "unexpected" not in words:
        assert f'href="{path}"' in text  # "Try again"


# ---- replying -------------------------------------------------------------------------------
def _open_ticket(contact, dd, notes=None):
    dd.add(responses.GET, TICKETS + "/1005", json=ticket(notes=notes))
    return form_fields(contact.get("/portal/tickets/1005").get_data(as_text=True))


def test_reply_is_posted_as_the_contact_and_shown(contact, dd):
    fields = _open_ticket(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 9}, status=201)
    response = contact.post("/portal/tickets/1005", data={**fields, "note": "  Thanks!  "})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/tickets/1005#note-9"
    assert json.loads(dd.calls[-1].request.body) == {"note": "Thanks!"}
    new_note = {"id": 9, "note": "Thanks!", "createdOn": "2026-11-28T00:00:00Z",
                "createdBy": {"name": "Pat Lee"}}
    dd.add(responses.GET, TICKETS + "/1005", json=ticket(notes=[new_note]))
    text = contact.get("/portal/tickets/1005").get_data(as_text=True)
    latest = text.split('id="latest"')[1].split("</li>")[0]
    # The confirmation stands beside the reply it confirms, announced politely.
    assert "Thanks!" in latest
    assert '<p class="notice notice-success sent-confirmation" role="status">Your reply was sent.</p>' in latest
    assert text.count("Your reply was sent.") == 1


@pytest.mark.parametrize("note, message", [("", "Write something"), ("   \n ", "Write something"),
                                           ("x" * 10001, "under 10,000 characters")])
def test_bad_reply_is_refused_on_the_field_and_kept(contact, dd, note, message):
    fields = _open_ticket(contact, dd)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    response = contact.post("/portal/tickets/1005", data={**fields, "note": note})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text and 'aria-invalid="true"' in text
    assert 'aria-describedby="note-errors"' in text and '<ul class="errors" id="note-errors">' in text
    assert re.search(r'class="error-summary" role="alert".*<a href="#note">Your reply: ', text, re.S)
    if note.strip():
        assert note in text
    assert not any(c.request.method == "POST" for c in dd.calls)


def test_deskdirector_field_errors_land_on_the_field(contact, dd):
    fields = _open_ticket(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", status=422,
           json={"message": "Invalid", "errors": {"Note": ["Notes cannot contain attachments."]}})
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    response = contact.post("/portal/tickets/1005", data={**fields, "note": "my text"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Notes cannot contain attachments." in text and "my text" in text
    # the same form may be sent again once fixed
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 3}, status=201)
    assert contact.post("/portal/tickets/1005", data={**fields, "note": "fixed"}).status_code == 303


def test_reply_is_posted_once_on_resubmit(contact, dd):
    fields = _open_ticket(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 9}, status=201)
    first = contact.post("/portal/tickets/1005", data={**fields, "note": "Once"})
    again = contact.post("/portal/tickets/1005", data={**fields, "note": "Once"})
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert sum(c.request.method == "POST" for c in dd.calls) == 1


def slow_note_post(dd) -> list:
    """DeskDirector taking 0.2 s to add a note; returns the list of bodies it received."""
    posted = []

    def reply(request):
        posted.append(request.body)
        time.sleep(0.2)
        return 201, {}, '{"id": 9}'

    dd.add_callback(responses.POST, TICKETS + "/1005/notes", callback=reply)
    return posted


def test_double_click_sends_once(app, contact, dd):
    fields = _open_ticket(contact, dd)
    posted = slow_note_post(dd)
    cookie = contact.get_cookie("ddsite_session").value
    statuses = []

    def click():
        browser = app.test_client()
        browser.set_cookie("ddsite_session", cookie)
        statuses.append(browser.post("/portal/tickets/1005", data={**fields, "note": "Twice?"}).status_code)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert statuses == [303, 303] and len(posted) == 1


def test_reply_without_csrf_token_is_refused(contact, dd):
    fields = _open_ticket(contact, dd)
    response = contact.post("/portal/tickets/1005", data={"form_key": fields["form_key"], "note": "x"})
    assert response.status_code == 400 and "Nothing was sent" in response.get_data(as_text=True)


def test_reply_when_deskdirector_is_down_keeps_the_text(contact, dd):
    fields = _open_ticket(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", status=503)  # not taken in: no look-up
    response = contact.post("/portal/tickets/1005", data={**fields, "note": "Please keep me"})
    assert response.status_code == 502
    assert "It was not sent. What you wrote was kept" in response.get_data(as_text=True)
    assert sum(c.request.method == "POST" for c in dd.calls) == 1  # never retried
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    text = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "Please keep me" in text and "has not been sent" in text


# ---- new request ----------------------------------------------------------------------------
def _lookups(dd, priorities=True):
    dd.add(responses.GET, HOST + "/api/v4/portal/request-types",
           json=[{"id": 1, "name": "Hardware"}, {"id": 2, "name": "Software"}])
    if priorities:
        dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[{"id": 3, "name": "High"}])
    else:
        dd.add(responses.GET, HOST + "/api/v4/portal/priorities", status=403, json={})


def test_new_request_is_raised_and_opens_the_new_ticket(contact, dd):
    _lookups(dd)
    fields = form_fields(contact.get("/portal/new").get_data(as_text=True))
    _lookups(dd)
    dd.add(responses.POST, TICKETS, status=201, json=ticket(1077))
    response = contact.post("/portal/new", data={**fields, "summary": " Laptop ", "description": "Slow",
                                                 "request_type": "2", "priority": "3"})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/tickets/1077"
    assert json.loads(dd.calls[-1].request.body) == {
        "summary": "Laptop", "description": "Slow", "requestType": {"id": 2}, "priority": {"id": 3}}


def test_priority_is_left_out_where_not_allowed(contact, dd):
    _lookups(dd, priorities=False)
    text = contact.get("/portal/new").get_data(as_text=True)
    assert "Request type" in text and 'name="priority"' not in text


def test_new_request_validation_keeps_what_was_typed(contact, dd):
    _lookups(dd)
    fields = form_fields(contact.get("/portal/new").get_data(as_text=True))
    _lookups(dd)
    response = contact.post("/portal/new", data={**fields, "summary": "", "description": "Kept text",
                                                 "request_type": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Say in a few words" in text and "Choose the kind of request" in text and "Kept text" in text


def test_new_request_with_a_forged_choice_is_refused(contact, dd):
    _lookups(dd)
    fields = form_fields(contact.get("/portal/new").get_data(as_text=True))
    _lookups(dd)
    response = contact.post("/portal/new", data={**fields, "summary": "x", "request_type": "99"})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)


def test_new_request_is_raised_once_on_resubmit(contact, dd):
    _lookups(dd)
    fields = form_fields(contact.get("/portal/new").get_data(as_text=True))
    data = {**fields, "summary": "Once", "request_type": "1"}
    _lookups(dd)
    dd.add(responses.POST, TICKETS, status=201, json=ticket(1078))
    first = contact.post("/portal/new", data=data)
    _lookups(dd)
    again = contact.post("/portal/new", data=data)
    assert again.headers["Location"] == first.headers["Location"] == "/portal/tickets/1078"
    assert sum(c.request.method == "POST" for c in dd.calls) == 1


def test_lookups_are_read_concurrently(contact, dd):
    started = []

    def slow(request):
        started.append(time.monotonic())
        time.sleep(0.3)
        return 200, {}, "[]"

    dd.add_callback(responses.GET, HOST + "/api/v4/portal/request-types", callback=slow)
    dd.add_callback(responses.GET, HOST + "/api/v4/portal/priorities", callback=slow)
    contact.get("/portal/new")
    assert len(started) == 2 and abs(started[0] - started[1]) < 0.2


def test_double_click_sends_once_with_the_redis_store(config, redis_url, dd):
    from ddsite import create_app

    config["REDIS_URL"] = redis_url
    workers = [create_app(config) for _ in range(4)]  # one signs in, three take the clicks
    try:
        browser = workers[0].test_client()
        sign_in(browser, dd, "portal")
        fields = _open_ticket(browser, dd)
        posted = slow_note_post(dd)
        cookie = browser.get_cookie("ddsite_session").value
        statuses = []

        def click(worker):
            client = worker.test_client()
            client.set_cookie("ddsite_session", cookie)
            statuses.append(client.post("/portal/tickets/1005", data={**fields, "note": "Redis"}).status_code)

        clicks = [threading.Thread(target=click, args=(w,)) for w in workers[1:]]
        for thread in clicks:
            thread.start()
        for thread in clicks:
            thread.join()
        assert statuses == [303, 303, 303] and len(posted) == 1
    finally:
        for worker in workers:
            worker.extensions["ddsite"].close()


@pytest.mark.parametrize("failure, status", [({"status": 403, "json": {"message": "Ticket is locked"}}, 403),
                                             ({"status": 404, "json": {}}, 404)])
def test_reply_refused_upstream_keeps_the_text(contact, dd, failure, status):
    fields = _open_ticket(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", **failure)
    response = contact.post("/portal/tickets/1005", data={**fields, "note": "Keep this"})
    assert response.status_code == status
    assert "What you wrote was kept" in response.get_data(as_text=True)
