"""Where Insights gets its tickets: every ticket the user may see, read page by page concurrently.

The only Insights module that calls DeskDirector (through the audience's face of the client).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..deskdirector.client import Client
from ..deskdirector.errors import Forbidden
from ..deskdirector.faces import PortalFace, TechFace
from ..deskdirector.models import Ref, TicketSummary

PAGE_TAKE = 100
# Enough for any help desk's recent history; beyond it the page says how many it counted.
MAX_TICKETS = 5000


@dataclass(frozen=True)
class TicketSet:
    """The tickets read, and how many DeskDirector said there are."""

    tickets: list[TicketSummary]
    total: int
    pages_read: int


def read(api: Client, audience: str) -> tuple[TicketSet, list[Ref]]:
    """Every ticket (open and closed) the user may see, and the priorities in DeskDirector's order.

    The first page and the priorities are read together; then the other pages, all at once. An
    instance that does not page its lists sends every ticket in the first reply.
    """
    face = api.face(audience)
    take = PAGE_TAKE if face.pages_lists() else MAX_TICKETS
    start = api.parallel(first=_page_reader(face, 0, take),
                         priorities=lambda: priority_order(face))
    return _all_pages(api, face, start["first"], take), start["priorities"]


def _all_pages(api: Client, face: PortalFace | TechFace, first, take: int) -> TicketSet:
    rows = list(first.items)
    wanted = min(first.total, MAX_TICKETS)
    # The rest of the pages, all at once (a list the server did not page came whole already).
    skips = [] if len(rows) >= wanted else range(take, wanted, take)
    pages = api.parallel(**{f"skip{skip}": _page_reader(face, skip, take) for skip in skips})
    for skip in skips:
        rows.extend(pages[f"skip{skip}"].items)
    unique = list({ticket.id: ticket for ticket in rows}.values())
    return TicketSet(tickets=unique[:MAX_TICKETS], total=max(first.total, len(unique)),
                     pages_read=1 + len(skips))


def _page_reader(face: PortalFace | TechFace, skip: int, take: int):
    return lambda: face.tickets(status="any", skip=skip, take=take)


def priority_order(face: PortalFace | TechFace) -> list[Ref]:
    """DeskDirector's priorities in its own order; none when a contact may not see them."""
    try:
        return face.priorities()
    except Forbidden:
        return []
