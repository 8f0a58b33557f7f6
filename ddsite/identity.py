"""Who the signed-in user is: the session's record, or a who-am-I still running beside the page.

When intake verified the token's signature itself, who-am-I runs alongside the first page's own
reads instead of before them; whatever needs the user waits for it here.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

from flask import g, session

_PENDING = "ddsite_whoami"


def confirm_alongside(executor: Executor, check: Callable[[], dict]) -> None:
    """Start `check` (who-am-I, returning the user's session record) beside this request."""
    setattr(g, _PENDING, executor.submit(check))


def pending() -> bool:
    """Is a who-am-I of this request still unread?"""
    return _PENDING in g


def user_record() -> dict:
    """The signed-in user's session record, waiting for who-am-I if it still runs (its error,
    if any, is raised here)."""
    future = g.pop(_PENDING, None)
    if future is not None:
        session["user"] = future.result()
    return session.get("user") or {}
