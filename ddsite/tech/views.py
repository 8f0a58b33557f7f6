"""Agent pages: home, the queue, a ticket with internal notes, notes, updates and quick actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from .. import auth, conversation, drafts
from ..forms import page_window
from ..redirects import local_target
from ..submit import send_once
from . import updates
from .forms import VIEWS, ConfirmForm, NoteForm, QueueFilterForm, UpdateForm

bp = Blueprint("tech", __name__, url_prefix="/tech")
auth.protect(bp, "tech")

# The faces' argument names → the form's field names, where they differ.
NOTE_FIELDS = {"text": "note", "internal": "visibility"}


@bp.get("/")
def home():
    """Who is signed in."""
    return render_template("tech/home.html", user=auth.current_user())


@bp.get("/queue")
def queue():
    """Tickets by view (mine, unassigned, all open, closed), searched, sorted and paged."""
    filters = QueueFilterForm(request.args)
    chosen = filters.values()
    status, assigned = VIEWS[chosen["view"]]
    page_wanted = chosen.pop("page")
    skip, take = page_window(page_wanted)
    page = auth.api().tech.tickets(status=status, assigned=assigned, search=chosen["q"],
                                   sort=chosen["sort"], skip=skip, take=take)
    stale_before = datetime.now(UTC) - timedelta(days=current_app.config["STALE_DAYS"])
    return render_template("tech/queue.html", page=page, filters=filters, stale_before=stale_before,
                           me=auth.current_user().member_id, action_form=ConfirmForm(),
                           page_wanted=page_wanted, **chosen)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
def ticket(ticket_id: int):
    """A ticket with internal notes, the note form and the update form."""
    if request.form.get("discard"):
        return drafts.discarded(url_for(".ticket", ticket_id=ticket_id))
    tech = auth.api().tech
    page = tech.ticket_with_choices(ticket_id)
    submitted = request.form.get("form_name") if request.method == "POST" else None
    note_form = NoteForm(formdata=request.form if submitted == "note" else None)
    update_form = UpdateForm(formdata=request.form if submitted == "update" else None).with_choices(
        page.statuses, page.priorities, page.agents, page.ticket)
    response, conflict = None, []
    if submitted == "note" and note_form.validate():
        response = send_once(note_form, NOTE_FIELDS, lambda: _add_note(tech, ticket_id, note_form),
                             lambda _note: _done("Your note was added.", ticket_id, "latest"))
    elif submitted == "update" and update_form.validate():
        outcome = updates.apply(tech, ticket_id, page.ticket, update_form)
        response, conflict = outcome.response, outcome.conflict
    if response:
        return response
    if submitted != "update":
        update_form.load(page.ticket)
    status = 409 if conflict else (422 if note_form.errors or update_form.errors else 200)
    return render_template(
        "tech/ticket.html", ticket=page.ticket, note_form=drafts.prepare(note_form, "note"),
        notes=conversation.newest(page.ticket.notes, show_internal=True),
        update_form=drafts.prepare(update_form, "update"), conflict=conflict,
        portal_url=auth.return_url(auth.tenant(), "tech", ticket_id)), status


@bp.route("/tickets/<int:ticket_id>/take", methods=["GET", "POST"])
def take(ticket_id: int):
    """Quick action: assign the ticket to me (confirmed first)."""
    return _quick_action(ticket_id, "take")


@bp.route("/tickets/<int:ticket_id>/close", methods=["GET", "POST"])
def close(ticket_id: int):
    """Quick action: close the ticket (confirmed first)."""
    return _quick_action(ticket_id, "close")


def _quick_action(ticket_id: int, action: str):
    form = ConfirmForm()
    back = local_target(request.args.get("next"), "/tech/", url_for(".queue"))
    if request.method == "POST" and form.validate() and form.confirmed.data == "yes":
        message = updates.quick_action(auth.api().tech, ticket_id, action, auth.current_user())
        flash(message, "success")
        return redirect(back, code=303)
    details = auth.api().tech.ticket(ticket_id)
    return render_template("tech/confirm.html", ticket=details, action=action, form=form,
                           back=back)


def _add_note(tech, ticket_id: int, form: NoteForm):
    return tech.add_note(ticket_id, form.note.data, internal=form.visibility.data == "internal")


def _done(message: str, ticket_id: int, anchor: str | None = None) -> str:
    flash(message, "success")
    return url_for(".ticket", ticket_id=ticket_id, _anchor=anchor)
