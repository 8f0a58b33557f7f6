"""Headers for the iframe, CSRF inside it, and tokens kept out of logs."""

from __future__ import annotations

import logging

import pytest
import responses
from flask import Response, request

from ddsite import create_app
from ddsite.assets import SESSIONLESS_ENDPOINTS
from ddsite.security import RedactingFilter, page_headers, redact, set_security_headers

from .conftest import (
    AGENT,
    CONTACT,
    HOST,
    OTHER_HOST,
    PROXIED_HOST,
    PrefixProxy,
    expect_home,
    make_token,
    sign_in,
)


def test_frame_ancestors_lists_the_one_configured_instance(client):
    csp = client.get("/portal/").headers["Content-Security-Policy"]
    assert f"frame-ancestors {HOST}" in csp
    assert csp.rstrip().endswith(f"frame-ancestors {HOST}")


def test_frame_ancestors_lists_two_instances_and_nothing_else(config):
    config["DESKDIRECTOR_HOSTS"] = [HOST, OTHER_HOST]
    response = create_app(config).test_client().get("/tech/")
    directive = [part.strip() for part in response.headers["Content-Security-Policy"].split(";")
                 if part.strip().startswith("frame-ancestors")]
    assert directive == [f"frame-ancestors {HOST} {OTHER_HOST}"]


def test_no_x_frame_options_and_the_other_headers(client, dd):
    sign_in(client, dd)
    response = client.get("/portal/")
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_static_files_are_cacheable(client):
    response = client.get("/static/ddsite.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_brand_colour_comes_from_configuration(config):
    config["BRAND_COLOR"] = "#aa3300"
    assert b"--brand: #aa3300" in create_app(config).test_client().get("/brand.css").data


def test_post_without_csrf_token_is_refused_and_nothing_is_sent(client, dd, app):
    sent = []

    @app.post("/portal/echo")
    def echo():
        sent.append(True)
        return "sent"

    sign_in(client, dd)
    response = client.post("/portal/echo", data={"note": "hello"})
    assert response.status_code == 400
    assert "Nothing was sent" in response.get_data(as_text=True)
    assert sent == []


def _add_form_routes(app) -> None:
    """GET /portal/form answers a CSRF token; POST /portal/form answers "sent" once it passes."""
    from flask_wtf.csrf import generate_csrf

    app.add_url_rule("/portal/form", "form", generate_csrf)
    app.add_url_rule("/portal/form", "submit", lambda: "sent", methods=["POST"])


def test_csrf_token_from_the_server_side_session_is_accepted(client, dd, app):
    _add_form_routes(app)
    sign_in(client, dd)
    token = client.get("/portal/form").get_data(as_text=True)
    assert client.post("/portal/form", data={"csrf_token": token}).get_data(as_text=True) == "sent"


def test_redact_strips_tokens_handles_and_jwts():
    token = make_token()
    line = f'GET /portal/?access_token={token}&host=x&ddsid=abc HTTP/1.1 DdAccessToken {token}'
    cleaned = redact(line)
    assert token not in cleaned and "abc" not in cleaned
    assert "access_token=[redacted]" in cleaned and "ddsid=[redacted]" in cleaned


def test_access_log_line_is_redacted(app, caplog):
    token = make_token()
    logger = logging.getLogger("werkzeug")
    logger.info('%s - - "%s" %s', "127.0.0.1", f"GET /portal/?access_token={token} HTTP/1.1", 303)
    messages = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert messages and all(token not in m for m in messages)
    assert "access_token=[redacted]" in messages[-1]


def test_filter_redacts_exceptions_too():
    token = make_token()
    try:
        raise ValueError(f"bad {token}")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", (token,),
                                   sys.exc_info())
    RedactingFilter().filter(record)
    assert token not in record.getMessage() and token not in record.exc_text


@pytest.mark.parametrize("path", ["/portal/", "/tech/"])
def test_token_in_query_never_reaches_location_or_body(client, dd, path):
    app_name = path.strip("/")
    me = "/api/v2/user/client" if app_name == "portal" else "/api/v2/user/member"
    dd.add(responses.GET, HOST + me, json={"userName": "x"})
    response = client.get(f"{path}?access_token={make_token()}&host={HOST}")
    assert response.status_code == 303  # the leak-checking client asserts the rest


def test_oversized_post_is_refused_with_a_page(client, dd):
    sign_in(client, dd)
    response = client.post("/portal/tickets/1005", data={"note": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)


def test_forged_host_cannot_steer_the_trailing_slash_redirect(client):
    response = client.get("/portal", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/portal/"  # relative: names no host at all


def test_trusted_hosts_refuse_any_other_host_with_a_page(config):
    config["TRUSTED_HOSTS"] = ["ddsite.example.com"]
    client = create_app(config).test_client()
    forged = client.get("/portal", headers={"Host": "evil.example"})
    assert forged.status_code == 400 and "Location" not in forged.headers
    assert "<h1" in forged.get_data(as_text=True)
    assert client.get("/portal", headers={"Host": "ddsite.example.com"}).status_code == 308


def _where_am_i(app):
    from flask import request

    @app.get("/where")
    def where():
        return f"{request.scheme} {request.host} {request.remote_addr}"


def test_behind_a_proxy_scheme_host_and_client_come_from_x_forwarded(config):
    forwarded = {"Host": "10.0.0.5:8000", "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "ddsite.example.com", "X-Forwarded-For": "203.0.113.9"}
    config.update(PROXY_FIX=1, TRUSTED_HOSTS=["ddsite.example.com"])
    app = create_app(config)
    _where_am_i(app)
    client = app.test_client()
    assert client.get("/where", headers=forwarded).text == "https ddsite.example.com 203.0.113.9"
    # a forged X-Forwarded-Host is a forged host like any other
    assert client.get("/where", headers={**forwarded, "X-Forwarded-Host": "evil.example"}
                      ).status_code == 400


def test_without_proxy_fix_forwarded_headers_are_ignored(config):
    app = create_app(config)
    _where_am_i(app)
    answer = app.test_client().get("/where", headers={"X-Forwarded-Proto": "https",
                                                      "X-Forwarded-Host": "evil.example"}).text
    assert answer.startswith("http localhost")


def test_behind_a_tls_proxy_a_post_from_another_origin_is_refused(config, dd):
    config.update(PROXY_FIX=1, TRUSTED_HOSTS=["ddsite.example.com"])
    app = create_app(config)
    _add_form_routes(app)
    client = app.test_client()
    client.environ_base.update(HTTP_X_FORWARDED_PROTO="https",
                               HTTP_X_FORWARDED_HOST="ddsite.example.com")
    sign_in(client, dd)
    token = client.get("/portal/form").text
    # the request is known to be HTTPS, so flask-wtf also checks where the form came from
    foreign = client.post("/portal/form", data={"csrf_token": token},
                          headers={"Referer": "https://evil.example/"})
    assert foreign.status_code == 400
    own = client.post("/portal/form", data={"csrf_token": token},
                      headers={"Referer": "https://ddsite.example.com/portal/"})
    assert own.text == "sent"


def test_session_handle_inside_next_is_redacted_in_the_access_log(app, dd, caplog):
    """Take/Close links of a cookie-less agent carry the whole path, handle included, in next=."""
    import re

    from .test_tech import API, row

    browser = app.test_client(use_cookies=False)
    dd.add(responses.GET, HOST + "/api/v2/user/member", json=AGENT)
    intake = browser.get(f"/tech/queue?view=open&access_token={make_token(AGENT['id'])}&host={HOST}")
    handle = intake.headers["Location"].split("ddsid=")[1]
    browser.get(intake.headers["Location"])
    dd.add(responses.GET, API + "/tickets", json={"total": 1, "results": [row()]})
    queue = browser.get(f"/tech/queue?view=open&ddsid={handle}").get_data(as_text=True)
    action = re.search(r'action="(/tech/tickets/1005/take\?[^"]+)"', queue).group(1).replace("&amp;", "&")
    assert f"ddsid%3D{handle}" in action  # the handle really is inside next=
    logging.getLogger("werkzeug").info('%s - - "%s" %s', "127.0.0.1", f"POST {action} HTTP/1.1", 303)
    line = [r.getMessage() for r in caplog.records if r.name == "werkzeug"][-1]
    assert handle not in line and "ddsid%3D[redacted]" in line


def _stock_security_headers(response, headers):
    """What set_security_headers did before its one-pass path: each header set by name."""
    for name, value in headers:
        response.headers[name] = value
    if "X-Frame-Options" in response.headers:
        del response.headers["X-Frame-Options"]
    if request.endpoint not in SESSIONLESS_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


@pytest.mark.parametrize("path", ["/portal/", "/static/app.css"])
@pytest.mark.parametrize("present", [
    [],
    [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
    [("x-frame-options", "DENY"), ("Vary", "Cookie")],
    [("Cache-Control", "public, max-age=60"), ("content-security-policy", "default-src *")],
    [("Referrer-Policy", "no-referrer"), ("Referrer-Policy", "origin")],
])
def test_security_headers_come_out_as_setting_them_one_by_one_did(app, path, present):
    headers = page_headers(["https://one.example", "https://two.example"])
    with app.test_request_context(path):
        assert (request.endpoint == "static") == path.startswith("/static/")
        fast = set_security_headers(Response("x", headers=present), headers)
        stock = _stock_security_headers(Response("x", headers=present), headers)
    assert list(fast.headers) == list(stock.headers)
    assert "X-Frame-Options" not in fast.headers


def test_behind_a_proxy_under_a_path_prefix_intake_keeps_the_prefix(config, dd):
    """A site published at https://ddsite.example.com/ddsite/ by a proxy that strips the prefix."""
    config.update(PROXY_FIX=1, TRUSTED_HOSTS=[PROXIED_HOST])
    app = create_app(config)
    PrefixProxy(app, "/ddsite")
    client = app.test_client()
    dd.add(responses.GET, HOST + "/api/v2/user/client", json=CONTACT)
    intake = f"/ddsite/portal/tickets?status=closed&access_token={make_token(CONTACT['id'])}&host={HOST}"

    new_browser = client.get(intake)  # no cookie yet: on to the page with a handle
    assert new_browser.status_code == 303
    assert new_browser.headers["Location"].startswith("/ddsite/portal/tickets?status=closed&ddsid=")

    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "from-an-earlier-visit", path="/ddsite")
    returning = client.get(intake)
    assert returning.status_code == 303
    assert returning.headers["Location"] == "/ddsite/portal/tickets?status=closed"
    # the handle goes to this site alone, not to every app of the host
    assert "Path=/ddsite;" in returning.headers["Set-Cookie"]
    missing_slash = client.get(f"/ddsite/portal?access_token={make_token(CONTACT['id'])}&host={HOST}")
    assert missing_slash.status_code == 303
    assert missing_slash.headers["Location"] == "/ddsite/portal/"

    dd.add(responses.GET, HOST + "/api/v4/portal/tickets", status=503, json={"message": "busy"})
    failed = client.get("/ddsite/portal/tickets?status=closed")
    assert failed.status_code >= 500
    assert 'href="/ddsite/portal/tickets?status=closed">Try again' in failed.get_data(as_text=True)


def test_two_sites_under_two_prefixes_of_one_host_keep_a_session_each(config, dd):
    config.update(PROXY_FIX=1, TRUSTED_HOSTS=[PROXIED_HOST])
    app = create_app(config)
    PrefixProxy(app, "/ddsite")
    staging = create_app({**config, "SESSION_DIR": config["SESSION_DIR"] + "-staging"})
    PrefixProxy(staging, "/staging")
    browser = app.test_client()
    # one browser, one host: a proxy in front of both sites, routing by prefix
    both = {"/ddsite": app.wsgi_app, "/staging": staging.wsgi_app}
    app.wsgi_app = lambda environ, start: both["/" + environ["PATH_INFO"].split("/")[1]](environ, start)
    sign_in(browser, dd, prefix="/ddsite")
    sign_in(browser, dd, prefix="/staging")
    expect_home(dd, times=2)
    assert browser.get("/ddsite/portal/").status_code == 200
    assert browser.get("/staging/portal/").status_code == 200
