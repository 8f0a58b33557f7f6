"""Per-app state kept in `app.extensions["ddsite"]`: store, HTTP transport, endpoints, keys."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from cachelib import BaseCache
from flask import Flask, current_app
from flask_wtf import CSRFProtect
from limits.strategies import RateLimiter

from .deskdirector.client import Client, Transport
from .deskdirector.endpoints import Endpoint
from .deskdirector.lookups import QUEUE_COUNTS, QUEUE_COUNTS_INVALIDATED_BY, LookupCache
from .deskdirector.signing_keys import InstanceKeys, key_fetcher
from .sessions import Sweeper, claim_once, claims_folder

if TYPE_CHECKING:
    from .metrics import Metrics


class State:
    """What one ddsite app shares across requests."""

    def __init__(self, app: Flask, *, store: BaseCache, close_store: Callable[[], None],
                 endpoints: Mapping[str, Endpoint], csrf: CSRFProtect, limiter: RateLimiter,
                 close_limiter: Callable[[], None], metrics: Metrics,
                 sweeper: Sweeper | None) -> None:
        config = app.config
        self.store = store
        self.limiter = limiter
        self._close_limiter = close_limiter
        self.metrics = metrics
        # None with Redis, which expires keys by itself.
        self.sweeper = sweeper
        self._close_store = close_store
        self.endpoints = endpoints
        self.csrf = csrf
        self.transport = Transport(
            connect_timeout=config["CONNECT_TIMEOUT"], read_timeout=config["READ_TIMEOUT"],
            get_retries=config["GET_RETRIES"], retry_backoff=config["RETRY_BACKOFF"],
            max_parallel_calls=config["MAX_PARALLEL_CALLS"], server_threads=config["SERVER_THREADS"],
            on_call=metrics.deskdirector_call)
        claims = claims_folder(app)

        def claim(name: str, seconds: int) -> bool:
            return claim_once(store, claims, name, seconds)

        self.lookups = LookupCache(store, ttl=config["LOOKUP_TTL"],
                                   background=self.transport.executor, claim=claim)
        # Each agent's queue counts: the same cache, a shorter life, dropped by their changes.
        # Never refreshed in the background (no claim, no pool): a miss costs no wait (its
        # reads run beside the page's own), and reads with an agent's token stay within their
        # requests.
        self.queue_counts = LookupCache(
            store, ttl=config["QUEUE_COUNTS_TTL"], kinds=QUEUE_COUNTS,
            invalidates=QUEUE_COUNTS_INVALIDATED_BY)
        self._jwt_keys_path = config["JWT_PUBLIC_KEYS"]
        self._jwt_keys: list | None = None
        self._auto_keys = config["JWT_KEYS"] == "auto"
        self._instance_keys: dict[str, InstanceKeys] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release pooled connections: DeskDirector's and, with Redis, the store's and the limiter's."""
        self.transport.close()
        self._close_store()
        self._close_limiter()

    def client(self, host: str, token: str, user: object = None) -> Client:
        """A client for one user on one (already validated) instance; `user` keys their own
        look-up lists and queue counts (None: nothing per user is cached)."""
        return Client(self.transport, self.endpoints, host, token, lookups=self.lookups,
                      counts=self.queue_counts, user=user)

    def jwt_keys(self, host: str, kid: str | None) -> list:
        """Keys that may have signed a token from `host` naming `kid`; [] when none are configured
        or the instance serves none (who-am-I then proves the token alone).

        With DDSITE_JWT_KEYS=auto they come from the instance (raises UnknownKey when it lists
        keys and none is `kid`); otherwise from DDSITE_JWT_PUBLIC_KEYS, read once.
        """
        if self._auto_keys:
            return self.instance_keys(host).keys_for(kid)
        if not self._jwt_keys_path:
            return []
        with self._lock:
            if self._jwt_keys is None:
                self._jwt_keys = load_public_keys(self._jwt_keys_path)
            return self._jwt_keys

    def instance_keys(self, host: str) -> InstanceKeys:
        """The key cache of one (already validated) instance."""
        with self._lock:
            keys = self._instance_keys.get(host)
            if keys is None:
                fetch = key_fetcher(self.transport.session_for(host), host,
                                    self.endpoints["public_keys"], self.transport.timeout)
                keys = self._instance_keys[host] = InstanceKeys(fetch)
            return keys


def load_public_keys(path: str) -> list:
    """Every PEM public key in the file (DeskDirector rotates keys, so there may be several)."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    with open(path, "rb") as handle:
        text = handle.read()
    marker = b"-----END PUBLIC KEY-----"
    blocks = [block + marker for block in text.split(marker) if b"-----BEGIN" in block]
    return [load_pem_public_key(block.strip()) for block in blocks]


def state() -> State:
    """The current app's ddsite state."""
    return current_app.extensions["ddsite"]
