"""Prints the hostile-input suite's tally at the end of the run."""

from __future__ import annotations

from .outcomes import STATUSES, summary_lines


def pytest_terminal_summary(terminalreporter) -> None:
    if STATUSES:
        terminalreporter.section("hostile inputs")
        for line in summary_lines():
            terminalreporter.write_line(line)
