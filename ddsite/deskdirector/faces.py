"""One face per audience: `api.portal.*` for contacts, `api.tech.*` for agents.

Faces speak ddsite's models and words; they alone turn them into DeskDirector's wire names, paths
and bodies (in the dialect the endpoint table names), and turn DeskDirector's field errors back
into the names of their own arguments. A reply they cannot make sense of raises `UnknownShape`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import Invalid, UnknownShape
from .lookups import TICKET_COUNT
from .models import (
    Id,
    Note,
    Page,
    Ref,
    Status,
    Ticket,
    TicketSummary,
    User,
    list_rows,
    parse_refs,
    parse_statuses,
    sort_tickets,
)

if TYPE_CHECKING:
    from .client import Client

TICKET_STATES = ("open", "closed", "any")
ASSIGNMENTS = ("me", "assigned", "unassigned", "any")
SORTS = ("activity", "priority", "age")

# What ddsite sends, in each dialect's words.
_NOTE_TEXT = {"v2": "note", "v4": "comment"}
_REQUEST_TYPE = {"v2": "requestType", "v4": "serviceType"}


class _Unchanged:
    """The default of `update_ticket`'s fields: leave this field as it is."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


@dataclass(frozen=True)
class TicketChoices:
    """A ticket with the look-ups an agent edits it with (statuses fit the ticket's queue)."""

    ticket: Ticket
    statuses: list[Status]
    priorities: list[Ref]
    agents: list[Ref]


class _Face:
    """What both faces share: who-am-I, ticket lists, tickets and notes, for one audience."""

    audience = ""
    # DeskDirector's names of a field (both vocabularies) → the face's argument it came from.
    NOTE_FIELDS = {"note": "text", "comment": "text", "isInternal": "internal",
                   "isPublic": "internal"}

    def __init__(self, client: Client) -> None:
        self._client = client

    def _operation(self, name: str) -> str:
        return f"{self.audience}.{name}"

    def _words(self, name: str) -> str:
        return self._client.endpoint(self._operation(name)).words

    def _call(self, name: str, *, fields: Mapping[str, str] | None = None, **kwargs) -> Any:
        """Call this audience's operation `name`; field errors come back under our names."""
        try:
            return self._client.call(self._operation(name), **kwargs)
        except Invalid as error:
            error.field_errors = _renamed(error.field_errors, fields or {})
            raise

    def _object(self, name: str, data: Any, *, required: str | None = None) -> dict:
        if not isinstance(data, dict) or (required and data.get(required) is None):
            what = "an object" + (f" with an {required!r}" if required else "")
            raise UnknownShape(self._operation(name), f"expected {what}, got {_kind(data)}")
        return data

    def _rows(self, name: str, data: Any) -> tuple[list, int]:
        found = list_rows(data)
        if found is None:
            raise UnknownShape(self._operation(name),
                               f"expected a list or a known list envelope, got {_kind(data)}")
        return found

    def _lookup(self, name: str, parse: Callable[[list], list]) -> list:
        rows, _total = self._rows(name, self._call(name))
        return parse(rows)

    def me(self) -> User:
        """Who the token belongs to."""
        return User.parse(self._object("me", self._call("me")))

    def _tickets(self, *, status: str, search: str, sort: str, skip: int, take: int,
                 extra: Mapping[str, str]) -> Page:
        _check("status", status, TICKET_STATES)
        _check("sort", sort, SORTS)
        endpoint = self._client.endpoint(self._operation("tickets"))
        params: dict[str, Any] = {"status": status, **extra}
        if search:
            params["search"] = search
        data = self._call("tickets", params=params, skip=skip, take=take, sort=sort)
        rows, total = self._rows("tickets", data)
        items = [self._numbered("tickets", TicketSummary.parse(row)) for row in rows]
        # The server sent the whole list when it does not page, or ignored skip/take: page here
        # (sorted here too, as the order of a list it did not page cannot be trusted either).
        whole_list = not self.pages_lists() or len(items) > take
        if whole_list or not endpoint.names("sort"):
            items = sort_tickets(items, sort)
        if whole_list:
            return Page(items=items[skip:skip + take], total=len(items), skip=skip, take=take)
        return Page(items=items, total=total, skip=skip, take=take)

    def pages_lists(self) -> bool:
        """Whether the instance pages ticket lists itself (its table names skip and take); when
        not, a list reply holds every ticket and `tickets()` pages it here."""
        endpoint = self._client.endpoint(self._operation("tickets"))
        return endpoint.names("skip") and endpoint.names("take")

    def ticket(self, ticket_id: int) -> Ticket:
        """A whole ticket with its notes (a contact's copy carries no internal note)."""
        data = self._object("ticket", self._call("ticket", ticket_id=ticket_id), required="id")
        return self._numbered("ticket", Ticket.parse(data))

    def _numbered(self, name: str, ticket: TicketSummary) -> TicketSummary:
        """A ticket whose id is a whole number (pages address tickets by number), else the
        reply is of a shape ddsite does not know."""
        if ticket.id is None:
            raise UnknownShape(self._operation(name), "a ticket without a whole-number id")
        return ticket

    def _add_note(self, ticket_id: int, body: dict) -> Note | None:
        data = self._call("add_note", ticket_id=ticket_id, json=body, fields=self.NOTE_FIELDS)
        return Note.parse(data) if isinstance(data, dict) else None

    def priorities(self) -> list[Ref]:
        """The priorities this user may choose from."""
        return self._lookup("priorities", parse_refs)


class PortalFace(_Face):
    """DeskDirector as a contact sees it, in the client portal."""

    audience = "portal"
    REQUEST_FIELDS = {"summary": "summary", "description": "description",
                      "requestType": "request_type", "serviceType": "request_type",
                      "priority": "priority"}

    def tickets(self, *, status: str = "open", search: str = "", sort: str = "activity",
                skip: int = 0, take: int = 20) -> Page:
        """One page of the contact's tickets (and the company's, where DeskDirector allows)."""
        return self._tickets(status=status, search=search, sort=sort, skip=skip, take=take,
                             extra={})

    def add_note(self, ticket_id: int, text: str) -> Note | None:
        """Reply on a ticket as the contact; never retried. Field errors: text."""
        return self._add_note(ticket_id, {_NOTE_TEXT[self._words("add_note")]: text})

    def create_ticket(self, *, summary: str, description: str, request_type: Any,
                      priority: Any = None) -> Ticket:
        """Raise a new request. Field errors: summary, description, request_type, priority."""
        body: dict[str, Any] = {"summary": summary, "description": description,
                                _REQUEST_TYPE[self._words("create_ticket")]: _ref(request_type)}
        if priority is not None:
            body["priority"] = _ref(priority)
        data = self._call("create_ticket", json=body, fields=self.REQUEST_FIELDS)
        return Ticket.parse(self._object("create_ticket", data, required="id"))

    def request_types(self) -> list[Ref]:
        """The kinds of request a contact may raise (service types, in v4's words)."""
        return self._lookup("request_types", parse_refs)


class TechFace(_Face):
    """DeskDirector as an agent sees it, in TECH."""

    audience = "tech"
    UPDATE_FIELDS = {"status": "status", "priority": "priority", "assignedAgents": "assignees"}

    def tickets(self, *, status: str = "open", assigned: str = "any", search: str = "",
                sort: str = "activity", skip: int = 0, take: int = 20) -> Page:
        """One page of the queue: open/closed/any tickets, by assignment (me, unassigned, …)."""
        _check("assigned", assigned, ASSIGNMENTS)
        return self._tickets(status=status, search=search, sort=sort, skip=skip, take=take,
                             extra={"assigned": assigned})

    def tickets_and_counts(self, lists: Mapping[str, tuple[str, str]], shown: str, *,
                           search: str = "", sort: str = "activity", skip: int = 0,
                           take: int = 20) -> tuple[Page, dict[str, int]]:
        """One page of list `shown`, and how many tickets each of `lists` (name → (status,
        assigned)) holds with the search; read concurrently.

        `shown`'s count is its page's own, so always fresh; the others' come from the agent's
        count cache while it holds them (one-row reads otherwise), so they may lag by its life.
        """
        def rows(status: str, assigned: str, skip: int, take: int) -> Callable[[], Page]:
            return lambda: self.tickets(status=status, assigned=assigned, search=search,
                                        sort=sort, skip=skip, take=take)

        def read_page() -> Page:
            status, assigned = lists[shown]
            return self._client.read_counted(
                TICKET_COUNT, rows(status, assigned, skip, take), lambda page: page.total,
                status=status, assigned=assigned, search=search)

        def count(status: str, assigned: str) -> Callable[[], int]:
            one_row = rows(status, assigned, 0, 1)
            return lambda: self._client.count(TICKET_COUNT, lambda: one_row().total,
                                              status=status, assigned=assigned, search=search)

        # The page first: the first call runs on the request's own thread.
        got = self._client.parallel(**{shown: read_page}, **{
            name: count(*wanted) for name, wanted in lists.items() if name != shown})
        page = got.pop(shown)
        return page, {**got, shown: page.total}

    def add_note(self, ticket_id: int, text: str, *, internal: bool = True) -> Note | None:
        """Add a note as the agent, internal unless said otherwise; never retried.
        Field errors: text, internal."""
        words = self._words("add_note")
        visibility = {"isInternal": internal} if words == "v2" else {"isPublic": not internal}
        return self._add_note(ticket_id, {_NOTE_TEXT[words]: text, **visibility})

    def update_ticket(self, ticket_id: int, *, status: Any = UNCHANGED, priority: Any = UNCHANGED,
                      assignees: Any = UNCHANGED) -> Ticket:
        """Change only the fields given (JSON merge-patch); `priority=None` clears the priority,
        `assignees` replaces the whole list. Ids go out as DeskDirector wrote them.
        Field errors: status, priority, assignees."""
        body: dict[str, Any] = {}
        if status is not UNCHANGED:
            body["status"] = _ref(status)
        if priority is not UNCHANGED:
            body["priority"] = None if priority is None else _ref(priority)
        if assignees is not UNCHANGED:
            body["assignedAgents"] = [_ref(agent) for agent in assignees]
        if not body:
            raise ValueError("update_ticket needs at least one field to change")
        data = self._call("update_ticket", ticket_id=ticket_id, json=body,
                          fields=self.UPDATE_FIELDS)
        return Ticket.parse(data) if isinstance(data, dict) and data.get("id") is not None \
            else self.ticket(ticket_id)

    @property
    def statuses_follow_the_queue(self) -> bool:
        """Whether this instance's statuses belong to a queue (the endpoint table says so)."""
        return self._client.endpoint("tech.statuses").names("queue_id")

    def statuses(self, *, queue: Ref | None = None) -> list[Status]:
        """The ticket statuses (of `queue`, where statuses belong to a queue), with which close
        a ticket; none when the instance needs a queue and none is given."""
        queue_id = queue.id if queue else None
        if self.statuses_follow_the_queue and queue_id is None:
            return []
        rows, _total = self._rows("statuses", self._call("statuses", queue_id=queue_id))
        return parse_statuses(rows)

    def agents(self) -> list[Ref]:
        """The agents a ticket may be assigned to."""
        return self._lookup("agents", parse_refs)

    def ticket_with_choices(self, ticket_id: int) -> TicketChoices:
        """A ticket and its look-ups, read concurrently (statuses after the ticket when they
        follow its queue)."""
        def ticket_and_statuses() -> tuple[Ticket, list[Status]]:
            ticket = self.ticket(ticket_id)
            return ticket, self.statuses(queue=ticket.queue)

        # The ticket first: the first read runs on the request's own thread, and the look-ups
        # usually come from the look-up cache.
        calls: dict[str, Callable[[], Any]]
        if self.statuses_follow_the_queue:
            calls = {"ticket_and_statuses": ticket_and_statuses}
        else:
            calls = {"ticket": lambda: self.ticket(ticket_id), "statuses": self.statuses}
        calls.update(priorities=self.priorities, agents=self.agents)
        got = self._client.parallel(**calls)
        ticket, statuses = got.get("ticket_and_statuses") or (got["ticket"], got["statuses"])
        return TicketChoices(ticket=ticket, statuses=statuses, priorities=got["priorities"],
                             agents=got["agents"])


def _ref(value: Any) -> dict:
    """An {id} reference as DeskDirector wrote the id (number or string)."""
    return {"id": value.wire if isinstance(value, Id) else value}


def _kind(data: Any) -> str:
    if isinstance(data, dict):
        keys = ", ".join(sorted(map(str, data))[:6])
        return f"an object with {keys}" if keys else "an empty object"
    return {list: "a list", str: "text", type(None): "nothing"}.get(type(data), type(data).__name__)


def _check(name: str, value: str, allowed: Iterable[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def _renamed(errors: Mapping[str, list[str]], names: Mapping[str, str]) -> dict[str, list[str]]:
    """Field errors under the face's argument names; a name the face does not know is kept."""
    lowered = {wire.lower(): ours for wire, ours in names.items()}
    renamed: dict[str, list[str]] = {}
    for field, messages in errors.items():
        renamed.setdefault(lowered.get(field.lower(), field), []).extend(messages)
    return renamed
