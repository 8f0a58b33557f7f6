"""The instance's public signing keys, from its key endpoint: cached, chosen by `kid`, refetched.

DeskDirector serves every current public key (current, pending and retired ones kept for months)
as PEM in JSON with a cache header, and rotates them. The reply's exact shape is not public, so
the parser accepts the likely ones: a list or `{keys|results|publicKeys: [...]}` of objects with
a key id and a PEM, an object of kid → PEM, or plain PEM text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from werkzeug.http import parse_cache_control_header, parse_date

from .endpoints import Endpoint

log = logging.getLogger(__name__)

# Without a cache header the list is kept this long, and a missing endpoint is asked again after it.
DEFAULT_MAX_AGE = 3600
# An unknown kid sends ddsite back to the endpoint at most this often, so forged tokens cannot
# turn into a stream of requests.
REFETCH_INTERVAL = 60
_ID_FIELDS = ("kid", "keyId", "id")
_PEM_FIELDS = ("publicKey", "pem", "key", "value", "publicKeyPem")
_PEM_END = "-----END PUBLIC KEY-----"


class UnknownKey(Exception):
    """The instance lists its keys and none of them is the one the token names."""


@dataclass(frozen=True)
class KeyList:
    """Public keys by kid ("" for keys served without one)."""

    keys: dict[str, Any]

    def pick(self, kid: str | None) -> list:
        """The key named by `kid`; every key when the token names none."""
        if kid:
            return [self.keys[kid]] if kid in self.keys else []
        return list(self.keys.values())


class InstanceKeys:
    """One instance's keys: fetched on first use, kept as long as the cache header allows."""

    def __init__(self, fetch: Callable[[], requests.Response], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeyList | None = None
        self._fresh_until = 0.0
        self._last_refetch: float | None = None
        self._endpoint_missing = False

    def keys_for(self, kid: str | None) -> list:
        """Keys that may have signed a token naming `kid`; [] means prove it with who-am-I instead.

        Raises UnknownKey when the instance serves keys and, even after one refetch, none is `kid`.
        """
        with self._lock:
            now = self._clock()
            if now >= self._fresh_until:
                self._refresh(now)
            if self._keys is None:
                return []  # no usable key endpoint: who-am-I proves the token
            found = self._keys.pick(kid)
            if not found and self._may_refetch(now):
                # A kid we have not seen: the instance may have rotated since we fetched.
                self._last_refetch = now
                self._refresh(now)
                found = self._keys.pick(kid) if self._keys else []
            if not found:
                raise UnknownKey(kid or "")
            return found

    def _may_refetch(self, now: float) -> bool:
        return self._last_refetch is None or now - self._last_refetch >= REFETCH_INTERVAL

    def _refresh(self, now: float) -> None:
        try:
            response = self._fetch()
        except requests.RequestException as exc:
            log.warning("Signing keys: the key endpoint could not be reached (%s)",
                        type(exc).__name__)
            self._fresh_until = now + REFETCH_INTERVAL  # keep what we have, ask again soon
            return
        if response.status_code >= 400:
            if response.status_code in (404, 405, 410) and not self._endpoint_missing:
                log.warning("Signing keys: the key endpoint answered HTTP %s; tokens are proven "
                            "by the who-am-I call only (correct `public_keys` in "
                            "DDSITE_ENDPOINTS_FILE)", response.status_code)
            self._endpoint_missing = response.status_code in (404, 405, 410)
            self._fresh_until = now + (DEFAULT_MAX_AGE if self._endpoint_missing
                                       else REFETCH_INTERVAL)
            if self._endpoint_missing:
                self._keys = None
            return
        keys = parse_key_list(response)
        if not keys.keys:
            log.warning("Signing keys: the key endpoint's reply holds no public key ddsite can "
                        "read; tokens are proven by the who-am-I call only")
            self._keys = None
        else:
            self._keys = keys
        self._endpoint_missing = False
        self._fresh_until = now + cache_lifetime(response)


def parse_key_list(response: requests.Response) -> KeyList:
    """Every PEM public key in the reply, by kid."""
    try:
        data: Any = response.json()
    except ValueError:
        data = response.text
    return parse_keys(data)


def parse_keys(data: Any) -> KeyList:
    """Every PEM public key in a decoded reply (JSON value or PEM text), by kid."""
    keys: dict[str, Any] = {}
    for kid, pem in _pem_entries(data):
        try:
            keys[kid] = load_pem_public_key(pem.strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError, TypeError):
            log.warning("Signing keys: skipped a key that is not a PEM public key (kid %r)", kid)
    return KeyList(keys)


def _pem_entries(data: Any) -> list[tuple[str, str]]:
    if isinstance(data, str):
        blocks = [block + _PEM_END for block in data.split(_PEM_END) if "-----BEGIN" in block]
        return [(str(index) if index else "", block) for index, block in enumerate(blocks)]
    if isinstance(data, dict):
        rows = next((data[k] for k in ("keys", "results", "publicKeys") if k in data), None)
        if rows is None:  # {kid: pem, ...}
            return [(str(k), v) for k, v in data.items() if isinstance(v, str) and "BEGIN" in v]
        data = rows
    entries = []
    for row in data if isinstance(data, list) else []:
        if isinstance(row, str):
            entries.extend(_pem_entries(row))
        elif isinstance(row, dict):
            kid = next((str(row[f]) for f in _ID_FIELDS if row.get(f) is not None), "")
            pem = next((row[f] for f in _PEM_FIELDS
                        if isinstance(row.get(f), str) and "-----BEGIN" in row[f]), None)
            if pem:
                entries.append((kid, pem))
    return entries


def cache_lifetime(response: requests.Response) -> float:
    """Seconds the reply may be kept: Cache-Control max-age, else Expires, else the default."""
    control = parse_cache_control_header(response.headers.get("Cache-Control"))
    if control.no_store or control.no_cache:
        return 0.0
    if control.max_age is not None:
        return float(control.max_age)
    expires = parse_date(response.headers.get("Expires"))
    date = parse_date(response.headers.get("Date"))
    if expires is not None:
        return max(0.0, (expires - (date or datetime.now(UTC))).total_seconds())
    return float(DEFAULT_MAX_AGE)


def key_fetcher(session: requests.Session, host: str, endpoint: Endpoint,
                timeout: tuple[float, float]) -> Callable[[], requests.Response]:
    """A call of the key endpoint (no token: the keys are public)."""
    url = host + endpoint.url_path()
    return lambda: session.request(endpoint.method, url, timeout=timeout,
                                   headers={"Accept": "application/json"})
