"""/metrics: absent without its token, refused without the header, counting what happened."""

from __future__ import annotations

import re
import time

import pytest
import responses

from ddsite import create_app

from .conftest import AGENT, HOST, LeakCheckingClient, make_token, send_reply, sign_in

METRICS_TOKEN = "metrics-token-0123456789abcdef"


def test_metrics_do_not_exist_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_token_too_short_is_a_configuration_error(config):
    from ddsite.config import ConfigError

    config["METRICS_TOKEN"] = "short"
    with pytest.raises(ConfigError, match="DDSITE_METRICS_TOKEN"):
        create_app(config)


@pytest.fixture
def metered(config):
    config["METRICS_TOKEN"] = METRICS_TOKEN
    app = create_app(config)
    app.test_client_class = LeakCheckingClient
    yield app
    app.extensions["ddsite"].close()


def _scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    return response.text


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_refused_without_or_with_a_wrong_token(metered):
    client = metered.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and "ddsite_" not in response.text


def test_metrics_count_pages_calls_errors_intakes_expiries_and_transports(metered, dd, caplog):
    client = metered.test_client()
    sign_in(client, dd)
    assert send_reply(client, dd).status_code == 303
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets/2", status=503)
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets/2", status=503)
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets/2", status=503)
    assert client.get("/portal/tickets/2").status_code == 502
    with client.session_transaction() as session:  # the token runs out
        session["exp"] = time.time() - 1
    assert client.get("/portal/").status_code == 401
    cookieless = metered.test_client(use_cookies=False)
    dd.add(responses.GET, HOST + "/api/v2/user/member", json=AGENT)
    intake = cookieless.get(f"/tech/?access_token={make_token(AGENT['id'])}&host={HOST}")
    assert cookieless.get(intake.headers["Location"]).status_code == 200
    rejected = metered.test_client()
    sign_in(rejected, dd)
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets/3", status=401, json={})
    assert rejected.get("/portal/tickets/3").status_code == 401

    text = _scrape(client)
    assert _value(text, 'ddsite_intakes_total{app="portal"}') == 2
    assert _value(text, 'ddsite_intakes_total{app="tech"}') == 1
    assert _value(text, 'ddsite_sessions_total{transport="cookie"}') == 2
    assert _value(text, 'ddsite_sessions_total{transport="url"}') == 1
    assert _value(text, 'ddsite_expiries_total{reason="expired"}') == 1
    assert _value(text, 'ddsite_expiries_total{reason="rejected"}') == 1
    assert _value(text, 'ddsite_upstream_errors_total{error="Unavailable"}') == 1
    assert _value(text, 'ddsite_upstream_errors_total{error="TokenRejected"}') == 1
    calls = 'ddsite_deskdirector_call_seconds_count{operation="%s",status="%s"}'
    assert _value(text, calls % ("portal.me", "200")) == 2
    assert _value(text, calls % ("portal.add_note", "200")) == 1
    assert _value(text, calls % ("portal.ticket", "503")) == 1  # retries are one call
    pages = 'ddsite_page_seconds_count{method="%s",route="%s",status="%s"}'
    assert _value(text, pages % ("POST", "/portal/tickets/<int:ticket_id>", "303")) == 1
    assert _value(text, pages % ("GET", "/portal/", "401")) == 1
    assert METRICS_TOKEN not in caplog.text
