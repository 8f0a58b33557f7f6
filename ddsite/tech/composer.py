"""The agent's composer: a note (public or internal) and, in the same submit, a new status."""

from __future__ import annotations

from flask import flash, url_for
from werkzeug.wrappers import Response

from .. import lookback, sendonce
from ..deskdirector.errors import DeskDirectorError
from ..deskdirector.faces import TechFace
from ..deskdirector.models import Ticket, User
from ..sendonce import Sending
from .forms import NoteForm


def send(tech: TechFace, ticket_id: int, form: NoteForm, current: Ticket,
         fields: dict[str, str], me: User) -> Response | None:
    """Add the note once; then set the chosen status, and say next to the note what happened."""
    internal, text = form.visibility.data == "internal", form.note.data

    def sent(note) -> str:
        said = "Your internal note was added." if internal else "Your reply was sent to the contact."
        flash(said + _set_status(tech, ticket_id, form, current), "sent")
        anchor = f"note-{note.id}" if note is not None and note.id is not None else "latest"
        return url_for(".ticket", ticket_id=ticket_id, _anchor=anchor)

    return sendonce.send(form, Sending(
        send=lambda: tech.add_note(ticket_id, text, internal=internal),
        find=lambda since: lookback.note_by(tech, ticket_id, text, me, since),
        done=sent, fields=fields, repeat_text=text))


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
