"""Ticket updates by PATCH: only what the agent changed, and never over someone else's change."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response

from .. import sendonce
from ..deskdirector.errors import Forbidden
from ..deskdirector.faces import TechFace
from ..deskdirector.models import Id, Ticket, User
from ..sendonce import Sending
from .forms import UpdateForm, fields_of
from .merge import Clash, merge

_FIELD_LABELS = {"status": "Status", "priority": "Priority"}


@dataclass
class Outcome:
    """Either a response to return (sent, or nothing to send) or the clashes to resolve."""

    response: Response | None = None
    conflict: list[str] = field(default_factory=list)


def apply(tech: TechFace, ticket_id: int, current: Ticket, form: UpdateForm) -> Outcome:
    """PATCH what the agent changed onto the ticket as it is now; when someone else changed the
    same field meanwhile, send nothing and show both values for the agent to choose."""
    result = merge(form.loaded(), form.wanted(), fields_of(current))
    target = url_for(".ticket", ticket_id=ticket_id)
    if result.clashes:
        conflict = describe_clashes(form, result.clashes)
        form.remember(current)  # pressing Update again applies the agent's choice to this version
        form.show(result.shown)
        return Outcome(conflict=conflict)
    if not result.changes:
        flash("Nothing was changed, so nothing was sent.", "info")
        return Outcome(response=redirect(target, code=303))
    changes = upstream_changes(form, result.changes)
    moved = current.raw_modified_on != form.loaded_modified_on.data
    what = describe_changes(form, result.changes, fields_of(current).assignees)

    def updated(_ticket) -> str:
        flash(" ".join(["The ticket was updated.", *what] + (
            ["Someone else changed it meanwhile; their changes were kept."] if moved else [])),
            "success")
        return target

    return Outcome(response=sendonce.send(form, Sending(
        send=lambda: tech.update_ticket(ticket_id, **changes), done=updated)))


def upstream_changes(form: UpdateForm, changes: dict) -> dict:
    """The merged changes by the names `api.tech.update_ticket` takes, ids as DeskDirector wrote
    them (a priority of None clears it)."""
    upstream: dict = {}
    if "status" in changes:
        upstream["status"] = form.status.id_for(changes["status"])
    if "priority" in changes:
        upstream["priority"] = form.priority.id_for(changes["priority"])
    if "assignees" in changes:
        upstream["assignees"] = [form.assignees.id_for(i) for i in changes["assignees"]]
    return upstream


def describe_changes(form: UpdateForm, changes: dict, assigned_now: tuple[str, ...]) -> list[str]:
    """What an update changes, in words (one sentence per field), so the agent can check it."""
    lines = []
    for name in ("status", "priority"):
        if name in changes:
            value = changes[name]
            label = dict(_labels(getattr(form, name).choices)).get(value, value)
            lines.append(f"{_FIELD_LABELS[name]}: {label}." if value
                         else f"{_FIELD_LABELS[name]} cleared.")
    if "assignees" in changes:
        names = dict(_labels(form.assignees.choices))
        wanted = changes["assignees"]
        added = [names.get(i, f"agent {i}") for i in wanted if i not in assigned_now]
        removed = [names.get(i, f"agent {i}") for i in assigned_now if i not in wanted]
        if added:
            lines.append(f"Assigned: {', '.join(added)}.")
        if removed:
            lines.append(f"No longer assigned: {', '.join(removed)}.")
    return lines


def describe_clashes(form: UpdateForm, clashes: list[Clash]) -> list[str]:
    """Each field both changed, with both values, in words."""
    labels = {"status": dict(_labels(form.status.choices)),
              "priority": dict(_labels(form.priority.choices))}
    lines = []
    for clash in clashes:
        named = labels[clash.name]
        mine, theirs, base = (named.get(v, "none") if v else "none"
                              for v in (clash.mine, clash.theirs, clash.base))
        lines.append(f"{_FIELD_LABELS[clash.name]}: you chose {mine}; meanwhile it was changed "
                     f"to {theirs} (it was {base}).")
    return lines


def _labels(choices) -> list[tuple[str, str]]:
    return [(str(c.value), c.label) for c in choices]


def quick_action(tech: TechFace, ticket_id: int, action: str, me: User) -> str:
    """Take (assign to me) or close a ticket; returns what happened, in words."""
    current = tech.ticket(ticket_id)
    if action == "take":
        if me.member_id is None:
            raise Forbidden("DeskDirector did not say which agent you are, so the ticket cannot "
                            "be assigned to you.")
        assigned = [a.id for a in current.assigned_agents]
        if me.member_id in assigned:
            return f"#{ticket_id} is already assigned to you."
        mine = Id.like(me.member_id, next(iter(current.ids()), None))
        tech.update_ticket(ticket_id, assignees=[*assigned, mine])
        return f"#{ticket_id} is now assigned to you."
    if current.is_closed:
        return f"#{ticket_id} is already closed."
    statuses = tech.statuses(queue=current.queue)
    closing = [s for s in statuses if s.is_closed] or [s for s in statuses
                                                        if s.name.lower() == "closed"]
    if not closing:
        raise Forbidden("DeskDirector has no status that closes this ticket.")
    if current.status and current.status.id in {s.id for s in closing}:
        return f"#{ticket_id} is already closed."
    chosen = next((s for s in closing if s.name.lower() == "closed"), closing[0])
    tech.update_ticket(ticket_id, status=chosen.id)
    return f"#{ticket_id} was closed ({chosen.name})."
