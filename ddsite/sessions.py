"""Server-side sessions: the browser holds an opaque handle, the data lives in a cachelib store.

The handle travels in a `Partitioned` cookie, or, when the browser blocks even that, in the URL
(`ddsid`), as decided once during intake (see auth.py).
"""

from __future__ import annotations

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

    def __init__(self, store: BaseCache, sessionless_paths: tuple[str, ...] = ()) -> None:
        self.store = store
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
        # A handle in the URL counts only for a session that intake found cookie-less, so a
        # crafted link cannot push someone else's session onto a browser that keeps cookies.
        if from_url and data.get("transport") not in ("url", "pending"):
            return ServerSession(cookie=cookie)
        return ServerSession(data, handle=handle, from_url=from_url, cookie=cookie)

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


def _lifetime(session: dict[str, Any]) -> int:
    """Seconds until the token ends, plus the time an ended session is kept."""
    return max(int(session.get("exp", 0) - time.time()), 0) + _ENDED_KEPT
