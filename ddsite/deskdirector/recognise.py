"""What a DeskDirector reply looks like: its envelope, vocabulary and id type, what kind of
reply it is, and which model fields ddsite's parsers found in it.

`ddsite probe` describes live replies with it and `ddsite endpoints from-har` matches recorded
ones. The models do the parsing; this module only looks at what they made of a reply, so a
dialect the models learn is recognised here too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .models import Ref, Ticket, TicketSummary, User, list_rows, parse_refs

# Older (v2) word → newer (v4 / Toki Iti) word for the same thing (the models read both).
VOCABULARY = {"notes": "comments", "latestNote": "latestComment", "requestType": "serviceType",
              "board": "queue", "member": "agent", "members": "agents"}


def envelope(data: Any) -> str:
    """The shape around a list: "bare array", "{total, resultsCount, results}", …; or "object"."""
    if isinstance(data, list):
        return "bare array"
    if not isinstance(data, dict):
        return type(data).__name__
    if isinstance(data.get("results"), list):
        extra = [key for key in ("total", "resultsCount", "totalResults") if key in data]
        return "{" + ", ".join([*extra, "results"]) + "}"
    return "object"


def rows(data: Any) -> list | None:
    """The rows of a list reply in any envelope the models know; None when data is not one."""
    found = list_rows(data)
    return None if found is None else found[0]


def vocabulary(data: Any) -> str:
    """Which vocabulary the reply's field names use: "v2 (notes)", "v4 (comments)", "mixed …"."""
    keys = _all_keys(data)
    old = sorted(word for word in VOCABULARY if word in keys)
    new = sorted(word for word in VOCABULARY.values() if word in keys)
    if old and new:
        return f"mixed ({', '.join(old + new)})"
    if new:
        return f"v4 ({', '.join(new)})"
    if old:
        return f"v2 ({', '.join(old)})"
    return ""


def id_type(data: Any) -> str:
    """"string ids", "integer ids" or "" from the `id` values in the reply."""
    kinds = {type(value).__name__ for value in _id_values(data)}
    if kinds == {"str"}:
        return "string ids"
    if kinds == {"int"}:
        return "integer ids"
    return "mixed ids" if kinds else ""


def dialect(data: Any) -> str:
    """One phrase for the operator: envelope, vocabulary and id type."""
    parts = [envelope(data), vocabulary(data), id_type(data)]
    return "; ".join(part for part in parts if part)


def model_fields(items: list) -> tuple[list[str], list[str]]:
    """(found, missing) model fields over parsed items: found when any item has a value.

    True/False fields are left out: False cannot be told apart from absent.
    """
    if not items:
        return [], []
    found, missing = [], []
    for spec in dataclasses.fields(items[0]):
        if spec.name.startswith("raw_") or spec.type in ("bool", bool):
            continue
        values = [getattr(item, spec.name) for item in items]
        (found if any(_present(v) for v in values) else missing).append(spec.name)
    return found, missing


def parse_ticket_list(data: Any) -> list[TicketSummary] | None:
    """The rows as ticket summaries, when the reply is a list of tickets (id and summary)."""
    listed = rows(data)
    if listed is None:
        return None
    items = [TicketSummary.parse(row) for row in listed]
    if not all(item.id is not None and item.summary for item in items):
        return None
    return items


def parse_ticket(data: Any) -> Ticket | None:
    """The ticket, when the reply is one ticket (id and summary)."""
    if not isinstance(data, dict) or rows(data) is not None:
        return None
    ticket = Ticket.parse(data)
    return ticket if ticket.id is not None and ticket.summary else None


def parse_lookup(data: Any) -> list[Ref] | None:
    """The entries, when the reply is a look-up list of {id, name} (and not tickets)."""
    listed = rows(data)
    if not listed or any(isinstance(row, dict) and "summary" in row for row in listed):
        return None
    refs = parse_refs([row for row in listed if isinstance(row, dict)])
    return refs if len(refs) == len(listed) and all(r.id is not None and r.name for r in refs) \
        else None


def parse_user(data: Any) -> User | None:
    """The user, when the reply is a who-am-I answer (it carries a user name)."""
    if not isinstance(data, dict) or rows(data) is not None:
        return None
    user = User.parse(data)
    return user if user.user_name else None


def audience_of(user: User) -> str | None:
    """"portal" for a contact, "tech" for an agent, from the who-am-I reply; None when unclear."""
    kind = user.user_type.lower()
    if user.contact_id is not None or kind in ("client", "contact"):
        return "portal"
    if user.member_id is not None or kind in ("member", "agent"):
        return "tech"
    return None


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _all_keys(data: Any, depth: int = 0) -> set[str]:
    if depth > 4:
        return set()
    if isinstance(data, dict):
        keys = set(data)
        for value in data.values():
            keys |= _all_keys(value, depth + 1)
        return keys
    if isinstance(data, list):
        keys: set[str] = set()
        for value in data[:50]:
            keys |= _all_keys(value, depth + 1)
        return keys
    return set()


def _id_values(data: Any, depth: int = 0) -> list:
    if depth > 4:
        return []
    if isinstance(data, dict):
        found = [data["id"]] if isinstance(data.get("id"), int | str) \
            and not isinstance(data.get("id"), bool) else []
        for value in data.values():
            found.extend(_id_values(value, depth + 1))
        return found
    if isinstance(data, list):
        return [v for item in data[:50] for v in _id_values(item, depth + 1)]
    return []
