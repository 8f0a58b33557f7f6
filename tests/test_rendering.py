"""Template filters and helpers: the colour family of statuses and priorities, times, badges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ddsite.deskdirector.models import Ref
from ddsite.rendering import agent_names, badge, ids, joined_names, priority_tone, status_tone, time_tag


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
