"""The transport: connections capped at the server's threads (fan-outs wait for one, within a
bound), fan-out threads sized from threads x fan-out, one read on the caller's thread,
no proxy or .netrc look-ups from the environment; against a real server: kept-alive connections,
whole bodies read inside the call, and failures while reading them typed."""

from __future__ import annotations

import contextlib
import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ddsite.config import ConfigError, load
from ddsite.deskdirector.client import Client, Transport
from ddsite.deskdirector.endpoints import DEFAULT_ENDPOINTS, Endpoint
from ddsite.deskdirector.errors import Unavailable

from .conftest import HOST


def make_transport(**sizes) -> Transport:
    return Transport(connect_timeout=2, read_timeout=5, get_retries=0, retry_backoff=0, **sizes)


def test_connections_are_capped_at_the_threads_and_fan_out_threads_at_threads_times_fan_out():
    transport = make_transport(max_parallel_calls=4, server_threads=3)
    try:
        adapter = transport.session_for(HOST).get_adapter(HOST)
        # A connection per server thread, and a call that finds none free waits for one.
        assert (adapter._pool_maxsize, adapter._pool_block) == (3, True)
        assert transport.executor()._max_workers == 9  # one read of each page runs on its own thread
    finally:
        transport.close()


def test_every_thread_fans_out_at_once_without_queueing():
    transport = make_transport(max_parallel_calls=3, server_threads=2)
    everyone = threading.Barrier(6, timeout=5)  # passes only when all six reads run together
    try:
        def page(tag: str) -> dict:
            return transport.run_parallel({f"{tag}{n}": lambda n=n: (everyone.wait(), n)[1]
                                           for n in range(3)})

        results = {}
        threads = [threading.Thread(target=lambda t=t: results.update(page(t))) for t in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert results == {"a0": 0, "a1": 1, "a2": 2, "b0": 0, "b1": 1, "b2": 2}
    finally:
        transport.close()


def test_the_first_read_runs_on_the_callers_thread_and_order_is_kept():
    transport = make_transport(max_parallel_calls=4)
    seen = {}

    def read(name):
        seen[name] = threading.current_thread()
        return name

    try:
        results = transport.run_parallel({"x": lambda: read("x"), "y": lambda: read("y"),
                                          "z": lambda: read("z")})
        assert list(results) == ["x", "y", "z"] and results["z"] == "z"
        assert seen["x"] is threading.current_thread()
        assert seen["y"] is not threading.current_thread()
    finally:
        transport.close()


def test_the_first_error_is_raised_even_from_the_callers_own_read():
    transport = make_transport(max_parallel_calls=2)

    def fail():
        raise LookupError("first read failed")

    try:
        with pytest.raises(LookupError, match="first read failed"):
            transport.run_parallel({"a": fail, "b": lambda: 1})
    finally:
        transport.close()


SEEN_HEADERS: list[dict] = []


def _answer_priorities(handler: BaseHTTPRequestHandler, headers: dict[str, str] | None = None):
    """Answer with a one-row priorities list as JSON, with `headers` besides."""
    body = b'[{"id": 1, "name": "High"}]'
    handler.send_response(200)
    for name, value in {**(headers or {}), "Content-Type": "application/json",
                        "Content-Length": str(len(body))}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def upstream():
    """A real HTTP server on loopback answering every GET with a JSON list and a cookie."""
    SEEN_HEADERS.clear()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            SEEN_HEADERS.append(dict(self.headers))
            _answer_priorities(self, {"Set-Cookie": "ARRAffinity=server-7; Path=/"})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_proxy_variables_of_the_machine_are_not_used(upstream, monkeypatch):
    # A proxy that does not exist: a client that read the environment would fail to connect.
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport = make_transport(max_parallel_calls=1)
    try:
        client = Client(transport, DEFAULT_ENDPOINTS, upstream, "token-not-a-jwt")
        assert [ref.name for ref in client.tech.priorities()] == ["High"]
    finally:
        transport.close()


def test_sizes_come_from_the_environment_with_clear_errors():
    good = {"DDSITE_DESKDIRECTOR_HOSTS": HOST, "DDSITE_SECRET_KEY": "x"}
    config = load(environ={**good, "DDSITE_MAX_PARALLEL_CALLS": "6", "DDSITE_SERVER_THREADS": "16"})
    assert (config["MAX_PARALLEL_CALLS"], config["SERVER_THREADS"]) == (6, 16)
    with pytest.raises(ConfigError, match="DDSITE_MAX_PARALLEL_CALLS.*at least 1"):
        load(environ={**good, "DDSITE_MAX_PARALLEL_CALLS": "0"})


def test_a_cookie_deskdirector_sets_never_rides_along_on_later_calls(upstream):
    transport = make_transport(max_parallel_calls=1)
    try:
        for token in ("token-of-pat", "token-of-kim"):
            Client(transport, DEFAULT_ENDPOINTS, upstream, token).tech.priorities()
        assert [h.get("Authorization") for h in SEEN_HEADERS] == [
            "DdAccessToken token-of-pat", "DdAccessToken token-of-kim"]
        assert all("Cookie" not in h for h in SEEN_HEADERS)
        assert SEEN_HEADERS[1]["Accept-Encoding"] == "gzip, deflate"
    finally:
        transport.close()


class _Upstream(BaseHTTPRequestHandler):
    """Answers by path: /whole (gzip JSON), /cut (a body shorter than it said), /stall (part of a
    body, then nothing until the test lets go). Records each connection's client port."""

    protocol_version = "HTTP/1.1"  # keep-alive, like DeskDirector
    ports: list[int]
    release: threading.Event

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.ports.append(self.client_address[1])
        body = gzip.compress(b'[{"id": 1, "name": "High \xe2\x80\x94 now"}]')
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        if self.path.startswith("/cut"):
            self.send_header("Content-Length", str(len(body) + 50))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path.startswith("/stall"):
            self.wfile.write(body[:5])
            self.wfile.flush()
            self.release.wait(10)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _serving(handler):
    """`handler` on a loopback server; yields its origin; lets held replies go at the end."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def shaped_upstream():
    """A loopback server answering by path (see _Upstream); yields (origin, handler class)."""
    handler = type("Handler", (_Upstream,), {"ports": [], "release": threading.Event()})
    with _serving(handler) as origin:
        yield origin, handler


def _client_for(origin: str, path: str, transport: Transport) -> Client:
    endpoints = {**DEFAULT_ENDPOINTS, "tech.priorities": Endpoint("GET", path)}
    return Client(transport, endpoints, origin, "token-of-pat")


def test_calls_share_one_kept_alive_connection_and_gzip_bodies_are_read(shaped_upstream):
    origin, handler = shaped_upstream
    transport = make_transport(max_parallel_calls=1)
    try:
        client = _client_for(origin, "/whole", transport)
        for _ in range(5):
            assert [ref.name for ref in client.tech.priorities()] == ["High — now"]
        assert len(handler.ports) == 5 and len(set(handler.ports)) == 1
    finally:
        transport.close()


def test_a_body_cut_short_is_unavailable_not_a_crash(shaped_upstream):
    origin, handler = shaped_upstream
    transport = make_transport(max_parallel_calls=1)
    try:
        with pytest.raises(Unavailable, match="could not be reached"):
            _client_for(origin, "/cut", transport).tech.priorities()
    finally:
        transport.close()


def test_a_body_that_stalls_is_a_timeout_and_not_retried(shaped_upstream):
    origin, handler = shaped_upstream
    transport = Transport(connect_timeout=2, read_timeout=0.3, get_retries=2, retry_backoff=0,
                          max_parallel_calls=1)
    try:
        with pytest.raises(Unavailable, match="did not answer in time") as caught:
            _client_for(origin, "/stall", transport).tech.priorities()
        assert caught.value.timed_out and len(handler.ports) == 1
    finally:
        handler.release.set()
        transport.close()


def test_a_token_that_would_break_the_header_is_never_sent(shaped_upstream, caplog):
    origin, handler = shaped_upstream
    transport = make_transport(max_parallel_calls=1)
    endpoints = {**DEFAULT_ENDPOINTS, "tech.priorities": Endpoint("GET", "/whole")}
    try:
        client = Client(transport, endpoints, origin, "secret-token\r\nX-Evil: 1")
        with pytest.raises(Unavailable) as caught:
            client.tech.priorities()
        assert "secret-token" not in str(caught.value) and "secret-token" not in caplog.text
        assert handler.ports == []
    finally:
        transport.close()


class _Slow(BaseHTTPRequestHandler):
    """Keep-alive JSON replies that take `delay` seconds (or, on /hold, until the test lets go);
    records each connection's client port, and how many requests were in progress at most."""

    protocol_version = "HTTP/1.1"
    delay = 0.02
    ports: list[int]
    busy: list[int]  # [now, most]
    lock: threading.Lock
    release: threading.Event
    holding: threading.Event

    def do_GET(self):  # noqa: N802 (http.server's name)
        with self.lock:
            self.ports.append(self.client_address[1])
            self.busy[0] += 1
            self.busy[1] = max(self.busy)
        if self.path.startswith("/hold"):
            self.holding.set()
            self.release.wait(10)
        else:
            self.release.wait(self.delay)
        with self.lock:
            self.busy[0] -= 1
        _answer_priorities(self)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_upstream():
    """A loopback server whose replies take a while (see _Slow); yields (origin, handler class)."""
    handler = type("Handler", (_Slow,), {"ports": [], "busy": [0, 0], "lock": threading.Lock(),
                                         "release": threading.Event(),
                                         "holding": threading.Event()})
    with _serving(handler) as origin:
        yield origin, handler


def test_concurrent_fan_outs_never_open_more_connections_than_threads(slow_upstream):
    origin, handler = slow_upstream
    transport = make_transport(max_parallel_calls=4, server_threads=3)
    client = _client_for(origin, "/slow", transport)
    start = threading.Barrier(3, timeout=5)
    names: dict[str, list] = {}

    def page(tag: str) -> None:
        start.wait()
        for round_ in range(3):  # every page fans out four reads, all threads at once
            results = transport.run_parallel({f"{tag}{round_}{n}": client.tech.priorities
                                              for n in range(4)})
            names.update({key: [ref.name for ref in refs] for key, refs in results.items()})

    try:
        threads = [threading.Thread(target=page, args=(tag,)) for tag in "abc"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert len(names) == 36 and all(value == ["High"] for value in names.values())
        # 36 reads, 12 of them wanted at once: they took turns on three connections.
        assert len(handler.ports) == 36
        assert len(set(handler.ports)) <= 3 and handler.busy[1] <= 3
    finally:
        transport.close()


def test_a_page_fans_out_wider_than_the_connections_without_deadlock(slow_upstream):
    # One connection, four reads: the page's own read gives its connection back before it
    # waits for the others, which then take turns on it.
    origin, handler = slow_upstream
    transport = make_transport(max_parallel_calls=4, server_threads=1)
    client = _client_for(origin, "/slow", transport)
    try:
        results = transport.run_parallel({str(n): client.tech.priorities for n in range(4)})
        assert len(results) == 4 and len(set(handler.ports)) == 1
    finally:
        transport.close()


def test_a_wait_for_a_free_connection_is_bounded_and_unavailable(slow_upstream):
    origin, handler = slow_upstream
    transport = Transport(connect_timeout=2, read_timeout=5, get_retries=2, retry_backoff=0,
                          max_parallel_calls=2, server_threads=1, pool_wait=0.2)
    holding = _client_for(origin, "/hold", transport)
    waiting = _client_for(origin, "/slow", transport)
    held = threading.Thread(target=holding.tech.priorities)
    try:
        held.start()
        assert handler.holding.wait(5)  # the only connection is now in use
        with pytest.raises(Unavailable, match="did not answer in time") as caught:
            waiting.tech.priorities()
        assert caught.value.timed_out and len(handler.ports) == 1  # not retried, nothing opened
        # Calls made through the session (the signing keys' fetch) get a requests error too.
        with pytest.raises(requests.Timeout):
            transport.session_for(origin).get(origin + "/slow", timeout=(2, 5))
        handler.release.set()
        held.join(5)
        assert [ref.name for ref in waiting.tech.priorities()] == ["High"]  # free again
        assert len(set(handler.ports)) == 1
    finally:
        handler.release.set()
        transport.close()
