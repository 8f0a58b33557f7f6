"""Sending once: drafts on expiry, certain outcomes after a timeout, one send per key, repeats asked."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import responses

from .conftest import HOST, expect_home, sign_in
from .test_portal import TICKETS, form_fields, ticket


@pytest.fixture
def config(config):
    """Short DeskDirector timeouts: a look-up after a timeout waits until the send is surely over."""
    return {**config, "CONNECT_TIMEOUT": 0.05, "READ_TIMEOUT": 0.1}


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


# ---- certain outcomes, once per key -----------------------------------------------------------
ME = {"id": "acme~c~7", "name": "Pat Lee", "userType": "Client"}


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def landed(text: str, note_id: int = 44, author=ME) -> dict:
    """Ticket 1005 as DeskDirector has it once `text` arrived as a note."""
    return ticket(notes=[{"id": 1, "note": "First message", "createdOn": "2026-11-02T10:00:00Z", "createdBy": ME},
                         {"id": note_id, "note": text, "createdOn": _now(), "createdBy": author}])


def _open(client, dd) -> dict:
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    return form_fields(client.get("/portal/tickets/1005").get_data(as_text=True))


def _send_that_times_out(contact, dd, text: str, upstream_after: dict):
    """Open #1005 and send `text`: the POST times out, the look-up then reads `upstream_after`."""
    fields = _open(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", body=requests.ReadTimeout("slow"))
    dd.add(responses.GET, TICKETS + "/1005", json=upstream_after)
    return fields, contact.post("/portal/tickets/1005", data={**fields, "note": text})


def _posts(dd) -> int:
    return sum(c.request.method == "POST" for c in dd.calls)


@pytest.fixture
def contact(client, dd):
    sign_in(client, dd, "portal")
    return client


def test_timed_out_reply_that_landed_is_reported_sent(contact, dd):
    fields, response = _send_that_times_out(contact, dd, "Did it arrive?", landed("Did it arrive?"))
    assert response.status_code == 303 and response.headers["Location"] == "/portal/tickets/1005#note-44"
    dd.add(responses.GET, TICKETS + "/1005", json=landed("Did it arrive?"))
    page = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "Your reply was sent." in page and "slow to confirm, but it was sent" in page
    assert "has not been sent" not in page and "Did it arrive?</textarea>" not in page  # no draft
    # Back + Send of the same form: already sent, never a second note (the key was not freed)
    again = contact.post("/portal/tickets/1005", data={**fields, "note": "Did it arrive?"})
    assert again.status_code == 303 and again.headers["Location"].endswith("#note-44")
    assert _posts(dd) == 1


def test_timed_out_reply_that_did_not_land_is_kept_and_said_so(contact, dd):
    fields, response = _send_that_times_out(contact, dd, "Not there", ticket())
    text = response.get_data(as_text=True)
    assert response.status_code == 504
    assert "It was not sent. What you wrote was kept" in text and "may have reached" not in text
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    page = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "Not there</textarea>" in page and "has not been sent" in page
    assert fields["form_key"] in page  # the draft keeps its key


def test_resend_after_not_found_looks_again_and_never_doubles_a_late_copy(contact, dd):
    """The first copy lands after the look-up said no: the resend finds it instead of sending."""
    fields, first = _send_that_times_out(contact, dd, "Late", ticket())
    assert first.status_code == 504
    dd.add(responses.GET, TICKETS + "/1005", json=landed("Late"))  # it landed meanwhile
    resend = contact.post("/portal/tickets/1005", data={**fields, "note": "Late"})
    assert resend.status_code == 303 and resend.headers["Location"].endswith("#note-44")
    assert _posts(dd) == 1


def test_timed_out_reply_when_deskdirector_cannot_be_read_is_unknown_and_kept(contact, dd):
    fields = _open(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", body=requests.ConnectionError("reset"))
    for _ in range(3):  # the look-up, retried
        dd.add(responses.GET, TICKETS + "/1005", status=503)
    response = contact.post("/portal/tickets/1005", data={**fields, "note": "Unknown fate"})
    text = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "could not find out whether what you sent reached DeskDirector" in text
    assert "Your text was kept as a draft" in text
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    page = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "Unknown fate</textarea>" in page and "did not confirm whether it arrived" in page
    # sending the draft looks first; not there, so it is sent, once
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 45}, status=201)
    sent = contact.post("/portal/tickets/1005", data={**form_fields(page), "note": "Unknown fate"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("#note-45")
    assert _posts(dd) == 2


def test_look_up_after_a_timeout_waits_until_a_queued_copy_would_have_landed(contact, dd):
    """A copy held in DeskDirector's queue lands after the timeout; the look-up must see it."""
    fields = _open(contact, dd)
    sent_at = []

    def times_out(request):
        sent_at.append(time.monotonic())
        raise requests.ReadTimeout("queued upstream")

    def look(request):
        arrived = time.monotonic() - sent_at[0] > 0.3  # processed 0.3 s after it was sent
        return 200, {}, json.dumps(landed("Queued") if arrived else ticket())

    dd.add_callback(responses.POST, TICKETS + "/1005/notes", callback=times_out)
    dd.add_callback(responses.GET, TICKETS + "/1005", callback=look)
    response = contact.post("/portal/tickets/1005", data={**fields, "note": "Queued"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#note-44")


def test_look_up_ignores_the_same_text_by_someone_else(contact, dd):
    someone = {"id": "acme~m~2", "name": "Sam Agent", "userType": "Member"}
    _, response = _send_that_times_out(contact, dd, "ok", landed("ok", author=someone))
    assert response.status_code == 504 and "It was not sent." in response.get_data(as_text=True)


def test_timed_out_new_request_that_landed_opens_it(contact, dd):
    from .test_portal import _lookups, row

    _lookups(dd)
    fields = form_fields(contact.get("/portal/new").get_data(as_text=True))
    _lookups(dd)
    dd.add(responses.POST, TICKETS, body=requests.ReadTimeout("slow"))
    mine = row(1090, summary="Monitor flickers", contact={"id": 7, "name": "Pat Lee"}, createdOn=_now())
    dd.add(responses.GET, TICKETS, json={"total": 1, "results": [mine]})
    response = contact.post("/portal/new", data={**fields, "summary": "Monitor flickers", "request_type": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/tickets/1090"
    assert "search=Monitor+flickers" in dd.calls[-1].request.url
    assert _posts(dd) == 1


def test_second_submit_waits_for_the_first_and_sends_when_the_first_failed(app, contact, dd):
    """Cause: 'already sent' was answered while the first was in flight; the first then failed."""
    fields = _open(contact, dd)
    first_arrived = threading.Event()
    answers = iter([(500, {}, "{}"), (201, {}, '{"id": 46}')])

    def upstream(request):
        first_arrived.set()
        time.sleep(0.3)
        return next(answers)

    dd.add_callback(responses.POST, TICKETS + "/1005/notes", callback=upstream)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())  # the first's look-up: not there
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())  # the second looks again first
    cookie = contact.get_cookie("ddsite_session").value
    results = {}

    def click(name):
        browser = app.test_client()
        browser.set_cookie("ddsite_session", cookie)
        results[name] = browser.post("/portal/tickets/1005", data={**fields, "note": "Twice"})

    first = threading.Thread(target=click, args=("first",))
    first.start()
    first_arrived.wait(5)
    click("second")
    first.join()
    assert results["first"].status_code == 502
    second = results["second"]
    assert second.status_code == 303 and second.headers["Location"].endswith("#note-46")
    assert _posts(dd) == 2  # the first failed with nothing landed; the second landed once
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    page = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "already sent" not in page and "Twice</textarea>" not in page


def _two_submits_of_a_new_request(app, contact, dd, *, request_types, create, second_goes):
    """One new-request form sent twice at once (the second once `second_goes` is set), with
    DeskDirector's request types and ticket creation answered by the given callbacks."""
    from .test_portal import _lookups

    _lookups(dd)
    fields = form_fields(contact.get("/portal/new").get_data(as_text=True))
    dd.add_callback(responses.GET, HOST + "/api/v4/portal/request-types", callback=request_types)
    dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[{"id": 3, "name": "High"}])
    dd.add_callback(responses.POST, TICKETS, callback=create)
    data = {**fields, "summary": "Clicked twice", "request_type": "1"}
    first = []
    thread = threading.Thread(target=lambda: first.append(contact.post("/portal/new", data=data)))
    thread.start()
    second_goes.wait(5)
    second_browser = app.test_client()
    second_browser.set_cookie("ddsite_session", contact.get_cookie("ddsite_session").value)
    second = second_browser.post("/portal/new", data=data)
    thread.join()
    return first[0], second


HARDWARE = (200, {}, '[{"id": 1, "name": "Hardware"}]')


def test_second_submit_whose_reads_fail_while_the_first_sends_reports_the_first(app, contact, dd):
    """Not "not sent, kept" for a form the first click is sending (and then sends)."""
    reads, sending = [], threading.Event()

    def create(request):
        sending.set()
        time.sleep(0.3)
        return 201, {}, json.dumps(ticket(1092))

    def request_types(request):
        reads.append(1)
        return HARDWARE if len(reads) == 1 else (503, {}, "{}")  # the second click's read fails

    first, second = _two_submits_of_a_new_request(
        app, contact, dd, create=create, second_goes=sending, request_types=request_types)
    assert first.status_code == 303
    text = second.get_data(as_text=True)
    assert second.status_code == 502 and "had already reached DeskDirector, so nothing was sent again" in text
    assert "It was not sent" not in text and _posts(dd) == 1


def test_second_submit_whose_reads_fail_before_the_first_sends_waits_for_it(app, contact, dd):
    """Both halves of a double click still reading: the failing one waits for its twin."""
    reads, first_reading = [], threading.Event()

    def request_types(request):
        reads.append(1)
        if len(reads) > 1:
            return 503, {}, "{}"
        first_reading.set()
        time.sleep(0.3)  # the first click's read is slow; the second click's fails meanwhile
        return HARDWARE

    first, second = _two_submits_of_a_new_request(
        app, contact, dd, request_types=request_types, second_goes=first_reading,
        create=lambda request: (201, {}, json.dumps(ticket(1093))))
    assert first.status_code == 303 and _posts(dd) == 1
    assert "had already reached DeskDirector" in second.get_data(as_text=True)


def test_a_send_whose_worker_died_is_looked_up_not_repeated(app, contact, dd, clock):
    fields = _open(contact, dd)
    from ddsite import sendonce

    data = {**fields, "note": "From the dead worker"}
    with app.test_request_context("/portal/tickets/1005", method="POST", data=data):
        from flask import session

        # what a worker killed mid-send leaves behind: attempt 1 claimed and "sending"
        handle = contact.get_cookie("ddsite_session").value
        session.update(app.extensions["ddsite"].store.get("session:" + handle))
        name = sendonce._name(fields["form_key"])
        sessions_folder = sendonce._folder()
        from ddsite.sessions import claim_once

        assert claim_once(app.extensions["ddsite"].store, sessions_folder, f"{name}.1", 60)
        sendonce._save(name, "sending", 1)
    clock(60)  # longer than any send can take
    dd.add(responses.GET, TICKETS + "/1005", json=landed("From the dead worker"))
    response = contact.post("/portal/tickets/1005", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("#note-44")
    assert _posts(dd) == 0


def _draft_open_in_two_sessions(app, dd, clock, text: str) -> tuple[list, list[str]]:
    """A contact's reply kept as a draft, then the ticket opened in two new sessions of theirs."""
    _write_then_expire(app.test_client(), dd, clock, text)
    browsers, pages = [app.test_client(), app.test_client()], []
    for browser in browsers:
        sign_in(browser, dd, "portal")
        dd.add(responses.GET, TICKETS + "/1005", json=ticket())
        pages.append(browser.get("/portal/tickets/1005").get_data(as_text=True))
    return browsers, pages


def test_the_sent_form_with_other_words_is_a_new_message(contact, dd):
    """Back, edit, Send: not "already sent" (that would drop the new words)."""
    fields = _open(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 61}, status=201)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 62}, status=201)
    assert contact.post("/portal/tickets/1005", data={**fields, "note": "First words"}).status_code == 303
    edited = contact.post("/portal/tickets/1005", data={**fields, "note": "Other words"})
    assert edited.status_code == 303 and edited.headers["Location"].endswith("#note-62")
    assert [json.loads(c.request.body)["note"] for c in dd.calls if c.request.method == "POST"] == [
        "First words", "Other words"]


def test_a_draft_rewritten_in_another_session_keeps_both_texts(app, dd, clock):
    """Two sessions of one contact: one sends the restored draft rewritten, the other the draft."""
    browsers, pages = _draft_open_in_two_sessions(app, dd, clock, "The kept words")
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 63}, status=201)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 64}, status=201)
    rewritten = browsers[0].post("/portal/tickets/1005", data={**form_fields(pages[0]), "note": "Rewritten"})
    kept = browsers[1].post("/portal/tickets/1005", data={**form_fields(pages[1]), "note": "The kept words"})
    assert rewritten.status_code == kept.status_code == 303
    assert [json.loads(c.request.body)["note"] for c in dd.calls if c.request.method == "POST"] == [
        "Rewritten", "The kept words"]


def test_already_sent_form_sent_again_after_expiry_is_not_kept_as_a_draft(client, dd, clock):
    sign_in(client, dd, "portal", expires_in=60)
    fields = _open(client, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 47}, status=201)
    assert client.post("/portal/tickets/1005", data={**fields, "note": "Sent once"}).status_code == 303
    clock(61)
    late = client.post("/portal/tickets/1005", data={**fields, "note": "Sent once"})
    text = late.get_data(as_text=True)
    assert late.status_code == 401 and "had already reached DeskDirector" in text
    assert "has been kept" not in text
    sign_in(client, dd, "portal")
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    assert "Sent once</textarea>" not in client.get("/portal/tickets/1005").get_data(as_text=True)
    assert _posts(dd) == 1


def test_a_users_draft_is_sent_once_from_two_sessions(app, dd, clock):
    """Drafts belong to the user; both sessions see it with its key, only one can send it."""
    browsers, pages = _draft_open_in_two_sessions(app, dd, clock, "Kept for later")
    assert all("Kept for later</textarea>" in page for page in pages)
    assert form_fields(pages[0])["form_key"] == form_fields(pages[1])["form_key"]
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 48}, status=201)
    sent = [b.post("/portal/tickets/1005", data={**form_fields(p), "note": "Kept for later"})
            for b, p in zip(browsers, pages, strict=True)]
    assert [r.status_code for r in sent] == [303, 303] and _posts(dd) == 1
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    assert "already sent" in browsers[1].get("/portal/tickets/1005").get_data(as_text=True)


def test_failed_read_before_sending_a_tech_note_keeps_it_and_says_nothing_was_sent(client, dd):
    from .test_tech import API, form_data, lookups
    from .test_tech import ticket as tech_ticket

    sign_in(client, dd, "tech")
    dd.add(responses.GET, API + "/tickets/1005", json=tech_ticket())
    lookups(dd)
    page = client.get("/tech/tickets/1005").get_data(as_text=True)
    dd.add(responses.GET, API + "/tickets/1005", body=requests.ReadTimeout("slow"))
    lookups(dd)
    response = client.post("/tech/tickets/1005", data={**form_data(page, "note"), "note": "Read failed first",
                                                       "visibility": "internal"})
    text = response.get_data(as_text=True)
    assert response.status_code == 504 and "It was not sent. What you wrote was kept" in text
    assert "may have reached" not in text and _posts(dd) == 0
    dd.add(responses.GET, API + "/tickets/1005", json=tech_ticket())
    lookups(dd)
    assert "Read failed first</textarea>" in client.get("/tech/tickets/1005").get_data(as_text=True)


def test_failed_read_before_raising_a_request_keeps_it(contact, dd):
    from .test_portal import _lookups

    _lookups(dd)
    fields = form_fields(contact.get("/portal/new").get_data(as_text=True))
    for _ in range(3):
        dd.add(responses.GET, HOST + "/api/v4/portal/request-types", status=503)
    dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[])
    response = contact.post("/portal/new", data={**fields, "summary": "Kept summary", "request_type": "1"})
    assert response.status_code == 502 and "It was not sent. What you wrote was kept" in response.get_data(as_text=True)
    _lookups(dd)
    assert 'value="Kept summary"' in contact.get("/portal/new").get_data(as_text=True)


# ---- the same text twice ----------------------------------------------------------------------
def test_same_text_within_ten_minutes_asks_first(contact, dd, clock):
    fields = _open(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 49}, status=201)
    assert contact.post("/portal/tickets/1005", data={**fields, "note": "Same words"}).status_code == 303
    fresh = _open(contact, dd)  # a new form, e.g. after a reload
    clock(120)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    asked = contact.post("/portal/tickets/1005", data={**fresh, "note": " Same words "})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "You sent this same text here 2 minutes ago" in text
    assert "Yes, send it again" in text and "Same words</textarea>" in text and _posts(dd) == 1
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 50}, status=201)
    confirmed = contact.post("/portal/tickets/1005", data={**fresh, "note": "Same words", "confirm_repeat": "1"})
    assert confirmed.status_code == 303 and _posts(dd) == 2


def test_same_text_after_ten_minutes_or_other_text_is_sent_without_asking(contact, dd, clock):
    fields = _open(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 51}, status=201)
    contact.post("/portal/tickets/1005", data={**fields, "note": "Again later"})
    other = _open(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 52}, status=201)
    assert contact.post("/portal/tickets/1005", data={**other, "note": "Something else"}).status_code == 303
    clock(11 * 60)
    later = _open(contact, dd)
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 53}, status=201)
    assert contact.post("/portal/tickets/1005", data={**later, "note": "Again later"}).status_code == 303
    assert _posts(dd) == 3


# ---- closed tickets ---------------------------------------------------------------------------
def test_closed_ticket_says_so_and_still_takes_a_reply(contact, dd):
    closed = ticket(status={"id": 5, "name": "Closed"}, isClosed=True)
    dd.add(responses.GET, TICKETS + "/1005", json=closed)
    page = contact.get("/portal/tickets/1005").get_data(as_text=True)
    assert "This ticket is closed. You can still reply: the support team will see what you write." in page
    assert 'href="/portal/new?follow_up=1005"' in page
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 54}, status=201)
    sent = contact.post("/portal/tickets/1005", data={**form_fields(page), "note": "It is back"})
    assert sent.status_code == 303


def test_open_ticket_has_no_closed_notice(contact, dd):
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    assert "This ticket is closed" not in contact.get("/portal/tickets/1005").get_data(as_text=True)


def test_follow_up_request_names_the_original_ticket(contact, dd):
    from .test_portal import _lookups

    _lookups(dd)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket(summary="Printer jams", isClosed=True))
    page = contact.get("/portal/new?follow_up=1005").get_data(as_text=True)
    assert 'value="Follow-up to #1005: Printer jams"' in page
    assert "This follows up ticket #1005, which is closed." in page
    fields = form_fields(page)
    _lookups(dd)
    dd.add(responses.POST, TICKETS, status=201, json=ticket(1091))
    contact.post("/portal/new", data={**fields, "summary": "Follow-up to #1005: Printer jams",
                                      "description": "This follows up ticket #1005, which is closed.\n\nAgain.",
                                      "request_type": "1"})
    body = json.loads(dd.calls[-1].request.body)
    assert body["summary"] == "Follow-up to #1005: Printer jams" and "#1005" in body["description"]


def test_drafts_of_two_sessions_on_one_page_are_both_kept(app, dd):
    """Two tabs of one contact open on a ticket, both failing to send: neither text is lost."""
    browsers = [app.test_client(), app.test_client()]
    forms = []
    for browser in browsers:
        sign_in(browser, dd, "portal")
        forms.append(_open(browser, dd))
    for browser, fields, text in zip(browsers, forms, ("Alpha", "Beta"), strict=True):
        dd.add(responses.POST, TICKETS + "/1005/notes", status=500)
        dd.add(responses.GET, TICKETS + "/1005", json=ticket())  # the look-up: not there
        assert "What you wrote was kept" in browser.post(
            "/portal/tickets/1005", data={**fields, "note": text}).get_data(as_text=True)
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    newest = browsers[0].get("/portal/tickets/1005").get_data(as_text=True)
    assert "Beta</textarea>" in newest
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 70}, status=201)
    assert browsers[0].post("/portal/tickets/1005", data={**form_fields(newest), "note": "Beta"}).status_code == 303
    dd.add(responses.GET, TICKETS + "/1005", json=ticket())
    assert "Alpha</textarea>" in browsers[0].get("/portal/tickets/1005").get_data(as_text=True)
