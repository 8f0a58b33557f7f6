"""Dataclasses parsed from DeskDirector's camelCase JSON, tolerant of missing and extra fields."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

# DeskDirector writes up to 7 fractional digits (.NET ticks); Python reads at most 6.
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")


def parse_datetime(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp (any fraction length, Z or offset, naive = UTC); else None."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    whole, fraction, zone = match.groups()
    text = whole + ("." + (fraction + "000000")[:6] if fraction else "")
    if zone and zone != "Z":
        text += zone
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _dict(data: Any) -> dict:
    return data if isinstance(data, dict) else {}


def _list(data: Any) -> list:
    return data if isinstance(data, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Ref:
    """An {id, name} reference: status, priority, request type, account, agent."""

    id: Any
    name: str

    @classmethod
    def parse(cls, data: Any) -> Ref | None:
        """A Ref, or None when data holds no id and no name."""
        data = _dict(data)
        if data.get("id") is None and not data.get("name"):
            return None
        return cls(id=data.get("id"), name=_text(data.get("name")))


@dataclass(frozen=True)
class Status(Ref):
    """A ticket status, and whether it counts as closed."""

    is_closed: bool = False

    @classmethod
    def parse(cls, data: Any) -> Status | None:
        """A Status, or None when data holds no id and no name."""
        ref = Ref.parse(data)
        if ref is None:
            return None
        return cls(id=ref.id, name=ref.name, is_closed=bool(_dict(data).get("isClosed")))


@dataclass(frozen=True)
class Person:
    """Who wrote a note: id, name and DeskDirector's user type."""

    id: Any
    name: str
    user_type: str = ""

    @classmethod
    def parse(cls, data: Any) -> Person | None:
        """A Person, or None when data is empty."""
        data = _dict(data)
        if not data:
            return None
        return cls(id=data.get("id"), name=_text(data.get("name")),
                   user_type=_text(data.get("userType")))


@dataclass(frozen=True)
class User:
    """The signed-in contact or agent, from a who-am-I call."""

    id: Any
    name: str
    user_name: str
    email: str
    company: Ref | None
    user_type: str
    # A contact who may see their company's tickets, not only their own.
    sees_company_tickets: bool = False

    @classmethod
    def parse(cls, data: Any) -> User:
        """Parse a who-am-I reply; only `userName` is confirmed, so everything is optional."""
        data = _dict(data)
        first, last = _text(data.get("firstName")), _text(data.get("lastName"))
        name = _text(data.get("name") or data.get("fullName")) or f"{first} {last}".strip()
        user_name = _text(data.get("userName"))
        company = Ref.parse(data.get("company") or data.get("account"))
        return cls(id=data.get("id") or data.get("userId"), name=name or user_name,
                   user_name=user_name, email=_text(data.get("email") or data.get("emailAddress")),
                   company=company, user_type=_text(data.get("userType")),
                   sees_company_tickets=_dict(data.get("permissions")).get("companyTickets") is True)

    @property
    def member_id(self) -> int | None:
        """An agent's member id, from a user id like `{db}~m~{id}`."""
        return self._numeric_id("m")

    @property
    def contact_id(self) -> int | None:
        """A contact's id, from a user id like `{db}~c~{id}`."""
        return self._numeric_id("c")

    def _numeric_id(self, kind: str) -> int | None:
        match = re.fullmatch(rf".*~{kind}~(\d+)", str(self.id or ""))
        return int(match.group(1)) if match else None

    def to_session(self) -> dict:
        """A plain dict for the session store."""
        return asdict(self)

    @classmethod
    def from_session(cls, data: dict) -> User:
        """Rebuild from `to_session()`."""
        company = data.get("company")
        return cls(**{**data, "company": Ref(**company) if company else None})


@dataclass(frozen=True)
class NotePreview:
    """The latest note on a ticket, as list replies carry it."""

    id: Any
    preview: str
    created_on: datetime | None
    created_by: Person | None

    @classmethod
    def parse(cls, data: Any) -> NotePreview | None:
        """A NotePreview, or None when absent."""
        data = _dict(data)
        if not data:
            return None
        return cls(id=data.get("id"), preview=_text(data.get("notePreview")),
                   created_on=parse_datetime(data.get("createdOn")),
                   created_by=Person.parse(data.get("createdBy")))


@dataclass(frozen=True)
class TicketSummary:
    """One row of a ticket list."""

    id: int | None
    summary: str
    status: Ref | None
    priority: Ref | None
    request_type: Ref | None
    account: Ref | None
    contact: Ref | None
    assigned_agents: list[Ref]
    created_on: datetime | None
    modified_on: datetime | None
    closed_on: datetime | None
    is_closed: bool
    tags: list[str]
    description_preview: str
    latest_note: NotePreview | None

    @classmethod
    def _fields(cls, data: dict) -> dict:
        return {
            "id": _int(data.get("id")),
            "summary": _text(data.get("summary")),
            "status": Ref.parse(data.get("status")),
            "priority": Ref.parse(data.get("priority")),
            "request_type": Ref.parse(data.get("requestType")),
            "account": Ref.parse(data.get("account")),
            "contact": Ref.parse(data.get("contact")),
            "assigned_agents": [r for r in map(Ref.parse, _list(data.get("assignedAgents"))) if r],
            "created_on": parse_datetime(data.get("createdOn")),
            "modified_on": parse_datetime(data.get("modifiedOn")),
            "closed_on": parse_datetime(data.get("closedOn")),
            "is_closed": bool(data.get("isClosed")),
            "tags": [_text(tag) for tag in _list(data.get("tags"))],
            "description_preview": _text(data.get("descriptionPreview")),
            "latest_note": NotePreview.parse(data.get("latestNote")),
        }

    @classmethod
    def parse(cls, data: Any) -> TicketSummary:
        """Parse one list row."""
        return cls(**cls._fields(_dict(data)))

    @property
    def last_activity(self) -> datetime | None:
        """The latest of modified, latest note and created."""
        moments = [self.modified_on, self.created_on,
                   self.latest_note.created_on if self.latest_note else None]
        return max((m for m in moments if m), default=None)


@dataclass(frozen=True)
class Note:
    """One note of a ticket's conversation."""

    id: Any
    text: str
    type: str
    is_internal: bool
    created_on: datetime | None
    created_by: Person | None

    @classmethod
    def parse(cls, data: Any) -> Note:
        """Parse one note."""
        data = _dict(data)
        return cls(id=data.get("id"), text=_text(data.get("note")), type=_text(data.get("type")),
                   is_internal=bool(data.get("isInternal")),
                   created_on=parse_datetime(data.get("createdOn")),
                   created_by=Person.parse(data.get("createdBy")))


@dataclass(frozen=True)
class TaskProgress:
    """Done and total tasks of a ticket."""

    done: int
    total: int


@dataclass(frozen=True)
class Ticket(TicketSummary):
    """A whole ticket with its description and notes (oldest first)."""

    description: str = ""
    notes: list[Note] = field(default_factory=list)
    task_progress: TaskProgress | None = None
    raw_modified_on: str = ""

    @classmethod
    def parse(cls, data: Any) -> Ticket:
        """Parse a ticket reply."""
        data = _dict(data)
        notes = sorted((Note.parse(n) for n in _list(data.get("notes"))),
                       key=lambda n: n.created_on or datetime.min.replace(tzinfo=UTC))
        progress = _dict(data.get("taskProgress"))
        task_progress = None
        if progress:
            task_progress = TaskProgress(done=_int(progress.get("done")) or 0,
                                         total=_int(progress.get("total")) or 0)
        return cls(**cls._fields(data), description=_text(data.get("description")), notes=notes,
                   task_progress=task_progress, raw_modified_on=_text(data.get("modifiedOn")))


@dataclass(frozen=True)
class Page:
    """One page of a list reply: the rows and the total across all pages."""

    items: list
    total: int
    skip: int
    take: int

    @classmethod
    def parse(cls, data: Any, item: type, *, skip: int, take: int) -> Page:
        """Parse `{total, resultsCount, results}` or a bare list."""
        if isinstance(data, list):
            rows, total = data, len(data)
        else:
            data = _dict(data)
            rows = _list(data.get("results"))
            total = _int(data.get("total"))
            total = len(rows) + skip if total is None else total
        return cls(items=[item.parse(row) for row in rows], total=total, skip=skip, take=take)

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when empty)."""
        return self.skip + 1 if self.items else 0

    @property
    def last(self) -> int:
        """1-based number of the last row shown."""
        return self.skip + len(self.items)

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.skip > 0

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one."""
        return self.skip + len(self.items) < self.total


def parse_refs(data: Any) -> list[Ref]:
    """A look-up list (statuses, priorities, agents, request types), bare or wrapped in results."""
    rows = data.get("results") if isinstance(data, dict) else data
    return [ref for ref in map(Ref.parse, _list(rows)) if ref]


def parse_statuses(data: Any) -> list[Status]:
    """The status look-up list, bare or wrapped in results."""
    rows = data.get("results") if isinstance(data, dict) else data
    return [status for status in map(Status.parse, _list(rows)) if status]
