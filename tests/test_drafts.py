"""Expiry while writing: the late POST becomes a draft, offered back after re-entry, never sent alone."""

from __future__ import annotations

import time

import pytest
import responses

from .conftest import HOST, expect_home, sign_in
from .test_portal import TICKETS, form_fields, ticket


@pytest.fixture
def clock(monkeypatch):
    """Move time forward: clock(61) jumps 61 seconds."""
    offset = [0.0]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def _write_then_expire(client, dd, clock, text="My careful reply"):
    sign_in(client, dd, "portal", expires_in=60)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    fields = form_fields(client.get("/portal/tickets/1005").get_data(as_text=True))
    clock(61)
    return client.post("/portal/tickets/1005", data={**fields, "note": text})


def test_late_reply_is_kept_and_nothing_is_sent(client, dd, clock):
    response = _write_then_expire(client, dd, clock)
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "Your DeskDirector session has ended" in text and "has been kept" in text
    assert f'href="{HOST}/portal/deeplink?name=ticket&amp;ticket_id=1005" target="_top"' in text
    assert not any(c.request.method == "POST" for c in dd.calls)


def test_draft_is_restored_after_reentry_and_deleted_once_sent(client, dd, clock):
    _write_then_expire(client, dd, clock)
    sign_in(client, dd, "portal", path="/portal/tickets/1005")
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    page = client.get("/portal/tickets/1005").get_data(as_text=True)
    assert "My careful reply" in page and "has not been sent" in page and "Discard draft" in page
    assert not any(c.request.method == "POST" for c in dd.calls)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 1}, status=201)
    sent = client.post("/portal/tickets/1005", data={**form_fields(page), "note": "My careful reply"})
    assert sent.status_code == 303
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    again = client.get("/portal/tickets/1005").get_data(as_text=True)
    assert "My careful reply" not in again and "Discard draft" not in again


def test_draft_can_be_discarded(client, dd, clock):
    _write_then_expire(client, dd, clock)
    sign_in(client, dd, "portal")
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    page = client.get("/portal/tickets/1005").get_data(as_text=True)
    response = client.post("/portal/tickets/1005", data={**form_fields(page), "discard": "1",
                                                         "note": "My careful reply"})
    assert response.status_code == 303
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    text = client.get("/portal/tickets/1005").get_data(as_text=True)
    assert "The kept draft was discarded." in text and "My careful reply" not in text
    assert not any(c.request.method == "POST" for c in dd.calls)


def test_draft_belongs_to_its_user(client, dd, clock):
    _write_then_expire(client, dd, clock)
    other = {"id": "acme~c~9", "userName": "kim@acme.test", "name": "Kim Other"}
    sign_in(client, dd, "portal", user=other)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    assert "My careful reply" not in client.get("/portal/tickets/1005").get_data(as_text=True)


def test_draft_belongs_to_its_ticket(client, dd, clock):
    _write_then_expire(client, dd, clock)
    sign_in(client, dd, "portal")
    dd.add(responses.GET, TICKETS + "/1006", json=ticket(1006))
    assert "My careful reply" not in client.get("/portal/tickets/1006").get_data(as_text=True)


def test_late_new_request_is_kept_too(client, dd, clock):
    sign_in(client, dd, "portal", expires_in=60)
    dd.add(responses.GET, HOST + "/api/v4/portal/request-types", json=[{"id": 1, "name": "Hardware"}])
    dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[{"id": 3, "name": "High"}])
    fields = form_fields(client.get("/portal/new").get_data(as_text=True))
    clock(61)
    late = client.post("/portal/new", data={**fields, "summary": "Projector dead",
                                            "request_type": "1", "priority": "3"})
    assert late.status_code == 401
    sign_in(client, dd, "portal")
    dd.add(responses.GET, HOST + "/api/v4/portal/request-types", json=[{"id": 1, "name": "Hardware"}])
    dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[{"id": 3, "name": "High"}])
    page = client.get("/portal/new").get_data(as_text=True)
    assert 'value="Projector dead"' in page
    assert '<option selected value="1">Hardware</option>' in page
    assert '<option selected value="3">High</option>' in page


def test_countdown_appears_only_in_the_last_minutes(client, dd, clock):
    sign_in(client, dd, "portal", expires_in=3600)
    expect_home(dd)
    text = client.get("/portal/").get_data(as_text=True)
    exp = int(text.split('data-exp="')[1].split('"')[0])
    assert abs(exp - (time.time() + 3600)) < 5
    assert 'data-warn="300"' in text and 'class="session-notice" hidden' in text


def test_late_agent_note_is_kept_and_restored_on_its_form(client, dd, clock):
    from .test_tech import API, form_data, lookups
    from .test_tech import ticket as tech_ticket

    sign_in(client, dd, "tech", expires_in=60)
    dd.add(responses.GET, API + "/tickets/1005", json=tech_ticket())
    lookups(dd)
    page = client.get("/tech/tickets/1005").get_data(as_text=True)
    clock(61)
    late = client.post("/tech/tickets/1005", data={**form_data(page, "note"), "note": "Found the cause",
                                                   "visibility": "public"})
    assert late.status_code == 401 and "has been kept" in late.get_data(as_text=True)
    assert not any(c.request.method == "POST" for c in dd.calls)
    sign_in(client, dd, "tech")
    dd.add(responses.GET, API + "/tickets/1005", json=tech_ticket())
    lookups(dd)
    restored = client.get("/tech/tickets/1005").get_data(as_text=True)
    note_form = restored.split('value="note"')[1]
    assert "Found the cause</textarea>" in note_form
    assert 'checked id="visibility-1"' in note_form  # the public choice came back too
    assert "Discard draft" in note_form and "Discard draft" not in restored.split('value="note"')[0]


def test_reply_sent_hours_after_expiry_is_still_kept(client, dd, clock):
    sign_in(client, dd, "portal", expires_in=60)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    fields = form_fields(client.get("/portal/tickets/1005").get_data(as_text=True))
    clock(3 * 3600)  # back from a long lunch, pressing Send
    late = client.post("/portal/tickets/1005", data={**fields, "note": "After lunch"})
    assert late.status_code == 401 and "has been kept" in late.get_data(as_text=True)
    sign_in(client, dd, "portal")
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    assert "After lunch" in client.get("/portal/tickets/1005").get_data(as_text=True)


def test_expired_session_no_longer_holds_the_token(client, dd, clock, app):
    sign_in(client, dd, "portal", expires_in=60)
    clock(61)
    client.get("/portal/")
    handle = client.get_cookie("ddsite_session").value
    stored = app.extensions["ddsite"].store.get("session:" + handle)
    assert "token" not in stored and stored["host"] == HOST


def test_token_rejected_while_sending_keeps_the_reply(client, dd):
    sign_in(client, dd, "portal")
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    fields = form_fields(client.get("/portal/tickets/1005").get_data(as_text=True))
    dd.add(responses.POST, TICKETS + "/1005/notes", status=401, json={"errorCode": "Unauthorized"})
    response = client.post("/portal/tickets/1005", data={**fields, "note": "Revoked meanwhile"})
    assert response.status_code == 401
    assert "has been kept" in response.get_data(as_text=True)
    sign_in(client, dd, "portal")
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    assert "Revoked meanwhile" in client.get("/portal/tickets/1005").get_data(as_text=True)
