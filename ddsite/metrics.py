"""Prometheus metrics at /metrics: pages, DeskDirector calls, upstream errors, sessions, sweeps.

Off unless DDSITE_METRICS_TOKEN is set, and then only for requests bearing that token. Under
`ddsite serve` (several gunicorn workers) every worker writes its figures to the folder named by
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up; prometheus_client decides which mode it is in
when it is first imported, which is why ddsite imports this module only inside create_app().
"""

from __future__ import annotations

import hmac
import os
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from .deskdirector.errors import DeskDirectorError

# Pages wait on DeskDirector, so the buckets reach well past a second.
_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The figures one app records; each app has its own registry (tests build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.pages = Histogram("ddsite_page_seconds", "Time to answer a request, by route",
                               ["route", "method", "status"], buckets=_BUCKETS,
                               registry=self.registry)
        self.calls = Histogram("ddsite_deskdirector_call_seconds",
                               "DeskDirector calls (retries included), by operation and outcome",
                               ["operation", "status"], buckets=_BUCKETS, registry=self.registry)
        self.upstream_errors = Counter("ddsite_upstream_errors",
                                       "Failed DeskDirector calls, by error class", ["error"],
                                       registry=self.registry)
        self.intakes = Counter("ddsite_intakes", "Access tokens taken in, by audience", ["app"],
                               registry=self.registry)
        self.expiries = Counter("ddsite_expiries",
                                "Sessions ended: token expired, or rejected by DeskDirector",
                                ["reason"], registry=self.registry)
        self.sessions = Counter("ddsite_sessions",
                                "Sessions started, by how the handle travels (cookie or url)",
                                ["transport"], registry=self.registry)
        self.swept = Counter("ddsite_store_swept", "Expired entries deleted from the file store",
                             registry=self.registry)

    def deskdirector_call(self, operation: str, seconds: float,
                          error: DeskDirectorError | None, status: int | None) -> None:
        """Transport callback: one DeskDirector call finished (with `error` when it failed)."""
        if error is not None:
            self.upstream_errors.labels(type(error).__name__).inc()
            outcome = str(error.upstream_status or ("timeout" if getattr(error, "timed_out", False)
                                                    else "unreachable"))
        else:
            outcome = str(status)
        self.calls.labels(operation, outcome).observe(seconds)

    def start_page(self) -> None:
        """A request's own work starts: note the time."""
        g.metrics_started = time.perf_counter()

    def observe_page(self, response: Response) -> None:
        """A request's answer is ready: record its time by route, method and status."""
        started = g.get("metrics_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "(no route)"
            self.pages.labels(route, request.method, str(response.status_code)).observe(
                time.perf_counter() - started)

    def exposition(self) -> bytes:
        """Every figure in Prometheus text format (all workers' under multiprocess mode)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def init_app(app: Flask, metrics: Metrics) -> None:
    """Serve /metrics when DDSITE_METRICS_TOKEN is set (pages are timed by hooks.py)."""
    if app.config["METRICS_TOKEN"]:
        app.add_url_rule("/metrics", "metrics", lambda: _metrics_view(metrics))


def _metrics_view(metrics: Metrics) -> Response:
    offered = request.headers.get("Authorization", "")
    expected = f"Bearer {current_app.config['METRICS_TOKEN']}"
    if not hmac.compare_digest(offered.encode(), expected.encode()):
        return Response("/metrics needs the header Authorization: Bearer <DDSITE_METRICS_TOKEN>\n",
                        status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)
