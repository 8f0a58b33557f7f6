"""Look-up lists (statuses, priorities, agents, request types) kept in the shared store.

TECH's lists are the same for every agent of an instance, so agents share them. A contact's lists
may depend on their contact group and permissions, so each contact's are kept for them alone:
nothing one user was shown is ever shown to another from here. A change made through ddsite
drops the lists it relied on, so the next page reads them again.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from cachelib import BaseCache

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
_PREFIX = "lookup:"


class LookupCache:
    """Decoded look-up replies per instance (and per user where not shared), for `ttl` seconds.

    Each list has a generation in the store; a change starts a new one, which drops every
    variant of the list at once (statuses of every queue, say).
    """

    def __init__(self, store: BaseCache, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ttl = ttl
        self._clock = clock

    def _owner(self, host: str, name: str, user: Any) -> str:
        owner = "" if LOOKUPS[name] == "shared" else f":{user}"
        return f"{host}:{name}{owner}"

    def get(self, host: str, name: str, user: Any, fetch: Callable[[], Any],
            **path_values: Any) -> Any:
        """The cached list, or `fetch()` on a miss or after `ttl` (errors are never kept)."""
        if self.ttl <= 0 or (LOOKUPS[name] != "shared" and user is None):
            return fetch()
        owner = self._owner(host, name, user)
        generation = self.store.get(f"{_PREFIX}generation:{owner}") or 0
        variant = ",".join(f"{k}={v}" for k, v in sorted(path_values.items()) if v is not None)
        key = f"{_PREFIX}{owner}:{generation}:{variant}"
        entry = self.store.get(key)
        now = self._clock()
        if isinstance(entry, tuple) and len(entry) == 2 and 0 <= now - entry[0] < self.ttl:
            return entry[1]
        data = fetch()
        self.store.set(key, (now, data), timeout=int(self.ttl) + 1)
        return data

    def invalidate(self, host: str, change: str, user: Any) -> None:
        """Forget the lists `change` relied on, for everyone who shares them."""
        for name in INVALIDATES.get(change, ()):
            # Outlives every entry of the old generation, so none of them can come back.
            self.store.set(f"{_PREFIX}generation:{self._owner(host, name, user)}",
                           secrets.token_hex(4), timeout=int(self.ttl) * 2 + 1)
