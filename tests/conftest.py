"""Shared fixtures: a fresh app per test, a DeskDirector mock, tokens, and a token-leak guard."""

from __future__ import annotations

import logging
import time

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from ddsite import create_app

HOST = "https://dd.example.com"
OTHER_HOST = "https://help.example.net"
ISSUED_TOKENS: set[str] = set()
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_token(user_id: str = "acme~c~7", *, expires_in: float = 3600, key=_KEY, **claims) -> str:
    """An RS256 JWT like DeskDirector's; remembered so no response or log may contain it."""
    now = int(time.time())
    payload = {"sub": user_id, "userId": user_id, "database": "acme", "iat": now,
               "exp": now + expires_in, **claims}
    token = jwt.encode(payload, key, algorithm="RS256")
    ISSUED_TOKENS.add(token)
    return token


def public_key_pem(key=_KEY) -> bytes:
    """PEM of the test signing key."""
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def assert_no_token(text: str, where: str) -> None:
    """Fail when `text` contains any token issued in this test."""
    for token in ISSUED_TOKENS:
        assert token not in text, f"an access token leaked into {where}"
    assert "access_token=" not in text or where == "request", f"access_token= in {where}"


class LeakCheckingClient(FlaskClient):
    """A test client that fails the test when a response carries a token."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        for name, value in response.headers.items():
            assert_no_token(value, f"the {name} header")
        if not response.is_streamed:
            assert_no_token(response.get_data(as_text=True), "a response body")
        return response


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog):
    """Every test: no captured log record may contain a token issued during it."""
    ISSUED_TOKENS.clear()
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        assert_no_token(record.getMessage(), f"a log record from {record.name}")
        if record.exc_text:
            assert_no_token(record.exc_text, "a logged exception")


@pytest.fixture
def config(tmp_path):
    """A fresh configuration dict for this test only (look-ups read every time: the look-up
    cache has tests of its own)."""
    return {"TESTING": True, "SECRET_KEY": "test-secret", "DESKDIRECTOR_HOSTS": [HOST],
            "SESSION_DIR": str(tmp_path / "sessions"), "RETRY_BACKOFF": 0, "LOOKUP_TTL": 0}


@pytest.fixture
def app(config, monkeypatch):
    """The app, built from the test's config and no DDSITE_* variables of the machine."""
    for name in list(__import__("os").environ):
        if name.startswith("DDSITE_"):
            monkeypatch.delenv(name)
    app = create_app(config)
    app.test_client_class = LeakCheckingClient
    yield app
    app.extensions["ddsite"].close()


@pytest.fixture
def client(app):
    """A leak-checking test client."""
    return app.test_client()


@pytest.fixture
def transport():
    """A DeskDirector transport of its own: 2 s connect, 7 s read, 2 GET retries, no backoff."""
    from ddsite.deskdirector.client import Transport

    transport = Transport(connect_timeout=2, read_timeout=7, get_retries=2, retry_backoff=0,
                          max_parallel_calls=4)
    yield transport
    transport.close()


@pytest.fixture
def clock(monkeypatch):
    """Move time forward: clock(61) jumps 61 seconds."""
    offset = [0.0]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


@pytest.fixture
def dd():
    """DeskDirector, mocked; every registered reply must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


CONTACT = {"id": "acme~c~7", "userName": "pat@acme.test", "firstName": "Pat", "lastName": "Lee",
           "email": "pat@acme.test", "company": {"id": 3, "name": "Acme Pty"}}
AGENT = {"id": "acme~m~2", "userName": "sam@msp.test", "name": "Sam Agent",
         "email": "sam@msp.test", "company": {"id": 1, "name": "The MSP"}}


def sign_in(client, dd, app_name: str = "portal", *, user: dict | None = None,
            host: str = HOST, expires_in: float = 3600, path: str | None = None,
            prefix: str = "") -> str:
    """Open `path` (under the proxy's `prefix`, if any) as DeskDirector would, follow intake,
    and return the token used."""
    user = user or (CONTACT if app_name == "portal" else AGENT)
    me = "/api/v2/user/client" if app_name == "portal" else "/api/v2/user/member"
    dd.add(responses.GET, host + me, json=user)
    token = make_token(user["id"], expires_in=expires_in)
    path = path or f"/{app_name}/"
    joiner = "&" if "?" in path else "?"
    # A browser that has been here before (its cookie, if it has none yet, from a visit long
    # ended): intake knows its cookies work, and redirects it straight to the clean page. A new
    # browser's way in has tests of its own (test_auth.py, test_intake.py).
    name = client.application.config["SESSION_COOKIE_NAME"]
    if client.get_cookie(name, path=prefix or "/") is None:
        client.set_cookie(name, "from-an-earlier-visit", path=prefix or "/")
    response = client.get(f"{prefix}{path}{joiner}access_token={token}&host={host}")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "ddsid=" not in response.headers["Location"]
    return token


class PrefixProxy:
    """A reverse proxy that publishes the site under `prefix` (nginx's `location /ddsite/ {
    proxy_pass http://127.0.0.1:8000/; … }`): strips it from the path and says what it was.
    The app needs PROXY_FIX=1 and TRUSTED_HOSTS=[PROXIED_HOST] to trust it."""

    def __init__(self, app, prefix: str) -> None:
        self.app, self.prefix = app.wsgi_app, prefix
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not published by this proxy"]
        environ.update(PATH_INFO=path[len(self.prefix):] or "/", HTTP_X_FORWARDED_PREFIX=self.prefix,
                       HTTP_X_FORWARDED_HOST=PROXIED_HOST, HTTP_X_FORWARDED_PROTO="https")
        return self.app(environ, start_response)


PROXIED_HOST = "ddsite.example.com"


def expect_home(dd, times: int = 1, host: str = HOST, rows: list | None = None) -> None:
    """The contact home asks for two short lists (open, and recent activity) per visit."""
    for _ in range(2 * times):
        dd.add(responses.GET, host + "/api/v4/portal/tickets",
               json={"total": len(rows or []), "results": rows or []})


def form_fields(html: str) -> dict:
    """The hidden csrf_token and form_key of the form on a page."""
    import re

    return dict(re.findall(r'name="(csrf_token|form_key)" type="hidden" value="([^"]+)"', html))


def send_reply(client, dd, note: str = "Thanks", *, answer: int = 200) -> object:
    """Load ticket 1 as a contact and send a reply; DeskDirector answers the POST with `answer`."""
    dd.add(responses.GET, HOST + "/api/v4/portal/tickets/1",
           json={"id": 1, "summary": "Printer", "status": {"id": 1, "name": "New"}, "notes": []})
    dd.add(responses.POST, HOST + "/api/v4/portal/tickets/1/notes", status=answer,
           json={"id": 9, "note": note} if answer < 400 else {"message": "no"})
    page = client.get("/portal/tickets/1")
    return client.post("/portal/tickets/1", data={**form_fields(page.text), "note": note})


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15, process=None) -> None:
    """Return once something accepts connections on 127.0.0.1:port; fail if `process` exits."""
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on port {port} after {timeout} s")


class RedisServer:
    """A real redis-server on a free loopback port that a test can stop and start again."""

    def __init__(self, folder) -> None:
        import os
        import shutil

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            if os.environ.get("CI") == "true":
                pytest.fail("redis-server is missing; .ci/run installs it")
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> RedisServer:
        """Start (or start again) on the same port; return once it accepts connections."""
        import subprocess

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        """Stop the server and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server on a free loopback port, for the shared session store."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own, which the test may stop and start again."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def age_files(folder) -> None:
    """Date every entry in a file store's folder a minute back, as entries written a while ago
    are (the store shares a decoded entry only once its file is no longer new)."""
    import os

    then = time.time() - 60
    for root, _, names in os.walk(folder):
        for name in names:
            os.utime(os.path.join(root, name), (then, then))


@pytest.fixture
def decoded(monkeypatch):
    """Every value unpickled during the test (the file store's reads decode with pickle.loads)."""
    import pickle

    loads, seen = pickle.loads, []

    def counted(data, *args, **kwargs):
        seen.append(loads(data, *args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(pickle, "loads", counted)
    return seen
