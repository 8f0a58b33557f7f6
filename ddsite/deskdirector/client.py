"""DeskDirector API client: pooled connections, timeouts, GET retries, typed errors, fan-out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.hooks import dispatch_hook

from .endpoints import Endpoint
from .errors import (
    DeskDirectorError,
    Forbidden,
    Invalid,
    NotFound,
    TokenRejected,
    Unavailable,
    UnknownShape,
)
from .faces import PortalFace, TechFace
from .lookups import LOOKUPS, LookupCache

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})
_HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": "ddsite"}
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "traceparent")


# Told of every finished call: (operation, seconds, error or None, HTTP status or None).
CallObserver = Callable[[str, float, "DeskDirectorError | None", "int | None"], None]


class Transport:
    """Per-process HTTP state: one keep-alive session per upstream host and a thread pool.

    Sized so that fan-out does not queue: every one of the server's `server_threads` may run a
    page whose widest fan-out is `max_parallel_calls` reads, one of them on its own thread.
    """

    def __init__(self, *, connect_timeout: float, read_timeout: float, get_retries: int,
                 retry_backoff: float, max_parallel_calls: int, server_threads: int = 8,
                 on_call: CallObserver | None = None) -> None:
        self.on_call = on_call
        self.timeout = (connect_timeout, read_timeout)
        self.get_retries = get_retries
        self.retry_backoff = retry_backoff
        self.max_parallel_calls = max_parallel_calls
        self.pool_size = server_threads * max_parallel_calls
        self.executor_size = max(1, server_threads * (max_parallel_calls - 1))
        self._sessions: dict[str, requests.Session] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def session_for(self, host: str) -> requests.Session:
        """The pooled session for one DeskDirector origin, created on first use."""
        session = self._sessions.get(host)
        if session is not None:
            return session
        with self._lock:
            session = self._sessions.get(host)
            if session is None:
                session = requests.Session()
                # No proxy variables, .netrc or CA bundle looked up per call: the host is an
                # allow-listed DeskDirector instance, and each look-up cost CPU on every call.
                session.trust_env = False
                # Retries are ours (GET only); the adapter just pools connections, one per
                # call that can be in flight at once, so none is opened and thrown away.
                adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.pool_size, max_retries=0)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._sessions[host] = session
            return session

    def executor(self) -> ThreadPoolExecutor:
        """The process's pool for concurrent reads, created on first use."""
        executor = self._executor
        if executor is not None:  # every fan-out asks: no lock once the pool exists
            return executor
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.executor_size,
                                                    thread_name_prefix="deskdirector")
            return self._executor

    def run_parallel(self, calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
        """Run independent calls concurrently; return their results by name, or raise the first error.

        The first call runs on the caller's own thread: it would only wait otherwise.
        """
        if len(calls) < 2:
            return {name: call() for name, call in calls.items()}
        (first_name, first_call), *others = calls.items()
        executor = self.executor()
        futures = {name: executor.submit(call) for name, call in others}
        results = {first_name: first_call()}
        results.update((name, future.result()) for name, future in futures.items())
        return {name: results[name] for name in calls}

    def close(self) -> None:
        """Close pooled connections and the thread pool."""
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()
            if self._executor is not None:
                self._executor.shutdown(wait=False)
                self._executor = None


class Client:
    """DeskDirector's API as one user (their access token) on one instance.

    Pages use its faces, `client.portal` and `client.tech`, which speak models; `call()` is the
    raw way out that the faces share.
    """

    def __init__(self, transport: Transport, endpoints: Mapping[str, Endpoint], host: str,
                 token: str, *, lookups: LookupCache | None = None,
                 counts: LookupCache | None = None, user: Any = None) -> None:
        self._transport = transport
        self._endpoints = endpoints
        self.host = host
        self._token = token
        self._lookups = lookups
        self._counts = counts
        self._user = user  # whose per-user look-ups and counts these are
        self.portal = PortalFace(self)
        self.tech = TechFace(self)

    def __repr__(self) -> str:  # never show the token
        return f"<Client {self.host}>"

    # ---- the one way out -------------------------------------------------------------------
    def endpoint(self, name: str) -> Endpoint:
        """The table's entry for operation `name` (what the instance understands)."""
        return self._endpoints[name]

    def call(self, name: str, *, params: Mapping[str, Any] | None = None,
             json: Any = None, **path_values: Any) -> Any:
        """Call endpoint `name` and return the decoded JSON (None for an empty body).

        `path_values` fill the path's placeholders; optional ones the path does not name are
        left out. Look-up lists come from the look-up cache when there is one; a change drops
        the lists it relied on, and the user's counts it may have moved, whatever its outcome.
        """
        if self._lookups is not None and name in LOOKUPS and not params:
            return self._lookups.get(self.host, name, self._user,
                                     lambda: self._observed(name, params, json, path_values),
                                     **path_values)
        try:
            return self._observed(name, params, json, path_values)
        finally:
            for cache in (self._lookups, self._counts):
                if cache is not None:
                    cache.invalidate(self.host, name, self._user)

    def count(self, name: str, fetch: Callable[[], int], **variant: Any) -> int:
        """`fetch()`, a count: this user's copy from the count cache while it holds one."""
        if self._counts is None:
            return fetch()
        return self._counts.get(self.host, name, self._user, fetch, **variant)

    def read_counted(self, name: str, fetch: Callable[[], Any], count: Callable[[Any], int],
                     **variant: Any) -> Any:
        """`fetch()` now; `count(its result)` renews this user's copy in the count cache."""
        if self._counts is None:
            return fetch()
        return self._counts.read(self.host, name, self._user, fetch, kept=count, **variant)

    def _observed(self, name: str, params: Mapping[str, Any] | None, json: Any,
                  path_values: Mapping[str, Any]) -> Any:
        started = time.monotonic()
        try:
            result, status = self._call(name, params, json, path_values)
        except DeskDirectorError as error:
            self._observe(name, started, error, None)
            raise
        self._observe(name, started, None, status)
        return result

    def _observe(self, name: str, started: float, error: DeskDirectorError | None,
                 status: int | None) -> None:
        if self._transport.on_call is not None:
            self._transport.on_call(name, time.monotonic() - started, error, status)

    def _call(self, name: str, params, json, path_values) -> tuple[Any, int]:
        endpoint = self._endpoints[name]
        url = self.host + endpoint.url_path(**path_values)
        attempts = 1 + (self._transport.get_retries if endpoint.method == "GET" else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self._send(endpoint.method, url, params, json)
            except Unavailable as exc:
                if attempt == attempts or not exc.retryable:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    return self._result(name, response), response.status_code
            time.sleep(self._transport.retry_backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _send(self, method: str, url: str, params, body) -> requests.Response:
        # Straight to the pooled adapter: the session's cookie jar, hooks and redirect handling
        # cost CPU on every call, and a cookie DeskDirector set for one user must never ride
        # along on another user's call.
        session = self._transport.session_for(self.host)
        adapter = session.get_adapter(url)
        headers = {**_HEADERS, "Authorization": f"DdAccessToken {self._token}"}
        started = time.monotonic()
        path = url[len(self.host):]
        try:
            response = adapter.send(_prepared(method, url, params, body, headers),
                                    timeout=self._transport.timeout)
        except requests.Timeout as exc:
            log.warning("DeskDirector %s %s timed out", method, path)
            error = Unavailable("DeskDirector did not answer in time.", timed_out=True)
            # A connect timeout never reached DeskDirector; a read timeout is not retried
            # because it would multiply the wait the user already had.
            error.retryable = isinstance(exc, requests.ConnectTimeout)
            raise error from None
        except requests.RequestException as exc:
            log.warning("DeskDirector %s %s failed: %s", method, path, type(exc).__name__)
            raise Unavailable("DeskDirector could not be reached.", retryable=True) from None
        response.elapsed = timedelta(seconds=time.monotonic() - started)
        if session.hooks["response"]:  # what session.send would have done (the probe listens)
            response = dispatch_hook("response", session.hooks, response)
        if log.isEnabledFor(logging.INFO):
            log.info("DeskDirector %s %s -> %s in %.0f ms (request id %s)", method, path,
                     response.status_code, response.elapsed.total_seconds() * 1000,
                     _request_id(response) or "-")
        return response

    def _result(self, name: str, response: requests.Response) -> Any:
        if response.status_code < 400:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                # Often an HTML page: the path is the instance's web app, not its API.
                raise UnknownShape(name, "the reply was not JSON",
                                   upstream_status=response.status_code,
                                   request_id=_request_id(response)) from None
        raise _error_for(response)

    # ---- the faces -------------------------------------------------------------------------
    def face(self, audience: str) -> PortalFace | TechFace:
        """The face for an audience named by the session ("portal" or "tech")."""
        faces = {"portal": self.portal, "tech": self.tech}
        if audience not in faces:
            raise ValueError(f"no DeskDirector face for {audience!r}")
        return faces[audience]

    def parallel(self, **calls: Callable[[], Any]) -> dict[str, Any]:
        """Run independent reads concurrently: client.parallel(a=lambda: …, b=lambda: …)."""
        return self._transport.run_parallel(calls)


def _prepared(method: str, url: str, params, body, headers: dict) -> requests.PreparedRequest:
    """The request as the adapter sends it; no cookies, auth hooks or environment merged in."""
    prepared = requests.PreparedRequest()
    prepared.prepare_method(method)
    prepared.prepare_url(url, params)
    prepared.prepare_headers(headers)
    prepared.prepare_body(data=None, files=None, json=body)
    return prepared


def _request_id(response: requests.Response) -> str | None:
    for header in _REQUEST_ID_HEADERS:
        if header in response.headers:
            return response.headers[header]
    return None


def _error_for(response: requests.Response) -> DeskDirectorError:
    """Map an error reply to a typed error, keeping DeskDirector's own message and field errors."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    message = next((body[k] for k in ("message", "errorMessage", "title", "detail")
                    if isinstance(body.get(k), str) and body[k]), "")
    kwargs = {"upstream_status": status, "request_id": _request_id(response)}
    if status == 401:
        return TokenRejected(message or "DeskDirector no longer accepts this session.", **kwargs)
    if status == 403:
        return Forbidden(message or "DeskDirector does not allow this for your account.", **kwargs)
    if status == 404:
        return NotFound(message or "DeskDirector has no such item.", **kwargs)
    if status in (400, 409, 422):
        return Invalid(message or "DeskDirector did not accept the input.",
                       field_errors=_field_errors(body), **kwargs)
    if status >= 500:
        return Unavailable(f"DeskDirector answered with an error (HTTP {status}).", **kwargs)
    return DeskDirectorError(f"DeskDirector answered HTTP {status}.", **kwargs)


def _field_errors(body: dict) -> dict[str, list[str]]:
    raw = body.get("errors") or body.get("fieldErrors") or {}
    errors: dict[str, list[str]] = {}
    if isinstance(raw, dict):
        for field, messages in raw.items():
            messages = messages if isinstance(messages, list) else [messages]
            key = str(field)[:1].lower() + str(field)[1:]
            errors[key] = [str(m) for m in messages if m]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and item.get("field"):
                key = str(item["field"])[:1].lower() + str(item["field"])[1:]
                errors.setdefault(key, []).append(str(item.get("message", "is not valid")))
    return errors
