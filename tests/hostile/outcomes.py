"""The suite's tally: each case's status, and every kind of problem found, for the run's summary."""

from __future__ import annotations

from collections import Counter

STATUSES: Counter[str] = Counter()
PROBLEMS: Counter[str] = Counter({kind: 0 for kind in (
    "unexpected status", "unhandled 5xx", "token in a response", "token in a log line",
    "foreign data", "fixation",
    "unsafe markup", "unsafe redirect", "missing security header", "write that should not happen",
    "write that did not happen")})


def record(status_label: str, problems: list[str]) -> None:
    """Count one case: its outcome and its problems (by kind)."""
    STATUSES[status_label] += 1
    for problem in problems:
        PROBLEMS[problem.split(":", 1)[0]] += 1


def summary_lines() -> list[str]:
    """What the run prints: cases by outcome, then problems by kind (all should be 0)."""
    total = sum(STATUSES.values())
    lines = [f"hostile inputs: {total} cases, by outcome:"]
    lines += [f"  {label:<28} {count:>4}" for label, count in sorted(STATUSES.items())]
    lines.append("problems found:")
    lines += [f"  {kind:<28} {count:>4}" for kind, count in PROBLEMS.items()]
    return lines
