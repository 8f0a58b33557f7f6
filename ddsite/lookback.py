"""Finding what a user already sent: their note on a ticket, their new request.

Used after a send that DeskDirector did not confirm (a timeout, a lost connection, a server
error), to tell the user for certain whether it arrived. Matching is by text and author, never
by position: other people write on the same ticket meanwhile.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .deskdirector.faces import PortalFace, TechFace
from .deskdirector.models import Note, Person, TicketSummary, User

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def same_text(stored: str, sent: str) -> bool:
    """Whether DeskDirector's copy is the text that was sent (it may wrap it in HTML)."""
    return _plain(stored) == _plain(sent)


def _plain(text: str) -> str:
    return _SPACE.sub(" ", _TAG.sub(" ", text or "")).strip()


def same_id(left: Any, right: Any) -> bool:
    """Ids compare as the same id whether DeskDirector sent them as numbers or strings."""
    return left is not None and right is not None and str(left).strip() == str(right).strip()


def written_by(person: Person | None, user: User) -> bool:
    """Whether `person` (a note's author) is the signed-in user."""
    if person is None:
        return False
    return any(same_id(person.id, mine) for mine in (user.id, user.contact_id, user.member_id))


def note_by(face: PortalFace | TechFace, ticket_id: int, text: str, user: User,
            since: datetime) -> Note | None:
    """The user's note with this text on the ticket, written since `since` (latest first)."""
    ticket = face.ticket(ticket_id)
    for note in reversed(ticket.notes):
        if note.created_on and note.created_on < since:
            continue
        if written_by(note.created_by, user) and same_text(note.text, text):
            return note
    return None


def request_by(portal: PortalFace, summary: str, user: User,
               since: datetime) -> TicketSummary | None:
    """The contact's request with this summary, raised since `since`."""
    page = portal.tickets(status="any", search=summary[:100], sort="activity", take=20)
    for row in page.items:
        if row.created_on and row.created_on < since:
            continue
        raised_by_me = row.contact is not None and same_id(row.contact.id, user.contact_id)
        if raised_by_me and same_text(row.summary, summary):
            return row
    return None
