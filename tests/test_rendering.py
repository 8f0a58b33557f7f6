"""Template filters: the colour family of statuses and priorities."""

from __future__ import annotations

import pytest

from ddsite.rendering import priority_tone, status_tone


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
