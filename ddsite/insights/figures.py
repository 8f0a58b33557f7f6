"""Insights figures from a list of tickets: open by status, priority and age, weekly flow, time to close."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..deskdirector.models import Ref, TicketSummary

PERIODS = (4, 12, 26)
DEFAULT_PERIOD = 12
# Age of an open ticket: (label, upper bound); the last bucket has none.
AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("Under a day", timedelta(days=1)),
    ("1–7 days", timedelta(days=7)),
    ("1–4 weeks", timedelta(days=28)),
    ("1–3 months", timedelta(days=91)),
    ("Over 3 months", None),
)
NO_PRIORITY = "No priority"
NO_STATUS = "No status"


@dataclass(frozen=True)
class Series:
    """One named row of numbers, one per category of its chart."""

    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    """What one chart shows: categories, one or more series, and a sentence that sums it up."""

    key: str
    title: str
    description: str
    category_heading: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]

    @property
    def rows(self) -> list[tuple[str, tuple[int, ...]]]:
        """(category, values of each series), for the data table and the CSV."""
        return [(label, tuple(s.values[i] for s in self.series))
                for i, label in enumerate(self.labels)]

    @property
    def largest(self) -> int:
        """The largest value in the chart (0 when empty)."""
        return max((v for s in self.series for v in s.values), default=0)


@dataclass(frozen=True)
class Insights:
    """Every figure of the Insights page."""

    counted: int
    open_count: int
    period_weeks: int
    charts: tuple[Chart, ...]
    closed_in_period: int
    median_time_to_close: timedelta | None


def compute(tickets: Sequence[TicketSummary], *, now: datetime, period_weeks: int,
            priority_order: Sequence[Ref] = ()) -> Insights:
    """All figures for `tickets` as seen at `now`, the weekly ones over `period_weeks` weeks."""
    open_tickets = [t for t in tickets if not t.is_closed]
    weeks = week_starts(now, period_weeks)
    closed = [t for t in tickets if t.is_closed and t.closed_on and t.closed_on >= weeks[0]]
    durations = [t.closed_on - t.created_on for t in closed
                 if t.created_on and t.closed_on >= t.created_on]
    charts = (by_status(open_tickets), by_priority(open_tickets, priority_order),
              by_age(open_tickets, now), weekly_flow(tickets, weeks))
    return Insights(counted=len(tickets), open_count=len(open_tickets), period_weeks=period_weeks,
                    charts=charts, closed_in_period=len(closed),
                    median_time_to_close=statistics.median(durations) if durations else None)


def by_status(open_tickets: Sequence[TicketSummary]) -> Chart:
    """Open tickets per status, most first."""
    counts = Counter(t.status.name if t.status else NO_STATUS for t in open_tickets)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    labels = tuple(name for name, _ in ordered)
    return Chart("status", "Open tickets by status",
                 _describe_open(len(open_tickets), ordered), "Status", labels,
                 (Series("Open tickets", tuple(count for _, count in ordered)),))


def by_priority(open_tickets: Sequence[TicketSummary], order: Sequence[Ref] = ()) -> Chart:
    """Open tickets per priority, in DeskDirector's order of priorities (every one shown)."""
    counts = Counter(t.priority.name if t.priority else NO_PRIORITY for t in open_tickets)
    labels = [ref.name for ref in order]
    labels += sorted(name for name in counts if name not in labels and name != NO_PRIORITY)
    if counts[NO_PRIORITY]:
        labels.append(NO_PRIORITY)
    values = tuple(counts[name] for name in labels)
    ranked = sorted(zip(labels, values, strict=True), key=lambda item: -item[1])
    return Chart("priority", "Open tickets by priority",
                 _describe_open(len(open_tickets), [r for r in ranked if r[1]]), "Priority",
                 tuple(labels), (Series("Open tickets", values),))


def by_age(open_tickets: Sequence[TicketSummary], now: datetime) -> Chart:
    """Open tickets by how long ago they were raised."""
    counts = [0] * len(AGE_BUCKETS)
    for ticket in open_tickets:
        age = now - ticket.created_on if ticket.created_on else timedelta(0)
        index = next(i for i, (_, limit) in enumerate(AGE_BUCKETS) if limit is None or age < limit)
        counts[index] += 1
    labels = tuple(label for label, _ in AGE_BUCKETS)
    older = sum(counts[2:])
    if open_tickets:
        description = (f"{len(open_tickets)} open {_tickets(len(open_tickets))}; {older} of them "
                       f"{'was' if older == 1 else 'were'} raised a week ago or more.")
    else:
        description = "No open tickets."
    return Chart("age", "Age of open tickets", description, "Raised", labels,
                 (Series("Open tickets", tuple(counts)),))


def weekly_flow(tickets: Sequence[TicketSummary], weeks: Sequence[datetime]) -> Chart:
    """Tickets created and closed in each week (weeks start on Monday, UTC)."""
    created = [0] * len(weeks)
    closed = [0] * len(weeks)
    for ticket in tickets:
        _count_in_week(created, weeks, ticket.created_on)
        if ticket.is_closed:
            _count_in_week(closed, weeks, ticket.closed_on)
    labels = tuple(f"{week:%-d %b}" for week in weeks)
    description = (f"Over the last {len(weeks)} weeks, {sum(created)} "
                   f"{_tickets(sum(created))} created and {sum(closed)} closed.")
    return Chart("weekly", "Created and closed per week", description, "Week starting", labels,
                 (Series("Created", tuple(created)), Series("Closed", tuple(closed))))


def week_starts(now: datetime, count: int) -> list[datetime]:
    """Midnight (UTC) of the Mondays starting the last `count` weeks, this one last."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    this_week = today - timedelta(days=today.weekday())
    return [this_week - timedelta(weeks=count - 1 - i) for i in range(count)]


def _count_in_week(counts: list[int], weeks: Sequence[datetime], moment: datetime | None) -> None:
    if moment is None or moment < weeks[0] or moment >= weeks[-1] + timedelta(weeks=1):
        return
    counts[(moment - weeks[0]).days // 7] += 1


def _tickets(count: int) -> str:
    return "ticket" if count == 1 else "tickets"


def _describe_open(total: int, ranked: Sequence[tuple[str, int]]) -> str:
    if not total:
        return "No open tickets."
    name, count = ranked[0]
    return f"{total} open {_tickets(total)}; the most, {count}, {_are(count)} {name}."


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


def duration_text(span: timedelta | None) -> str:
    """'3 days 4 hours', '5 hours', '40 minutes'; '—' for nothing."""
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [(days, "day"), (hours, "hour")]
    elif hours:
        parts = [(hours, "hour"), (minutes, "minute")]
    else:
        parts = [(minutes, "minute")]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n) or "under a minute"
