"""Server-side sessions: cookie attributes, the URL-handle fallback, nothing readable client-side."""

from __future__ import annotations

import re

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
    # every ddsite link on the page carries the handle; static files and brand.css do not need it
    assert f'href="/portal/new?ddsid={handle}"' in text
    assert re.search(r'href="/brand.css\?v=\w+"', text)
    assert re.search(r'href="/static/ddsite.css\?v=\w+"', text)
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
