"""Ticket updates by PATCH: only what the agent changed, and never over someone else's change."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response

from ..deskdirector.errors import Forbidden
from ..deskdirector.faces import TechFace
from ..deskdirector.models import Id, Ticket, User
from ..submit import send_once
from .forms import UpdateForm


@dataclass
class Outcome:
    """Either a response to return (sent, or nothing to send) or the changes that conflict."""

    response: Response | None = None
    conflict: list[str] = field(default_factory=list)


def apply(tech: TechFace, ticket_id: int, current: Ticket, form: UpdateForm) -> Outcome:
    """PATCH the agent's changes, unless the ticket moved since the form was loaded."""
    if current.raw_modified_on != form.loaded_modified_on.data:
        conflict = describe_conflict(form, current)
        form.remember(current)  # pressing Update again applies the agent's values to this version
        return Outcome(conflict=conflict)
    changes = form.changes()
    target = url_for(".ticket", ticket_id=ticket_id)
    if not changes:
        flash("Nothing was changed, so nothing was sent.", "info")
        return Outcome(response=redirect(target, code=303))

    def updated(_ticket) -> str:
        flash("The ticket was updated.", "success")
        return target

    return Outcome(response=send_once(form, {}, lambda: tech.update_ticket(ticket_id, **changes),
                                      updated))


def describe_conflict(form: UpdateForm, current: Ticket) -> list[str]:
    """What changed upstream since the form was loaded, in words."""
    statuses = {str(c.value): c.label for c in form.status.choices}
    priorities = {str(c.value): c.label for c in form.priority.choices}
    agents = {str(c.value): c.label for c in form.assignees.choices}
    changes = []
    now_status = str(current.status.id) if current.status else ""
    if now_status != form.loaded_status.data:
        changes.append(f"Status: {statuses.get(form.loaded_status.data, 'none')} → "
                       f"{current.status.name if current.status else 'none'}")
    now_priority = str(current.priority.id) if current.priority else ""
    if now_priority != form.loaded_priority.data:
        changes.append(f"Priority: {priorities.get(form.loaded_priority.data, 'none')} → "
                       f"{current.priority.name if current.priority else 'none'}")
    loaded = [i for i in form.loaded_assignees.data.split(",") if i]
    now = [str(a.id) for a in current.assigned_agents]
    if sorted(loaded) != sorted(now):
        before = ", ".join(agents.get(i, f"#{i}") for i in loaded) or "nobody"
        after = ", ".join(a.name for a in current.assigned_agents) or "nobody"
        changes.append(f"Assigned agents: {before} → {after}")
    if not changes:
        changes.append("Other details changed, for example a new note.")
    return changes


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
