"""Server-side sessions: the browser holds an opaque handle, the data lives in a cachelib store.

The handle travels in a `Partitioned` cookie, or, when the browser blocks even that, in the URL
(`ddsid`), as decided once during intake (see auth.py). A handle in a URL is a bearer credential,
so it is honoured only where a link cannot plant it in someone else's browser: a "pending" handle
settles once, within seconds, in the navigation that follows intake from the same browser; after
that, a URL handle counts only in that browser (client address and User-Agent), in navigations that
come from ddsite's own pages.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import math
import os
import pickle
import secrets
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from cachelib import BaseCache, FileSystemCache, RedisCache
from flask import Flask, Request, Response
from flask import request as current_request
from flask.sessions import SessionInterface, SessionMixin
from redis.exceptions import RedisError
from werkzeug.datastructures import CallbackDict
from werkzeug.sansio.http import parse_cookie

from .shared_entries import SharedEntries, stamp

log = logging.getLogger(__name__)

URL_HANDLE = "ddsid"
_KEY_PREFIX = "session:"
_READY_KEY = "ready-probe"
# Paths that never need a session: they must answer, and set no cookie, even with the store down.
SESSIONLESS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# What a store raises when it cannot answer (cachelib's file store swallows its own OSErrors).
STORE_ERRORS: tuple[type[Exception], ...] = (RedisError,)


class StoreUnavailable(Exception):
    """The session store does not answer; pages say so with a 503 until it is back."""
# The navigation that follows intake's 303 arrives within milliseconds; this much allows for a
# busy machine and no more, so a handle copied out of the redirect is dead by the time it is sent on.
SETTLE_SECONDS = 30
# What a browser sends again, unchanged, when it follows a redirect; a link opened elsewhere (another
# browser, a new tab, a page of another site) differs in at least one of them.
_FINGERPRINT_HEADERS = ("User-Agent", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Sec-Fetch-Mode")


class ServerSession(CallbackDict, SessionMixin):
    """Session data plus its handle; `rotate()` gives it a new handle and drops the old one."""

    def __init__(self, initial: dict | None = None, handle: str | None = None,
                 from_url: bool = False, store_down: bool = False, cookie: str | None = None) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.handle = handle
        self.from_url = from_url
        self.store_down = store_down
        self.cookie = cookie  # the handle the browser sent in its cookie, if any
        self.discarded: list[str] = []
        self.modified = False

    def rotate(self) -> None:
        """Start over: clear the data and issue a new handle (no fixation)."""
        self.rehandle()
        self.clear()

    def rehandle(self) -> None:
        """Keep the data under a new handle; the old one opens nothing from now on."""
        if self.handle:
            self.discarded.append(self.handle)
        self.handle = new_handle()
        self.from_url = False
        self.modified = True


def settle_ticket(request: Request) -> dict[str, Any]:
    """What intake records so that only its own follow-up navigation may settle the handle."""
    return {"until": time.time() + SETTLE_SECONDS, "fingerprint": _fingerprint(request)}


def _fingerprint(request: Request) -> str:
    return _digest(request, _FINGERPRINT_HEADERS)


def _digest(request: Request, headers: tuple[str, ...]) -> str:
    parts = [request.remote_addr or "", *(request.headers.get(h, "") for h in headers)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _may_settle(data: dict[str, Any], request: Request) -> bool:
    ticket = data.get("settle")
    # DeskDirector opens the site only in an iframe; a cookie-less page of its own is a link
    # someone passed on (it would have kept a first-party cookie).
    in_frame = request.headers.get("Sec-Fetch-Dest", "iframe") == "iframe"
    return (in_frame and isinstance(ticket, dict) and time.time() <= ticket.get("until", 0)
            and secrets.compare_digest(ticket.get("fingerprint", ""), _fingerprint(request)))


def browser_binding(request: Request) -> str:
    """Who may use a handle that travels in URLs: the client address and browser that settled it."""
    return _digest(request, ("User-Agent",))


def _from_our_pages(request: Request) -> bool:
    # Browsers that send Sec-Fetch-Site say where a navigation came from; those that do not
    # (older ones) are taken at their word, as before.
    return request.headers.get("Sec-Fetch-Site", "same-origin") == "same-origin"


def new_handle() -> str:
    """An unguessable session handle."""
    return secrets.token_urlsafe(32)


def make_store(app: Flask) -> tuple[BaseCache, Callable[[], None]]:
    """FileSystemCache in the instance folder, or Redis when DDSITE_REDIS_URL is set; and how to
    release it."""
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # Short timeouts and few retries: with Redis down a page says so within seconds
        # instead of hanging; the client reconnects by itself once Redis is back.
        timeout = app.config["REDIS_TIMEOUT"]
        client = redis.Redis.from_url(redis_url, socket_timeout=timeout,
                                      socket_connect_timeout=timeout, health_check_interval=30,
                                      retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2))
        return RedisCache(host=client, key_prefix="ddsite:"), client.close
    # threshold=0: cachelib's own pruning would delete live sessions once over its threshold;
    # expired entries are deleted by the Sweeper instead.
    return FileStore(session_folder(app), threshold=0, mode=0o600), lambda: None


class FileStore(FileSystemCache):
    """cachelib's file store, whose reads are plain system calls.

    Every page reads its session from the store, and many read drafts, look-up lists and form
    outcomes too; cachelib opens each file as a buffered Python file inside a retrying context
    manager, which costs several times what reading it does. Same files, same answers: None for
    an entry that is missing, expired or unreadable. Readers that never change what they read
    (the look-up caches) may share one decoded copy per version of a file (`get_shared`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared = SharedEntries()
        # The few keys read shared are read on every page: their file names (a hash each) are
        # remembered too, those of entries that do not exist (yet) included.
        self._shared_filename = functools.lru_cache(maxsize=1024)(self._get_filename)

    def get(self, key: str) -> Any:
        return self._read(key, self._get_filename(key))

    def get_shared(self, key: str) -> Any:
        """What `get` answers, as one decoded object shared by every caller in this process while
        the entry's file is unchanged: READ-ONLY, for callers that never change what they get.

        A stat of the file (every write is a new file renamed into place) tells whether another
        worker changed it; a file that is gone drops what was kept, an expired entry is None.
        """
        filename = self._shared_filename(key)
        try:
            status = os.stat(filename)
        except OSError as error:
            self._shared.forget(key)
            return None if isinstance(error, FileNotFoundError) else self.get(key)
        kept = self._shared.recall(key)
        if kept is not None and kept.stamp == stamp(status):
            if kept.live(time.time()):
                return kept.value
            self._shared.forget(key)
            return None
        return self._read(key, filename, shared=True)

    def _read(self, key: str, filename: str, *, shared: bool = False) -> Any:
        """The entry in `filename`, read fresh; `shared`: also kept for `get_shared`."""
        try:
            handle = os.open(filename, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except PermissionError:
            # Some network file systems refuse an open while another process replaces the
            # file; cachelib's own read waits and tries again.
            return super().get(key)
        except OSError:
            log.warning("Could not read store entry %s", filename, exc_info=True)
            return None
        try:
            data = _read_all(handle)
            # cachelib's file format: 4 bytes of expiry time (0 = never), then the pickled value.
            expires = struct.unpack_from("I", data)[0]
            if expires == 0 or expires >= time.time():
                value = pickle.loads(memoryview(data)[4:])
                if shared:  # the version read is the open file's: a rename since cannot mix in
                    self._shared.keep(key, os.fstat(handle), expires, value)
                return value
            if shared:
                self._shared.forget(key)
        except (OSError, EOFError, struct.error, pickle.PickleError):
            log.warning("Could not read store entry %s", filename, exc_info=True)
        finally:
            os.close(handle)
        return None

    def set(self, key: str, value: Any, timeout: Any = None, mgmt_element: bool = False) -> bool:
        """Write an entry as cachelib does (a temporary file, then an atomic rename), in plain
        system calls: every sign-in writes its session, and cachelib's mkstemp, buffered file,
        chmod and stat cost more than the write."""
        if mgmt_element or self._threshold:  # cachelib's own bookkeeping: its own path
            return super().set(key, value, timeout=timeout, mgmt_element=mgmt_element)
        try:
            pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        except pickle.PickleError:
            log.warning("Could not store entry of type %s", type(value).__name__, exc_info=True)
            return False
        data = struct.pack("I", self._normalize_timeout(timeout)) + pickled
        filename = self._get_filename(key)
        temporary = f"{filename}.{secrets.token_hex(6)}{self._fs_transaction_suffix}"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self._mode)
            try:
                os.fchmod(handle, self._mode)  # exactly this mode, whatever the umask
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view):]
            finally:
                os.close(handle)
            os.replace(temporary, filename)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.remove(temporary)
            if isinstance(error, PermissionError):
                # Some network file systems refuse a rename while another process reads the
                # file; cachelib's own write waits and tries again.
                return super().set(key, value, timeout=timeout)
            log.warning("Could not write store entry %s", filename, exc_info=True)
            return False
        return True

    def delete(self, key: str, mgmt_element: bool = False) -> bool:
        """Delete an entry: at once for every reader; its file is removed by the next sweep.

        Every sign-in of a known browser discards its old session. Removing a file that has been
        on disk a while frees its blocks, which can take milliseconds (more with `discard`
        mounts); a rename away takes tens of microseconds and off the page the Sweeper removes it.
        """
        if mgmt_element or self._threshold:  # cachelib's own bookkeeping: its own path
            return super().delete(key, mgmt_element=mgmt_element)
        filename = self._get_filename(key)
        try:
            os.rename(filename, f"{filename}.{secrets.token_hex(6)}{DISCARDED_SUFFIX}")
        except FileNotFoundError:  # already gone: deleted, as cachelib counts it
            return True
        except OSError:
            log.warning("Could not delete store entry %s", filename, exc_info=True)
            return False
        return True


# Entries deleted but not yet removed; cachelib passes over names ending in its temporary suffix.
DISCARDED_SUFFIX = ".discarded" + FileSystemCache._fs_transaction_suffix


_READ_SIZE = 65536


def _read_all(handle: int) -> bytes:
    # A read of a regular file that returns less than was asked for has reached its end, so the
    # usual entry (a session, a draft: a few hundred bytes) takes one read, not a second one
    # that returns nothing. A full first read goes on until a read returns nothing.
    chunk = os.read(handle, _READ_SIZE)
    if len(chunk) < _READ_SIZE:
        return chunk
    chunks = [chunk]
    while chunk := os.read(handle, _READ_SIZE):
        chunks.append(chunk)
    return b"".join(chunks)


def count(store: BaseCache, folder: str, key: str, delta: int, timeout: int) -> int:
    """Add `delta` to the counter `key` (which expires after `timeout`); the new value.

    Atomic on both stores: INCRBY on Redis; on the file store, under a lock on `folder`, where
    a counter back at zero is deleted.
    """
    if isinstance(store, RedisCache):
        name = f"{store.key_prefix}{key}"
        # cachelib's inc() cannot set an expiry, and everything ddsite stores expires.
        pipe = store._write_client.pipeline()
        pipe.incrby(name, delta)
        pipe.expire(name, timeout)
        return int(pipe.execute()[0])
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with _folder_lock(folder):
        value = (store.get(key) or 0) + delta
        if value > 0:
            store.set(key, value, timeout=timeout)
        else:
            store.delete(key)  # back at zero: nothing left to keep
    return value


@contextlib.contextmanager
def _folder_lock(folder: str) -> Iterator[None]:
    """Hold the lock on `folder` (across processes): the folder itself is the lock, no file to
    sweep."""
    lock = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # releases the lock


def session_folder(app: Flask) -> str:
    """Folder of the filesystem store: DDSITE_SESSION_DIR, else sessions/ in the instance folder."""
    return app.config.get("SESSION_DIR") or f"{app.instance_path}/sessions"


def once_folder(app: Flask) -> str:
    """Folder of the file store's once-only claims (one file per key, holding when it ends)."""
    return os.path.join(session_folder(app), "once")


def store_ping(store: BaseCache) -> None:
    """Raise StoreUnavailable unless the store can be written and read right now."""
    try:
        answered = store.set(_READY_KEY, 1, timeout=60) and store.get(_READY_KEY) == 1
    except STORE_ERRORS as exc:
        raise StoreUnavailable(type(exc).__name__) from None
    if not answered:  # the file store reports a failed write by returning False
        raise StoreUnavailable("cannot write")


def make_sweeper(app: Flask, store: BaseCache,
                 on_swept: Callable[[int], None]) -> Sweeper | None:
    """The file store's Sweeper; None for Redis, which expires keys by itself."""
    if not isinstance(store, FileSystemCache):
        return None
    return Sweeper(session_folder(app), once_folder(app), app.config["ONCE_LIFETIME"],
                   app.config["SWEEP_INTERVAL"], on_swept=on_swept, claims_folder=claims_folder(app))


class Sweeper:
    """Deletes what has expired from the file store, at most once per interval, off the request.

    Redis expires keys by itself; cachelib's file store only notices an expired file when that
    very key is read again, which for a session that ended means never.
    """

    def __init__(self, folder: str, once_folder: str, once_lifetime: float, interval: float,
                 on_swept: Callable[[int], None] = lambda count: None,
                 claims_folder: str | None = None) -> None:
        self._folder = folder
        self._once_folder = once_folder
        self._claims_folder = claims_folder
        self._once_lifetime = once_lifetime
        self._interval = interval
        self._on_swept = on_swept
        self._due = time.monotonic() + interval
        self._running = threading.Lock()

    def maybe_start(self) -> None:
        """Start a sweep in the background when one is due and none is running."""
        now = time.monotonic()
        if now < self._due or not self._running.acquire(blocking=False):
            return
        self._due = now + self._interval
        threading.Thread(target=self._sweep_and_release, name="ddsite-sweep", daemon=True).start()

    def _sweep_and_release(self) -> None:
        try:
            self.sweep()
        finally:
            self._running.release()

    def sweep(self, now: float | None = None) -> int:
        """Delete every expired entry now; return how many were deleted."""
        now = time.time() if now is None else now
        removed = _remove_expired_entries(self._folder, now)
        removed += _remove_ended_claims(self._once_folder, now, self._once_lifetime)
        if self._claims_folder:
            removed += _remove_ended_claims(self._claims_folder, now, _LEGACY_CLAIM_SECONDS)
        if removed:
            log.info("Swept %d expired entries from the session store", removed)
        self._on_swept(removed)
        return removed


def _remove_expired_entries(folder: str, now: float) -> int:
    # cachelib's file format: 4 bytes of expiry time (0 = never), then the pickled value.
    removed = 0
    for entry in _files_in(folder):
        try:
            if entry.endswith(DISCARDED_SUFFIX):
                os.remove(entry)  # deleted already (FileStore.delete): not counted again
                continue
            with open(entry, "rb") as handle:
                expires = struct.unpack("I", handle.read(4))[0]
            if expires != 0 and expires < now:
                os.remove(entry)
                removed += 1
        except (OSError, struct.error):
            continue  # gone meanwhile, or still being written: the next sweep decides
    return removed


def _files_in(folder: str) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [entry.path for entry in entries if entry.is_file()]
    except FileNotFoundError:
        return []


class ServerSessionInterface(SessionInterface):
    """Flask session interface over a cachelib store."""

    def __init__(self, store: BaseCache, claims_folder: str, store_down_page: Callable[[], str],
                 ended_kept: float, sessionless_paths: tuple[str, ...] = ()) -> None:
        self.store = store
        self.claims_folder = claims_folder
        self._store_down_page = store_down_page
        self._ended_kept = ended_kept
        self.sessionless_paths = sessionless_paths

    def _handle_from(self, cookie: str | None, request: Request) -> tuple[str | None, bool]:
        if cookie:
            return cookie, False
        # Forms post to URLs that already carry the handle, so the body is never read here
        # (reading it would also bypass the request-size limit's error page).
        handle = request.args.get(URL_HANDLE)
        return (handle, True) if handle else (None, False)

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        if request.path.startswith(self.sessionless_paths):
            return None  # Flask's null session: nothing read, nothing saved, no cookie
        if request.path in SESSIONLESS_PATHS:
            return ServerSession()
        try:
            return self._open(app, request)
        except STORE_ERRORS as exc:
            log.error("The session store is not answering (%s)", type(exc).__name__)
            return ServerSession(store_down=True)

    def _open(self, app: Flask, request: Request) -> ServerSession:
        # The Cookie header itself, parsed as `request.cookies` parses it: that property first
        # collects the header by walking every key of the WSGI environ, on every page.
        cookies = parse_cookie(request.environ.get("HTTP_COOKIE", ""))
        cookie = cookies.get(app.config["SESSION_COOKIE_NAME"])
        handle, from_url = self._handle_from(cookie, request)
        data = self.store.get(_KEY_PREFIX + handle) if handle else None
        if not isinstance(data, dict):
            return ServerSession(cookie=cookie)
        if from_url and not self._url_handle_counts(handle, data, request):
            return ServerSession(cookie=cookie)
        return ServerSession(data, handle=handle, from_url=from_url, cookie=cookie)

    def _url_handle_counts(self, handle: str, data: dict[str, Any], request: Request) -> bool:
        # A crafted link must not push someone else's session onto a browser: a handle in the URL
        # counts for a session that intake found cookie-less, in the browser that settled it and
        # in navigations from our own pages; or for a pending one, once, in the navigation right
        # after intake.
        transport = data.get("transport")
        if transport == "url":
            return _from_our_pages(request) and secrets.compare_digest(
                data.get("bound_to", ""), browser_binding(request))
        return (transport == "pending" and _may_settle(data, request)
                and claim_once(self.store, self.claims_folder, f"settle:{handle}", SETTLE_SECONDS))

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        try:
            self._save(app, session, response)
        except STORE_ERRORS as exc:
            # The page was made, but what it changed cannot be kept: say so instead of
            # sending a redirect or a form into a session that does not exist.
            log.error("The session store is not answering (%s)", type(exc).__name__)
            response.status_code = 503
            response.headers.pop("Location", None)
            response.headers.pop("Set-Cookie", None)
            response.mimetype = "text/html"
            response.set_data(self._store_down_page())

    def _save(self, app: Flask, session: ServerSession, response: Response) -> None:
        for handle in session.discarded:
            self.store.delete(_KEY_PREFIX + handle)
        session.discarded.clear()
        if not session.handle:
            return  # anonymous: nothing stored, no cookie
        # The site's own path: published under a prefix by a proxy, its handle goes to no other
        # app of that host, and two sites of one host keep a cookie each.
        path = current_request.script_root or "/"
        if not session:
            self.store.delete(_KEY_PREFIX + session.handle)
            response.delete_cookie(app.config["SESSION_COOKIE_NAME"], path=path, secure=True,
                                   samesite="None",
                                   partitioned=app.config["SESSION_COOKIE_PARTITIONED"])
            return
        if session.modified:
            self.store.set(_KEY_PREFIX + session.handle, dict(session),
                           timeout=self._lifetime(session))
        # The cookie is sent only when the browser does not hold this handle yet.
        if session.get("transport") != "url" and session.cookie != session.handle:
            response.set_cookie(
                app.config["SESSION_COOKIE_NAME"], session.handle,
                max_age=self._lifetime(session),
                path=path, secure=True, httponly=True, samesite="None",
                partitioned=app.config["SESSION_COOKIE_PARTITIONED"])

    def _lifetime(self, session: dict[str, Any]) -> int:
        """Seconds until the token ends, plus the time an ended session is kept."""
        # Never 0: cachelib reads a timeout of 0 as "keep forever".
        return max(int(session.get("exp", 0) - time.time()), 0) + max(int(self._ended_kept), 1)

def claim_once(store: BaseCache, folder: str, name: str, timeout: int) -> bool:
    """True for the first caller to claim `name` for `timeout` seconds, across workers; False for
    everyone else until then.

    Atomic on both stores: SET NX with its own expiry on Redis; on the filesystem, a file holding
    its own end time, read and written under a lock on `folder` (the Sweeper removes ended ones).
    """
    if isinstance(store, RedisCache):
        return bool(store.add(f"claim:{name}", 1, timeout=timeout))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, hashlib.sha256(name.encode()).hexdigest())
    with _folder_lock(folder):
        now = time.time()
        if _claim_expiry(path, timeout) > now:
            return False
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(handle, repr(now + timeout).encode())
        finally:
            os.close(handle)
    return True


# A claim file without its end time (made by an older ddsite) is swept this long after it was made.
_LEGACY_CLAIM_SECONDS = 60


def _remove_ended_claims(folder: str, now: float, timeout: float) -> int:
    """Delete the claims in `folder` that ended by `now` (the Sweeper's job, off the page: an ended
    claim in the way of a new one is replaced by its claimer); how many."""
    removed = 0
    for path in _files_in(folder):
        try:
            if path.endswith(DISCARDED_SUFFIX):  # renamed below, then the sweep stopped
                os.remove(path)
                continue
            if _claim_expiry(path, timeout) > now:
                continue
            # Checked again and renamed away under the lock, so a claim taken again meanwhile
            # stays; the slow part, freeing the file, happens outside it.
            discarded = f"{path}.{secrets.token_hex(6)}{DISCARDED_SUFFIX}"
            with _folder_lock(folder):
                if _claim_expiry(path, timeout) > now:
                    continue
                os.rename(path, discarded)
            os.remove(discarded)
            removed += 1
        except OSError:
            continue  # gone meanwhile (another worker's sweep), or unreadable: the next sweep decides
    return removed


def _claim_expiry(path: str, timeout: float) -> float:
    """When the claim in `path` ends (0: there is none). Each claim holds its own time, so a short
    claim never ends a longer one; one without (made by an older ddsite, or its writer died before
    writing) is read as `timeout` seconds from when it was made, as claims used to be."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0.0
    try:
        text = os.read(handle, 64)
        made = os.fstat(handle).st_mtime
    finally:
        os.close(handle)
    try:
        expiry = float(text)
    except ValueError:
        return made + timeout
    return expiry if math.isfinite(expiry) else made + timeout


def claims_folder(app: Flask) -> str:
    """Folder of the filesystem store's once-only claims."""
    return os.path.join(session_folder(app), "claims")

