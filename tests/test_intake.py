"""Intake in one round: with DeskDirector's keys configured, who-am-I runs beside the landing
page's own reads; a browser whose cookie already works skips the second redirect."""

from __future__ import annotations

import json
import re
import threading

import pytest
import responses

from ddsite import create_app

from .conftest import CONTACT, HOST, LeakCheckingClient, make_token, public_key_pem

ME = HOST + "/api/v2/user/client"
TICKET = HOST + "/api/v4/portal/tickets/1005"


@pytest.fixture
def app(config, tmp_path):
    pem = tmp_path / "keys.pem"
    pem.write_bytes(public_key_pem())
    app = create_app({**config, "JWT_PUBLIC_KEYS": str(pem)})
    app.test_client_class = LeakCheckingClient
    yield app
    app.extensions["ddsite"].close()


def home_lists(dd) -> None:
    """The contact's home page reads two ticket lists."""
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets", json={"total": 0, "results": []})


def deep_link(token: str) -> str:
    return f"/portal/tickets/1005?access_token={token}&host={HOST}"


def test_who_am_i_runs_beside_the_landing_pages_read(client, dd):
    both = threading.Barrier(2, timeout=5)  # passes only when the two calls are in flight at once

    def answer(body):
        def reply(_request):
            both.wait()
            return 200, {}, json.dumps(body)
        return reply

    dd.add_callback(responses.GET, ME, callback=answer(CONTACT))
    dd.add_callback(responses.GET, TICKET, callback=answer({"id": 1005, "summary": "Printer", "notes": []}))
    intake = client.get(deep_link(make_token()))
    assert intake.status_code == 303 and not dd.calls  # no round trip before the redirect
    page = client.get(intake.headers["Location"], follow_redirects=True)
    assert page.status_code == 200 and "Printer" in page.get_data(as_text=True)
    assert len(dd.calls) == 2
    # confirmed once: later pages do not ask again
    home_lists(dd)
    assert "Pat Lee" in client.get("/portal/").get_data(as_text=True)
    assert sum(call.request.url == ME for call in dd.calls) == 1


def test_a_browser_whose_cookie_works_lands_in_one_redirect(client, dd):
    dd.add(responses.GET, ME, json=CONTACT)
    home_lists(dd)
    first = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert "ddsid=" in first.headers["Location"]  # first time: find out whether cookies work
    client.get(first.headers["Location"], follow_redirects=True)
    again = client.get(f"/portal/?view=x&access_token={make_token()}&host={HOST}")
    assert again.status_code == 303
    assert again.headers["Location"] == "/portal/?view=x"  # straight to the clean page
    assert "Set-Cookie" in again.headers  # the new session's handle
    page = client.get("/portal/")
    assert page.status_code == 200 and "Pat Lee" in page.get_data(as_text=True)


def test_a_token_refused_by_who_am_i_ends_the_session_on_the_landing_page(client, dd):
    dd.add(responses.GET, ME, status=401, json={"errorCode": "Unauthorized"})
    dd.add(responses.GET, HOST + "/api/v4/portal/request-types", json=[{"id": 1, "name": "Hardware"}])
    dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[])
    page = client.get(f"/portal/new?access_token={make_token()}&host={HOST}", follow_redirects=True)
    assert page.status_code == 401
    text = page.get_data(as_text=True)
    assert "Hardware" not in text and f'href="{HOST}/portal/"' in text
    assert client.get("/portal/").status_code == 401  # the token is gone from the session


def test_an_agent_token_on_contact_pages_is_refused_on_the_landing_page(client, dd):
    dd.add(responses.GET, ME, status=403, json={"message": "Contacts only"})
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets", status=403, json={"message": "Contacts only"})
    page = client.get(f"/portal/?access_token={make_token('acme~m~2')}&host={HOST}",
                      follow_redirects=True)
    assert page.status_code == 403
    assert "for contacts" in page.get_data(as_text=True)


def test_when_who_am_i_cannot_be_reached_and_the_page_fails_the_pages_error_is_shown(client, dd):
    for _ in range(3):  # retried twice, then given up
        dd.add(responses.GET, ME, status=503)
    dd.add(responses.GET, TICKET, status=404, json={"message": "No such ticket"})
    page = client.get(deep_link(make_token()), follow_redirects=True)
    assert page.status_code == 404


def test_who_am_i_unreachable_on_the_landing_page_is_asked_again_on_the_next(client, dd):
    dd.add(responses.GET, ME, status=503)  # retried twice, then given up
    dd.add(responses.GET, ME, status=503)
    dd.add(responses.GET, ME, status=503)
    dd.add(responses.GET, TICKET, json={"id": 1005, "summary": "Printer", "notes": []})
    page = client.get(deep_link(make_token()), follow_redirects=True)
    assert page.status_code == 502 and "Try again" in page.get_data(as_text=True)
    dd.add(responses.GET, ME, json=CONTACT)
    home_lists(dd)
    assert "Pat Lee" in client.get("/portal/").get_data(as_text=True)
    assert sum(call.request.url == ME for call in dd.calls) == 4


def test_a_new_browser_lands_on_the_page_in_the_second_request_with_the_handle_dropped(app, dd):
    browser = app.test_client()
    dd.add(responses.GET, TICKET, json={"id": 1005, "summary": "Printer", "notes": []})
    dd.add(responses.GET, ME, json=CONTACT)
    intake = browser.get(deep_link(make_token()) + "&back=%2Fportal%2F&q=a+b")
    handle = intake.headers["Location"].split("ddsid=")[1]
    page = browser.get(intake.headers["Location"])  # the cookie came back: this is the page
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Printer" in text
    # Served as the clean URL's page: the script puts that URL in the address, and nothing on
    # the page carries the handle, not even what is built from the page's own query.
    assert 'data-clean-url="/portal/tickets/1005?back=%2Fportal%2F&amp;q=a+b"' in text
    assert handle not in text and "ddsid" not in text
    # The handle left behind in the address opens nothing, in a URL or as a cookie: the session
    # went on under a new handle, in a new cookie.
    assert browser.get_cookie("ddsite_session").value not in (handle, None)
    stranger = app.test_client()
    assert stranger.get(f"/portal/tickets/1005?ddsid={handle}").status_code == 400
    stranger.set_cookie("ddsite_session", handle)
    assert stranger.get("/portal/tickets/1005").status_code == 400
    # And the next page is an ordinary one.
    dd.add(responses.GET, TICKET, json={"id": 1005, "summary": "Printer", "notes": []})
    again = browser.get("/portal/tickets/1005").get_data(as_text=True)
    assert "Printer" in again and "data-clean-url" not in again


def test_a_new_browsers_second_request_may_be_an_error_page_and_its_form_still_sends(app, dd):
    browser = app.test_client()
    dd.add(responses.GET, TICKET, status=404, json={})
    dd.add(responses.GET, ME, json=CONTACT)
    intake = browser.get(deep_link(make_token()))
    handle = intake.headers["Location"].split("ddsid=")[1]
    missing = browser.get(intake.headers["Location"])  # the ticket is gone: the error page
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404 and 'data-clean-url="/portal/tickets/1005"' in text
    assert handle not in text
    # The session settled all the same: the next page, and a reply sent from it, work.
    dd.add(responses.GET, TICKET, json={"id": 1005, "summary": "Printer", "notes": []})
    page = browser.get("/portal/tickets/1005").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|form_key)" type="hidden" value="([^"]+)"', page))
    dd.add(responses.POST, TICKET + "/notes", json={"id": 9, "note": "Thanks"})
    sent = browser.post("/portal/tickets/1005", data={**fields, "note": "Thanks"})
    assert sent.status_code == 303 and dd.calls[-1].request.method == "POST"
