"""Dataclasses parsed from DeskDirector's camelCase JSON, tolerant of missing and extra fields.

Both vocabularies are read: v2's notes, request types, members and boards, and v4's comments,
service types, agents and queues. Ids may be numbers or strings; either way they become `Id`s,
which compare by their text, so 21 and "21" are the same id everywhere.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

# DeskDirector writes up to 7 fractional digits (.NET ticks); Python reads at most 6.
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")


def parse_datetime(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp (any fraction length, Z or offset, naive = UTC); else None."""
    if not isinstance(value, str):
        return None
    return _parsed_time(str(value))


# The same few hundred times (a queue's rows) come back on every load of a list: each is read
# once. A datetime cannot change.
@functools.lru_cache(maxsize=4096)
def _parsed_time(value: str) -> datetime | None:
    value = value.strip()
    # The pattern says which shapes are accepted; Python (3.11+) reads every one of them,
    # fractions beyond microseconds cut off, with no rewriting of the text first.
    if not _TIMESTAMP.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def _dict(data: Any) -> dict:
    return data if isinstance(data, dict) else {}


def _list(data: Any) -> list:
    return data if isinstance(data, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _first(data: dict, *names: str) -> Any:
    """The first of `names` that `data` holds (not None): one field, several vocabularies."""
    for name in names:
        value = data.get(name)
        if value is not None:
            return value
    return None


class Id(str):
    """A DeskDirector id, compared by its text (21 == Id("21")); `wire` is the value as sent."""

    wire: Any

    def __new__(cls, value: Any) -> Id:
        if isinstance(value, Id):
            return value
        made = super().__new__(cls, str(value))
        made.wire = value
        return made

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str | int) and not isinstance(other, bool):
            return str.__eq__(self, str(other))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __reduce__(self):
        return (Id, (self.wire,))

    @classmethod
    def like(cls, value: Any, sample: Id | None) -> Id:
        """`value` as an Id written the way `sample` is (a string where the instance uses them)."""
        return cls(str(value) if sample is not None and isinstance(sample.wire, str) else value)


def parse_id(value: Any) -> Id | None:
    """An `Id`, or None for a missing, empty or non-scalar value."""
    kind = type(value)
    if kind is int or (kind is str and value):  # nearly every id: checked first, and cheaply
        return Id(value)
    if value is None or value == "" or isinstance(value, bool | dict | list | float):
        return None
    return Id(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _name(data: dict) -> str:
    name = _text(_first(data, "name", "fullName", "displayName"))
    if name:
        return name
    return f"{_text(data.get('firstName'))} {_text(data.get('lastName'))}".strip()


@dataclass(frozen=True)
class Ref:
    """An {id, name} reference: status, priority, request type, account, agent."""

    id: Any
    name: str

    @classmethod
    def parse(cls, data: Any) -> Ref | None:
        """A Ref, or None when data holds no id and no name."""
        key = None
        if type(data) is dict and len(data) == 2 and cls is Ref:
            # Nearly every reference is a plain {id, name}, and the same few (statuses,
            # priorities, accounts, agents) come back in every row of every list: each is made
            # once. A Ref cannot change, and one made from the same id and name is equal.
            ref_id, name = data.get("id"), data.get("name")
            if type(ref_id) in _PLAIN_IDS and type(name) is str:  # so 1.0 or True never finds 1
                key = (ref_id, name)
                ref = _REFS.get(key)
                if ref is not None:
                    return ref
        if not isinstance(data, dict) or not data:
            return None
        name = _name(data)
        ref_id = parse_id(data.get("id"))
        if ref_id is None and not name:
            return None
        ref = cls(id=ref_id, name=name)
        if key is not None and ref_id is not None and key[1] == name:
            if len(_REFS) >= _REFS_KEPT:
                _REFS.clear()
            _REFS[key] = ref
        return ref


# Refs made from plain {id, name} rows, by (id, name) as sent; started afresh when this full.
_REFS: dict[tuple, Ref] = {}
_REFS_KEPT = 4096
_PLAIN_IDS = (int, str)


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
        return cls(id=parse_id(data.get("id")), name=_name(data),
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
        name = _name(data)
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
        """A plain dict for the session store (ids as their text)."""
        data = asdict(self)
        data["id"] = None if self.id is None else str(self.id)
        if self.company:
            data["company"] = {"id": None if self.company.id is None else str(self.company.id),
                               "name": self.company.name}
        return data

    @classmethod
    def from_session(cls, data: dict) -> User:
        """Rebuild from `to_session()`."""
        company = data.get("company")
        company = Ref(id=parse_id(company["id"]), name=company["name"]) if company else None
        return cls(**{**data, "company": company})


# One field, both vocabularies (v2 first, then v4 and shapes seen elsewhere).
_NOTE_TEXT_FIELDS = ("note", "comment", "body", "text", "content")
_PREVIEW_FIELDS = ("notePreview", "commentPreview", "preview")
_NOTES_FIELDS = ("notes", "comments")
_LATEST_NOTE_FIELDS = ("latestNote", "latestComment")
_REQUEST_TYPE_FIELDS = ("requestType", "serviceType")
_AGENTS_FIELDS = ("assignedAgents", "assignedMembers", "agents", "members")
_QUEUE_FIELDS = ("queue", "board")
_COMPANY_FIELDS = ("account", "company")


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
        return cls(id=parse_id(data.get("id")),
                   preview=_text(_first(data, *_PREVIEW_FIELDS, *_NOTE_TEXT_FIELDS)),
                   created_on=parse_datetime(data.get("createdOn")),
                   created_by=Person.parse(_first(data, "createdBy", "author")))


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
    queue: Ref | None = None

    @classmethod
    def _fields(cls, data: dict) -> dict:
        status = Status.parse(data.get("status"))
        closed_on = parse_datetime(data.get("closedOn"))
        is_closed = data.get("isClosed")
        if not isinstance(is_closed, bool):
            # No isClosed on the ticket: its status says, else whether it has a closing date.
            is_closed = status.is_closed if status and "isClosed" in _dict(data.get("status")) \
                else closed_on is not None
        agents = _first(data, *_AGENTS_FIELDS)
        return {
            "id": _int(data.get("id")),
            "summary": _text(_first(data, "summary", "subject", "title")),
            "status": status,
            "priority": Ref.parse(data.get("priority")),
            "request_type": Ref.parse(_first(data, *_REQUEST_TYPE_FIELDS)),
            "account": Ref.parse(_first(data, *_COMPANY_FIELDS)),
            "contact": Ref.parse(data.get("contact")),
            "assigned_agents": [r for r in map(Ref.parse, _list(agents)) if r],
            "created_on": parse_datetime(data.get("createdOn")),
            "modified_on": parse_datetime(data.get("modifiedOn")),
            "closed_on": closed_on,
            "is_closed": is_closed,
            "tags": [_text(tag) for tag in _list(data.get("tags"))],
            "description_preview": _text(data.get("descriptionPreview")),
            "latest_note": NotePreview.parse(_first(data, *_LATEST_NOTE_FIELDS)),
            "queue": Ref.parse(_first(data, *_QUEUE_FIELDS)),
        }

    @classmethod
    def parse(cls, data: Any) -> TicketSummary:
        """Parse one list row."""
        return cls(**cls._fields(_dict(data)))

    def ids(self) -> list[Id]:
        """The ids of what the ticket refers to (agents, status, priority, …), to learn how the
        instance writes ids."""
        refs = [*self.assigned_agents, self.status, self.priority, self.queue, self.contact,
                self.account, self.request_type]
        return [ref.id for ref in refs if ref is not None and ref.id is not None]

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
        return cls(id=parse_id(data.get("id")), text=_text(_first(data, *_NOTE_TEXT_FIELDS)),
                   type=_text(data.get("type")), is_internal=_is_internal(data),
                   created_on=parse_datetime(data.get("createdOn")),
                   created_by=Person.parse(_first(data, "createdBy", "author")))


def _is_internal(data: dict) -> bool:
    """Whether a note row is for agents only (v2's isInternal, v4's isPublic, or its type)."""
    internal = data.get("isInternal")
    if isinstance(internal, bool):
        return internal
    public = data.get("isPublic")
    if isinstance(public, bool):
        return not public
    return _text(_first(data, "visibility", "type")).lower() == "internal"


# DeskDirector's own way of writing a time: UTC, always the same number of fraction digits.
_UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
# Every digit written as 0: the shape of a time, whatever moment it names.
_SHAPE = bytes.maketrans(b"123456789", b"000000000")


def _written_in_order(times: list) -> bool:
    """Whether `times` are all written in one fixed-width UTC shape and already in order.

    Such times order as text exactly as they do as moments, so a conversation that arrives in
    order (as DeskDirector sends it) needs no time parsed to be known to be in order. The shape
    is checked on all the times at once, in C: a pattern run over a thousand of them cost more
    than the rest of reading the conversation.
    """
    if not times:
        return True
    try:
        shapes = "".join(times).encode("ascii").translate(_SHAPE)
    except (TypeError, UnicodeEncodeError):  # a time missing, not text, or not a time
        return False
    width = len(times[0])
    first = shapes[:width]
    if shapes != first * len(times) or len(set(map(len, times))) > 1 \
            or not _UTC_TIME.fullmatch(first.decode("ascii")):
        return False
    return all(map(operator.le, times, islice(times, 1, None)))


class Notes(Sequence[Note]):
    """A ticket's conversation, oldest first, each note parsed from its row when first read.

    A page shows the newest few notes of what may be a thousand, so only those are ever parsed
    in full; ordering needs at most each row's time, and leaving out internal notes a flag.
    """

    __slots__ = ("_rows", "_parsed")

    def __init__(self, rows: Iterable[dict] = ()) -> None:
        self._rows = list(rows)  # as DeskDirector sent them, in the order they were written
        self._parsed: list[Note | None] = [None] * len(self._rows)

    @classmethod
    def parse(cls, rows: Any) -> Notes:
        """The notes of a reply's rows, oldest first (rows without a readable time first)."""
        rows = [row if isinstance(row, dict) else {} for row in _list(rows)]  # _dict, inline
        if not _written_in_order([row.get("createdOn") for row in rows]):
            # Stable: rows written at the same moment keep DeskDirector's order.
            rows.sort(key=lambda row: parse_datetime(row.get("createdOn")) or _EPOCH)
        return cls(rows)

    def public(self) -> Notes:
        """Only the notes a contact may see (internal ones left out before anyone counts)."""
        return Notes(row for row in self._rows if not _is_internal(row))

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._note(i) for i in range(*index.indices(len(self._rows)))]
        if index < 0:
            index += len(self._rows)
        if not 0 <= index < len(self._rows):
            raise IndexError("note index out of range")
        return self._note(index)

    def _note(self, index: int) -> Note:
        note = self._parsed[index]
        if note is None:
            note = self._parsed[index] = Note.parse(self._rows[index])
        return note

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Notes | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  (a sequence, compared by its notes)

    def __repr__(self) -> str:
        return f"<Notes: {len(self)}>"


@dataclass(frozen=True)
class TaskProgress:
    """Done and total tasks of a ticket."""

    done: int
    total: int


@dataclass(frozen=True)
class Ticket(TicketSummary):
    """A whole ticket with its description and notes (oldest first)."""

    description: str = ""
    notes: Notes = field(default_factory=Notes)
    task_progress: TaskProgress | None = None
    raw_modified_on: str = ""

    @classmethod
    def parse(cls, data: Any) -> Ticket:
        """Parse a ticket reply."""
        data = _dict(data)
        notes = Notes.parse(_first(data, *_NOTES_FIELDS))
        progress = _dict(data.get("taskProgress"))
        task_progress = None
        if progress:
            task_progress = TaskProgress(done=_int(progress.get("done")) or 0,
                                         total=_int(progress.get("total")) or 0)
        return cls(**cls._fields(data), description=_text(data.get("description")), notes=notes,
                   task_progress=task_progress, raw_modified_on=_text(data.get("modifiedOn")))


@dataclass(frozen=True)
class Page:
    """One page of a list: the rows shown and the total across all pages."""

    items: list
    total: int
    skip: int
    take: int

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


def list_rows(data: Any) -> tuple[list, int] | None:
    """The rows and total of a list reply in any known envelope; None for an unknown shape.

    Known: a bare array; `{results, totalResults}` (admin connector); `{total, resultsCount,
    results}` (TECH connector).
    """
    if isinstance(data, list):
        return data, len(data)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return None
    rows = data["results"]
    total = _int(_first(data, "total", "totalResults"))
    return rows, len(rows) if total is None else max(total, len(rows))


def parse_refs(rows: list) -> list[Ref]:
    """A look-up list's rows (statuses, priorities, agents, request types) as Refs."""
    return [ref for ref in map(Ref.parse, rows) if ref]


def parse_statuses(rows: list) -> list[Status]:
    """The status look-up list's rows, with which of them close a ticket."""
    return [status for status in map(Status.parse, rows) if status]


def _rank(ref: Ref | None) -> tuple[int, float, str]:
    """Order of a priority: by its number where the id is one, else by name."""
    if ref is None or ref.id is None:
        return (0, 0.0, "")
    text = str(ref.id)
    return (1, float(text), "") if text.lstrip("-").isdigit() else (1, 0.0, ref.name)


_EPOCH = datetime.min.replace(tzinfo=UTC)
SORT_KEYS = {  # ddsite's sort words → (key, newest/highest first)
    "activity": (lambda t: t.last_activity or _EPOCH, True),
    "age": (lambda t: t.created_on or _EPOCH, False),
    "priority": (lambda t: (_rank(t.priority), t.last_activity or _EPOCH), True),
}


def sort_tickets(tickets: list[TicketSummary], sort: str) -> list[TicketSummary]:
    """Tickets in ddsite's order `sort` (activity | age | priority), for when the server did not."""
    key, reverse = SORT_KEYS[sort]
    return sorted(tickets, key=key, reverse=reverse)
