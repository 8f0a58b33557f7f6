"""Flood control: sign-in attempts and failed sign-in checks, per client address and per instance.

Every intake costs DeskDirector a who-am-I call, so a spray of tokens at ddsite would otherwise be
passed straight on. Counters live where sessions do (Redis when configured), so every worker and
machine counts together.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse


class TooManyAttempts(Exception):
    """A sign-in was refused by flood control; `retry_after` says in how many seconds to retry."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after

# (config key, counter, whose, what the user is told)
_INTAKE = (("INTAKE_LIMIT_PER_CLIENT", "intake", "client",
            "There have been too many sign-ins from your network address."),
           ("INTAKE_LIMIT_PER_INSTANCE", "intake", "instance",
            "There have been too many sign-ins to this DeskDirector instance."))
_FAILURES = (("FAILED_SIGN_IN_LIMIT_PER_CLIENT", "failed", "client",
              "Too many sign-in links from your network address were refused by DeskDirector."),
             ("FAILED_SIGN_IN_LIMIT_PER_INSTANCE", "failed", "instance",
              "Too many sign-in links for this DeskDirector instance were refused by DeskDirector."))
LIMIT_KEYS = tuple(key for key, *_ in (*_INTAKE, *_FAILURES))


def make_limiter(app: Flask) -> tuple[Limiter, Callable[[], None]]:
    """A Flask-Limiter bound to `app`, counting in Redis when DDSITE_REDIS_URL is set; and how to
    release its connections."""
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        import redis

        pool = redis.ConnectionPool.from_url(redis_url)
        limiter = Limiter(get_remote_address, storage_uri=redis_url, key_prefix="ddsite",
                          strategy="moving-window", storage_options={"connection_pool": pool})
        release = pool.disconnect
    else:
        limiter = Limiter(get_remote_address, storage_uri="memory://", key_prefix="ddsite",
                          strategy="moving-window")
        release = _nothing
    limiter.init_app(app)
    return limiter, release


def _nothing() -> None:
    """Memory storage holds no connections."""


def check_intake(host: str) -> None:
    """Count one sign-in attempt; raise TooManyAttempts when this client or instance has had enough."""
    for key, counter, whose, message in _FAILURES:
        item, ids = _item(key), _identifiers(counter, whose, host)
        if not _limiter().limiter.test(item, *ids):
            raise _too_many(message, item, ids)
    for key, counter, whose, message in _INTAKE:
        item, ids = _item(key), _identifiers(counter, whose, host)
        if not _limiter().limiter.hit(item, *ids):
            raise _too_many(message, item, ids)


def count_failure(host: str) -> None:
    """DeskDirector refused a token at sign-in: count it against the client and the instance."""
    for key, counter, whose, _message in _FAILURES:
        _limiter().limiter.hit(_item(key), *_identifiers(counter, whose, host))


def _limiter() -> Limiter:
    return current_app.extensions["ddsite"].limiter


def _item(key: str) -> RateLimitItem:
    return parse(current_app.config[key])


def _identifiers(counter: str, whose: str, host: str) -> tuple[str, ...]:
    return (counter, whose, get_remote_address() if whose == "client" else host)


def _too_many(message: str, item: RateLimitItem, ids: tuple[str, ...]) -> TooManyAttempts:
    reset = _limiter().limiter.get_window_stats(item, *ids).reset_time
    wait = max(1, math.ceil(reset - time.time()))
    at = datetime.fromtimestamp(time.time() + wait, UTC).strftime("%H:%M:%S")
    seconds = "1 second" if wait == 1 else f"{wait} seconds"
    return TooManyAttempts(f"{message} Nothing was lost. Try again in {seconds} (after {at} UTC), "
                           "from the menu item in DeskDirector.", retry_after=wait)
