"""The sandbox as a gunicorn app for the benchmarks, counting API calls and TCP connections.

gunicorn target: `sandbox_server:create()`; BENCH_SITE_URL names the site the shells frame.
Connections are counted by the caller's port (one port per TCP connection), on this side.
"""

from __future__ import annotations

import os
import threading

from flask import jsonify

from ddsite.sandbox import create_sandbox


class CallCounter:
    """WSGI middleware: API calls and distinct client ports since the last reset."""

    def __init__(self, app) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.calls = 0
        self.ports: set[str] = set()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/"):
            with self._lock:
                self.calls += 1
                self.ports.add(environ.get("REMOTE_PORT", ""))
        return self.app(environ, start_response)

    def snapshot(self) -> dict:
        """Calls and connections seen so far."""
        with self._lock:
            return {"calls": self.calls, "connections": len(self.ports), "ports": sorted(self.ports)}

    def reset(self) -> None:
        """Start counting again."""
        with self._lock:
            self.calls = 0
            self.ports.clear()


def create():
    """The counting sandbox (one worker: its tokens and counters live in this process)."""
    sandbox = create_sandbox(site_url=os.environ["BENCH_SITE_URL"])
    counter = CallCounter(sandbox.wsgi_app)
    sandbox.wsgi_app = counter
    sandbox.add_url_rule("/bench/stats", "bench_stats", lambda: jsonify(counter.snapshot()))
    sandbox.add_url_rule("/bench/reset", "bench_reset",
                         lambda: (counter.reset(), jsonify(ok=True))[1], methods=["POST"])
    return sandbox
