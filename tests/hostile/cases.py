"""The hostile inputs, as a table: what is sent, as whom, and the status that must come back.

Placeholders in paths, query values and form values: {token} (a contact's valid token),
{tech_token}, {host}, {handle} (the handle a `setup` produced). Form cases start from the hidden
fields of the form on `form_page` (CSRF token, form key, remembered values); a value of None
removes that field.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from ..conftest import _KEY, ISSUED_TOKENS, make_token

NO_JSON = object()


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    expect: int | tuple[int, ...]
    path: str = "/portal/"
    method: str = "GET"
    query: dict[str, Any] = field(default_factory=dict)
    as_: str | None = "portal"  # signed in (by cookie) as a contact, an agent, or nobody
    form: dict[str, Any] | None = None
    form_page: str | None = None
    form_name: str | None = None
    raw_form: str | None = None  # already-encoded fields, added to the form's own
    files: dict[str, bytes] | None = None
    headers_csrf: bool = False  # send the CSRF token as X-CSRFToken (as a script would)
    json: Any = NO_JSON
    body: bytes | None = None
    chunked: bytes | None = None  # sent without Content-Length, after the form's own fields
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    environ: dict[str, Any] = field(default_factory=dict)
    payload: str = ""  # put into every text DeskDirector returns
    setup: str | None = None
    writes: bool | None = False  # must (True) / must not (False) reach DeskDirector; None: either

    @property
    def id(self) -> str:
        return f"{self.group}:{self.name}"


def _token(**claims) -> str:
    return make_token(**claims)


def _raw_jwt(payload: dict, algorithm="RS256") -> str:
    token = jwt.encode(payload, _KEY if algorithm == "RS256" else None, algorithm=algorithm)
    ISSUED_TOKENS.discard(token)  # DeskDirector did not issue these
    return token


# Tokens are made when a case runs (they carry a time); each maker returns the token string.
TOKENS: dict[str, tuple[Any, int]] = {
    "valid": (lambda: "{token}", 303),
    "padded with spaces": (lambda: " {token} ", 303),
    "empty": (lambda: "", 400),
    "not a jwt": (lambda: "not-a-jwt", 400),
    "three dots": (lambda: "a.b.c", 400),
    "crlf inside": (lambda: "eyJh\r\nSet-Cookie: x=1", 400),
    "unicode": (lambda: "ţøķęñ.ţøķęñ.ţøķęñ", 400),
    "20k characters": (lambda: "e" * 20000, 400),
    "alg none": (lambda: _raw_jwt({"sub": "acme~c~7", "exp": int(time.time()) + 600}, "none"), 401),
    "forged signature": (lambda: _forged(), 401),
    "expired": (lambda: _token(expires_in=-60), 401),
    "exp 1e400": (lambda: _token(exp=10 ** 400), 400),
    "exp -1e400": (lambda: _token(exp=-(10 ** 400)), 400),
    "exp NaN": (lambda: _token(exp=float("nan")), 400),
    "exp Infinity": (lambda: _token(exp=float("inf")), 400),
    "exp in ten years": (lambda: _token(exp=int(time.time()) + 10 * 366 * 86400), 400),
    "exp a string": (lambda: _token(exp="tomorrow"), 400),
    "exp true": (lambda: _token(exp=True), 400),
    "no exp": (lambda: _raw_jwt({"sub": "acme~c~7"}), 400),
    "agent token": (lambda: "{tech_token}", 403),
}


def _forged() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": "acme~c~7", "exp": int(time.time()) + 600}, other, algorithm="RS256")


def intake_cases() -> list[Case]:
    cases = []
    for name, (maker, status) in TOKENS.items():
        for app_name in ("portal", "tech"):
            expect = status
            if app_name == "tech" and name == "agent token":
                expect = 303
            elif app_name == "tech" and status == 303:
                expect = 403  # a contact's token on agent pages
            cases.append(Case("intake-token", f"{app_name} {name}", expect, path=f"/{app_name}/",
                              as_=None, query={"access_token": maker, "host": "{host}"},
                              writes=None))
    hosts = {
        "exact": ("{host}", 303), "upper case": ("HTTPS://DD.EXAMPLE.COM", 303),
        "trailing slash": ("{host}/", 303), "bare name": ("dd.example.com", 303),
        "default port": ("https://dd.example.com:443", 303), "omitted (one configured)": (None, 303),
        "padded": ("  https://dd.example.com  ", 303),
        "unknown": ("https://evil.example", 400), "http scheme": ("http://dd.example.com", 400),
        "javascript": ("javascript:alert(1)", 400), "with path": ("https://dd.example.com/x", 400),
        "userinfo": ("https://dd.example.com@evil.example", 400),
        "suffix": ("https://dd.example.com.evil.example", 400), "other port": ("https://dd.example.com:8443", 400),
        "protocol relative": ("//evil.example", 400), "crlf": ("https://dd.example.com\r\nX: y", 400),
        "idn": ("https://dd.exämple.com", 400), "file": ("file:///etc/passwd", 400),
        "very long": ("https://" + "a" * 300 + ".example", 400), "query": ("https://dd.example.com?x=1", 400),
        "xss": ('"><script>alert(1)</script>', 400),
    }
    for name, (host, status) in hosts.items():
        query = {"access_token": "{token}"} | ({"host": host} if host is not None else {})
        cases.append(Case("intake-host", name, status, as_=None, query=query))
    paths = {"/portal": ("portal", 303), "/tech": ("tech", 303), "/portal/tickets/1005": ("portal", 303),
             "/tech/queue": ("tech", 303), "/portal/new": ("portal", 303), "/portal//": ("portal", 303),
             "/portal/nowhere": ("portal", 404), "/": ("portal", 400), "/brand.css": ("portal", 200)}
    for path, (app_name, status) in paths.items():
        token = "{token}" if app_name == "portal" else "{tech_token}"
        cases.append(Case("intake-path", path, status, path=path, as_=None,
                          query={"access_token": token, "host": "{host}", "view": "x"}))
    cases.append(Case("intake-path", "/portal with host only", 303, path="/portal", as_=None,
                      query={"host": "{host}", "view": "x"}))
    cases.append(Case("intake-path", "two tokens", 303, as_=None,
                      query={"access_token": ["{token}", "junk"], "host": "{host}"}))
    cases.append(Case("intake-path", "old handle kept", 303, as_=None, setup="foreign_url_session",
                      query={"access_token": "{token}", "host": "{host}", "ddsid": "{handle}"}))
    cases.append(Case("flood", "refused tokens sprayed", 429, as_=None, setup="spray",
                      query={"access_token": "{token}", "host": "{host}"}))
    cases.append(Case("flood", "valid after others' spray from another address", 303, as_=None,
                      setup="spray", environ={"REMOTE_ADDR": "203.0.113.77"},
                      query={"access_token": "{token}", "host": "{host}"}))
    return cases


IFRAME = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"}
LINK = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate"}


def handle_cases() -> list[Case]:
    cases = [
        Case("handle", "made up", 400, as_=None, query={"ddsid": "made-up"}),
        Case("handle", "empty", 400, as_=None, query={"ddsid": ""}),
        Case("handle", "5000 characters", 400, as_=None, query={"ddsid": "h" * 5000}),
        Case("handle", "path traversal", 400, as_=None, query={"ddsid": "../../../etc/passwd"}),
        Case("handle", "nul", 400, as_=None, query={"ddsid": "abc\x00def"}),
        Case("handle", "garbage cookie", 400, as_=None, headers={"Cookie": "ddsite_session=\x7f\"';"}),
        Case("handle", "foreign cookie session by url", 400, as_=None, setup="foreign_cookie_session",
             query={"ddsid": "{handle}"}),
        Case("handle", "foreign url session, other address", 400, as_=None, setup="foreign_url_session",
             query={"ddsid": "{handle}"}, environ={"REMOTE_ADDR": "198.51.100.9"}),
        Case("handle", "foreign url session, link from elsewhere", 400, as_=None,
             setup="foreign_url_session", query={"ddsid": "{handle}"}, headers=LINK),
        Case("handle", "foreign url session, other browser", 400, as_=None,
             setup="foreign_url_session", query={"ddsid": "{handle}"}, headers={"User-Agent": "Other"}),
        Case("handle", "foreign pending, opened as a link", 400, as_=None, setup="foreign_pending",
             query={"ddsid": "{handle}"}, headers=LINK),
        Case("handle", "foreign pending, other address", 400, as_=None, setup="foreign_pending",
             query={"ddsid": "{handle}"}, headers=IFRAME, environ={"REMOTE_ADDR": "198.51.100.9"}),
        Case("handle", "foreign pending, too late", 400, as_=None, setup="foreign_pending_expired",
             query={"ddsid": "{handle}"}, headers=IFRAME),
        Case("handle", "foreign pending, second time", 400, as_=None, setup="foreign_pending_settled",
             query={"ddsid": "{handle}"}, headers=IFRAME),
        Case("handle", "own cookie beats foreign url handle", 200, setup="foreign_url_session",
             query={"ddsid": "{handle}"}),
        Case("handle", "own cookie, foreign handle twice", 200, setup="foreign_url_session",
             query={"ddsid": ["{handle}", "{handle}"]}),
    ]
    return cases


PORTAL_ROUTES = ["/portal/", "/portal/tickets", "/portal/tickets/1005", "/portal/new"]
TECH_ROUTES = ["/tech/", "/tech/queue", "/tech/tickets/1005", "/tech/tickets/1005/take",
               "/tech/tickets/1005/close"]


def route_cases() -> list[Case]:
    cases = []
    ids = {"0": 404, "1": 404, "-1": 404, "abc": 404, "1e3": 404, "99999999999999999999999": 404,
           "%00": 404, "1005.0": 404, "%201005": 404, "1005%0d%0a": 404,
           "١٠٠٥": 200, "²": 404}  # Arabic-Indic digits are digits to the URL map; "²" is not
    for ticket_id, status in ids.items():
        cases.append(Case("route-id", f"portal {ticket_id}", status, path=f"/portal/tickets/{ticket_id}"))
        for suffix in ("", "/take", "/close"):
            cases.append(Case("route-id", f"tech {ticket_id}{suffix}", status, as_="tech",
                              path=f"/tech/tickets/{ticket_id}{suffix}"))
    portal_queries = [{"status": "bad"}, {"status": "<script>"}, {"page": "-1"}, {"page": "0"},
                      {"page": "abc"}, {"page": "1e9"}, {"page": "99999999999999"}, {"page": "²"},
                      {"q": "x" * 10000}, {"q": "<script>alert(1)</script>"}, {"q": "\x00"},
                      {"status": ["open", "closed"]}, {"page": ["1", "2"]}, {"q": "%"}]
    for query in portal_queries:
        cases.append(Case("query", f"portal tickets {str(query)[:40]}", 200, path="/portal/tickets",
                          query=query))
    tech_queries = [{"view": "bad"}, {"view": "../../"}, {"sort": "bad"}, {"sort": "priority desc"},
                    {"page": "-5"}, {"page": "²"}, {"q": "y" * 10000}, {"q": "' OR 1=1 --"},
                    {"view": ["mine", "closed"]}, {"q": "<img src=x onerror=alert(1)>"}]
    for query in tech_queries:
        cases.append(Case("query", f"tech queue {str(query)[:40]}", 200, as_="tech", path="/tech/queue",
                          query=query))
    for method in ("PUT", "DELETE", "PATCH", "TRACE"):
        for path in (*PORTAL_ROUTES, "/", "/brand.css"):
            cases.append(Case("method", f"{method} {path}", 405, path=path, method=method))
        for path in TECH_ROUTES:
            cases.append(Case("method", f"{method} {path}", 405, path=path, method=method, as_="tech"))
    for path in ("/portal/", "/portal/tickets"):
        cases.append(Case("method", f"POST {path}", 405, path=path, method="POST", body=b"x=1",
                          content_type="application/x-www-form-urlencoded"))
    for path in ("/tech/", "/tech/queue"):
        cases.append(Case("method", f"POST {path}", 405, path=path, method="POST", as_="tech"))
    for path in PORTAL_ROUTES:
        cases.append(Case("method", f"HEAD {path}", 200, path=path, method="HEAD"))
        cases.append(Case("method", f"OPTIONS {path}", 200, path=path, method="OPTIONS"))
    for path in TECH_ROUTES:
        cases.append(Case("method", f"HEAD {path}", 200, path=path, method="HEAD", as_="tech"))
    return cases


REPLY = dict(path="/portal/tickets/1005", method="POST", form_page="/portal/tickets/1005")
NEW = dict(path="/portal/new", method="POST", form_page="/portal/new")
NOTE = dict(path="/tech/tickets/1005", method="POST", form_page="/tech/tickets/1005", form_name="note",
            as_="tech")
UPDATE = dict(path="/tech/tickets/1005", method="POST", form_page="/tech/tickets/1005",
              form_name="update", as_="tech")
CLOSE = dict(path="/tech/tickets/1005/close", method="POST", form_page="/tech/tickets/1005/close",
             as_="tech")
NEW_OK = {"summary": "Laptop", "request_type": "1"}


def form_cases() -> list[Case]:
    def case(name, expect, kind, writes=False, **extra):
        return Case("form", name, expect, **{**kind, **extra}, writes=writes)

    cases = [
        case("reply sent", 303, REPLY, True, form={"note": "Thanks"}),
        case("reply without csrf", 400, REPLY, form={"note": "x", "csrf_token": None}),
        case("reply with a wrong csrf", 400, REPLY, form={"note": "x", "csrf_token": "forged"}),
        case("reply with a foreign csrf", 400, REPLY, setup="foreign_csrf", form={"note": "x", "csrf_token": "{handle}"}),
        case("reply without form key", 422, REPLY, form={"note": "x", "form_key": None}),
        case("reply blank", 422, REPLY, form={"note": "  \n\t "}),
        case("reply 10001 characters", 422, REPLY, form={"note": "n" * 10001}),
        case("reply over a megabyte", 413, REPLY, form={"note": "n" * (1024 * 1024 + 10)}),
        case("reply with nul", 400, REPLY, form={"note": "a\x00b"}),
        case("reply with escape codes", 400, REPLY, form={"note": "\x1b[2J"}),
        case("reply with a control character in a name", 400, REPLY, form={"note": "x", "a\x01": "1"}),
        case("reply xss (sent as text)", 303, REPLY, True, form={"note": "<script>alert(1)</script>"}),
        case("reply unicode", 303, REPLY, True, form={"note": "héllo ✓ 日本 \u202e"}),
        case("reply latin-1 bytes", 303, REPLY, True, raw_form="note=caf%E9"),
        case("reply invalid utf-8", 303, REPLY, True, raw_form="note=%ff%fe%fd"),
        case("reply note twice", 303, REPLY, True, raw_form="note=one&note=two"),
        case("reply unknown extra fields", 303, REPLY, True, form={"note": "x", "isInternal": "true", "admin": "1"}),
        case("reply discard without draft", 303, REPLY, form={"discard": "1"}),
        case("reply text/plain", 400, REPLY, body=b"note=x", content_type="text/plain"),
        case("reply xml", 400, REPLY, body=b"<note>x</note>", content_type="application/xml"),
        case("reply bad multipart", 400, REPLY, body=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"),
        case("new sent", 303, NEW, True, form=NEW_OK),
        case("new summary too long", 422, NEW, form={**NEW_OK, "summary": "s" * 201}),
        case("new summary blank", 422, NEW, form={**NEW_OK, "summary": " "}),
        case("new request type not offered", 422, NEW, form={**NEW_OK, "request_type": "99"}),
        case("new request type letters", 422, NEW, form={**NEW_OK, "request_type": "abc"}),
        case("new request type superscript", 422, NEW, form={**NEW_OK, "request_type": "²"}),
        case("new priority huge", 422, NEW, form={**NEW_OK, "priority": "9" * 40}),
        case("new description too long", 422, NEW, form={**NEW_OK, "description": "d" * 10001}),
        case("note sent", 303, NOTE, True, form={"note": "Checked", "visibility": "internal"}),
        case("note visibility forged", 422, NOTE, form={"note": "x", "visibility": "everyone"}),
        case("note form_name unknown", 200, NOTE, form={"note": "x", "form_name": "other"}),
        case("update status superscript", 422, UPDATE, form={"status": "²"}),
        case("update status not offered", 422, UPDATE, form={"status": "42"}),
        case("update assignee superscript", 422, UPDATE, form={"status": "1", "assignees": "²"}),
        case("update assignee not offered", 422, UPDATE, form={"status": "1", "assignees": "999"}),
        case("update remembered assignees superscript", 422, UPDATE, form={"status": "2", "loaded_assignees": "²"}),
        case("update remembered assignees negative", 422, UPDATE, form={"status": "2", "loaded_assignees": "-1"}),
        # The merge works from the remembered values, not the time: a forged time only changes
        # the words of the message ("someone else changed it meanwhile").
        case("update remembered modified forged", 303, UPDATE, True, form={"status": "2", "loaded_modified_on": "x"}),
        case("update sent", 303, UPDATE, True, form={"status": "2", "priority": "1", "assignees": "5"}),
        case("close confirmed", 303, CLOSE, True, form={"confirmed": "yes"}),
        case("close unconfirmed", 200, CLOSE, form={"confirmed": "no"}),
    ]
    for body in ({"note": 5}, [1, 2], "abc", 7, {"note": "text"}):
        for name, kind in (("reply", REPLY), ("new", NEW), ("note", NOTE), ("close", CLOSE)):
            cases.append(case(f"{name} json {str(body)[:20]}", 400, kind, json=body, headers_csrf=True))
    for field_name in ("note", "summary", "description"):
        for name, kind in (("reply", REPLY), ("new", NEW)):
            cases.append(case(f"{name} file as {field_name}", 400, kind, files={field_name: b"MZ\x90\x00"},
                              form={"note": "x", **NEW_OK}))
    cases.append(case("chunked over the limit", 413, REPLY, chunked=b"note=" + b"a" * (1024 * 1024 + 10)))
    cases.append(case("chunked within the limit", 303, REPLY, True, chunked=b"note=chunked+hello"))
    return cases


XSS = {
    "script": "<script>alert(1)</script>",
    "img onerror": '<img src=x onerror="alert(1)">',
    "attribute break": '"><svg onload=alert(1)>',
    "javascript link": '<a href="javascript:alert(1)">click</a>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "data link": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "style": '<style>body{display:none}</style><div style="background:url(javascript:alert(1))">',
}
XSS_PAGES = [("portal", "/portal/"), ("portal", "/portal/tickets"), ("portal", "/portal/tickets/1005"),
             ("portal", "/portal/new"), ("tech", "/tech/"), ("tech", "/tech/queue?view=open"),
             ("tech", "/tech/tickets/1005"), ("tech", "/tech/tickets/1005/take")]


def xss_cases() -> list[Case]:
    return [Case("xss-upstream", f"{name} on {path}", 200, path=path.split("?")[0], as_=app_name,
                 query=dict([path.split("?")[1].split("=")]) if "?" in path else {}, payload=payload)
            for name, payload in XSS.items() for app_name, path in XSS_PAGES]


REDIRECT_TARGETS = {
    "crlf": "/tech/\r\nSet-Cookie: x=1", "lf": "/tech/queue\nX: y", "protocol relative": "//evil.example/tech/",
    "backslash": "/\\evil.example", "absolute": "https://evil.example/tech/", "unknown path": "/tech/nowhere",
    "other app": "/portal/", "dot dot": "/tech/../portal/", "javascript": "javascript:alert(1)",
    "fragment": "/tech/queue#x", "non-ascii": "/tech/quéue", "very long": "/tech/" + "a" * 3000,
    "tab": "/tech/\tqueue", "encoded crlf": "/tech/%0d%0aSet-Cookie:x", "at sign": "/tech/@evil.example",
}


def redirect_cases() -> list[Case]:
    cases = []
    for name, target in REDIRECT_TARGETS.items():
        cases.append(Case("redirect", f"close next {name}", 303, **{**CLOSE, "path": "/tech/tickets/1005/close"},
                          query={"next": target}, form={"confirmed": "yes"}, writes=True))
        cases.append(Case("redirect", f"confirm page next {name}", 200, path="/tech/tickets/1005/take",
                          as_="tech", query={"next": target}))
    cases.append(Case("redirect", "close next kept", 303, **CLOSE, query={"next": "/tech/queue?view=open"},
                      form={"confirmed": "yes"}, writes=True))
    return cases


def all_cases() -> list[Case]:
    return [*intake_cases(), *handle_cases(), *route_cases(), *form_cases(), *xss_cases(),
            *redirect_cases()]
