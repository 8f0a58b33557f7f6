"""Contact pages: home, my tickets, a ticket with its conversation and a reply, a new request."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from .. import auth, conversation, lookback, navigation, sendonce
from ..deskdirector.errors import Forbidden
from ..forms import page_window, ticket_number
from ..pages import PageBlueprint
from ..sendonce import Sending
from . import rows
from .forms import NewRequestForm, ReplyForm, TicketFilterForm

bp = PageBlueprint("portal", __name__, audience="portal", url_prefix="/portal",
                   nav=[("Home", "home"), ("My tickets", "tickets", ("ticket",)),
                         ("New request", "new_request")])

# The faces' argument names → the form's field names, where they differ.
REPLY_FIELDS = {"text": "note"}
HOME_ROWS = 5  # tickets in each list on the home page


@bp.get("/")
def home():
    """The contact's open tickets and what changed lately, with the way to raise a new one."""
    api = auth.api()
    lists = api.parallel(
        open=lambda: api.portal.tickets(status="open", sort="activity", take=HOME_ROWS),
        recent=lambda: api.portal.tickets(status="any", sort="activity", take=HOME_ROWS))
    return render_template("portal/home.html", user=auth.current_user(), open_rows=rows.open_rows,
                           recent_rows=rows.recent_rows, **lists)


@bp.get("/tickets")
def tickets():
    """The contact's tickets (and the company's, where DeskDirector allows), latest first."""
    filters = TicketFilterForm(request.args)
    chosen = filters.values()
    if (number := ticket_number(chosen["q"])) is not None:
        return redirect(url_for(".ticket", ticket_id=number), code=303)
    navigation.remember_list()
    page_wanted = chosen.pop("page")
    skip, take = page_window(page_wanted)
    page = auth.api().portal.tickets(status=chosen["status"], search=chosen["q"],
                                     sort="activity", skip=skip, take=take)
    return render_template("portal/tickets.html", page=page, filters=filters,
                           page_wanted=page_wanted, me=auth.current_user().contact_id,
                           ticket_rows=rows.ticket_rows, **chosen)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
def ticket(ticket_id: int):
    """A ticket's details and public conversation, with the reply form."""
    form = ReplyForm()
    if request.form.get("discard"):
        return sendonce.discarded(url_for(".ticket", ticket_id=ticket_id))
    if form.validate_on_submit():
        sent = sendonce.send(form, _reply(ticket_id, form.note.data))
        if sent:
            return sent
    details = auth.api().portal.ticket(ticket_id)
    return render_template("portal/ticket.html", ticket=details, form=sendonce.prepare(form),
                           notes=conversation.newest(details.notes, show_internal=False),
                           portal_url=auth.return_url(auth.tenant(), "portal", ticket_id)
                           ), _status(form)


@bp.route("/new", methods=["GET", "POST"])
def new_request():
    """Raise a new request (a follow-up to a closed ticket names it: `?follow_up=N`)."""
    if request.form.get("discard"):
        return sendonce.discarded(url_for(".new_request"))
    api = auth.api()
    choices = api.parallel(request_types=api.portal.request_types,
                           priorities=lambda: _priorities_if_allowed(api.portal))
    form = NewRequestForm().with_choices(choices["request_types"], choices["priorities"])
    if form.validate_on_submit():
        created = sendonce.send(form, _new_request(form))
        if created:
            return created
    if request.method == "GET" and request.args.get("follow_up", "").isdigit():
        form.follow_up(api.portal.ticket(int(request.args["follow_up"])))
    return render_template("portal/new.html", form=sendonce.prepare(form)), _status(form)


def _reply(ticket_id: int, text: str) -> Sending:
    portal, me = auth.api().portal, auth.current_user()
    return Sending(
        send=lambda: portal.add_note(ticket_id, text),
        find=lambda since: lookback.note_by(portal, ticket_id, text, me, since),
        done=lambda note: _done("Your reply was sent.", _note_url(ticket_id, note), "sent"),
        fields=REPLY_FIELDS, repeat_text=text)


def _new_request(form: NewRequestForm) -> Sending:
    portal, me = auth.api().portal, auth.current_user()
    priority = form.priority.chosen if "priority" in form else None
    return Sending(
        send=lambda: portal.create_ticket(summary=form.summary.data,
                                          description=form.description.data or "",
                                          request_type=form.request_type.chosen,
                                          priority=priority),
        find=lambda since: lookback.request_by(portal, form.summary.data, me, since),
        done=lambda ticket: _done(f"Your request #{ticket.id} was raised.",
                                  url_for(".ticket", ticket_id=ticket.id)))


def _note_url(ticket_id: int, note) -> str:
    """The ticket at the note just sent (DeskDirector may answer without the note)."""
    anchor = f"note-{note.id}" if note is not None and note.id is not None else "latest"
    return url_for(".ticket", ticket_id=ticket_id, _anchor=anchor)


def _priorities_if_allowed(portal):
    try:
        return portal.priorities()
    except Forbidden:
        return None  # this contact may not choose a priority


def _done(message: str, target: str, category: str = "success") -> str:
    flash(message, category)
    return target


def _status(form) -> int:
    if form.repeat_of:
        return 409
    return 422 if form.errors or form.form_errors else 200

