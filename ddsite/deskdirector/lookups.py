"""Look-up lists (statuses, priorities, agents, request types) kept in the shared store.

TECH's lists are the same for every agent of an instance, so agents share them. A contact's lists
may depend on their contact group and permissions, so each contact's are kept for them alone:
nothing one user was shown is ever shown to another from here. A change made through ddsite
drops the lists it relied on, so the next page reads them again.

Many pages at once must not all read the same list (a stampede, each read on a connection of its
own): in one process, the misses of one list wait for a single read; across processes and
machines, one request claims the refresh of a list in the last part of its life and reads it in
the background while every page, its own included, is served the list it has.

The same cache, as a second instance with its own lifetime, keeps each agent's queue counts (how
many tickets each list of the queue holds, for its tabs): per agent, never shared, dropped by the
agent's own changes.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from typing import Any

from cachelib import BaseCache

from .errors import DeskDirectorError

log = logging.getLogger(__name__)

# Endpoint names whose replies are look-up lists, and which audience shares them.
LOOKUPS = {
    "tech.statuses": "shared", "tech.priorities": "shared", "tech.agents": "shared",
    "portal.request_types": "per user", "portal.priorities": "per user",
}
# Changes, and the look-ups whose ids they sent (a refused id means the list has moved on).
INVALIDATES = {
    "tech.update_ticket": ("tech.statuses", "tech.priorities", "tech.agents"),
    "portal.create_ticket": ("portal.request_types", "portal.priorities"),
}
# Per agent: how many tickets a list of the TECH queue holds (status, assignment, search). Not an
# endpoint's reply: the TECH face counts with one-row reads of tech.tickets.
TICKET_COUNT = "tech.ticket_count"
QUEUE_COUNTS = {TICKET_COUNT: "per user"}
# Any change to a ticket may move it from one list to another (take, close, a new status).
QUEUE_COUNTS_INVALIDATED_BY = {"tech.update_ticket": (TICKET_COUNT,)}
_PREFIX = "lookup:"
# A list is refreshed in the background once it is into the last fifth of its life.
REFRESH_AHEAD = 0.2

# Takes a refresh claim: (name, seconds it holds) → True for the one caller that got it.
Claim = Callable[[str, int], bool]
# What `LookupCache.kept` answers when it holds no fresh copy.
NOT_KEPT = object()


class _NotRead(Exception):
    """A refresh that was not started or did not finish: whoever waited reads the list itself."""


class LookupCache:
    """Decoded look-up replies per instance (and per user where not shared), for `ttl` seconds.

    `kinds` names what it keeps ("shared" or "per user"), and `invalidates` which changes drop
    what: the look-up lists by default. Given a `claim` and a `background` pool, a kept reply
    is refreshed in the background in the last `refresh_ahead` part of its life; without them
    it is simply read again once it has expired.

    Each list has a generation in the store; a change starts a new one, which drops every
    variant of the list at once (statuses of every queue, say). A refresh that was already
    running writes into the old generation, where nobody reads any more.
    """

    def __init__(self, store: BaseCache, ttl: float, *, claim: Claim | None = None,
                 background: Callable[[], Executor] | None = None,
                 clock: Callable[[], float] | None = None,
                 kinds: Mapping[str, str] = LOOKUPS,
                 invalidates: Mapping[str, tuple[str, ...]] = INVALIDATES,
                 refresh_ahead: float = REFRESH_AHEAD) -> None:
        if (claim is None) != (background is None):
            raise ValueError("refreshing ahead needs both a claim and a background pool")
        self.store = store
        # Pages only read what is kept here, never change it (the faces parse the rows into new
        # models), so a store that can hand one decoded copy to every reader while its entry is
        # unchanged (the file store) does, instead of a fresh read per page; others read as usual.
        self._read_kept: Callable[[str], Any] = getattr(store, "get_shared", store.get)
        self.ttl = ttl
        self._kinds = kinds
        self._invalidates = invalidates
        refreshes = claim is not None and refresh_ahead > 0
        self._refresh_ahead_from = ttl * (1 - refresh_ahead) if refreshes else None
        self._claim = claim
        self._background = background
        # time.time looked up on each call, so a test's clock that moves time moves this one too.
        self._clock = clock or (lambda: time.time())
        # Reads of a list under way in this process (misses and refreshes), by store key.
        self._reads: dict[str, Future] = {}
        self._lock = threading.Lock()

    def _owner(self, host: str, name: str, user: Any) -> str:
        owner = "" if self._kinds[name] == "shared" else f":{user}"
        return f"{host}:{name}{owner}"

    def _keeps(self, name: str, user: Any) -> bool:
        """Whether `name` is kept at all (kept per user only when the user is known)."""
        return self.ttl > 0 and (self._kinds[name] == "shared" or user is not None)

    def _key(self, host: str, name: str, user: Any, path_values: Mapping[str, Any]) -> str:
        """Where the current generation of `name` for these path values is stored."""
        owner = self._owner(host, name, user)
        generation = self._read_kept(f"{_PREFIX}generation:{owner}") or 0
        # repr: a value with a comma or an equals sign (a search's text) cannot pass for two.
        variant = ",".join(f"{k}={v!r}" for k, v in sorted(path_values.items())
                           if v is not None) if path_values else ""
        return f"{_PREFIX}{owner}:{generation}:{variant}"

    def get(self, host: str, name: str, user: Any, fetch: Callable[[], Any],
            **path_values: Any) -> Any:
        """The cached list, or `fetch()` on a miss or after `ttl` (errors are never kept).

        Near the end of its life the cached list is still served while one request refreshes
        it in the background.
        """
        if not self._keeps(name, user):
            return fetch()
        key = self._key(host, name, user, path_values)
        data = self._kept_at(key, fetch)
        return self._read_once(key, fetch) if data is NOT_KEPT else data

    def kept(self, host: str, name: str, user: Any, fetch: Callable[[], Any],
             **path_values: Any) -> Any:
        """The cached list, as `get` serves it, or NOT_KEPT where `get` would have to read it;
        `fetch` is only used for a refresh in the background."""
        if not self._keeps(name, user):
            return NOT_KEPT
        return self._kept_at(self._key(host, name, user, path_values), fetch)

    def _kept_at(self, key: str, fetch: Callable[[], Any]) -> Any:
        entry = self._fresh(self._read_kept(key))
        if entry is None:
            return NOT_KEPT
        fetched_at, data = entry
        if self._refresh_ahead_from is not None and \
                self._clock() - fetched_at >= self._refresh_ahead_from:
            self._refresh_ahead(key, fetched_at, fetch)
        return data

    def read(self, host: str, name: str, user: Any, fetch: Callable[[], Any], *,
             kept: Callable[[Any], Any] = lambda data: data, **path_values: Any) -> Any:
        """`fetch()` now, whatever is cached, and keep `kept(its result)` for later `get`s: a
        page that must show it fresh, and reads it anyway, renews the copy at no cost: written
        when it changed, or once it is half through its life."""
        if not self._keeps(name, user):
            return fetch()
        # The key (and its generation) before the read: a change made meanwhile starts a new
        # generation, which this read, perhaps from before the change, cannot enter.
        key = self._key(host, name, user, path_values)
        fetched_at = self._clock()
        data = fetch()
        value = kept(data)
        held = self._fresh(self._read_kept(key))
        # A copy read after this one began is newer: this read, finishing later, is not. A copy
        # that already says the same with most of its life ahead is left as it is: a page read
        # on every view (the queue's own count) would otherwise write the store every time.
        if held is None or (held[0] <= fetched_at and (
                held[1] != value or fetched_at - held[0] >= self.ttl / 2)):
            self.store.set(key, (fetched_at, value), timeout=int(self.ttl) + 1)
        return data

    def _fresh(self, entry: Any) -> tuple[float, Any] | None:
        """A stored (fetched at, list) that is still within its time, else None."""
        if isinstance(entry, tuple) and len(entry) == 2 and 0 <= self._clock() - entry[0] < self.ttl:
            return entry
        return None

    def _read_once(self, key: str, fetch: Callable[[], Any]) -> Any:
        """Read a missing list; concurrent misses in this process wait for the read under way."""
        with self._lock:
            under_way = self._reads.get(key)
            if under_way is None:
                mine = self._reads[key] = Future()
                mine.set_running_or_notify_cancel()  # read now, on this thread
        if under_way is not None:
            if not (under_way.running() or under_way.done()):
                # A refresh still queued in the background pool, perhaps behind the fan-out of
                # this very page: waiting for it could be waiting for ever. Read it now.
                return fetch()
            try:
                return under_way.result()
            except (_NotRead, DeskDirectorError):
                # Refused for the user who read it (their token, their rights): not an answer
                # for this one, who asks with their own.
                return fetch()
        try:
            # A read that ended between this page's miss and now has kept the list already.
            entry = self._fresh(self._read_kept(key))
            data = entry[1] if entry else self._read_and_keep(key, fetch)
        except BaseException as error:
            self._finish(key, mine, error=error)
            raise
        self._finish(key, mine, data)
        return data

    def _refresh_ahead(self, key: str, fetched_at: float, fetch: Callable[[], Any]) -> None:
        """Start a background refresh of the list at `key`, unless one is under way anywhere."""
        with self._lock:
            if key in self._reads:
                return
            under_way = self._reads[key] = Future()
        try:
            # One claim per stored copy, across workers and machines; it holds until that copy
            # expires, so a refresh that failed is not retried by every page until then.
            if self._claim(f"lookup-refresh:{key}:{fetched_at!r}", int(self.ttl) + 1):
                self._background().submit(self._refresh, key, fetch, under_way)
                return
        except RuntimeError:  # the pool is shutting down with the app: the next page reads it
            pass
        except BaseException:  # the store failed to answer: nobody may wait on this read
            self._finish(key, under_way, error=_NotRead())
            raise
        self._finish(key, under_way, error=_NotRead())

    def _refresh(self, key: str, fetch: Callable[[], Any], under_way: Future) -> None:
        under_way.set_running_or_notify_cancel()  # from now on, a miss may wait for this read
        try:
            data = self._read_and_keep(key, fetch)
        except BaseException as error:  # DeskDirector's refusal, or the store's: nobody else hears
            self._finish(key, under_way, error=error)
            if not isinstance(error, Exception):
                raise
            # The pages were served the list they had; it is read again when it expires.
            log.warning("Refreshing a look-up list failed (%s); it is read again when it expires",
                        type(error).__name__)
            return
        self._finish(key, under_way, data)

    def _finish(self, key: str, under_way: Future, data: Any = None, *,
                error: BaseException | None = None) -> None:
        """The read at `key` is over: later misses read again; those waiting get its outcome."""
        with self._lock:
            del self._reads[key]
        if error is None:
            under_way.set_result(data)
        else:
            under_way.set_exception(error)

    def _read_and_keep(self, key: str, fetch: Callable[[], Any]) -> Any:
        fetched_at = self._clock()
        data = fetch()
        self.store.set(key, (fetched_at, data), timeout=int(self.ttl) + 1)
        return data

    def invalidate(self, host: str, change: str, user: Any) -> None:
        """Forget the lists `change` relied on, for everyone who shares them."""
        for name in self._invalidates.get(change, ()):
            # Outlives every entry of the old generation, so none of them can come back.
            self.store.set(f"{_PREFIX}generation:{self._owner(host, name, user)}",
                           secrets.token_hex(4), timeout=int(self.ttl) * 2 + 1)
