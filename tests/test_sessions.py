"""Server-side sessions: cookie attributes, the URL-handle fallback, nothing readable client-side."""

from __future__ import annotations

import responses

from .conftest import CONTACT, HOST, make_token, sign_in


def _intake(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    response = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert response.status_code == 303
    return response


def test_cookie_is_httponly_secure_samesite_none_partitioned(client, dd):
    response = _intake(client, dd)
    cookie = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/"):
        assert attribute in cookie


def test_cookie_holds_only_an_opaque_handle(client, dd):
    token = sign_in(client, dd)
    handle = client.get_cookie("ddsite_session").value
    assert token not in handle and "." not in handle and len(handle) >= 40


def test_partitioned_can_be_switched_off(config, dd):
    from ddsite import create_app

    config["SESSION_COOKIE_PARTITIONED"] = False
    client = create_app(config).test_client()
    response = _intake(client, dd)
    assert "Partitioned" not in response.headers["Set-Cookie"]


def test_without_cookies_the_handle_travels_in_the_url(app, dd):
    cookieless = app.test_client(use_cookies=False)
    response = _intake(cookieless, dd)
    location = response.headers["Location"]
    assert "ddsid=" in location
    page = cookieless.get(location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Pat Lee" in text
    handle = location.split("ddsid=")[1]
    # every ddsite link on the page carries the handle; static files do not need it
    assert f'href="/brand.css?ddsid={handle}"' in text
    assert 'href="/static/ddsite.css"' in text
    # and it keeps working on later requests
    assert cookieless.get(f"/portal/?ddsid={handle}").status_code == 200
    assert "Set-Cookie" not in cookieless.get(f"/portal/?ddsid={handle}").headers


def test_url_handle_of_a_cookie_session_is_not_accepted(client, app, dd):
    sign_in(client, dd)
    handle = client.get_cookie("ddsite_session").value
    other_browser = app.test_client(use_cookies=False)
    assert other_browser.get(f"/portal/?ddsid={handle}").status_code == 400


def test_unknown_handle_is_no_session(client):
    client.set_cookie("ddsite_session", "made-up")
    assert client.get("/portal/").status_code == 400


def test_redis_store_is_used_when_configured(config, redis_url, dd):
    from cachelib import RedisCache

    from ddsite import create_app

    config["REDIS_URL"] = redis_url
    workers = [create_app(config), create_app(config)]
    try:
        assert isinstance(workers[0].extensions["ddsite"].store, RedisCache)
        first = workers[0].test_client()
        sign_in(first, dd)
        # a second worker (another app object) on the same Redis sees the same session
        second = workers[1].test_client()
        second.set_cookie("ddsite_session", first.get_cookie("ddsite_session").value)
        assert "Pat Lee" in second.get("/portal/").get_data(as_text=True)
    finally:
        for worker in workers:
            worker.extensions["ddsite"].close()


def _store_files(folder) -> list[str]:
    import os

    return [os.path.join(root, name) for root, _, names in os.walk(folder) for name in names]


def test_file_store_sweep_deletes_every_expired_thing_and_keeps_the_live(config, dd):
    import time

    from ddsite import create_app

    from .conftest import send_reply

    config.update(ENDED_SESSION_KEPT=60, ONCE_LIFETIME=120, DRAFT_LIFETIME=300)
    app = create_app(config)
    sent, refused, live = app.test_client(), app.test_client(), app.test_client()
    sign_in(sent, dd, expires_in=30)
    assert send_reply(sent, dd).status_code == 303          # a session, a once key, an outcome
    sign_in(refused, dd, expires_in=30)
    kept = send_reply(refused, dd, "keep me", answer=401)    # DeskDirector refuses: a draft
    assert kept.status_code == 401 and "kept" in kept.text
    sign_in(live, dd, expires_in=3600)
    assert len(_store_files(config["SESSION_DIR"])) == 6

    state = app.extensions["ddsite"]
    removed = state.sweeper.sweep(now=time.time() + 400)   # every short lifetime is over by then
    assert removed == 5
    assert len(_store_files(config["SESSION_DIR"])) == 1
    assert "Pat Lee" in live.get("/portal/").text
    assert b"ddsite_store_swept_total 5.0" in state.metrics.exposition()


def test_sweep_starts_by_itself_on_a_request_once_due(config):
    import threading

    from ddsite import create_app

    config["SWEEP_INTERVAL"] = 0.001
    app = create_app(config)
    store = app.extensions["ddsite"].store
    store.set("long-gone", 1, timeout=-10)  # expired ten seconds ago, never read again
    store.set("still-live", 1, timeout=600)
    assert len(_store_files(config["SESSION_DIR"])) == 2
    app.test_client().get("/portal/")
    for thread in threading.enumerate():
        if thread.name == "ddsite-sweep":
            thread.join(timeout=10)
    assert len(_store_files(config["SESSION_DIR"])) == 1 and store.get("still-live") == 1


def test_everything_in_redis_has_a_lifetime(config, redis_url, dd):
    import redis

    from ddsite import create_app

    from .conftest import send_reply

    config.update(REDIS_URL=redis_url, ENDED_SESSION_KEPT=60)
    app = create_app(config)
    client, refused = app.test_client(), app.test_client()
    try:
        sign_in(client, dd, expires_in=600)
        assert send_reply(client, dd).status_code == 303
        sign_in(refused, dd, expires_in=600)
        assert send_reply(refused, dd, "keep me", answer=401).status_code == 401
        server = redis.Redis.from_url(redis_url)
        handle = client.get_cookie("ddsite_session").value
        kinds = set()
        for key in server.scan_iter("ddsite:*"):
            name = key.decode()
            kinds.add(name.split(":")[1])
            assert server.ttl(key) > 0, f"{name} never expires"
        assert {"session", "once", "outcome", "draft"} <= kinds
        assert 600 < server.ttl(f"ddsite:session:{handle}") <= 660
        server.close()
    finally:
        app.extensions["ddsite"].close()
