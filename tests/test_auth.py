"""Intake: from ?access_token=…&host=… to a signed-in page, and every way it can fail."""

from __future__ import annotations

import time

import pytest
import requests
import responses

from .conftest import AGENT, CONTACT, HOST, OTHER_HOST, expect_home, make_token, public_key_pem, sign_in


def test_intake_signs_in_and_lands_on_the_page_with_a_clean_url(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    token = make_token()
    response = client.get(f"/portal/?view=x&access_token={token}&host={HOST}")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/portal/?view=x&ddsid=")
    assert "access_token" not in location and "host=" not in location
    # The cookie came back: this is the page, and its script drops the handle from the address.
    expect_home(dd)
    page = client.get(location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Pat Lee" in text and "pat@acme.test" in text and "Acme Pty" in text
    assert 'data-clean-url="/portal/?view=x"' in text and text.count("ddsid") == 0


def test_who_am_i_is_called_with_the_token_and_a_timeout(client, dd, app):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    token = make_token()
    client.get(f"/portal/?access_token={token}&host={HOST}")
    sent = dd.calls[0].request
    assert sent.headers["Authorization"] == f"DdAccessToken {token}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.req_kwargs["timeout"] == (app.config["CONNECT_TIMEOUT"], app.config["READ_TIMEOUT"])


def test_pages_do_not_repeat_the_who_am_i_call(client, dd):
    sign_in(client, dd)
    expect_home(dd, times=3)
    for _ in range(3):
        assert client.get("/portal/").status_code == 200
    assert sum("/user/client" in c.request.url for c in dd.calls) == 1


def test_no_token_and_no_session_explains_where_the_page_opens(client):
    response = client.get("/portal/")
    assert response.status_code == 400
    assert "opens from a menu item in DeskDirector" in response.get_data(as_text=True)


def test_lost_session_offers_the_way_back_through_the_only_instance(client, dd, app):
    """The store lost the session (a Redis without persistence restarted): not a dead end."""
    sign_in(client, dd, "tech")
    app.extensions["ddsite"].store.clear()
    response = client.get("/tech/tickets/1005")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "opens from a menu item in DeskDirector" in text
    assert f'href="{HOST}/tech/" target="_top"' in text and "Reopen from DeskDirector" in text


def test_without_a_session_and_several_instances_no_guess_is_made(config):
    from ddsite import create_app

    config["DESKDIRECTOR_HOSTS"] = [HOST, OTHER_HOST]
    text = create_app(config).test_client().get("/portal/").get_data(as_text=True)
    assert "Reopen from DeskDirector" not in text and "opens from a menu item" in text


def test_empty_token_is_refused_with_a_hint_for_the_administrator(client):
    response = client.get(f"/portal/?access_token=&host={HOST}")
    assert response.status_code == 400
    assert "Access Token" in response.get_data(as_text=True)


def test_unknown_host_is_refused_and_the_token_goes_nowhere(client, dd):
    token = make_token()
    response = client.get(f"/portal/?access_token={token}&host=https://evil.example")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "DDSITE_DESKDIRECTOR_HOSTS" in text and "evil.example" in text
    assert len(dd.calls) == 0


def test_host_with_path_or_other_scheme_is_refused(client, dd):
    token = make_token()
    for bad in (f"{HOST}/evil", "ftp://dd.example.com", "http://dd.example.com", "dd.example.com.evil.io",
                "https://dd.example.com.evil.io", "https://dd.example.com@evil.io"):
        response = client.get("/portal/", query_string={"access_token": token, "host": bad})
        assert response.status_code == 400, bad
    assert len(dd.calls) == 0


def test_host_is_normalised_before_comparison(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    token = make_token()
    response = client.get("/portal/", query_string={"access_token": token,
                                                     "host": "HTTPS://DD.Example.com:443/"})
    assert response.status_code == 303


def test_bare_instance_name_is_read_as_https(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    response = client.get("/portal/", query_string={"access_token": make_token(), "host": "dd.example.com"})
    assert response.status_code == 303


def test_host_may_be_omitted_with_one_configured_instance(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    response = client.get(f"/portal/?access_token={make_token()}")
    assert response.status_code == 303


def test_host_is_required_with_two_instances(config, app, dd):
    from ddsite import create_app

    config["DESKDIRECTOR_HOSTS"] = [HOST, "https://help.example.net"]
    two = create_app(config).test_client()
    response = two.get(f"/portal/?access_token={make_token()}")
    assert response.status_code == 400
    assert "did not say which instance" in response.get_data(as_text=True)


def test_malformed_token_gets_its_own_page(client, dd):
    response = client.get(f"/portal/?access_token=not-a-jwt&host={HOST}")
    assert response.status_code == 400
    assert "could not be read" in response.get_data(as_text=True)
    assert len(dd.calls) == 0


def test_token_without_exp_is_malformed(client):
    import jwt

    token = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")
    response = client.get(f"/portal/?access_token={token}&host={HOST}")
    assert response.status_code == 400


def test_expired_token_shows_the_session_ended_page_with_a_way_back(client, dd):
    token = make_token(expires_in=-5)
    response = client.get(f"/portal/?access_token={token}&host={HOST}")
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "Your DeskDirector session has ended" in text
    assert f'href="{HOST}/portal/" target="_top"' in text
    assert len(dd.calls) == 0


def test_rejected_token_at_intake_is_the_session_ended_page(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", status=401,
           json={"errorCode": "Unauthorized"})
    response = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert response.status_code == 401
    assert "Your DeskDirector session has ended" in response.get_data(as_text=True)


def test_contact_token_on_tech_pages_is_refused_clearly(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/member", status=403, json={"errorCode": "Forbidden"})
    response = client.get(f"/tech/?access_token={make_token()}&host={HOST}")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "signed in as a contact" in text and "for agents" in text


def test_agent_token_on_portal_pages_is_refused_clearly(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", status=403, json={})
    response = client.get(f"/portal/?access_token={make_token(AGENT['id'])}&host={HOST}")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "signed in as an agent" in text and "for contacts" in text


def test_portal_session_cannot_open_tech_pages(client, dd):
    sign_in(client, dd, "portal")
    response = client.get("/tech/")
    assert response.status_code == 403
    assert "for agents" in response.get_data(as_text=True)


def test_unreachable_deskdirector_at_intake_is_502_with_a_way_to_retry(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", body=requests.ConnectionError("down"))
    dd.add(responses.GET, HOST + "/api/v2/user/client", body=requests.ConnectionError("down"))
    dd.add(responses.GET, HOST + "/api/v2/user/client", body=requests.ConnectionError("down"))
    response = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "could not be reached" in text
    assert f'href="{HOST}/portal/" target="_top"' in text


def test_timeout_at_intake_is_504(client, dd):
    dd.add(responses.GET, HOST + "/api/v2/user/client", body=requests.ReadTimeout())
    response = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert response.status_code == 504
    assert "took too long" in response.get_data(as_text=True)


def test_signature_is_verified_when_keys_are_configured(config, tmp_path, dd):
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ddsite import create_app

    pem = tmp_path / "keys.pem"
    pem.write_bytes(public_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
                    + public_key_pem())
    config["JWT_PUBLIC_KEYS"] = str(pem)
    client = create_app(config).test_client()
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets", json={"total": 0, "results": []})
    intake = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert intake.status_code == 303
    page = client.get(intake.headers["Location"], follow_redirects=True)
    assert page.status_code == 200 and "Pat Lee" in page.get_data(as_text=True)
    forged = make_token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    response = client.get(f"/portal/?access_token={forged}&host={HOST}")
    assert response.status_code == 400
    assert "could not be read" in response.get_data(as_text=True)


def test_new_token_replaces_the_whole_session(client, dd):
    sign_in(client, dd, "portal")
    first_cookie = client.get_cookie("ddsite_session").value
    other = {"id": "acme~c~9", "userName": "kim@acme.test", "name": "Kim Other"}
    sign_in(client, dd, "portal", user=other)
    assert client.get_cookie("ddsite_session").value != first_cookie
    expect_home(dd)
    text = client.get("/portal/").get_data(as_text=True)
    assert "Kim Other" in text and "Pat Lee" not in text and "Acme Pty" not in text
    # the old handle no longer opens anything
    client.set_cookie("ddsite_session", first_cookie)
    assert client.get("/portal/").status_code == 400


def test_session_ends_with_the_token(client, dd, monkeypatch):
    sign_in(client, dd, "portal", expires_in=60)
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/portal/")
    assert response.status_code == 401
    assert f'href="{HOST}/portal/"' in response.get_data(as_text=True)


def test_token_rejected_mid_session_ends_it(client, dd, app):
    @app.get("/tech/probe")
    def probe():  # a page that calls DeskDirector
        from ddsite import auth
        auth.api().tech.statuses()
        return "ok"

    sign_in(client, dd, "tech")
    dd.add(responses.GET, HOST + "/api/v4/tech/statuses", status=401, json={"errorCode": "Unauthorized"})
    response = client.get("/tech/probe")
    assert response.status_code == 401
    assert f'href="{HOST}/tech/" target="_top"' in response.get_data(as_text=True)
    assert client.get("/tech/").status_code == 401


# ---- hardening: the token never echoed, no stale handle, no impossible expiry ---------------
@pytest.mark.parametrize("app_name", ["portal", "tech"])
def test_path_without_its_slash_signs_in_instead_of_echoing_the_token(client, dd, app_name):
    user = CONTACT if app_name == "portal" else AGENT
    dd.add(responses.GET, HOST + ("/api/v2/user/client" if app_name == "portal" else "/api/v2/user/member"),
           json=user)
    response = client.get(f"/{app_name}?view=x&access_token={make_token(user['id'])}&host={HOST}")
    # the leak-checking client fails the test if the token is in Location or the body
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/{app_name}/?view=x&ddsid=")


def test_failed_intake_during_a_live_session_offers_no_link_with_the_new_token(client, dd):
    sign_in(client, dd)
    for _ in range(3):
        dd.add(responses.GET, HOST + "/api/v2/user/client", status=503)
    response = client.get(f"/portal/?access_token={make_token()}&host={HOST}")
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert ">Try again</a>" not in text  # only DeskDirector can hand out the token again
    assert f'href="{HOST}/portal/" target="_top"' in text


def test_stale_handle_in_the_intake_url_is_replaced(app, dd):
    expect_home(dd)  # the contact home lists tickets
    old_browser = app.test_client(use_cookies=False)
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    old = old_browser.get(f"/portal/?access_token={make_token()}&host={HOST}").headers["Location"]
    old_handle = old.split("ddsid=")[1]
    browser = app.test_client(use_cookies=False)
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    location = browser.get(f"/portal/?access_token={make_token()}&host={HOST}&ddsid={old_handle}"
                           ).headers["Location"]
    assert location.count("ddsid=") == 1 and old_handle not in location
    page = browser.get(location)
    assert page.status_code == 200 and "Pat Lee" in page.get_data(as_text=True)


@pytest.mark.parametrize("exp", [10 ** 400, -(10 ** 400), float("nan"), float("inf"),
                                 time.time() + 10 * 366 * 24 * 3600])
def test_impossible_expiry_is_a_malformed_token(client, exp):
    token = make_token(exp=exp)
    response = client.get(f"/portal/?access_token={token}&host={HOST}")
    assert response.status_code == 400
    assert "expiry time that cannot be right" in response.get_data(as_text=True)
