"""Sending a form to DeskDirector: once per form key, errors back on the form, nothing lost."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, redirect, request
from werkzeug.wrappers import Response

from . import drafts, idempotency
from .deskdirector.errors import DeskDirectorError, Invalid
from .forms import OnceForm, apply_field_errors


def send_once(form: OnceForm, fields: Mapping[str, str], action: Callable[[], Any],
              on_success: Callable[[Any], str]) -> Response | None:
    """Run `action` unless this form was sent before; redirect on success, None to show errors.

    `on_success(result)` flashes what happened and returns where to go. A repeat of a sent form
    goes to the same place without calling DeskDirector again.
    """
    key = form.form_key.data
    if not idempotency.claim(key):
        flash("That was already sent, so it was not sent again.", "info")
        return redirect(idempotency.outcome(key) or request.full_path, code=303)
    try:
        result = action()
    except Invalid as error:
        idempotency.release(key)
        apply_field_errors(form, error, fields)
        return None
    except DeskDirectorError as error:
        # Not taken (or not known to be): the user may send it again, and keeps the text.
        idempotency.release(key)
        error.draft_saved = drafts.keep(request.form)
        raise
    target = on_success(result)
    idempotency.record_outcome(key, target)
    drafts.discard(request.form.get("form_name", ""))
    return redirect(target, code=303)
