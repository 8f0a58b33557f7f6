"""A contact's ticket list rows, written in Python: the list page's longest loop.

Written here they cost a fraction of the template loop they replace, with the same markup byte
for byte (a test holds the two equal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from markupsafe import Markup, escape

from ..rendering import agent_names, badge, time_tag


def ticket_rows(tickets: Iterable, ticket_url: Callable[[int], str], me: object) -> Markup:
    """The rows of "My tickets" (what the page's `{% for t in page.items %}` loop wrote);
    tickets another contact raised say who."""
    return Markup("".join(_row(t, ticket_url, me) for t in tickets))


def _row(t, ticket_url: Callable[[int], str], me: object) -> str:
    contact = t.contact
    raised_by = (f'<br><span class="muted">Raised by {escape(contact.name)}</span>'
                 if contact and contact.id != me else "")
    return (f"\n    <tr>\n      <td>#{escape(t.id)}</td>\n"
            f'      <td class="summary"><a href="{escape(ticket_url(t.id))}">'
            f'{escape(t.summary or "(no summary)")}</a>\n'
            f"        {raised_by}</td>\n"
            f'      <td data-label="Status">{badge(t.status, "status")}</td>\n'
            f'      <td data-label="Priority">{badge(t.priority, "priority")}</td>\n'
            f'      <td data-label="Updated">{time_tag(t.last_activity)}</td>\n'
            f'      <td data-label="Assigned to">{agent_names(t.assigned_agents)}</td>\n'
            f"    </tr>\n  ")
