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
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

from cachelib import BaseCache, FileSystemCache, RedisCache
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

URL_HANDLE = "ddsid"
_KEY_PREFIX = "session:"
# How long an ended session (token already dropped) is kept: long enough that someone back from
# lunch who presses Send still gets the session-ended page for their tenant, with the text kept.
_ENDED_KEPT = 12 * 3600
# The navigation that follows intake's 303 arrives within milliseconds; this much allows for a
# busy machine and no more, so a handle copied out of the redirect is dead by the time it is sent on.
SETTLE_SECONDS = 30
# What a browser sends again, unchanged, when it follows a redirect; a link opened elsewhere (another
# browser, a new tab, a page of another site) differs in at least one of them.
_FINGERPRINT_HEADERS = ("User-Agent", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Sec-Fetch-Mode")


class ServerSession(CallbackDict, SessionMixin):
    """Session data plus its handle; `rotate()` gives it a new handle and drops the old one."""

    def __init__(self, initial: dict | None = None, handle: str | None = None,
                 from_url: bool = False, cookie: str | None = None) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.handle = handle
        self.from_url = from_url
        self.cookie = cookie  # the handle the browser sent in its cookie, if any
        self.discarded: list[str] = []
        self.modified = False

    def rotate(self) -> None:
        """Start over: clear the data and issue a new handle (no fixation)."""
        if self.handle:
            self.discarded.append(self.handle)
        self.clear()
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

        client = redis.Redis.from_url(redis_url)
        return RedisCache(host=client, key_prefix="ddsite:"), client.close
    return FileSystemCache(session_folder(app), threshold=0, mode=0o600), lambda: None


def session_folder(app: Flask) -> str:
    """Folder of the filesystem store: DDSITE_SESSION_DIR, else sessions/ in the instance folder."""
    return app.config.get("SESSION_DIR") or f"{app.instance_path}/sessions"


class ServerSessionInterface(SessionInterface):
    """Flask session interface over a cachelib store."""

    def __init__(self, store: BaseCache, claims_folder: str,
                 sessionless_paths: tuple[str, ...] = ()) -> None:
        self.store = store
        self.claims_folder = claims_folder
        self.sessionless_paths = sessionless_paths

    def _handle_from(self, app: Flask, request: Request) -> tuple[str | None, bool]:
        cookie = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if cookie:
            return cookie, False
        # Forms post to URLs that already carry the handle, so the body is never read here
        # (reading it would also bypass the request-size limit's error page).
        handle = request.args.get(URL_HANDLE)
        return (handle, True) if handle else (None, False)

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        if request.path.startswith(self.sessionless_paths):
            return None  # Flask's null session: nothing read, nothing saved, no cookie
        handle, from_url = self._handle_from(app, request)
        cookie = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
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
        for handle in session.discarded:
            self.store.delete(_KEY_PREFIX + handle)
        session.discarded.clear()
        if not session.handle:
            return  # anonymous: nothing stored, no cookie
        if not session:
            self.store.delete(_KEY_PREFIX + session.handle)
            response.delete_cookie(app.config["SESSION_COOKIE_NAME"], path="/", secure=True,
                                   samesite="None",
                                   partitioned=app.config["SESSION_COOKIE_PARTITIONED"])
            return
        if session.modified:
            self.store.set(_KEY_PREFIX + session.handle, dict(session), timeout=_lifetime(session))
        # The cookie is sent only when the browser does not hold this handle yet.
        if session.get("transport") != "url" and session.cookie != session.handle:
            response.set_cookie(
                app.config["SESSION_COOKIE_NAME"], session.handle, max_age=_lifetime(session),
                path="/", secure=True, httponly=True, samesite="None",
                partitioned=app.config["SESSION_COOKIE_PARTITIONED"])


def claim_once(store: BaseCache, folder: str, name: str, timeout: int) -> bool:
    """True for the first caller to claim `name`, across workers; False for everyone after.

    Atomic on both stores: SET NX on Redis, an exclusively created file on the filesystem.
    """
    if isinstance(store, RedisCache):
        return bool(store.add(f"claim:{name}", 1, timeout=timeout))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    _sweep(folder, timeout)
    path = os.path.join(folder, hashlib.sha256(name.encode()).hexdigest())
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def _sweep(folder: str, timeout: int) -> None:
    # Claims outlive their use by `timeout` at most; there are only as many as claims in that time.
    oldest = time.time() - timeout
    for entry in os.scandir(folder):
        with contextlib.suppress(FileNotFoundError):  # another worker swept it first
            if entry.stat().st_mtime < oldest:
                os.remove(entry.path)


def claims_folder(app: Flask) -> str:
    """Folder of the filesystem store's once-only claims."""
    return os.path.join(session_folder(app), "claims")


def _lifetime(session: dict[str, Any]) -> int:
    """Seconds until the token ends, plus the time an ended session is kept."""
    return max(int(session.get("exp", 0) - time.time()), 0) + _ENDED_KEPT
