"""Three-way merge of a ticket update: what the agent changed since loading, applied onto the
ticket as it is now.

Pure: values in, values out. Ids are compared as strings, so 7 and "7" are the same id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def _id(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


@dataclass(frozen=True)
class Fields:
    """The ticket fields an agent can update, as ids (strings)."""

    status: str | None
    priority: str | None
    assignees: tuple[str, ...]

    @classmethod
    def of(cls, status: Any, priority: Any, assignees: Iterable[Any]) -> Fields:
        """Fields from ids of any type; blank means none, assignees keep their order."""
        ids = [i for i in map(_id, assignees) if i is not None]
        return cls(_id(status), _id(priority), tuple(dict.fromkeys(ids)))


@dataclass(frozen=True)
class Clash:
    """Both the agent and someone else changed `name`, to different values."""

    name: str
    base: str | None
    mine: str | None
    theirs: str | None


@dataclass(frozen=True)
class Merge:
    """What to send (only what the agent changed, onto the current ticket), what clashes, and
    the values the form should show next (the merged ones; the agent's own where they clash)."""

    changes: dict[str, Any] = field(default_factory=dict)
    clashes: list[Clash] = field(default_factory=list)
    shown: Fields | None = None


def merge(base: Fields, mine: Fields, theirs: Fields) -> Merge:
    """Apply the agent's changes (`base` → `mine`) onto the ticket as it is now (`theirs`)."""
    changes: dict[str, Any] = {}
    clashes: list[Clash] = []
    shown = {}
    for name in ("status", "priority"):
        was, wanted, now = getattr(base, name), getattr(mine, name), getattr(theirs, name)
        shown[name] = now if wanted == was else wanted
        if wanted in (was, now):
            continue
        if now != was:
            clashes.append(Clash(name, was, wanted, now))
        else:
            changes[name] = wanted
    added = [i for i in mine.assignees if i not in base.assignees]
    removed = set(base.assignees) - set(mine.assignees)
    assignees = tuple([i for i in theirs.assignees if i not in removed]
                      + [i for i in added if i not in theirs.assignees])
    if set(assignees) != set(theirs.assignees):
        changes["assignees"] = assignees
    return Merge(changes=changes, clashes=clashes,
                 shown=Fields(shown["status"], shown["priority"], assignees))
