"""`ddsite probe` against the real sandbox over HTTP: each audience, an operation missing, bad input."""

from __future__ import annotations

import io
import json
import os
import re
import sys

import pytest
import responses
from flask import request

from ddsite.cli import main
from ddsite.demo import ServerThread
from ddsite.sandbox import create_sandbox

from .conftest import HOST, ISSUED_TOKENS, assert_no_token, make_token


@pytest.fixture
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("DDSITE_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def start_sandbox():
    """start_sandbox(**options) → (app, url, methods seen); servers stop after the test."""
    servers = []

    def start(**options):
        app = create_sandbox(**options)
        methods: list[str] = []
        app.after_request(lambda response: methods.append(request.method) or response)
        server = ServerThread("localhost", 0, app).start()
        servers.append(server)
        return app, f"http://localhost:{server.port}", methods

    yield start
    for server in servers:
        server.stop()


def _probe(url: str, token: str, capsys, monkeypatch, *, via: str = "stdin") -> tuple[int, str]:
    ISSUED_TOKENS.add(token)
    if via == "env":
        monkeypatch.setenv("DDSITE_PROBE_TOKEN", token)
    else:
        monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
    code = main(["probe", url])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert_no_token(text, "the probe's output")
    return code, text


def _line(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if re.match(rf"^\w+ +{re.escape(name)} ", line))


def _tell_dialect(monkeypatch, tmp_path, dialect: str) -> None:
    """Point DDSITE_ENDPOINTS_FILE at {"dialect": …}, as an operator of such an instance would."""
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps({"dialect": dialect}))
    monkeypatch.setenv("DDSITE_ENDPOINTS_FILE", str(path))


SEEN = {  # what the probe should recognise in each of the sandbox's dialects
    "v2": {"tickets": "dialect: {total, resultsCount, results}; v2 (latestNote, requestType); "
                      "mixed ids; 13 rows |",
           "ticket": "v2 (latestNote, notes, requestType)"},
    "v4": {"tickets": "dialect: {total, resultsCount, results}; v4 (latestComment, queue, "
                      "serviceType); string ids; 13 rows |",
           "ticket": "v4 (comments, latestComment, queue, serviceType); string ids"},
}


@pytest.mark.parametrize("dialect", ["v2", "v4"])
def test_contact_token_probes_every_portal_read(clean_environment, start_sandbox, capsys,
                                                tmp_path, dialect):
    app, url, methods = start_sandbox(dialect=dialect)
    _tell_dialect(clean_environment, tmp_path, dialect)
    token = app.extensions["sandbox"]["tokens"].mint("c", 101)
    code, text = _probe(url, token, capsys, clean_environment)
    assert code == 0, text
    assert "The token belongs to a contact (client portal)" in text
    for name in ("portal.me", "portal.tickets", "portal.ticket", "portal.request_types",
                 "portal.priorities", "public_keys"):
        assert _line(text, name).startswith("OK "), _line(text, name)
    tickets = _line(text, "portal.tickets")
    assert "HTTP 200" in tickets and re.search(r"\d+ ms", tickets)
    assert SEEN[dialect]["tickets"] in tickets
    assert "found: id, summary, status" in tickets and "missing: closed_on" in tickets
    assert SEEN[dialect]["ticket"] in _line(text, "portal.ticket")
    assert _line(text, "tech.me").startswith("NOTE ")  # the other audience is refused, as it should
    assert f"Note: {url} is not in DDSITE_DESKDIRECTOR_HOSTS" in text
    assert "Every page ddsite shows to this kind of user should work" in text
    assert set(methods) == {"GET"}  # the probe never writes


@pytest.mark.parametrize("dialect", ["v2", "v4"])
def test_agent_token_from_the_environment_probes_every_tech_read(clean_environment, start_sandbox,
                                                                  capsys, tmp_path, dialect):
    app, url, methods = start_sandbox(dialect=dialect)
    _tell_dialect(clean_environment, tmp_path, dialect)
    clean_environment.setenv("DDSITE_DESKDIRECTOR_HOSTS", f"https://other.example,{url}")
    token = app.extensions["sandbox"]["tokens"].mint("m", 201)
    code, text = _probe(url, token, capsys, clean_environment, via="env")
    assert code == 0, text
    assert "from DDSITE_PROBE_TOKEN" in text and "an agent (TECH)" in text
    assert "is not in DDSITE_DESKDIRECTOR_HOSTS" not in text
    for name in ("tech.me", "tech.tickets", "tech.ticket", "tech.statuses", "tech.priorities",
                 "tech.agents"):
        assert _line(text, name).startswith("OK "), _line(text, name)
    if dialect == "v4":
        assert "not paged by the server" in _line(text, "tech.tickets")
        assert "GET /api/v4/tech/statuses?queueId={queue_id}" in _line(text, "tech.statuses")
    assert set(methods) == {"GET"}


def test_a_v4_instance_probed_with_the_v2_table_is_told_what_to_change(clean_environment,
                                                                       start_sandbox, capsys):
    app, url, _ = start_sandbox(dialect="v4")
    code, text = _probe(url, app.extensions["sandbox"]["tokens"].mint("c", 101), capsys,
                        clean_environment)
    assert code == 1
    line = _line(text, "portal.tickets")
    assert line.startswith("FAIL ") and "HTTP 404" in line and "DDSITE_ENDPOINTS_FILE" in line


def test_a_missing_operation_gets_its_line_the_fix_and_exit_1(clean_environment, start_sandbox,
                                                              capsys):
    app, url, _ = start_sandbox(without=("tech.statuses",))
    token = app.extensions["sandbox"]["tokens"].mint("m", 201)
    code, text = _probe(url, token, capsys, clean_environment)
    assert code == 1
    line = _line(text, "tech.statuses")
    assert line.startswith("FAIL ") and "HTTP 404" in line
    assert "DDSITE_ENDPOINTS_FILE" in line and '{"tech.statuses": "GET /api/…"}' in line
    assert _line(text, "tech.agents").startswith("OK ")
    assert "Some pages of ddsite would fail on this instance (tech.statuses)" in text


def test_the_endpoints_file_is_used_and_fixes_a_moved_operation(clean_environment, start_sandbox,
                                                                capsys, tmp_path):
    from ddsite.deskdirector.endpoints import DEFAULT_ENDPOINTS, Endpoint

    moved = dict(DEFAULT_ENDPOINTS, **{"tech.agents": Endpoint("GET", "/api/v4/tech/members")})
    app, url, _ = start_sandbox(endpoints=moved)
    token = app.extensions["sandbox"]["tokens"].mint("m", 201)
    assert _probe(url, token, capsys, clean_environment)[0] == 1
    overrides = tmp_path / "endpoints.json"
    overrides.write_text('{"tech.agents": "GET /api/v4/tech/members"}')
    clean_environment.setenv("DDSITE_ENDPOINTS_FILE", str(overrides))
    code, text = _probe(url, token, capsys, clean_environment)
    assert code == 0 and "GET /api/v4/tech/members" in _line(text, "tech.agents")


def test_expired_token_is_named_as_the_problem(clean_environment, start_sandbox, capsys):
    app, url, _ = start_sandbox()
    token = app.extensions["sandbox"]["tokens"].mint("c", 101, ttl=-60)  # ended a minute ago
    code, text = _probe(url, token, capsys, clean_environment)
    assert code == 1
    assert "rejected the token (HTTP 401)" in text


def test_a_reply_in_an_unknown_form_fails_its_line(clean_environment, dd, capsys):
    dd.add(responses.GET, HOST + "/api/v2/user/client", json={"userName": "pat@acme.test",
                                                             "userType": "Client"})
    dd.add(responses.GET, HOST + "/api/v2/user/member", status=403, json={})
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets", json={"data": [{"id": 1}]})
    dd.add(responses.GET, HOST + "/api/v4/portal/request-types", body="<html>login</html>")
    dd.add(responses.GET, HOST + "/api/v4/portal/priorities", json=[{"id": 1, "name": "Low"}])
    dd.add(responses.GET, HOST + "/api/v4/auth/public-keys", status=404)
    code, text = _probe(HOST, make_token(), capsys, clean_environment)
    assert code == 1
    assert "in a form ddsite does not know: expected a list or a known list envelope" \
        in _line(text, "portal.tickets")
    assert _line(text, "portal.ticket").startswith("SKIP ")
    assert _line(text, "portal.request_types").startswith("FAIL ")
    assert "who-am-I alone" in _line(text, "public_keys")
    assert "Traceback" not in text


def test_bad_input_gets_a_clear_message_and_exit_2(clean_environment, capsys, monkeypatch):
    token = make_token()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["probe", "https://dd.example.com"]) == 2
    assert "no access token" in capsys.readouterr().err
    # a token pasted where the host goes is not echoed back
    assert main(["probe", token]) == 2
    error = capsys.readouterr().err
    assert "is not an instance origin" in error
    assert_no_token(error, "the probe's error")


def test_the_token_cannot_be_given_as_an_argument(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["probe", "--token", "x", "https://dd.example.com"])
    assert stopped.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
