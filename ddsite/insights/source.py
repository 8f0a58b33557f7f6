"""Where Insights gets its tickets: every ticket the user may see, read page by page concurrently.

The only Insights module that calls the DeskDirector client, so a change of the client's face is
a change here alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..deskdirector.client import Client
from ..deskdirector.errors import Forbidden
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

    The first page and the priorities are read together; then the other pages, all at once.
    """
    start = api.parallel(first=_page_reader(api, audience, 0),
                         priorities=lambda: priority_order(api, audience))
    return _all_pages(api, audience, start["first"]), start["priorities"]


def _all_pages(api: Client, audience: str, first) -> TicketSet:
    rows = list(first.items)
    wanted = min(first.total, MAX_TICKETS)
    # A server that ignores skip/take sends everything at once: nothing more to ask for.
    skips = [] if len(rows) >= wanted or len(rows) > PAGE_TAKE else range(PAGE_TAKE, wanted, PAGE_TAKE)
    pages = api.parallel(**{f"skip{skip}": _page_reader(api, audience, skip) for skip in skips})
    for skip in skips:
        rows.extend(pages[f"skip{skip}"].items)
    unique = list({ticket.id: ticket for ticket in rows}.values())
    return TicketSet(tickets=unique[:MAX_TICKETS], total=max(first.total, len(unique)),
                     pages_read=1 + len(skips))


def _page_reader(api: Client, audience: str, skip: int):
    return lambda: api.tickets(audience, status="any", skip=skip, take=PAGE_TAKE)


def priority_order(api: Client, audience: str) -> list[Ref]:
    """DeskDirector's priorities in its own order; none when a contact may not see them."""
    try:
        return api.lookup(f"{audience}.priorities")
    except Forbidden:
        return []
