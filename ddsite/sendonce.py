"""Sending a form to DeskDirector once: one-time keys, certain outcomes, drafts that come back.

Every send-once form carries a one-time key. A key's record in the store says where its sending
stands: `sending` (attempt n is on its way), `sent` (and where that led), `unsure` (DeskDirector
did not confirm; look before sending again), `absent` (not confirmed, and not found when looked
for; a resend looks once more) or `free` (refused: certainly not sent). Only the caller that
atomically claims attempt n may send it, so a double click, Back + Send, a reload or a second
worker never sends twice. A form that cannot be sent is kept as a draft, with its key, for the
user (not the session) and comes back on the form, never sent without them.

A page makes a form send-once with one call: `send(form, Sending(...))` on POST, and
`prepare(form)` before showing it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, flash, g, redirect, request, session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from . import identity
from .deskdirector.errors import DeskDirectorError, Invalid
from .forms import OnceForm, apply_field_errors
from .redirects import this_page
from .sessions import STORE_ERRORS, claim_once, count, once_folder
from .state import state

log = logging.getLogger(__name__)

# A request counted in flight and never counted out (its worker died) is forgotten after this.
_IN_FLIGHT_SECONDS = 300
# The same text again on the same form within this time asks first.
REPEAT_SECONDS = 10 * 60
# DeskDirector's clock and ours may differ; a look-up reaches this far before the send.
CLOCK_SLACK = timedelta(minutes=2)
# Fields that belong to the transport of a form, not to what the user wrote.
_NOT_CONTENT = {"csrf_token", "ddsid", "form_key", "form_name", "submit", "discard",
                "confirm_repeat"}


@dataclass
class Sending:
    """What one send-once form does.

    `send()` calls DeskDirector and returns what it made; `done(made)` flashes and returns where
    to go. `find(since)` looks for what this user sent since then (the same kind of thing, or
    None); a form without it must be harmless to send twice (a PATCH of the same values), as
    an unconfirmed send of it is simply sent again. `repeat_text` set: the same text sent
    on this form within ten minutes asks for confirmation first.
    """

    send: Callable[[], Any]
    done: Callable[[Any], str]
    find: Callable[[datetime], Any] | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    repeat_text: str | None = None


def new_key() -> str:
    """A fresh key for a form about to be shown."""
    return secrets.token_urlsafe(24)


def send(form: OnceForm, sending: Sending) -> Response | None:
    """Send this form unless its key was sent before; a redirect, or None to show the form again.

    A key already sent leads where its first sending led. A key still on its way is waited for.
    A key whose sending was not confirmed is looked up first. DeskDirector errors are raised
    for the error pages, with `draft_saved` and `sent` ("no" or "unknown") set on them.
    """
    name = _name(form.form_key.data)
    earlier = _record(name)
    if earlier and earlier.get("content") not in (None, _fingerprint(request.form)):
        # The same form with other words (edited after Back, or a draft rewritten in another
        # session): a new message, with a key of its own.
        form.form_key.data = new_key()
        name = _name(form.form_key.data)
    if _asks_before_repeating(form, sending):
        return None
    blocked: tuple[int, float] | None = None  # (attempt another request claimed, since when)
    while True:
        record = _settled(name)
        if blocked and record["attempt"] < blocked[0] and time.time() > blocked[1] + _longest_send():
            # The claimant of that attempt died before saying so: its send is unsure.
            record = {**record, "state": "unsure", "attempt": blocked[0], "since": blocked[1]}
        if record["state"] == "sent":
            flash("That was already sent, so it was not sent again.", "info")
            return redirect(record["target"] or this_page(), code=303)
        if record["state"] in ("unsure", "absent"):
            found = _look_before_resending(record, sending)
            if found is not None:
                return _finished(name, record["attempt"], sending, found,
                                 "DeskDirector was slow to confirm, but it was sent.")
        attempt = record["attempt"] + 1
        if claim_once(state().store, _folder(), f"{name}.{attempt}", _keep_seconds()):
            break
        if not blocked or blocked[0] != attempt:
            blocked = (attempt, time.time())
        _pause()  # another request claimed this attempt a moment ago: wait for its outcome
    return _attempt(form, name, attempt, sending)


def _attempt(form: OnceForm, name: str, attempt: int, sending: Sending) -> Response | None:
    started = time.time()
    _save(name, "sending", attempt, since=started)
    try:
        made = sending.send()
    except Invalid as error:
        _save(name, "free", attempt)
        apply_field_errors(form, error, sending.fields)
        return None
    except DeskDirectorError as error:
        if not _unconfirmed(error):
            _save(name, "free", attempt)  # refused: certainly not taken
            _mark(error, "no")
            raise
        # Without an answer (timeout, lost connection) the send may still be queued upstream:
        # look once it should have landed, and before a resend look again, later still (found
        # once is proof, not found once is not). An error answer ends the send at once.
        answered = error.upstream_status is not None
        look_at = time.time() if answered else started + _longest_send()
        look_again_at = time.time() if answered else started + 2 * _longest_send()
        _save(name, "unsure", attempt, since=started, look_at=look_again_at)
        found, certain = _look(started, look_at, sending)
        if found is None:
            if certain:  # looked, and it is not there (a resend still looks again first)
                _save(name, "absent", attempt, since=started, look_at=look_again_at)
            _mark(error, "no" if certain else "unknown")
            raise
        return _finished(name, attempt, sending, found,
                         "DeskDirector was slow to confirm, but it was sent.")
    return _finished(name, attempt, sending, made)


def _finished(name: str, attempt: int, sending: Sending, made: Any,
              note: str | None = None) -> Response:
    target = sending.done(made)
    if note:
        flash(note, "info")
    _save(name, "sent", attempt, target=target)
    if sending.repeat_text:
        state().store.set(_repeat_name(sending.repeat_text), time.time(), timeout=REPEAT_SECONDS)
    # Its own draft goes; a draft of another key (another session of the user) stays.
    discard(request.form.get("form_name", ""), request.form.get("form_key", ""))
    return redirect(target, code=303)


def _look(since: float, look_at: float, sending: Sending) -> tuple[Any, bool]:
    """(what landed from a sending that started at `since`, or None; whether that is certain),
    looked for no earlier than `look_at`."""
    if sending.find is None:
        return None, False
    _wait_until(look_at)
    moment = datetime.fromtimestamp(since, UTC) - CLOCK_SLACK
    try:
        return sending.find(moment), True
    except DeskDirectorError:
        return None, False


def _look_before_resending(record: dict, sending: Sending) -> Any:
    """What landed from an earlier unconfirmed attempt; None to go ahead and send.

    Without a look-up (forms whose sending is harmless to repeat) it goes ahead; when
    DeskDirector cannot be read, nothing is sent and the text is kept.
    """
    if sending.find is None:
        return None
    # A sending whose worker died never said: as long as an unanswered one.
    _wait_until(record.get("look_at") or record["since"] + 2 * _longest_send())
    moment = datetime.fromtimestamp(record["since"], UTC) - CLOCK_SLACK
    try:
        return sending.find(moment)
    except DeskDirectorError as error:
        _mark(error, "unknown")
        raise


def _wait_until(moment: float) -> None:
    # Bounded: a moment further off would be a clock jump, not a send.
    delay = min(moment - time.time(), 2 * _longest_send())
    if delay > 0:
        time.sleep(delay)


def _mark(error: DeskDirectorError, sent: str) -> None:
    error.sent = sent
    error.draft_saved = keep(request.form)


def _unconfirmed(error: DeskDirectorError) -> bool:
    """Whether DeskDirector may have taken a send that failed this way: anything but a refusal
    (4xx, or 503: not taken in), so a timeout, a lost connection, another server error or an
    unreadable success."""
    status = error.upstream_status
    return not (status and (400 <= status < 500 or status == 503))


def _asks_before_repeating(form: OnceForm, sending: Sending) -> bool:
    if not sending.repeat_text or request.form.get("confirm_repeat"):
        return False
    if _record(_name(form.form_key.data)):
        return False  # this very form was sent or tried before: handled by its key
    sent_at = state().store.get(_repeat_name(sending.repeat_text))
    if not isinstance(sent_at, int | float) or time.time() - sent_at > REPEAT_SECONDS:
        return False
    minutes = max(1, round((time.time() - sent_at) / 60))
    form.repeat_of = f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    return True


# ---- the key's record ------------------------------------------------------------------------
def _name(form_key: str) -> str:
    user = identity.user_record().get("id")
    return hashlib.sha256(f"{session.get('host')}|{user}|{form_key}".encode()).hexdigest()


def _repeat_name(text: str) -> str:
    user = identity.user_record().get("id")
    where = f"{request.endpoint}|{sorted((request.view_args or {}).items())}"
    digest = hashlib.sha256(f"{session.get('host')}|{user}|{where}|{text.strip()}".encode())
    return f"repeat:{digest.hexdigest()}"


def _record(name: str) -> dict | None:
    record = state().store.get(f"outcome:{name}")
    return record if isinstance(record, dict) else None


def _save(name: str, kind: str, attempt: int, *, since: float | None = None,
          target: str | None = None, look_at: float | None = None) -> dict:
    record = {"state": kind, "attempt": attempt, "since": since or time.time(), "target": target,
              "look_at": look_at, "content": _fingerprint(request.form)}
    state().store.set(f"outcome:{name}", record, timeout=_keep_seconds())
    return record


def _longest_send() -> float:
    """How long a send can be on its way: both timeouts, and a moment for ddsite's own work."""
    config = current_app.config
    return config["CONNECT_TIMEOUT"] + config["READ_TIMEOUT"] + 0.5


def _settled(name: str) -> dict:
    """The key's record once no attempt is on its way: waits for one that is; a sending whose
    worker died (older than the longest possible send) counts as unsure."""
    while True:
        record = _record(name) or {"state": "free", "attempt": 0, "since": time.time(),
                                   "target": None}
        if record["state"] != "sending":
            return record
        if time.time() > record["since"] + _longest_send():
            return {**record, "state": "unsure"}
        _pause()


def _pause() -> None:
    time.sleep(0.05)


def _folder() -> str:
    return once_folder(current_app)


def _keep_seconds() -> int:
    # Long enough to cover any resubmit; the file store's Sweeper uses the same setting.
    return current_app.config["ONCE_LIFETIME"]


def sent_already(form: MultiDict) -> bool:
    """Whether this form, with these words, was sent before (by its key)."""
    key = form.get("form_key")
    record = _record(_name(key)) if key else None
    return _sent_with(record, _fingerprint(form))


def _sent_with(record: dict | None, content: str) -> bool:
    return bool(record) and record["state"] == "sent" and record.get("content") in (None, content)


def _fingerprint(form: MultiDict | Mapping) -> str:
    """What the user wrote in a form (every value of every field but the transport's)."""
    lists = form.lists() if isinstance(form, MultiDict) else (
        (k, v if isinstance(v, list) else [v]) for k, v in form.items())
    content = sorted((k, [str(v).strip() for v in values]) for k, values in lists
                     if k not in _NOT_CONTENT)
    return hashlib.sha256(repr(content).encode()).hexdigest()


# ---- drafts ----------------------------------------------------------------------------------
def _draft_name(endpoint: str, view_args: Mapping[str, Any] | None, form_name: str) -> str:
    user = identity.user_record()
    args = ",".join(f"{k}={v}" for k, v in sorted((view_args or {}).items()))
    return f"draft:{session.get('host')}:{user.get('id')}:{endpoint}:{args}:{form_name}"


def keep(form: MultiDict) -> bool:
    """Keep what the user wrote in this POST as a draft, with its key; True when kept.

    Nothing is kept when there is nothing written, or when this form was already sent. Each
    key has its own draft, so two sessions of one user writing on the same page keep both.
    """
    content = {k: v if len(v) > 1 else v[0] for k, v in form.lists() if k not in _NOT_CONTENT}
    if not request.endpoint or not any(str(v).strip() for v in content.values()):
        return False
    if sent_already(form):
        return False
    slot = _draft_name(request.endpoint, request.view_args, form.get("form_name", ""))
    drafts = _drafts(slot)
    drafts[form.get("form_key") or ""] = {"fields": content, "at": time.time()}
    _save_drafts(slot, drafts)
    return True


def _drafts(slot: str) -> dict[str, dict]:
    """The drafts of one form on one page, by form key."""
    data = state().store.get(slot)
    if not isinstance(data, dict):
        return {}
    if not isinstance(data.get("drafts"), dict):  # one draft, as stored before drafts had keys
        return {"": {"fields": data, "at": 0}}
    return data["drafts"]


def _save_drafts(slot: str, drafts: dict[str, dict]) -> None:
    # Read, change, write: two sessions of one user keeping a draft of the same form in the
    # same instant may keep only one of them; anything slower keeps both.
    if drafts:
        state().store.set(slot, {"drafts": drafts}, timeout=current_app.config["DRAFT_LIFETIME"])
    else:
        state().store.delete(slot)


def keep_unsent(error: DeskDirectorError) -> None:
    """An error reached a send-once POST before this request sent anything: keep its text and
    say so, unless another request with the same form (the other half of a double click) sent
    it meanwhile: then say that."""
    if request.method != "POST" or not request.form.get("form_key") or error.sent is not None:
        return
    name = _name(request.form["form_key"])
    deadline = time.time() + _longest_send()
    while _in_flight(name) > 1 and time.time() < deadline:
        _pause()  # a twin is still reading its page; it may yet send this form
    if _settled(name)["state"] == "sent":
        error.sent = "already"
        return
    error.sent = "no"
    error.draft_saved = keep(request.form)


# Requests in flight per form key (a double click sends two at once): counted in before the
# page's own work by hooks.py, and out as the request ends.
def count_in() -> None:
    """Before-request step: count a send-once POST in."""
    key = request.form.get("form_key") if request.method == "POST" else None
    if key and session.get("user"):
        g.once_in_flight = f"in-flight:{_name(key)}"
        count(state().store, _folder(), g.once_in_flight, 1, _IN_FLIGHT_SECONDS)


def count_out(_error: BaseException | None = None) -> None:
    """Teardown step: count a send-once POST out again."""
    counter = g.pop("once_in_flight", None)
    if not counter:
        return
    try:
        count(state().store, _folder(), counter, -1, _IN_FLIGHT_SECONDS)
    except STORE_ERRORS as error:
        # The response is already decided (a 303 after a send, or the store-down page): a
        # failure here must not turn it into a bare 500. The counter expires by itself.
        log.warning("In-flight count not lowered: the session store is not answering (%s)",
                    type(error).__name__)


def _in_flight(name: str) -> int:
    count = state().store.get(f"in-flight:{name}")
    return count if isinstance(count, int) else 0


def restore(form_name: str = "") -> dict | None:
    """The newest draft of a form on this page (pages with two forms name them) that was not
    sent meanwhile, as {"fields", "form_key"}; drafts that were sent are dropped."""
    slot = _draft_name(request.endpoint, request.view_args, form_name)
    drafts = _drafts(slot)
    for key in sorted(drafts, key=lambda k: drafts[k].get("at", 0), reverse=True):
        fields = drafts[key].get("fields")
        record = _record(_name(key)) if key else None
        if isinstance(fields, dict) and not _sent_with(record, _fingerprint(fields)):
            return {"fields": fields, "form_key": key, "record": record}
        del drafts[key]
        _save_drafts(slot, drafts)
    return None


def discard(form_name: str, form_key: str) -> None:
    """Delete the draft written with this key of a form on this page."""
    slot = _draft_name(request.endpoint, request.view_args, form_name)
    drafts = _drafts(slot)
    if drafts.pop(form_key, None) is not None:
        _save_drafts(slot, drafts)


def prepare(form: OnceForm, form_name: str = "") -> OnceForm:
    """Ready a form for showing: refill it from a waiting draft (with a notice), give it a key.

    A draft keeps the key it was written with, so two sessions of one user cannot both send it;
    a draft whose key was sent meanwhile is dropped.
    """
    if request.method == "GET":
        draft = restore(form_name)
        if draft:
            form.process(formdata=MultiDict(draft["fields"]))
            form.form_key.data = draft["form_key"] or None
            form.restored_draft = True
            flash(_restored_notice(draft["record"]), "info")
    if not form.form_key.data:
        form.form_key.data = new_key()
    return form


def _restored_notice(record: dict | None) -> str:
    if record and record["state"] in ("unsure", "sending"):
        return ("What you wrote earlier was kept. DeskDirector did not confirm whether it "
                "arrived; when you send it, ddsite checks first and never sends it twice.")
    return ("What you wrote earlier was kept and has not been sent. Review it, then send it or "
            "discard it.")


def discarded(target: str) -> Response:
    """The user threw away a kept draft (the form says which): delete it and go to `target`."""
    discard(request.form.get("form_name", ""), request.form.get("form_key", ""))
    flash("The kept draft was discarded.", "info")
    return redirect(target, code=303)
