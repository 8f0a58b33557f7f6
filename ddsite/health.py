"""Health for the operator: /healthz (the process answers), /readyz (the session store answers),
and a 503 page on every other route while the store is down."""

from __future__ import annotations

from cachelib import RedisCache
from flask import Flask, Response, request, session

from .sessions import StoreUnavailable, store_ping
from .state import state

# Routes that work without the store: health itself, metrics, and what a 503 page links to.
_WITHOUT_STORE = frozenset({"healthz", "readyz", "metrics", "static", "brand_css"})


def init_app(app: Flask) -> None:
    """Add the two health routes (hooks.py runs the store-down guard)."""
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)


def healthz() -> Response:
    """Alive: touches neither DeskDirector nor the store."""
    return Response("ok\n", mimetype="text/plain")


def readyz() -> Response:
    """Ready when the session store can be written and read; otherwise 503 naming what is down."""
    store = state().store
    kind = "Redis (DDSITE_REDIS_URL)" if isinstance(store, RedisCache) else "the session folder"
    try:
        store_ping(store)
    except StoreUnavailable as exc:
        return Response(f"not ready: the session store, {kind}, is not answering ({exc})\n",
                        status=503, mimetype="text/plain")
    return Response(f"ready: the session store, {kind}, answers\n", mimetype="text/plain")


def refuse_while_store_down() -> None:
    """Every page but the store-free routes answers 503 while the session cannot be read."""
    if getattr(session, "store_down", False) and request.endpoint not in _WITHOUT_STORE:
        raise StoreUnavailable("the session store did not answer")
