"""`ddsite demo`'s servers: HTTP/1.1 keep-alive like DeskDirector, on both sides."""

from __future__ import annotations

import http.client
import json

import pytest

from ddsite.demo import Demo


@pytest.fixture(scope="module")
def demo():
    demo = Demo().start()
    yield demo
    demo.stop()


def test_the_sandbox_keeps_the_connection_open_across_requests(demo):
    connection = http.client.HTTPConnection("127.0.0.1", demo.sandbox.port, timeout=5)
    try:
        connection.request("GET", "/sandbox/faults")
        first = connection.getresponse()
        assert json.loads(first.read())["latency"] == 0
        assert first.version == 11 and first.getheader("Connection") != "close"
        socket_used = connection.sock
        # A request with a body, then another: the body is consumed, the connection stays usable.
        connection.request("POST", "/sandbox/faults", body=json.dumps({"latency": 0}),
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().read()
        connection.request("GET", "/api/v4/portal/request-types")
        third = connection.getresponse()
        assert third.status == 401 and third.read()
        assert connection.sock is socket_used  # still the first connection
    finally:
        connection.close()


def test_the_site_keeps_the_connection_open_too(demo):
    connection = http.client.HTTPConnection("127.0.0.1", demo.site.port, timeout=5)
    try:
        for _ in range(2):
            connection.request("GET", "/healthz-not-a-page")
            reply = connection.getresponse()
            assert reply.status == 404 and reply.read()
            assert reply.getheader("Connection") != "close"
        assert connection.sock is not None
    finally:
        connection.close()
