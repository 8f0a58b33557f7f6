"""Each form carries a one-time key; a POST is sent to DeskDirector only the first time its key is seen.

That makes a double-click, the back button or a browser's "resubmit" harmless. The claim is atomic
across workers: SET NX on Redis, an exclusively created file on the filesystem store.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets

from cachelib import RedisCache
from flask import current_app, session

from . import identity
from .sessions import once_folder
from .state import state


def new_form_key() -> str:
    """A fresh key for a form about to be shown."""
    return secrets.token_urlsafe(24)


def _name(form_key: str) -> str:
    user = identity.user_record().get("id")
    return hashlib.sha256(f"{session.get('host')}|{user}|{form_key}".encode()).hexdigest()


def claim(form_key: str) -> bool:
    """True the first time this key is claimed for this user; False for every repeat."""
    store = state().store
    name = _name(form_key)
    if isinstance(store, RedisCache):
        return bool(store.add(f"once:{name}", 1, timeout=_lifetime()))
    folder = _folder()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        os.close(os.open(os.path.join(folder, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def record_outcome(form_key: str, target: str) -> None:
    """Remember where a sent form led, so a repeat lands there too."""
    state().store.set(f"outcome:{_name(form_key)}", target, timeout=_lifetime())


def outcome(form_key: str) -> str | None:
    """Where the first sending of this form led (None while it is still being sent)."""
    return state().store.get(f"outcome:{_name(form_key)}")


def release(form_key: str) -> None:
    """Let the key be used again: DeskDirector refused the submission, or it is unknown whether
    it arrived (the error page then says to check before sending again)."""
    store = state().store
    name = _name(form_key)
    if isinstance(store, RedisCache):
        store.delete(f"once:{name}")
        return
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(_folder(), name))


def _folder() -> str:
    return once_folder(current_app)


def _lifetime() -> int:
    # Long enough to cover any resubmit; the file store's Sweeper uses the same setting.
    return current_app.config["ONCE_LIFETIME"]
