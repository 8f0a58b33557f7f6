"""Agent pages: home, the queue, a ticket with internal notes, notes, updates and quick actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for

from .. import auth, conversation, navigation, sendonce
from ..forms import csrf_input, page_window, ticket_number
from ..pages import PageBlueprint
from ..redirects import local_target
from . import composer, rows, updates
from .forms import VIEW_CHOICES, VIEWS, ConfirmForm, NoteForm, QueueFilterForm, UpdateForm

bp = PageBlueprint("tech", __name__, audience="tech", url_prefix="/tech",
                   nav=[("Home", "home"), ("Queue", "queue", ("ticket", "take", "close"))])

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
    if (number := ticket_number(chosen["q"])) is not None:
        return redirect(url_for(".ticket", ticket_id=number), code=303)
    navigation.remember_list()
    page_wanted = chosen.pop("page")
    skip, take = page_window(page_wanted)
    page, tabs = _view_pages(auth.api(), chosen, skip, take)
    stale_before = datetime.now(UTC) - timedelta(days=current_app.config["STALE_DAYS"])
    return render_template("tech/queue.html", page=page, filters=filters, view_tabs=tabs,
                           stale_before=stale_before, me=auth.current_user().member_id,
                           csrf_input=csrf_input(), page_wanted=page_wanted,
                           queue_rows=rows.queue_rows, **chosen)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
def ticket(ticket_id: int):
    """A ticket: conversation, the composer (note, maybe a status) and the properties form."""
    if request.form.get("discard"):
        return sendonce.discarded(url_for(".ticket", ticket_id=ticket_id))
    tech = auth.api().tech
    page = tech.ticket_with_choices(ticket_id)
    submitted = request.form.get("form_name") if request.method == "POST" else None
    note_form = NoteForm(formdata=request.form if submitted == "note" else None).with_statuses(
        page.statuses)
    update_form = UpdateForm(formdata=request.form if submitted == "update" else None).with_choices(
        page.statuses, page.priorities, page.agents, page.ticket)
    response, conflict = None, []
    if submitted == "note" and note_form.validate():
        response = composer.send(tech, ticket_id, note_form, page.ticket, NOTE_FIELDS,
                                 auth.current_user())
    elif submitted == "update" and update_form.validate():
        outcome = updates.apply(tech, ticket_id, page.ticket, update_form)
        response, conflict = outcome.response, outcome.conflict
    if response:
        return response
    if submitted != "update":
        update_form.load(page.ticket)
    if submitted != "note":
        note_form.remember(page.ticket)
    status = 409 if conflict or note_form.repeat_of else (
        422 if note_form.errors or update_form.errors else 200)
    return render_template(
        "tech/ticket.html", ticket=page.ticket, note_form=sendonce.prepare(note_form, "note"),
        notes=conversation.newest(page.ticket.notes, show_internal=True),
        update_form=sendonce.prepare(update_form, "update"), conflict=conflict,
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
        return redirect(back + navigation.scroll_anchor(), code=303)
    details = auth.api().tech.ticket(ticket_id)
    return render_template("tech/confirm.html", ticket=details, action=action, form=form,
                           back=back)


def _view_pages(api, chosen: dict, skip: int, take: int):
    """The chosen view's page, and the views as tabs with their counts (the other views' counts
    may come from the agent's count cache)."""
    page, counts = api.tech.tickets_and_counts(VIEWS, chosen["view"], search=chosen["q"],
                                               sort=chosen["sort"], skip=skip, take=take)
    urls = view_urls(chosen["sort"], chosen["q"])
    tabs = [{"value": c.value, "label": c.label, "count": counts[c.value], "url": urls[c.value],
             "current": c.value == chosen["view"]} for c in VIEW_CHOICES]
    return page, tabs


# Stands for the view while the tabs' URL is built once (url_for costs tens of microseconds).
_VIEW_PROBE = "ddsite-view-probe"


def view_urls(sort: str, q: str) -> dict[str, str]:
    """Each view's queue URL with this sort and search: `url_for` once, the views (plain words,
    written as they are) filled in. A search holding the stand-in falls back to `url_for` for
    each view."""
    url = url_for(".queue", view=_VIEW_PROBE, sort=sort, q=q)
    if url.count(_VIEW_PROBE) != 1:
        return {view: url_for(".queue", view=view, sort=sort, q=q) for view in VIEWS}
    head, _, tail = url.partition(_VIEW_PROBE)
    return {view: f"{head}{view}{tail}" for view in VIEWS}
