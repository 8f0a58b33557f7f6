"""Ticket list rows written in Python are the rows the template loops wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from markupsafe import Markup

from ddsite.deskdirector.models import NotePreview, Person, Ref
from ddsite.portal.rows import open_rows, recent_rows, ticket_rows
from ddsite.tech.rows import queue_rows

# The pages' loops as they were written in Jinja (the references).
STOCK_PORTAL_LOOP = """\
  {% for t in page.items %}
    <tr>
      <td>#{{ t.id }}</td>
      <td class="summary"><a href="{{ ticket_url(t.id) }}">{{ t.summary or "(no summary)" }}</a>
        {% if t.contact and t.contact.id != me %}<br><span class="muted">Raised by {{ t.contact.name }}</span>{% endif %}</td>
      <td data-label="Status">{{ t.status|badge("status") }}</td>
      <td data-label="Priority">{{ t.priority|badge("priority") }}</td>
      <td data-label="Updated">{{ t.last_activity|time_tag }}</td>
      <td data-label="Assigned to">{{ t.assigned_agents|agent_names }}</td>
    </tr>
  {% endfor %}
"""
STOCK_HOME_OPEN = """\
      {% for t in open.items %}
      <li><div class="line"><a href="{{ ticket_url(t.id) }}">#{{ t.id }} {{ t.summary or "(no summary)" }}</a>
        {{ t.status|badge("status") }}</div>
        <p class="preview">Updated {{ t.last_activity|time_tag }}</p></li>
      {% endfor %}
"""
STOCK_HOME_RECENT = """\
      {% for t in recent.items %}
      <li><div class="line"><a href="{{ ticket_url(t.id) }}">#{{ t.id }} {{ t.summary or "(no summary)" }}</a>
        <span class="muted">{{ t.last_activity|time_tag }}</span></div>
        {% if t.latest_note %}<p class="preview">{{ t.latest_note.created_by.name if t.latest_note.created_by else "Someone" }}: {{ t.latest_note.preview|truncate(120) }}</p>
        {% else %}<p class="preview">{{ t.status.name if t.status else "" }}</p>{% endif %}</li>
      {% endfor %}
"""
STOCK_LOOP = """\
  {% for t in page.items %}
    {% set stale = not t.is_closed and t.last_activity and t.last_activity < stale_before %}
    {% set who = [t.contact, t.account]|joined_names(" · ") %}
    <tr id="t{{ t.id }}"{% if stale %} class="stale"{% endif %}>
      <td>#{{ t.id }}</td>
      <td class="summary" title="{{ t.summary }}"><div class="one-line"><a href="{{ ticket_url(t.id) }}" data-open>{{ t.summary or "(no summary)" }}</a>
        {% if stale %}<span class="badge stale" title="No activity for {{ config.STALE_DAYS }} days or more">Stale</span>{% endif %}</div></td>
      <td class="truncate" data-label="Contact" title="{{ who }}">{{ who or "—" }}</td>
      <td data-label="Status">{{ t.status|badge("status") }}</td>
      <td data-label="Priority">{{ t.priority|badge("priority") }}</td>
      <td data-label="Updated">{{ t.last_activity|time_tag }}</td>
      {%- set assigned = t.assigned_agents|agent_names %}
      <td class="truncate" data-label="Assigned" title="{{ assigned }}">{{ assigned }}</td>
      {% if with_actions %}
      <td class="actions">
        {# Confirmed inline: window.confirm() is blocked in a sandboxed iframe without allow-modals. #}
        {% if me not in t.assigned_agents|ids and not t.is_closed %}
        <details class="confirm">
          <summary aria-label="Take #{{ t.id }}">Take</summary>
          <form method="post" class="quick-action" action="{{ take_url(t.id) }}">
            {{ csrf_input }}<input type="hidden" name="confirmed" value="yes">
            <button type="submit" data-busy-label="Taking…">Yes, assign #{{ t.id }} to me</button>
          </form>
        </details>
        {% endif %}
        {% if not t.is_closed %}
        <details class="confirm">
          <summary aria-label="Close #{{ t.id }}">Close</summary>
          <form method="post" class="quick-action" action="{{ close_url(t.id) }}">
            {{ csrf_input }}<input type="hidden" name="confirmed" value="yes">
            <button type="submit" data-busy-label="Closing…">Yes, close #{{ t.id }}</button>
          </form>
        </details>
        {% endif %}
      </td>
      {% endif %}
    </tr>
  {% endfor %}
"""
HOSTILE = '"><script>alert(1)</script>&\'x'
NOW = datetime.now(UTC)


@dataclass
class Row:
    id: object
    summary: str | None
    is_closed: bool = False
    last_activity: datetime | None = None
    contact: Ref | None = None
    account: Ref | None = None
    status: Ref | None = None
    priority: Ref | None = None
    assigned_agents: list = field(default_factory=list)


TICKETS = [
    Row(1001, "Printer jams", last_activity=NOW - timedelta(days=30), contact=Ref(7, "Olivia"),
        account=Ref(3, "Harbour <Dental>"), status=Ref(1, "New"), priority=Ref(2, "High"),
        assigned_agents=[Ref(201, "Sam"), Ref(202, HOSTILE)]),
    Row(1002, HOSTILE, last_activity=NOW - timedelta(hours=2), status=Ref(6, "Closed"),
        is_closed=True, assigned_agents=[Ref(201, "Sam")]),
    Row(1003, None, contact=Ref(8, ""), account=None),
    Row(1004, "", last_activity=NOW - timedelta(days=400), is_closed=True),
    Row("1005", "String id", last_activity=NOW - timedelta(days=9), assigned_agents=[Ref(203, "Tom")]),
]


@pytest.mark.parametrize("with_actions", [True, False])
@pytest.mark.parametrize("me", [201, 999])
def test_queue_rows_write_what_the_template_loop_wrote(app, with_actions, me):
    shared = {
        "ticket_url": lambda i: f"/tech/tickets/{i}?ddsid=a&b",
        "take_url": lambda i: f"/tech/tickets/{i}/take?next=/tech/queue?view=open%26x",
        "close_url": lambda i: f"/tech/tickets/{i}/close?next=<{i}>",
        "csrf_input": Markup('<input name="csrf_token" type="hidden" value="tok">'),
        "me": me, "stale_before": NOW - timedelta(days=7), "stale_days": 7,
        "with_actions": with_actions}
    page = SimpleNamespace(items=TICKETS)
    stock = app.jinja_env.from_string(STOCK_LOOP).render(page=page, config={"STALE_DAYS": 7},
                                                          **shared)
    # The loop stood after two spaces, as the call now does (Jinja drops the last line break).
    assert "  " + str(queue_rows(TICKETS, **shared)) == stock
    assert 'class="stale"' in stock
    assert ("Yes, assign #1001" in stock) == (with_actions and me != 201)
    assert "<script>" not in stock and queue_rows([], **shared) == ""


@pytest.mark.parametrize("me", [7, 8, None])
def test_portal_ticket_rows_write_what_the_template_loop_wrote(app, me):
    def ticket_url(i):
        return f"/portal/tickets/{i}?ddsid=a&b"

    page = SimpleNamespace(items=TICKETS + [Row(1006, "Mine", contact=Ref(7, HOSTILE))])
    stock = app.jinja_env.from_string(STOCK_PORTAL_LOOP).render(page=page, ticket_url=ticket_url,
                                                                 me=me)
    assert "  " + str(ticket_rows(page.items, ticket_url, me)) == stock
    assert ("Raised by Olivia" in stock) == (me != 7) and "<script>" not in stock


def test_portal_home_lists_write_what_the_template_loops_wrote(app):
    def ticket_url(i):
        return f"/portal/tickets/{i}?ddsid=a&b"

    def note(preview, author):
        return NotePreview(id=1, preview=preview, created_on=NOW, created_by=author)

    notes = [note("Short", Person(1, "Sam <Agent>", "Member")), note(HOSTILE * 9, None),
             note("word " * 30, Person(2, "", "Contact")), note("x" * 124, Person(3, "Al")),
             note("", Person(4, "Empty"))]
    items = []
    for ticket, latest in zip(TICKETS + TICKETS, notes + [None] * 5, strict=True):
        items.append(SimpleNamespace(**vars(ticket), latest_note=latest))
    page = SimpleNamespace(items=items)
    with app.test_request_context("/portal/"):
        for stock_loop, write in ((STOCK_HOME_OPEN, open_rows), (STOCK_HOME_RECENT, recent_rows)):
            stock = app.jinja_env.from_string(stock_loop).render(open=page, recent=page,
                                                                 ticket_url=ticket_url)
            assert "      " + str(write(items, ticket_url)) == stock
            assert "<script>" not in stock
    assert "..." in stock and "Someone:" in stock
