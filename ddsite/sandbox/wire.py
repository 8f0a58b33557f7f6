"""How the sandbox writes and reads each dialect: v2 as the help desk stores it, and v4.

v4 is the other dialect a real instance may speak: string ids, comments (not notes), service types
(not request types), a queue on every ticket with statuses of its own, and list replies that are
neither paged nor sorted. The sandbox shares no code with ddsite's client apart from the endpoint
table, so contract tests between the two prove something.
"""

from __future__ import annotations

from typing import Any

QUEUES = {1: "Service desk", 2: "Projects"}


def queue_of(ticket: dict) -> int:
    """The queue a ticket belongs to (every fifth ticket is a project)."""
    return 2 if ticket["id"] % 5 == 0 else 1


def _status_id(queue: int, status: int) -> str:
    """In v4 each queue has statuses of its own: queue 1's "In progress" is "12", queue 2's "22"."""
    return str(queue * 10 + status)


class WireError(ValueError):
    """A value the dialect does not accept; the message names the field."""


class Wire:
    """One dialect's shapes; v2 is the help desk's own, so it passes through unchanged."""

    def __init__(self, dialect: str) -> None:
        if dialect not in ("v2", "v4"):
            raise ValueError(f"unknown dialect {dialect!r}; the sandbox speaks v2 and v4")
        self.dialect = dialect
        self.v4 = dialect == "v4"
        # v4 comments by note id: a note never changes once written (see HelpDesk.note_json).
        self._comments: dict[int, dict] = {}

    # ---- out -------------------------------------------------------------------------------
    def ticket(self, data: dict, ticket: dict) -> dict:
        """A ticket (or list row) in this dialect, from the help desk's v2 shape."""
        if not self.v4:
            return data
        queue = queue_of(ticket)
        out = {key: value for key, value in data.items()
               if key not in ("requestType", "latestNote", "notes")}
        out.update({
            "id": str(data["id"]),
            "serviceType": self.ref(data.get("requestType")),
            "account": self.ref(data.get("account")), "contact": self.ref(data.get("contact")),
            "priority": self.ref(data.get("priority")),
            "status": {"id": _status_id(queue, data["status"]["id"]), "name": data["status"]["name"]},
            "assignedAgents": [self.ref(agent) for agent in data.get("assignedAgents", [])],
            "queue": {"id": str(queue), "name": QUEUES[queue]},
        })
        latest = data.get("latestNote")
        out["latestComment"] = None if latest is None else {
            "id": str(latest["id"]), "commentPreview": latest["notePreview"],
            "createdOn": latest["createdOn"], "author": latest["createdBy"]}
        if "notes" in data:
            out["comments"] = [self.note(note) for note in data["notes"]]
        return out

    def note(self, data: dict) -> dict:
        """A note (v2) or comment (v4)."""
        if not self.v4:
            return data
        comment = self._comments.get(data["id"])
        if comment is None:
            comment = self._comments[data["id"]] = {
                "id": str(data["id"]), "comment": data["note"], "isPublic": not data["isInternal"],
                "createdOn": data["createdOn"], "author": data["createdBy"]}
        return comment

    def ref(self, data: dict | None) -> dict | None:
        """An {id, name} reference with the dialect's ids."""
        if data is None or not self.v4:
            return data
        return {**data, "id": str(data["id"])}

    def listing(self, rows: list[dict]) -> dict:
        """A ticket list's envelope (the TECH connector's, in both dialects)."""
        return {"total": len(rows), "resultsCount": len(rows), "results": rows}

    def lookup(self, rows: list[dict]) -> Any:
        """A look-up list: a bare array in v2, the admin connector's envelope in v4."""
        if not self.v4:
            return rows
        refs = [self.ref(row) for row in rows]
        return {"results": refs, "totalResults": len(refs)}

    def statuses(self, rows: list[dict], queue: int) -> Any:
        """A queue's statuses: in v4 each queue has its own status ids."""
        if not self.v4:
            return rows
        scoped = [{**row, "id": _status_id(queue, row["id"])} for row in rows]
        return {"results": scoped, "totalResults": len(scoped)}

    # ---- in --------------------------------------------------------------------------------
    def read_id(self, value: Any, field: str) -> Any:
        """An id sent by the client, as the help desk stores it; v4 takes strings only."""
        if not self.v4:
            return value
        if not isinstance(value, str) or not value.isdigit():
            raise WireError(f"{field}: ids are strings in this API, e.g. \"21\", not {value!r}")
        return int(value)

    def read_status(self, value: Any, ticket: dict | None) -> Any:
        """A status id: in v4 it must be one of the ticket's queue's statuses."""
        if not self.v4:
            return value
        if not isinstance(value, str) or not value.isdigit():
            raise WireError(f"status: ids are strings in this API, e.g. \"12\", not {value!r}")
        queue, status = divmod(int(value), 10)
        if ticket is not None and queue != queue_of(ticket):
            raise WireError(f"status {value!r} is not a status of this ticket's queue")
        return status
