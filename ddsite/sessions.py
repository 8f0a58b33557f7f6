"""Server-side sessions: the browser holds an opaque handle, the data lives in a cachelib store.

The handle travels in a `Partitioned` cookie, or, when the browser blocks even that, in the URL
(`ddsid`), as decided once during intake (see auth.py).
"""

from __future__ import annotations

import contextlib
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


class ServerSession(CallbackDict, SessionMixin):
    """Session data plus its handle; `rotate()` gives it a new handle and drops the old one."""

    def __init__(self, initial: dict | None = None, handle: str | None = None,
                 from_url: bool = False) -> None:
        def on_update(self: ServerSession) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.handle = handle
        self.from_url = from_url
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


def add_once(store: BaseCache, folder: str, name: str, timeout: int) -> bool:
    """Create `name` if absent, atomically across workers; True only for the one caller that did.

    Redis: SET NX. Files: an exclusively created file in `folder` holding its expiry time (an
    expired one is moved aside by exactly one caller, then created afresh).
    """
    if isinstance(store, RedisCache):
        return bool(store.add(f"once:{name}", 1, timeout=timeout))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, name)
    for _ in range(2):
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            if not _expired(path):
                return False
            with contextlib.suppress(FileNotFoundError):
                aside = f"{path}.{secrets.token_hex(4)}"
                os.rename(path, aside)  # only one caller's rename succeeds
                os.remove(aside)
            continue
        with os.fdopen(handle, "w") as file:
            file.write(str(time.time() + timeout))
        return True
    return False


def count(store: BaseCache, key: str, delta: int, timeout: int) -> int:
    """Add `delta` to the counter `key` (which expires after `timeout`); the new value.

    Atomic on Redis (INCRBY); on the file store two workers counting the same key in the same
    instant may miss one step, which costs a moment's wait at most (see sendonce.keep_unsent).
    """
    if isinstance(store, RedisCache):
        name = f"{store.key_prefix}{key}"
        # cachelib's inc() cannot set an expiry, and everything ddsite stores expires.
        pipe = store._write_client.pipeline()
        pipe.incrby(name, delta)
        pipe.expire(name, timeout)
        return int(pipe.execute()[0])
    value = (store.get(key) or 0) + delta
    store.set(key, value, timeout=timeout)
    return value


def _expired(path: str) -> bool:
    try:
        with open(path) as file:
            text = file.read().strip()
    except FileNotFoundError:
        return True
    # An empty file is one being written this instant: not expired.
    return bool(text) and float(text) < time.time()


def session_folder(app: Flask) -> str:
    """Folder of the filesystem store: DDSITE_SESSION_DIR, else sessions/ in the instance folder."""
    return app.config.get("SESSION_DIR") or f"{app.instance_path}/sessions"


class ServerSessionInterface(SessionInterface):
    """Flask session interface over a cachelib store."""

    def __init__(self, store: BaseCache) -> None:
        self.store = store

    def _handle_from(self, app: Flask, request: Request) -> tuple[str | None, bool]:
        cookie = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if cookie:
            return cookie, False
        # Forms post to URLs that already carry the handle, so the body is never read here
        # (reading it would also bypass the request-size limit's error page).
        handle = request.args.get(URL_HANDLE)
        return (handle, True) if handle else (None, False)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        handle, from_url = self._handle_from(app, request)
        data = self.store.get(_KEY_PREFIX + handle) if handle else None
        if not isinstance(data, dict):
            return ServerSession()
        # A handle in the URL counts only for a session that intake found cookie-less, so a
        # crafted link cannot push someone else's session onto a browser that keeps cookies.
        if from_url and data.get("transport") not in ("url", "pending"):
            return ServerSession()
        return ServerSession(data, handle=handle, from_url=from_url)

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
        if session.get("transport") != "url":
            response.set_cookie(
                app.config["SESSION_COOKIE_NAME"], session.handle, max_age=_lifetime(session),
                path="/", secure=True, httponly=True, samesite="None",
                partitioned=app.config["SESSION_COOKIE_PARTITIONED"])


def _lifetime(session: dict[str, Any]) -> int:
    """Seconds until the token ends, plus the time an ended session is kept."""
    return max(int(session.get("exp", 0) - time.time()), 0) + _ENDED_KEPT
