"""The soak in its short form: nothing lost, nothing doubled, no unhandled error, every kept draft
restorable. The full run: `.venv/bin/python tests/load/soak.py --users 50 --seconds 180`; with
`--redis` it keeps sessions in a Redis that is restarted mid-run."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from .soak import Soak


@pytest.fixture(autouse=True)
def gunicorn_installed():
    if not Path(sys.executable).with_name("gunicorn").exists():
        pytest.fail("gunicorn is missing: pip install -e '.[test]' installs it")


@pytest.fixture
def quiet_simulated_browsers(caplog):
    # The simulated browsers open ddsite with ?access_token= as DeskDirector does; that is their
    # own request line, not something ddsite logs, so their HTTP library stays quiet.
    caplog.set_level(logging.WARNING, logger="urllib3")
    caplog.set_level(logging.WARNING, logger="werkzeug")


def _assert_nothing_lost_or_doubled(report) -> None:
    print("\n" + "\n".join(report.lines()))
    assert report.attempted >= 20, "the soak hardly ran"
    assert report.lost == 0 and report.doubled == 0
    assert report.restore_failed == 0  # every kept draft came back
    assert report.unhandled == 0


def test_short_soak_with_the_file_store(quiet_simulated_browsers):
    _assert_nothing_lost_or_doubled(Soak(users=10, seconds=15, workers=2).run())

