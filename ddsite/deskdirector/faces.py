"""One face per audience: `api.portal.*` for contacts, `api.tech.*` for agents.

Faces speak ddsite's models and words; they alone turn them into DeskDirector's wire names, paths
and bodies, and turn DeskDirector's field errors back into the names of their own arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import Invalid
from .models import Note, Page, Ref, Status, Ticket, TicketSummary, User, parse_refs, parse_statuses

if TYPE_CHECKING:
    from .client import Client

TICKET_STATES = ("open", "closed", "any")
ASSIGNMENTS = ("me", "assigned", "unassigned", "any")
SORTS = ("activity", "priority", "age")


class _Unchanged:
    """The default of `update_ticket`'s fields: leave this field as it is."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


class _Face:
    """What both faces share: who-am-I, ticket lists, tickets and notes, for one audience."""

    audience = ""
    # DeskDirector's name of a field → the name of the face's argument it came from.
    NOTE_FIELDS = {"note": "text", "isInternal": "internal"}

    def __init__(self, client: Client) -> None:
        self._client = client

    def _operation(self, name: str) -> str:
        return f"{self.audience}.{name}"

    def _call(self, name: str, *, fields: Mapping[str, str] | None = None, **kwargs) -> Any:
        """Call this audience's operation `name`; field errors come back under our names."""
        try:
            return self._client.call(self._operation(name), **kwargs)
        except Invalid as error:
            error.field_errors = _renamed(error.field_errors, fields or {})
            raise

    def me(self) -> User:
        """Who the token belongs to."""
        return User.parse(self._call("me"))

    def _tickets(self, *, status: str, search: str, sort: str, skip: int, take: int,
                 extra: Mapping[str, str]) -> Page:
        _check("status", status, TICKET_STATES)
        _check("sort", sort, SORTS)
        params: dict[str, Any] = {"status": status, "skip": skip, "take": take, **extra}
        if search:
            params["search"] = search
        params["orderBy"] = sort  # activity | age | priority: an assumption, see endpoints.py
        data = self._call("tickets", params=params)
        return Page.parse(data, TicketSummary, skip=skip, take=take)

    def ticket(self, ticket_id: int) -> Ticket:
        """A whole ticket with its notes (a contact's copy carries no internal note)."""
        return Ticket.parse(self._call("ticket", ticket_id=ticket_id))

    def priorities(self) -> list[Ref]:
        """The priorities this user may choose from."""
        return parse_refs(self._call("priorities"))


class PortalFace(_Face):
    """DeskDirector as a contact sees it, in the client portal."""

    audience = "portal"
    REQUEST_FIELDS = {"summary": "summary", "description": "description",
                      "requestType": "request_type", "priority": "priority"}

    def tickets(self, *, status: str = "open", search: str = "", sort: str = "activity",
                skip: int = 0, take: int = 20) -> Page:
        """One page of the contact's tickets (and the company's, where DeskDirector allows)."""
        return self._tickets(status=status, search=search, sort=sort, skip=skip, take=take,
                             extra={})

    def add_note(self, ticket_id: int, text: str) -> Note | None:
        """Reply on a ticket as the contact; never retried. Field errors: text."""
        return _note(self._call("add_note", ticket_id=ticket_id, json={"note": text},
                                fields=self.NOTE_FIELDS))

    def create_ticket(self, *, summary: str, description: str, request_type: Any,
                      priority: Any = None) -> Ticket:
        """Raise a new request. Field errors: summary, description, request_type, priority."""
        body: dict[str, Any] = {"summary": summary, "description": description,
                                "requestType": {"id": request_type}}
        if priority is not None:
            body["priority"] = {"id": priority}
        return Ticket.parse(self._call("create_ticket", json=body, fields=self.REQUEST_FIELDS))

    def request_types(self) -> list[Ref]:
        """The kinds of request a contact may raise."""
        return parse_refs(self._call("request_types"))


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

    def add_note(self, ticket_id: int, text: str, *, internal: bool = True) -> Note | None:
        """Add a note as the agent, internal unless said otherwise; never retried.
        Field errors: text, internal."""
        return _note(self._call("add_note", ticket_id=ticket_id,
                                json={"note": text, "isInternal": internal},
                                fields=self.NOTE_FIELDS))

    def update_ticket(self, ticket_id: int, *, status: Any = UNCHANGED, priority: Any = UNCHANGED,
                      assignees: Any = UNCHANGED) -> Ticket:
        """Change only the fields given (JSON merge-patch); `priority=None` clears the priority,
        `assignees` replaces the whole list. Field errors: status, priority, assignees."""
        body: dict[str, Any] = {}
        if status is not UNCHANGED:
            body["status"] = {"id": status}
        if priority is not UNCHANGED:
            body["priority"] = None if priority is None else {"id": priority}
        if assignees is not UNCHANGED:
            body["assignedAgents"] = [{"id": agent} for agent in assignees]
        if not body:
            raise ValueError("update_ticket needs at least one field to change")
        return Ticket.parse(self._call("update_ticket", ticket_id=ticket_id, json=body,
                                       fields=self.UPDATE_FIELDS))

    def statuses(self) -> list[Status]:
        """The ticket statuses, with which of them close a ticket."""
        return parse_statuses(self._call("statuses"))

    def agents(self) -> list[Ref]:
        """The agents a ticket may be assigned to."""
        return parse_refs(self._call("agents"))


def _note(data: Any) -> Note | None:
    return Note.parse(data) if isinstance(data, dict) else None


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
