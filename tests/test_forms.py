"""Form input: only text form fields reach a form; anything else gets a page that says what was wrong."""

from __future__ import annotations

import http.client
import io
import re
import threading
import uuid

import pytest
import responses
from werkzeug.serving import make_server

from ddsite.forms import csrf_input, csrf_token
from ddsite.tech.forms import ConfirmForm

from .conftest import HOST, sign_in

TICKETS = HOST + "/api/v4/portal/tickets"
TECH = HOST + "/api/v4/tech"


@pytest.fixture
def contact(client, dd):
    sign_in(client, dd, "portal")
    dd.add(responses.GET, TICKETS + "/1005", json={"id": 1005, "summary": "Printer", "notes": []})
    page = client.get("/portal/tickets/1005").get_data(as_text=True)
    client.fields = dict(re.findall(r'name="(csrf_token|form_key)" type="hidden" value="([^"]+)"', page))
    return client


def _nothing_sent(dd) -> bool:
    return not any(call.request.method in ("POST", "PATCH", "PUT") for call in dd.calls)


@pytest.mark.parametrize("body", [{"note": 5}, [1, 2], "abc", 7, {"note": "fine words"}])
@pytest.mark.parametrize("path", ["/portal/tickets/1005", "/portal/new"])
def test_json_body_is_refused_with_a_page_that_says_so(contact, dd, path, body):
    response = contact.post(path, json=body, headers={"X-CSRFToken": contact.fields["csrf_token"]})
    assert response.status_code == 400
    assert "JSON cannot be read here. Nothing was sent." in response.get_data(as_text=True)
    assert _nothing_sent(dd)


@pytest.mark.parametrize("field", ["note", "summary", "description"])
@pytest.mark.parametrize("path", ["/portal/tickets/1005", "/portal/new"])
def test_file_in_a_text_field_is_refused_with_a_page_that_says_so(contact, dd, path, field):
    data = {**contact.fields, "note": "words", "summary": "s", field: (io.BytesIO(b"MZ\x90\x00"), "a.exe")}
    response = contact.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Files cannot be attached here" in response.get_data(as_text=True)
    assert _nothing_sent(dd)


def test_text_fields_sent_as_multipart_are_read(contact, dd):
    dd.add(responses.POST, TICKETS + "/1005/notes", json={"id": 9}, status=201)
    response = contact.post("/portal/tickets/1005", data={**contact.fields, "note": "Thanks"},
                            content_type="multipart/form-data")
    assert response.status_code == 303


@pytest.mark.parametrize("note", ["nul\x00here", "bell\x07", "escape\x1b[31m", "del\x7f"])
def test_control_characters_are_refused_with_a_page_that_says_so(contact, dd, note):
    response = contact.post("/portal/tickets/1005", data={**contact.fields, "note": note})
    assert response.status_code == 400
    assert "characters that are not text" in response.get_data(as_text=True)
    assert _nothing_sent(dd)


def test_other_body_types_are_named_on_the_page(contact, dd):
    response = contact.post("/portal/tickets/1005", data=b"note=hi", content_type="text/plain",
                            headers={"X-CSRFToken": contact.fields["csrf_token"]})
    assert response.status_code == 400
    assert "a body of type “text/plain” cannot be read here" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["take", "close"])
def test_json_quick_action_is_refused_and_changes_nothing(client, dd, action):
    sign_in(client, dd, "tech")
    dd.add(responses.GET, TECH + "/tickets/1005", json={"id": 1005, "summary": "Printer"})
    page = client.get(f"/tech/tickets/1005/{action}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/tech/tickets/1005/{action}", json={"confirmed": "yes"},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 400 and _nothing_sent(dd)


@pytest.fixture
def live_site(app):
    """The app behind Werkzeug's real server (which reads chunked bodies), on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)


def _post_chunked(port: int, body: bytes) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    connection.request("POST", "/portal/tickets/1005", body=chunks, encode_chunked=True,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response.status, text


def test_chunked_body_over_the_limit_is_refused_not_cut_short(app, live_site):
    limit = app.config["MAX_CONTENT_LENGTH"]
    status, text = _post_chunked(live_site, b"note=" + b"a" * limit)
    assert status == 413
    assert "larger than this site accepts" in text


def test_chunked_body_within_the_limit_is_read(live_site):
    status, text = _post_chunked(live_site, b"note=hello")
    assert status == 400 and "opens from a menu item in DeskDirector" in text  # read, then no session


@pytest.mark.parametrize("field_name", [None, "token_x"])
def test_the_bare_csrf_input_is_what_a_forms_csrf_field_writes(app, field_name):
    if field_name:
        app.config["WTF_CSRF_FIELD_NAME"] = field_name
    with app.test_request_context("/tech/queue"):
        bare = csrf_input()
        assert str(bare) == str(ConfirmForm()[field_name or "csrf_token"](id=False))
        assert f'name="{field_name or "csrf_token"}" type="hidden" value="' in bare


def test_a_sessions_csrf_token_is_signed_once_and_still_checked_by_flask_wtf(app, monkeypatch):
    import flask_wtf.csrf
    from flask import session
    from flask_wtf.csrf import validate_csrf

    signed = []
    sign = flask_wtf.csrf.URLSafeTimedSerializer.dumps
    monkeypatch.setattr(flask_wtf.csrf.URLSafeTimedSerializer, "dumps",
                        lambda self, raw: signed.append(raw) or sign(self, raw))
    tokens, secret = [], f"a-sessions-secret-{uuid.uuid4()}"  # unsigned by any earlier test
    for path in ("/tech/queue", "/tech/tickets/1", "/tech/queue"):
        with app.test_request_context(path):
            session["csrf_token"] = secret
            tokens.append((csrf_token(), ConfirmForm().csrf_token.current_token, csrf_input()))
            validate_csrf(tokens[-1][0])  # what flask-wtf's check of a POST does
    assert signed == [secret]  # one signature, three pages
    assert len({t for page in tokens for t in page[:2]}) == 1 and tokens[0][0] in tokens[2][2]
    with app.test_request_context("/tech/queue"):
        session["csrf_token"] = secret + "-another"
        validate_csrf(theirs := csrf_token())
        assert theirs != tokens[0][0] and signed[-1] == secret + "-another"


def test_with_a_csrf_time_limit_every_page_signs_afresh(app, monkeypatch):
    import flask_wtf.csrf
    from flask import session

    app.config["WTF_CSRF_TIME_LIMIT"] = 600
    signed = []
    sign = flask_wtf.csrf.URLSafeTimedSerializer.dumps
    monkeypatch.setattr(flask_wtf.csrf.URLSafeTimedSerializer, "dumps",
                        lambda self, raw: signed.append(raw) or sign(self, raw))
    for _ in range(2):
        with app.test_request_context("/tech/queue"):
            session["csrf_token"] = "the-sessions-secret"
            csrf_token()
    assert signed == ["the-sessions-secret"] * 2


def test_a_session_without_a_csrf_secret_gets_one_and_a_token_for_it(app):
    from flask import session
    from flask_wtf.csrf import validate_csrf

    with app.test_request_context("/tech/queue"):
        assert "csrf_token" not in session
        validate_csrf(csrf_token())
        assert isinstance(session["csrf_token"], str)
