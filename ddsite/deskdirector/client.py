"""DeskDirector API client: pooled connections, timeouts, GET retries, typed errors, fan-out."""

from __future__ import annotations

import contextlib
import functools
import json as jsonlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import ContentDecodingError, InvalidHeader, InvalidJSONError
from requests.hooks import dispatch_hook
from requests.utils import check_header_validity, get_encoding_from_headers, requote_uri
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, EmptyPoolError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as TLSError

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
from .lookups import LOOKUPS, NOT_KEPT, LookupCache

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})
_HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": "ddsite"}
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "traceparent")


# Set on a thread while `Client.parallel` answers, on it, the reads its caches hold.
_CACHES_ONLY = threading.local()


def _caches_only() -> bool:
    """Whether this thread is answering from the caches alone (see `Client.parallel`)."""
    return getattr(_CACHES_ONLY, "on", False)


class _NotKept(BaseException):
    """A read the caches cannot answer: it has to go to DeskDirector.

    A BaseException, like KeyboardInterrupt: a call handed to `Client.parallel` that catches
    `Exception` (to fall back on something) must not take it for a failed read and answer with
    its fallback, when the read was only put off until the fan-out."""


# Told of every finished call: (operation, seconds, error or None, HTTP status or None).
CallObserver = Callable[[str, float, "DeskDirectorError | None", "int | None"], None]


class _Prepared(requests.PreparedRequest):
    """A request built straight from parts ddsite already holds in their final form.

    `origin` and `path_url` are known when it is built, so the adapter need not parse the URL
    again to find its connection pool and the request line.
    """

    path_url: str = ""  # a plain attribute here (a property computed from `url` in requests)
    origin: str = ""


class _PoolWaitTimeout(requests.Timeout):
    """Every connection to the origin stayed busy for the pool's wait: a timeout, not a
    connect timeout (another try would only wait as long again)."""


class _WaitingPool:
    """A connection pool whose wait for a free connection is bounded by default (urllib3 waits
    for ever unless each call says otherwise, and requests never does)."""

    def __init__(self, *args: Any, pool_wait: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool_wait = pool_wait

    def _get_conn(self, timeout: float | None = None):
        return super()._get_conn(self.pool_wait if timeout is None else timeout)


class _WaitingHTTPPool(_WaitingPool, HTTPConnectionPool):
    pass


class _WaitingHTTPSPool(_WaitingPool, HTTPSConnectionPool):
    pass


class _DeskDirectorAdapter(HTTPAdapter):
    """requests' adapter minus per-call work that a call to one DeskDirector origin never needs.

    Calls still go through `HTTPAdapter.send` (the tests' `responses` mock patches it there);
    only the steps `send` delegates are overridden.
    """

    def __init__(self, pool_maxsize: int, pool_wait: float) -> None:
        # Retries are ours (GET only); the adapter just pools connections. At most
        # `pool_maxsize` are ever open to the origin: a call that finds them all busy waits up
        # to `pool_wait` seconds for one to come back rather than opening another.
        self._pool_wait = pool_wait
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0,
                         pool_block=True)
        self._pools: dict[str, Any] = {}

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs) -> None:
        """requests' pool manager, making pools whose wait for a connection is bounded."""
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": functools.partial(_WaitingHTTPPool, pool_wait=self._pool_wait),
            "https": functools.partial(_WaitingHTTPSPool, pool_wait=self._pool_wait)}

    def send(self, request, *args, **kwargs) -> requests.Response:
        """HTTPAdapter.send, with a wait for a free connection that ran out as a requests
        timeout (requests lets urllib3's own error through, which its callers do not expect)."""
        try:
            return super().send(request, *args, **kwargs)
        except EmptyPoolError as exc:
            raise _PoolWaitTimeout(exc, request=request) from None

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        """The origin's pool, looked up (and its certificate settings made) once, not per call."""
        origin = getattr(request, "origin", "")
        if not origin or verify is not True or cert is not None or proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        pool = self._pools.get(origin)
        if pool is None or pool.pool is None:  # first call, or the pool was closed
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            super().cert_verify(pool, request.url, verify, cert)
            self._pools = {origin: pool}
        return pool

    def cert_verify(self, conn, url, verify, cert) -> None:
        """Done once per pool above: it looks the CA bundle up on disk each time."""
        if conn not in self._pools.values():
            super().cert_verify(conn, url, verify, cert)

    def request_url(self, request, proxies) -> str:
        """The request line's target, known when the request was built (no proxy is ever used)."""
        if isinstance(request, _Prepared) and not proxies:
            return request.path_url
        return super().request_url(request, proxies)

    def build_response(self, req, resp) -> requests.Response:
        """HTTPAdapter.build_response without the cookie jar or a copy of the headers, and with
        the whole body read.

        ddsite sends DeskDirector no cookies, so none it sets is kept (one user's must never
        ride along on another's call); urllib3's headers are already case-insensitive. The body
        is read here in one go, not in chunks through `Response.content`, so that a reply cut
        short or too slow fails inside the call, as a requests error the client turns into
        `Unavailable`.
        """
        response = requests.Response()
        response.status_code = resp.status
        response.headers = resp.headers
        response.encoding = get_encoding_from_headers(resp.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url
        response.request = req
        response.connection = self
        try:
            response._content = resp.read(decode_content=True) or b""
        except ReadTimeoutError as exc:
            raise requests.ReadTimeout(exc, request=req) from None
        except ProtocolError as exc:
            raise requests.ConnectionError(exc, request=req) from None
        except DecodeError as exc:
            raise ContentDecodingError(exc, request=req) from None
        except TLSError as exc:
            raise requests.exceptions.SSLError(exc, request=req) from None
        response._content_consumed = True
        return response


class Transport:
    """Per-process HTTP state: one keep-alive session per upstream host and a thread pool.

    Connections to an origin are capped at the server's `server_threads` (with look-ups
    cached, a page makes one call at a time), so their number is bounded by construction:
    workers x threads. A wider fan-out (a cold look-up cache, the queue's
    counts) runs its reads on the thread pool, sized so that they never wait for a thread, and
    they share those connections: a read that finds every connection busy waits for one, up to
    `pool_wait` seconds (default: one call's connect and read timeouts, the longest a call
    keeps its connection), then fails as `Unavailable`. No thread ever holds a connection while
    it waits, for a connection or for other reads (a reply is read whole before a call
    returns, and a page waits for its fan-out only after its own read), so this cannot
    deadlock.
    """

    def __init__(self, *, connect_timeout: float, read_timeout: float, get_retries: int,
                 retry_backoff: float, max_parallel_calls: int, server_threads: int = 8,
                 pool_wait: float | None = None, on_call: CallObserver | None = None) -> None:
        self.on_call = on_call
        self.timeout = (connect_timeout, read_timeout)
        self.get_retries = get_retries
        self.retry_backoff = retry_backoff
        self.max_parallel_calls = max_parallel_calls
        self.pool_size = server_threads
        self.pool_wait = connect_timeout + read_timeout if pool_wait is None else pool_wait
        self.executor_size = max(1, server_threads * (max_parallel_calls - 1))
        self._sessions: dict[str, requests.Session] = {}
        self._adapters: dict[str, _DeskDirectorAdapter] = {}
        self._origins: dict[str, str] = {}
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
                adapter = _DeskDirectorAdapter(self.pool_size, self.pool_wait)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._adapters[host] = adapter
                self._sessions[host] = session
            return session

    def origin_of(self, host: str) -> str:
        """`host` as requests writes it in a URL (an international name in its ASCII form),
        worked out once per host rather than on every call."""
        origin = self._origins.get(host)
        if origin is None:
            prepared = requests.PreparedRequest()
            prepared.prepare_url(host, None)
            origin = self._origins[host] = prepared.url.rstrip("/")
        return origin

    def adapter_for(self, host: str) -> _DeskDirectorAdapter:
        """The connection-pooling adapter of `host`'s session."""
        adapter = self._adapters.get(host)
        if adapter is None:
            self.session_for(host)
            adapter = self._adapters[host]
        return adapter

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
            self._adapters.clear()
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
        self._shared_headers: dict[str, str] | None = None
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
        caches_only = _caches_only()
        if self._lookups is not None and name in LOOKUPS and not params:
            def fetch() -> Any:
                return self._observed(name, params, json, path_values)

            if caches_only:
                return _kept(self._lookups.kept(self.host, name, self._user, fetch,
                                                **path_values))
            return self._lookups.get(self.host, name, self._user, fetch, **path_values)
        if caches_only:
            raise _NotKept
        try:
            return self._observed(name, params, json, path_values)
        finally:
            for cache in (self._lookups, self._counts):
                if cache is not None:
                    cache.invalidate(self.host, name, self._user)

    def count(self, name: str, fetch: Callable[[], int], **variant: Any) -> int:
        """`fetch()`, a count: this user's copy from the count cache while it holds one."""
        if self._counts is None:
            if _caches_only():
                raise _NotKept
            return fetch()
        if _caches_only():
            return _kept(self._counts.kept(self.host, name, self._user, fetch, **variant))
        return self._counts.get(self.host, name, self._user, fetch, **variant)

    def read_counted(self, name: str, fetch: Callable[[], Any], count: Callable[[Any], int],
                     **variant: Any) -> Any:
        """`fetch()` now; `count(its result)` renews this user's copy in the count cache."""
        if _caches_only():
            raise _NotKept
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
        path = endpoint.url_path(**path_values)
        attempts = 1 + (self._transport.get_retries if endpoint.method == "GET" else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self._send(endpoint.method, path, params, json)
            except Unavailable as exc:
                if attempt == attempts or not exc.retryable:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    return self._result(name, response), response.status_code
            time.sleep(self._transport.retry_backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, params, body) -> requests.Response:
        # Straight to the pooled adapter: the session's cookie jar, hooks and redirect handling
        # cost CPU on every call, and a cookie DeskDirector set for one user must never ride
        # along on another user's call.
        started = time.monotonic()
        try:
            adapter = self._transport.adapter_for(self.host)
            response = adapter.send(self._prepared(method, _with_params(path, params), body),
                                    timeout=self._transport.timeout)
        except requests.Timeout as exc:
            log.warning("DeskDirector %s %s timed out", method, path)
            error = Unavailable("DeskDirector did not answer in time.", timed_out=True)
            # A connect timeout never reached DeskDirector; a read timeout, or a wait for a
            # free connection, is not retried because it would multiply the wait the user
            # already had.
            error.retryable = isinstance(exc, requests.ConnectTimeout)
            raise error from None
        except requests.RequestException as exc:
            log.warning("DeskDirector %s %s failed: %s", method, path, type(exc).__name__)
            # A header or body that cannot be sent never can be: only the network is worth
            # another try.
            retryable = not isinstance(exc, InvalidHeader | InvalidJSONError)
            raise Unavailable("DeskDirector could not be reached.", retryable=retryable) from None
        response.elapsed = timedelta(seconds=time.monotonic() - started)
        session = self._transport.session_for(self.host)
        if session.hooks["response"]:  # what session.send would have done (the probe listens)
            response = dispatch_hook("response", session.hooks, response)
        if log.isEnabledFor(logging.INFO):
            log.info("DeskDirector %s %s -> %s in %.0f ms (request id %s)", method, path,
                     response.status_code, response.elapsed.total_seconds() * 1000,
                     _request_id(response) or "-")
        return response

    def _prepared(self, method: str, path: str, body: Any) -> _Prepared:
        """The request as the adapter sends it: no cookies, auth hooks or environment merged in.

        Built from its parts rather than through PreparedRequest.prepare_*, which parse and
        check again, on every call, a URL and headers that are the same for every call of one
        user (that cost about a tenth of a call's CPU). `test_client` holds it equal to what
        requests itself prepares.
        """
        prepared = _Prepared()
        prepared.method = method
        prepared.origin = self.host
        prepared.path_url = requote_uri(path)
        prepared.url = self._transport.origin_of(self.host) + prepared.path_url
        headers = self._headers()
        if body is not None:
            try:
                prepared.body = jsonlib.dumps(body, allow_nan=False).encode("utf-8")
            except ValueError as exc:
                raise InvalidJSONError(exc) from None
            headers = {**headers, "Content-Length": str(len(prepared.body)),
                       "Content-Type": "application/json"}
        elif method not in ("GET", "HEAD"):
            # Methods that may carry a body say when they carry none, as requests does.
            headers = {**headers, "Content-Length": "0"}
        prepared.headers = headers
        return prepared

    def _headers(self) -> dict[str, str]:
        """This user's headers, checked once (nothing unsafe rides on the token) and shared by
        their calls, which never change them.

        A plain dict, each name written once in its usual case: urllib3 walks a request's
        headers several times, and requests' case-insensitive dict made each walk slower.
        """
        headers = self._shared_headers
        if headers is None:
            headers = {**_HEADERS, "Authorization": f"DdAccessToken {self._token}"}
            for header in headers.items():
                check_header_validity(header)
            self._shared_headers = headers
        return headers

    def _result(self, name: str, response: requests.Response) -> Any:
        if response.status_code < 400:
            content = response.content
            if not content:
                return None
            try:
                return _decoded(content)
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
        """Run independent reads concurrently: client.parallel(a=lambda: …, b=lambda: …).

        Reads the look-up and count caches can answer are answered first, on the caller's
        thread; only those that must go to DeskDirector fan out. Handing a cached list to
        another thread cost more than reading it, and on most pages every read but one is
        cached. So each call should be a read through this client and nothing else: work done
        before its first uncached read runs on the caller's thread, and again when it fans out.
        """
        if _caches_only():
            raise _NotKept  # a read that fans out is no cached read
        answered: dict[str, Any] = {}
        if self._lookups is not None or self._counts is not None:
            _CACHES_ONLY.on = True
            try:
                for name, call in calls.items():
                    with contextlib.suppress(_NotKept):
                        answered[name] = call()
            finally:
                _CACHES_ONLY.on = False
        fetched = self._transport.run_parallel(
            {name: call for name, call in calls.items() if name not in answered})
        return {name: answered[name] if name in answered else fetched[name] for name in calls}


def _kept(data: Any) -> Any:
    """A cache's answer, or _NotKept where it holds none."""
    if data is NOT_KEPT:
        raise _NotKept
    return data


def _decoded(content: bytes) -> Any:
    """A reply's JSON, from its bytes (no detour through text).

    orjson is about three times faster; what it refuses and the standard library reads (a lone
    surrogate escaped in a note's text, NaN, an integer beyond 64 bits) is read by the latter.
    """
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return jsonlib.loads(content)


def _with_params(path: str, params: Mapping[str, Any] | None) -> str:
    """`path` with `params` added to its query, as requests adds them (None values left out)."""
    if not params:
        return path
    query = urlencode([(key, value) for key, value in params.items() if value is not None],
                      doseq=True)
    if not query:
        return path
    return f"{path}{'&' if '?' in path else '?'}{query}"


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
