"""The agent's composer: a note (public or internal) and, in the same submit, a new status."""

from __future__ import annotations

from flask import flash, url_for
from werkzeug.wrappers import Response

from ..deskdirector.errors import DeskDirectorError
from ..deskdirector.faces import TechFace
from ..deskdirector.models import Ticket
from ..submit import send_once
from .forms import NoteForm


def send(tech: TechFace, ticket_id: int, form: NoteForm, current: Ticket,
         fields: dict[str, str]) -> Response | None:
    """Add the note once; then set the chosen status, and say next to the note what happened."""
    internal = form.visibility.data == "internal"

    def sent(_note) -> str:
        said = "Your internal note was added." if internal else "Your reply was sent to the contact."
        flash(said + _set_status(tech, ticket_id, form, current), "sent")
        return url_for(".ticket", ticket_id=ticket_id, _anchor="latest")

    return send_once(form, fields, lambda: tech.add_note(ticket_id, form.note.data,
                                                         internal=internal), sent)


def _set_status(tech: TechFace, ticket_id: int, form: NoteForm, current: Ticket) -> str:
    # The note is already sent: a status that cannot be set is told, and never sends it again.
    status_id = form.status_to_set()
    if status_id is None:
        return ""
    name = next((str(c.label) for c in form.then_status.choices if c.value == status_id), "")
    now = current.status
    now_id = "" if now is None or now.id is None else str(now.id)
    if now_id == str(status_id):
        return f" The status was already {name}."
    if now_id != form.status_when_loaded.data:
        return (f" The status was not changed: someone set it to "
                f"{now.name if now else 'none'} meanwhile.")
    try:
        tech.update_ticket(ticket_id, status=status_id)
    except DeskDirectorError as error:
        return f" The status was not changed: {error.message}"
    return f" Status set to {name}."
