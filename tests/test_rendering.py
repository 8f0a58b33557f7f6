"""Template filters and helpers: the colour family of statuses and priorities, times, badges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import flash, get_flashed_messages

from ddsite.conversation import Window
from ddsite.deskdirector.models import Note, Person, Ref
from ddsite.rendering import (
    _linked_lines,
    agent_names,
    badge,
    ids,
    joined_names,
    note_html,
    priority_tone,
    status_tone,
    time_tag,
)


@pytest.mark.parametrize("name, tone", [
    ("New", "new"), ("Open", "new"), ("In progress", "progress"), ("Scheduled", "progress"),
    ("Waiting on client", "waiting"), ("On hold", "waiting"), ("Pending vendor", "waiting"),
    ("Resolved", "done"), ("Closed", "done"), ("Completed", "done"), ("Escalated", "plain"),
    ("", "plain"), (None, "plain"),
])
def test_status_tone(name, tone):
    assert status_tone(name) == tone


@pytest.mark.parametrize("name, tone", [
    ("Low", "low"), ("Medium", "medium"), ("Normal", "medium"), ("High", "high"),
    ("Critical", "critical"), ("P1 - Urgent", "critical"), ("Emergency", "critical"),
    ("Whenever", "plain"),
])
def test_priority_tone(name, tone):
    assert priority_tone(name) == tone


HOSTILE = '<script>alert("x")</script>&'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;"


def test_time_tag_shows_how_long_ago_with_the_exact_time_on_hover():
    moment = datetime.now(UTC) - timedelta(minutes=5, seconds=3)
    exact = moment.strftime("%-d %b %Y, %H:%M UTC")
    assert time_tag(moment) == (f'<time datetime="{moment.isoformat()}" title="{exact}">'
                                "5 minutes ago</time>")
    assert time_tag(None) == "—"


def test_time_tag_of_one_instant_in_two_zones_differs_only_where_the_zone_shows():
    utc = datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    local = utc.astimezone(timezone(timedelta(hours=2)))  # 1 Mar, 01:30 there
    assert utc == local
    assert time_tag(utc) == ('<time datetime="2024-02-29T23:30:00+00:00" '
                             'title="29 Feb 2024, 23:30 UTC">29 Feb 2024</time>')
    assert time_tag(local) == ('<time datetime="2024-02-29T23:30:00+00:00" '
                               'title="29 Feb 2024, 23:30 UTC">1 Mar 2024</time>')


def test_badge_escapes_the_name_and_picks_the_colour_family():
    assert badge(Ref(1, "Waiting on client"), "status") == (
        '<span class="badge badge-status tone-waiting">Waiting on client</span>')
    assert badge(Ref(2, "Critical"), "priority") == (
        '<span class="badge badge-priority tone-critical">Critical</span>')
    assert badge(Ref(3, HOSTILE), "status") == (
        f'<span class="badge badge-status tone-plain">{ESCAPED}</span>')
    assert badge(None, "status") == "—"


def test_agent_names_are_escaped_and_comma_separated():
    assert agent_names([Ref(1, "Sam"), Ref(2, HOSTILE)]) == f"Sam, {ESCAPED}"
    assert agent_names([]) == agent_names(None) == "Unassigned"


def test_ids_and_joined_names():
    refs = [Ref(1, "Sam"), Ref("2", ""), Ref(None, HOSTILE)]
    assert ids(refs) == [1, "2", None]
    assert joined_names([refs[0], None, refs[1], refs[2]], " · ") == f"Sam · {HOSTILE}"
    assert joined_names([None, None], " · ") == ""


def test_the_macros_pages_import_write_what_the_helpers_write(app):
    """Pages' own templates may still import when, badge and agents from _macros.html."""
    moment = datetime.now(UTC) - timedelta(days=3)
    refs = [Ref(1, HOSTILE), Ref(2, "Sam")]
    template = app.jinja_env.from_string(
        '{% from "_macros.html" import when, badge, agents %}'
        '{{ when(m) }}|{{ when(None) }}|{{ badge(r, "priority") }}|{{ badge(None, "status") }}|'
        '{{ agents(refs) }}|{{ agents([]) }}')
    with app.test_request_context("/"):
        assert template.render(m=moment, r=refs[0], refs=refs) == "|".join([
            time_tag(moment), "—", badge(refs[0], "priority"), "—", agent_names(refs),
            "Unassigned"])


# The conversation macro as it was written in Jinja: the Python `conversation` filter must write
# exactly what it wrote.
STOCK_CONVERSATION = """\
{% macro conversation(window) -%}
{% if window.hidden %}
<p class="earlier"><a href="{{ window.earlier_url }}">Show {{ window.more }} earlier note{{ "s" if window.more != 1 }}</a>
  <span class="muted">({{ window.hidden }} not shown)</span></p>
{% endif %}
{% if window.notes %}
<ol class="conversation">
  {% for note in window.notes %}
  {% set from_agent = note.created_by and note.created_by.user_type == "Member" %}
  <li class="note {{ 'from-agent' if from_agent else 'from-contact' }}{% if note.is_internal %} internal{% endif %}"{% if loop.last %} id="latest"{% endif %}>
    <header{% if note.id is not none %} id="note-{{ note.id }}"{% endif %}>
      <span class="author">{{ note.created_by.name if note.created_by else "Unknown" }}
        <span class="role">{{ "Support team" if from_agent else "Contact" }}</span>
        {% if note.is_internal %}<span class="badge internal">Internal note</span>{% endif %}</span>
      {{ note.created_on|time_tag }}
    </header>
    <div class="note-body">{{ note.text|note_html }}</div>
    {% if loop.last %}{{ sent_confirmation() }}{% endif %}
  </li>
  {% endfor %}
</ol>
{% else %}
<p class="muted">No messages yet.</p>
{% endif %}
{%- endmacro %}


{% macro sent_confirmation() -%}
{# A "sent" confirmation stands beside what was sent (the latest note), not at the top of the page. #}
{% for message in get_flashed_messages(category_filter=["sent"]) %}
<p class="notice notice-success sent-confirmation" role="status">{{ message }}</p>
{% endfor %}
{%- endmacro %}
"""

AGENT, CONTACT = Person(201, "Sam <Agent>", "Member"), Person(7, HOSTILE, "Contact")


def _note(number, text, author, internal=False, note_id="auto"):
    return Note(id=number if note_id == "auto" else note_id, text=text, type="", is_internal=internal,
                created_on=datetime(2026, 10, number % 28 + 1, 9, 30, tzinfo=UTC), created_by=author)


CONVERSATIONS = {
    "empty": ([], 0),
    "one": ([_note(1, "Hello", CONTACT)], 0),
    "mixed, some hidden": ([_note(1, "Plain\nlines with https://example.com/a?b=1&c=2.", CONTACT),
                            _note(2, "<p>HTML <script>x()</script><b>kept</b></p>", AGENT, True),
                            _note(3, "", None), _note(4, HOSTILE, AGENT, note_id=None),
                            _note(5, "Last one", Person(9, None, "Member"), True)], 21),
    "only hidden": ([], 3),
    "one hidden": ([_note(6, "x", AGENT)], 1),
}


@pytest.mark.parametrize("name", CONVERSATIONS)
@pytest.mark.parametrize("flashes", [[], [("sent", "Your reply <b>was</b> sent."), ("info", "x"),
                                           ("sent", "Status set.")]])
def test_the_conversation_filter_writes_what_the_jinja_macro_wrote(app, name, flashes):
    notes, hidden = CONVERSATIONS[name]
    window = Window(notes=notes, hidden=hidden,
                    earlier_url=f"/tech/tickets/5?notes=40&x=<{name}>#conversation" if hidden else None)
    stock = app.jinja_env.from_string(STOCK_CONVERSATION)
    fast = app.jinja_env.from_string("{{ window|conversation }}")
    imported = app.jinja_env.from_string(
        '{% from "_macros.html" import conversation %}{{ conversation(window) }}')
    written = []
    for render in (lambda: str(stock.make_module().conversation(window)),
                   lambda: fast.render(window=window), lambda: imported.render(window=window)):
        with app.test_request_context("/tech/tickets/5"):
            for category, message in flashes:
                flash(message, category)
            written.append(render())
            left = get_flashed_messages(with_categories=True)  # what the page's banner would show
        written.append(left)
    assert written[0] == written[2] == written[4]
    assert written[1] == written[3] == written[5]
    if notes and flashes:
        assert "Your reply &lt;b&gt;was&lt;/b&gt; sent." in written[0]


@pytest.mark.parametrize("text", [
    "One line", "Two\nlines", "CR\r\nLF and\rCR", "Odd breaks\x0bvertical\x0cform\x1cfile\x85next"
    "\u2028line\u2029para", "Trailing break\n", "\n\nLeading breaks", "a < b && \"c\" > 'd'\n<3 <= 4>",
    "Almost a link: htt://x and www.example.com", "Quotes ' and \" and &amp; already",
])
def test_a_note_without_links_is_written_as_the_line_by_line_path_writes_it(text):
    assert "http" not in text
    assert str(note_html(text)) == str(_linked_lines(text))


def test_a_note_with_a_link_still_gets_it_linked():
    assert str(note_html("See https://example.com/a?b=1&c=2.\nThanks")) == (
        'See <a href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer nofollow">https://example.com/a?b=1&amp;c=2</a>.<br>\nThanks')
