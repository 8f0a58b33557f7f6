"""/healthz and /readyz, the 503 page while the session store is down, and recovery."""

from __future__ import annotations

import shutil

import pytest

from ddsite import create_app

from .conftest import HOST, LeakCheckingClient, expect_home, make_token, sign_in


def test_healthz_answers_without_session_or_cookie(client):
    client.set_cookie("ddsite_session", "some-handle")
    response = client.get("/healthz")
    assert response.status_code == 200 and response.text == "ok\n"
    assert "Set-Cookie" not in response.headers


def test_readyz_says_the_file_store_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and "session folder" in response.text
    assert "Set-Cookie" not in response.headers


def test_readyz_names_the_file_store_when_it_cannot_be_written(app, config):
    # root may write anywhere, so the folder is replaced by a file rather than made read-only
    shutil.rmtree(config["SESSION_DIR"])
    with open(config["SESSION_DIR"], "w") as blocker:
        blocker.write("not a folder")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "not ready: the session store, the session folder, is not answering" in response.text


@pytest.fixture
def redis_app(config, redis_server, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("DDSITE_"):
            monkeypatch.delenv(name)
    config.update(REDIS_URL=redis_server.url, REDIS_TIMEOUT=1)
    app = create_app(config)
    app.test_client_class = LeakCheckingClient
    yield app
    app.extensions["ddsite"].close()


def test_redis_down_every_page_says_so_and_service_resumes(redis_app, redis_server, dd, caplog):
    client = redis_app.test_client()
    sign_in(client, dd)
    expect_home(dd)
    assert client.get("/portal/").status_code == 200
    redis_server.stop()

    for path in ("/portal/", "/portal/tickets", "/tech/", "/", "/portal/new"):
        page = client.get(path)
        assert page.status_code == 503, path
        assert "The site is briefly unavailable" in page.text and "Traceback" not in page.text
        assert "Set-Cookie" not in page.headers
    posted = client.post("/portal/tickets/1", data={"note": "hello"})
    assert posted.status_code == 503 and "Nothing you sent was taken" in posted.text
    # a fresh intake cannot count or store anything: a 503 page, not a redirect into nothing
    # (flood control, on the same Redis, already fails before DeskDirector is asked)
    intake = redis_app.test_client().get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert intake.status_code == 503 and "Location" not in intake.headers
    assert 'href="/portal/?access_token' not in intake.text  # no "try again" with a token in it
    # what does not need the store still works
    assert client.get("/healthz").status_code == 200
    with client.get("/static/ddsite.css") as stylesheet:
        assert stylesheet.status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "Redis (DDSITE_REDIS_URL)" in ready.text
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert any("session store is not answering (ConnectionError)" in r.getMessage()
               for r in caplog.records)

    redis_server.start()  # empty again: the old session is gone, a new intake works
    assert client.get("/readyz").status_code == 200
    assert client.get("/portal/").status_code == 400
    sign_in(client, dd)
    expect_home(dd)
    assert "Pat Lee" in client.get("/portal/").text


def test_readyz_names_redis_when_it_never_answered(config):
    from .conftest import free_port

    config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    config["REDIS_TIMEOUT"] = 0.5
    app = create_app(config)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503 and "Redis" in response.text
    finally:
        app.extensions["ddsite"].close()


def test_health_routes_need_no_store_read(app):
    # a cookie naming a session is ignored: health never reads the store
    client = app.test_client()
    client.set_cookie("ddsite_session", "x" * 43)
    calls = []
    store = app.extensions["ddsite"].store
    original = store.get
    store.get = lambda key: calls.append(key) or original(key)
    assert client.get("/healthz").status_code == 200
    assert calls == []


def test_store_failing_after_a_form_was_sent_says_to_check_before_sending_again(client, app, dd):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from .conftest import send_reply

    sign_in(client, dd)
    store = app.extensions["ddsite"].store
    original = store.set

    def failing_after_sending(key, value, timeout=None):
        if key.startswith("outcome:") and value.get("state") == "sent":  # after the POST
            raise RedisConnectionError("gone")
        return original(key, value, timeout=timeout)

    store.set = failing_after_sending
    page = send_reply(client, dd)  # DeskDirector took the reply (the mock requires the POST)
    assert page.status_code == 503
    assert "may have reached DeskDirector; check before sending again" in page.text
    assert "Nothing you sent was taken" not in page.text


def test_store_failing_as_the_request_ends_keeps_the_answer_already_given(client, app, dd, monkeypatch):
    # Redis going away just after a reply was sent: the in-flight count cannot be lowered, and
    # the user must still get "sent" (303), not a bare 500 from the request's teardown.
    from redis.exceptions import ConnectionError as RedisConnectionError

    from ddsite import sendonce

    from .conftest import send_reply

    sign_in(client, dd)
    original = sendonce.count

    def failing_when_lowered(store, folder, key, delta, timeout):
        if delta < 0:
            raise RedisConnectionError("gone")
        return original(store, folder, key, delta, timeout)

    monkeypatch.setattr(sendonce, "count", failing_when_lowered)
    page = send_reply(client, dd)
    assert page.status_code == 303
