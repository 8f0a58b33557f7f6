"""Flood control: sign-in attempts and failed sign-in checks, per client address and per instance.

Every intake costs DeskDirector a who-am-I call, so a spray of tokens at ddsite would otherwise be
passed straight on. Counters live where sessions do (Redis when configured), so every worker and
machine counts together.

The counting is the `limits` library's moving window, called only where a sign-in is attempted or
refused. Flask-Limiter (its Flask face) was dropped: it checks every request for route limits,
which ddsite has none of, at a tenth of a millisecond each.
"""

from __future__ import annotations

import bisect
import functools
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.storage.memory import Entry
from limits.strategies import MovingWindowRateLimiter, RateLimiter


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


def make_limiter(app: Flask) -> tuple[RateLimiter, Callable[[], None]]:
    """A moving-window rate limiter counting in Redis when DDSITE_REDIS_URL is set, else in this
    process's memory; and how to release its connections. It adds nothing to other requests."""
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        import redis

        pool = redis.ConnectionPool.from_url(redis_url)
        storage = storage_from_string(redis_url, connection_pool=pool)
        release = pool.disconnect
    else:
        storage = InlineExpiryMemoryStorage()
        release = _nothing
    return MovingWindowRateLimiter(storage), release


class InlineExpiryMemoryStorage(MemoryStorage):
    """`limits`' memory storage whose moving windows drop their expired entries as they are used.

    The stock storage starts a timer thread on every hit to expire entries 10 ms later: on a
    sign-in that is a third of a millisecond of CPU, and a wait for a new thread to be scheduled,
    in front of the user. Here each hit trims its own window, and every `sweep_every` seconds a
    hit also drops the windows of clients that stopped coming, so memory stays bounded as before.
    Counting is unchanged: the checks below are the stock `acquire_entry`'s.
    """

    def __init__(self, sweep_every: float = 60.0) -> None:
        super().__init__()  # starts the stock timer once; it ends 10 ms later and is not restarted
        self._sweep_every = sweep_every
        self._next_sweep = time.time() + sweep_every
        # One lock for every window, not the stock lock per key: a sweep that dropped a key's
        # lock while a sign-in waited on it would let that sign-in and the next one, holding a
        # new lock, both write the window (a hit lost). Sign-ins are too rare to contend.
        self._windows = threading.Lock()

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Take `amount` entries in `key`'s window of `expiry` seconds, if `limit` allows."""
        if amount > limit:
            return False
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self._sweep_every
            self.sweep(now)
        with self._windows:
            events = self._unexpired(key, now)
            entry = events[limit - amount] if len(events) > limit - amount else None
            if entry and entry.atime >= now - expiry:
                return False
            events[:0] = [Entry(expiry)] * amount
            self.events[key] = events
            return True

    def sweep(self, now: float) -> None:
        """Forget every window whose entries have all expired."""
        with self._windows:
            for key in list(self.events):
                if not self._unexpired(key, now):
                    del self.events[key]

    def _unexpired(self, key: str, now: float) -> list[Entry]:
        # Newest first, so expiry times only fall along the list: cut at the first one past.
        events = self.events.get(key, [])
        cut = bisect.bisect_left(events, -now, key=lambda event: -event.expiry)
        if cut < len(events):
            events = self.events[key] = events[:cut]
        return events


def _nothing() -> None:
    """Memory storage holds no connections."""


def check_intake(host: str) -> None:
    """Count one sign-in attempt; raise TooManyAttempts when this client or instance has had enough."""
    for key, counter, whose, message in _FAILURES:
        item, ids = _item(key), _identifiers(counter, whose, host)
        if not _limiter().test(item, *ids):
            raise _too_many(message, item, ids)
    for key, counter, whose, message in _INTAKE:
        item, ids = _item(key), _identifiers(counter, whose, host)
        if not _limiter().hit(item, *ids):
            raise _too_many(message, item, ids)


def count_failure(host: str) -> None:
    """DeskDirector refused a token at sign-in: count it against the client and the instance."""
    for key, counter, whose, _message in _FAILURES:
        _limiter().hit(_item(key), *_identifiers(counter, whose, host))


def _limiter() -> RateLimiter:
    return current_app.extensions["ddsite"].limiter


def _item(key: str) -> RateLimitItem:
    return _parsed(current_app.config[key])


# Four limits are read on every sign-in; their settings change only with a new app.
_parsed = functools.lru_cache(maxsize=64)(parse)


def _identifiers(counter: str, whose: str, host: str) -> tuple[str, ...]:
    return (counter, whose, (request.remote_addr or "127.0.0.1") if whose == "client" else host)


def _too_many(message: str, item: RateLimitItem, ids: tuple[str, ...]) -> TooManyAttempts:
    reset = _limiter().get_window_stats(item, *ids).reset_time
    wait = max(1, math.ceil(reset - time.time()))
    at = datetime.fromtimestamp(time.time() + wait, UTC).strftime("%H:%M:%S")
    seconds = "1 second" if wait == 1 else f"{wait} seconds"
    return TooManyAttempts(f"{message} Nothing was lost. Try again in {seconds} (after {at} UTC), "
                           "from the menu item in DeskDirector.", retry_after=wait)
