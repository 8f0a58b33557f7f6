"""Forms submitted after the token ended are kept as drafts and offered back after re-entry.

A draft belongs to one tenant, one user and one form (endpoint plus its URL values, so a reply to
ticket 7 comes back on ticket 7). It is never submitted without the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, flash, redirect, request, session
from werkzeug.datastructures import MultiDict

from . import idempotency, identity
from .state import state

# Fields that belong to the transport of a form, not to what the user wrote.
_NOT_CONTENT = {"csrf_token", "ddsid", "form_key", "form_name", "submit", "discard"}


def _key(endpoint: str, view_args: Mapping[str, Any] | None, form_name: str) -> str:
    user = identity.user_record()
    args = ",".join(f"{k}={v}" for k, v in sorted((view_args or {}).items()))
    return f"draft:{session.get('host')}:{user.get('id')}:{endpoint}:{args}:{form_name}"


def keep(form: Mapping[str, str]) -> bool:
    """Store what the user wrote in this POST; True when there was something to keep."""
    content = {k: v for k, v in form.items() if k not in _NOT_CONTENT}
    if not request.endpoint or not any(str(v).strip() for v in content.values()):
        return False
    key = _key(request.endpoint, request.view_args, form.get("form_name", ""))
    state().store.set(key, content, timeout=current_app.config["DRAFT_LIFETIME"])
    return True


def restore(form_name: str = "") -> dict[str, str] | None:
    """The draft for a form on this page (pages with two forms name them), if one is waiting."""
    data = state().store.get(_key(request.endpoint, request.view_args, form_name))
    return data if isinstance(data, dict) else None


def discard(form_name: str = "") -> None:
    """Delete the draft for a form on this page (once sent, or when the user throws it away)."""
    state().store.delete(_key(request.endpoint, request.view_args, form_name))


def prepare(form, form_name: str = ""):
    """Ready a form for showing: refill it from a waiting draft (with a notice), give it a key."""
    if request.method == "GET":
        draft = restore(form_name)
        if draft:
            form.process(formdata=MultiDict(draft))
            form.restored_draft = True
            flash("What you wrote earlier was kept and has not been sent. Review it, then send "
                  "it or discard it.", "info")
    if not form.form_key.data:
        form.form_key.data = idempotency.new_form_key()
    return form


def discarded(target: str):
    """The user threw away a kept draft (the form says which): delete it and go to `target`."""
    discard(request.form.get("form_name", ""))
    flash("The kept draft was discarded.", "info")
    return redirect(target, code=303)
