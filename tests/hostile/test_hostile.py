"""Hostile inputs against every door of the site: each case's status is asserted, and no case may
answer 5xx, show a token, show someone else's data, carry unsafe markup or an unsafe redirect,
lack a security header, or reach DeskDirector when it must not."""

from __future__ import annotations

import io
import re
import time
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
import responses
from flask.testing import FlaskClient

from ..conftest import AGENT, CONTACT, HOST, ISSUED_TOKENS, make_token
from . import outcomes
from .cases import IFRAME, NO_JSON, Case, _raw_jwt, all_cases
from .fake_deskdirector import FOREIGN_CONTACT, FOREIGN_MARK, FakeDeskDirector

CASES = all_cases()
STATUS_WORDS = {200: "page", 303: "redirect", 400: "refused", 401: "session ended", 403: "forbidden",
                404: "not found", 405: "method not allowed", 409: "conflict shown", 413: "too large",
                422: "form errors shown", 429: "flood control"}


class MarkupAudit(HTMLParser):
    """Every tag and attribute a browser would act on, as the browser parses the page."""

    FORBIDDEN_TAGS = {"svg", "iframe", "object", "embed", "style", "base", "meta", "math"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not re.fullmatch(r"/static/ddsite\.js(\?v=[0-9a-f]{12})?",
                                                values.get("src") or ""):
            self.findings.append("a script not our own")
        if tag in self.FORBIDDEN_TAGS and not (tag == "meta" and set(values) <= {"charset", "name", "content"}):
            self.findings.append(f"a <{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"an event handler {name}=")
            if name in ("href", "src", "action", "formaction") and re.match(
                    r"\s*(javascript|data|vbscript):", value or "", re.I):
                self.findings.append(f"a {name}= that runs code")
            if name == "style":
                self.findings.append("an inline style")

    handle_startendtag = handle_starttag


def unsafe_markup(html: str) -> list[str]:
    """What in `html` could run code or restyle the page (our own script and stylesheets aside)."""
    audit = MarkupAudit()
    audit.feed(html)
    audit.close()
    return audit.findings


@pytest.fixture(scope="module")
def long_lived_app(tmp_path_factory):
    """One app for the whole table, as a server lives through many visitors (compiling the
    templates once); its flood limits are out of the way, the flood cases get an app of their own."""
    from ddsite import create_app

    generous = "100000/minute"
    app = create_app({"TESTING": True, "SECRET_KEY": "hostile", "DESKDIRECTOR_HOSTS": [HOST],
                      "SESSION_DIR": str(tmp_path_factory.mktemp("hostile-sessions")), "RETRY_BACKOFF": 0,
                      "INTAKE_LIMIT_PER_CLIENT": generous, "INTAKE_LIMIT_PER_INSTANCE": generous,
                      "FAILED_SIGN_IN_LIMIT_PER_CLIENT": generous,
                      "FAILED_SIGN_IN_LIMIT_PER_INSTANCE": generous})
    yield app
    app.extensions["ddsite"].close()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input(case: Case, request, caplog):
    app = request.getfixturevalue("app" if case.group == "flood" else "long_lived_app")
    app.test_client_class = FlaskClient  # leaks are counted below, not raised mid-request
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeDeskDirector(mock, case.payload)
        browser = app.test_client()
        if case.as_:
            _sign_in(browser, case.as_)
        values = {"host": HOST, "token": make_token(CONTACT["id"]), "tech_token": make_token(AGENT["id"]),
                  "handle": _setup(case.setup, app)}
        kwargs = _request(case, browser, values)
        writes_before = len(fake.writes)
        try:
            response = browser.open(_fill(case.path, values), method=case.method, **kwargs)
        except Exception as error:  # under TESTING Flask re-raises what would be a 500 page
            outcomes.record("500 unhandled exception", [f"unhandled 5xx: {type(error).__name__}"])
            raise
        wrote = len(fake.writes) > writes_before
    problems = _problems(case, response, wrote)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    if "access_token=" in logged or any(token in logged for token in ISSUED_TOKENS):
        problems.append("token in a log line")
    label = f"{response.status_code} {STATUS_WORDS.get(response.status_code, '')}".strip()
    outcomes.record(label, problems)
    assert not problems, problems


# ---- how a case is sent ---------------------------------------------------------------------
def _sign_in(browser, app_name: str, user: dict | None = None, headers: dict | None = None,
             follow: bool = True) -> str:
    """Intake as DeskDirector's iframe does it; follow the redirect unless told not to."""
    user = user or (CONTACT if app_name == "portal" else AGENT)
    response = browser.get(f"/{app_name}/", headers=headers or {},
                           query_string={"access_token": make_token(user["id"]), "host": HOST})
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    if follow:
        settled = browser.get(location, headers=headers or {})
        assert settled.status_code in (200, 303), settled.status_code  # by URL / by cookie
    return location


def _setup(setup: str | None, app) -> str | None:
    """Another person's session (or a token spray) that the case then tries to use."""
    if setup is None:
        return None
    if setup == "spray":
        for _ in range(10):  # FAILED_SIGN_IN_LIMIT_PER_CLIENT's default
            app.test_client().get("/portal/", query_string={
                "access_token": _raw_jwt({"sub": "acme~c~7", "exp": time.time() + 600}), "host": HOST})
        return None
    if setup in ("foreign_cookie_session", "foreign_csrf"):
        other = app.test_client()
        _sign_in(other, "portal", FOREIGN_CONTACT)
        if setup == "foreign_csrf":
            page = other.get("/portal/tickets/1005").get_data(as_text=True)
            return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return other.get_cookie("ddsite_session").value
    other = app.test_client(use_cookies=False)
    settled = setup in ("foreign_url_session", "foreign_pending_settled")
    location = _sign_in(other, "portal", FOREIGN_CONTACT, IFRAME, follow=settled)
    handle = location.split("ddsid=")[1]
    if setup == "foreign_pending_expired":
        store = app.session_interface.store
        data = store.get(f"session:{handle}")
        data["settle"]["until"] = 0
        store.set(f"session:{handle}", data)
    return handle


def _fill(value, values: dict):
    if callable(value):
        value = value()
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, str):
        for name, replacement in values.items():
            if replacement is not None:
                value = value.replace("{" + name + "}", replacement)
    return value


def _request(case: Case, browser, values: dict) -> dict:
    kwargs = {"query_string": {k: _fill(v, values) for k, v in case.query.items()},
              "headers": dict(case.headers), "environ_base": dict(case.environ)}
    if case.form_page is None:
        if case.body is not None:
            kwargs.update(data=case.body, content_type=case.content_type)
        return kwargs
    fields = _hidden_fields(browser.get(case.form_page).get_data(as_text=True), case.form_name)
    for name, value in (case.form or {}).items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = _fill(value, values)
    if case.json is not NO_JSON:
        kwargs["json"] = case.json
        kwargs["headers"]["X-CSRFToken"] = fields.get("csrf_token", "")
    elif case.files:
        kwargs["data"] = {**fields, **{name: (io.BytesIO(content), "upload.exe")
                                       for name, content in case.files.items()}}
        kwargs["content_type"] = "multipart/form-data"
    elif case.chunked is not None:
        body = urlencode(fields).encode() + b"&" + case.chunked
        kwargs.update(input_stream=io.BytesIO(body), content_type="application/x-www-form-urlencoded",
                      environ_overrides={"wsgi.input_terminated": True})
        kwargs["headers"]["Transfer-Encoding"] = "chunked"
    elif case.body is not None:
        kwargs.update(data=case.body, content_type=case.content_type)
    elif case.raw_form is not None:
        kwargs.update(data=urlencode(fields) + "&" + case.raw_form,
                      content_type="application/x-www-form-urlencoded")
    else:
        kwargs["data"] = fields
    return kwargs


def _hidden_fields(html: str, form_name: str | None) -> dict[str, str]:
    forms = re.findall(r'<form method="post".*?</form>', html, re.S)
    chosen = next((f for f in forms if form_name is None or f'name="form_name" value="{form_name}"' in f),
                  forms[0] if forms else "")
    fields = {}
    for tag in re.findall(r"<input[^>]*>", chosen):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


# ---- what must hold for every case ----------------------------------------------------------
def _problems(case: Case, response, wrote: bool) -> list[str]:
    problems = []
    expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
    if response.status_code >= 500:
        problems.append(f"unhandled 5xx: {response.status_code}")
    elif response.status_code not in expected:
        problems.append(f"unexpected status: {response.status_code}, expected {expected}")
    text = response.get_data(as_text=True)
    everything = text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    if "access_token=" in everything or any(token in everything for token in ISSUED_TOKENS):
        problems.append("token in a response")
    if FOREIGN_MARK in everything:
        problems.append("fixation: someone else's session" if case.group == "handle"
                        else "foreign data")
    problems += [f"unsafe markup: {finding}" for finding in unsafe_markup(text)]
    location = response.headers.get("Location")
    if location is not None and not re.fullmatch(r"/(?![/\\])[!-~]*", location):
        problems.append(f"unsafe redirect: {location[:80]!r}")
    headers = response.headers
    if ("frame-ancestors" not in headers.get("Content-Security-Policy", "")
            or headers.get("X-Content-Type-Options") != "nosniff"
            or "Referrer-Policy" not in headers or "X-Frame-Options" in headers
            or headers.get("Cache-Control") != "no-store"):
        problems.append("missing security header")
    if case.writes is False and wrote:
        problems.append("write that should not happen")
    if case.writes is True and not wrote:
        problems.append("write that did not happen")
    return problems
