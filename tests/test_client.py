"""The DeskDirector client: what it sends, retries, error mapping, pooling, fan-out."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import responses

from ddsite.deskdirector.client import Client
from ddsite.deskdirector.endpoints import DEFAULT_ENDPOINTS
from ddsite.deskdirector.errors import (
    DeskDirectorError,
    Forbidden,
    Invalid,
    NotFound,
    TokenRejected,
    Unavailable,
    UnknownShape,
)

from .conftest import HOST, make_token

TICKETS = HOST + "/api/v4/tech/tickets"


@pytest.fixture
def token():
    return make_token("acme~m~2")


@pytest.fixture
def api(transport, token):
    return Client(transport, DEFAULT_ENDPOINTS, HOST, token)


def test_every_call_sends_the_token_accept_and_a_timeout(api, dd, token):
    dd.add(responses.GET, TICKETS, json={"total": 0, "results": []})
    dd.add(responses.POST, TICKETS + "/5/notes", json={"id": 1})
    api.tech.tickets(status="open", assigned="me")
    api.tech.add_note(5, "hi", internal=True)
    for call in dd.calls:
        assert call.request.headers["Authorization"] == f"DdAccessToken {token}"
        assert call.request.headers["Accept"] == "application/json"
        assert call.request.req_kwargs["timeout"] == (2, 7)
    assert "assigned=me" in dd.calls[0].request.url and "status=open" in dd.calls[0].request.url
    assert dd.calls[1].request.body == b'{"note": "hi", "isInternal": true}'


def test_get_is_retried_on_503_then_succeeds(api, dd):
    dd.add(responses.GET, TICKETS, status=503)
    dd.add(responses.GET, TICKETS, json={"total": 1, "results": [{"id": 9, "summary": "x"}]})
    page = api.tech.tickets()
    assert [t.id for t in page.items] == [9]
    assert len(dd.calls) == 2


def test_get_is_retried_on_connection_error(api, dd):
    dd.add(responses.GET, TICKETS, body=requests.ConnectionError("reset"))
    dd.add(responses.GET, TICKETS, json=[])
    assert api.tech.tickets().items == []


def test_get_gives_up_after_the_configured_retries(api, dd):
    for _ in range(3):
        dd.add(responses.GET, TICKETS, status=502)
    with pytest.raises(Unavailable):
        api.tech.tickets()
    assert len(dd.calls) == 3


def test_read_timeout_is_not_retried(api, dd):
    dd.add(responses.GET, TICKETS, body=requests.ReadTimeout())
    with pytest.raises(Unavailable) as caught:
        api.tech.tickets()
    assert caught.value.timed_out and caught.value.status_code == 504
    assert len(dd.calls) == 1


def test_post_is_never_retried(api, dd):
    dd.add(responses.POST, TICKETS + "/5/notes", status=503)
    with pytest.raises(Unavailable):
        api.tech.add_note(5, "once only")
    assert len(dd.calls) == 1


def test_post_connection_error_is_not_retried(api, dd):
    dd.add(responses.POST, TICKETS + "/5/notes", body=requests.ConnectionError())
    with pytest.raises(Unavailable):
        api.tech.add_note(5, "once only")
    assert len(dd.calls) == 1


def test_patch_is_never_retried(api, dd):
    dd.add(responses.PATCH, TICKETS + "/5", status=502)
    with pytest.raises(Unavailable):
        api.tech.update_ticket(5, status=2)
    assert len(dd.calls) == 1


@pytest.mark.parametrize("status, body, error", [
    (401, {"errorCode": "Unauthorized"}, TokenRejected),
    (403, {"message": "No access"}, Forbidden),
    (404, None, NotFound),
    (400, {"errors": {"Note": ["Note is required"]}}, Invalid),
    (409, {"message": "conflict"}, Invalid),
    (422, {"errors": [{"field": "Summary", "message": "too long"}]}, Invalid),
    (500, "<html>oops</html>", Unavailable),
    (418, None, DeskDirectorError),
])
def test_status_maps_to_a_typed_error(api, dd, status, body, error, token):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body or ""}
    dd.add(responses.POST, TICKETS + "/5/notes", status=status, **kwargs)
    with pytest.raises(error) as caught:
        api.tech.add_note(5, "x")
    assert type(caught.value) is error
    assert token not in str(caught.value)
    assert caught.value.upstream_status == status


def test_field_errors_come_back_under_the_faces_argument_names(api, dd):
    dd.add(responses.POST, TICKETS + "/5/notes", status=400,
           json={"message": "Bad input", "errors": {"Note": ["Note is required"],
                                                    "IsInternal": ["Not allowed"], "Other": ["x"]}})
    with pytest.raises(Invalid) as caught:
        api.tech.add_note(5, "")
    assert caught.value.message == "Bad input"
    assert caught.value.field_errors == {"text": ["Note is required"], "internal": ["Not allowed"],
                                         "other": ["x"]}


def test_a_success_body_that_is_not_json_is_an_unknown_shape(api, dd):
    dd.add(responses.GET, TICKETS + "/5", body="<html>the portal's own page</html>", status=200)
    with pytest.raises(UnknownShape, match="not JSON") as caught:
        api.tech.ticket(5)
    assert caught.value.operation == "tech.ticket" and caught.value.status_code == 502


def test_one_pooled_session_per_host(transport):
    assert transport.session_for(HOST) is transport.session_for(HOST)
    assert transport.session_for(HOST) is not transport.session_for("https://other.example")


def test_parallel_runs_reads_concurrently(api):
    barrier = threading.Barrier(3, timeout=5)

    def read(value):
        barrier.wait()  # only passes when all three run at once
        return value

    results = api.parallel(a=lambda: read(1), b=lambda: read(2), c=lambda: read(3))
    assert results == {"a": 1, "b": 2, "c": 3}


def test_parallel_raises_the_first_error(api):
    def fail():
        raise NotFound("gone")

    with pytest.raises(NotFound):
        api.parallel(a=lambda: time.sleep(0.01), b=fail)


def test_repr_hides_the_token(api, token):
    assert token not in repr(api)


@pytest.mark.parametrize("method, name, kwargs, params, body", [
    ("GET", "tech.tickets", {"skip": 0, "take": 20, "sort": "age"},
     {"status": "any", "assigned": "me", "search": "café & co/50% +1 ~x", "tag": None}, None),
    ("GET", "tech.ticket", {"ticket_id": "a/b é?#"}, None, None),
    ("POST", "tech.add_note", {"ticket_id": 5}, None, {"note": "Grüße — “quoted”", "isInternal": False}),
    ("PATCH", "tech.update_ticket", {"ticket_id": 5}, None, {"priority": None, "assignedAgents": []}),
    ("POST", "tech.add_note", {"ticket_id": 5}, None, None),
])
def test_requests_are_sent_exactly_as_requests_would_prepare_them(api, dd, token, method, name,
                                                                  kwargs, params, body):
    # The client builds requests from their parts (faster than requests' preparation), so it is
    # held to what requests itself would have sent: URL, body and headers.
    path = DEFAULT_ENDPOINTS[name].url_path(**kwargs)
    expected = requests.Request(method, HOST + path, params=params, json=body, headers={
        "Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": "ddsite",
        "Authorization": f"DdAccessToken {token}"}).prepare()
    dd.add(method, expected.url, json={"id": 5})
    api.call(name, params=params, json=body, **kwargs)
    sent = dd.calls[0].request
    assert (sent.method, sent.url, sent.body) == (expected.method, expected.url, expected.body)
    assert dict(sent.headers) == dict(expected.headers)
    assert sent.path_url == expected.path_url


def test_a_body_that_is_not_json_is_never_sent(api, dd):
    with pytest.raises(Unavailable):
        api.call("tech.add_note", ticket_id=5, json={"note": float("nan")})
    assert len(dd.calls) == 0


@pytest.mark.parametrize("body, expected", [
    ('{"id": 5, "summary": "caf\\u00e9 \\ud83d\\ude00"}', "café 😀"),
    ('{"id": 5, "summary": "half an emoji \\ud83d"}', "half an emoji \ud83d"),  # orjson refuses it
    ('{"id": 5, "summary": "big", "x": 123456789012345678901234567890, "y": NaN}', "big"),
])
def test_every_reply_the_standard_library_reads_is_read(api, dd, body, expected):
    dd.add(responses.GET, TICKETS + "/5", body=body, content_type="application/json")
    assert api.tech.ticket(5).summary == expected
