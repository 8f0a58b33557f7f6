"""Contact pages: home, my tickets, a ticket with its conversation and a reply, a new request."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from .. import auth, drafts, navigation
from ..deskdirector.errors import Forbidden
from ..forms import page_window, ticket_number
from ..pages import PageBlueprint
from ..submit import send_once
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
    return render_template("portal/home.html", user=auth.current_user(), **lists)


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
                           page_wanted=page_wanted, me=auth.current_user().contact_id, **chosen)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
def ticket(ticket_id: int):
    """A ticket's details and public conversation, with the reply form."""
    form = ReplyForm()
    if request.form.get("discard"):
        return drafts.discarded(url_for(".ticket", ticket_id=ticket_id))
    if form.validate_on_submit():
        sent = send_once(form, REPLY_FIELDS,
                         lambda: auth.api().portal.add_note(ticket_id, form.note.data),
                         lambda _note: _done("Your reply was sent.",
                                             url_for(".ticket", ticket_id=ticket_id,
                                                     _anchor="latest"), "sent"))
        if sent:
            return sent
    details = auth.api().portal.ticket(ticket_id)
    return render_template("portal/ticket.html", ticket=details, form=drafts.prepare(form),
                           portal_url=auth.return_url(auth.tenant(), "portal", ticket_id)
                           ), _status(form)


@bp.route("/new", methods=["GET", "POST"])
def new_request():
    """Raise a new request."""
    if request.form.get("discard"):
        return drafts.discarded(url_for(".new_request"))
    api = auth.api()
    choices = api.parallel(request_types=api.portal.request_types,
                           priorities=lambda: _priorities_if_allowed(api.portal))
    form = NewRequestForm().with_choices(choices["request_types"], choices["priorities"])
    if form.validate_on_submit():
        priority = form.priority.chosen if "priority" in form else None
        created = send_once(form, {}, lambda: api.portal.create_ticket(
            summary=form.summary.data, description=form.description.data or "",
            request_type=form.request_type.chosen, priority=priority),
            lambda ticket: _done(f"Your request #{ticket.id} was raised.",
                                 url_for(".ticket", ticket_id=ticket.id)))
        if created:
            return created
    return render_template("portal/new.html", form=drafts.prepare(form)), _status(form)


def _priorities_if_allowed(portal):
    try:
        return portal.priorities()
    except Forbidden:
        return None  # this contact may not choose a priority


def _done(message: str, target: str, category: str = "success") -> str:
    flash(message, category)
    return target


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200

