"""Chart geometry for the SVG templates: where each bar, label and grid line goes (no drawing here)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .figures import Chart

BAR_WIDTH = 420          # viewBox width of a bar chart
LABEL_WIDTH = 150        # room for category names left of the bars
VALUE_WIDTH = 44         # room for the number right of a bar
ROW_HEIGHT = 30
COLUMN_WIDTH = 640       # viewBox width of a column chart
COLUMN_HEIGHT = 260
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM = 36, 28, 40
MAX_LABEL = 22
LABEL_ROOM = 70          # viewBox units a column label needs


@dataclass(frozen=True)
class Rect:
    """One bar: its box, the series it belongs to, and what it says on hover."""

    x: float
    y: float
    width: float
    height: float
    series: int
    tooltip: str


@dataclass(frozen=True)
class Text:
    """A label at a point."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Geometry:
    """Everything a chart template draws."""

    width: int
    height: int
    bars: list[Rect]
    labels: list[Text]
    values: list[Text]
    grid: list[Text]        # y of each grid line and its value (column charts)
    legend: list[Text]      # one entry per series (column charts with more than one)


def bar_geometry(chart: Chart) -> Geometry:
    """Horizontal bars, one row per category (charts with one series)."""
    values = chart.series[0].values
    scale = (BAR_WIDTH - LABEL_WIDTH - VALUE_WIDTH) / max(chart.largest, 1)
    bars, labels, numbers = [], [], []
    for row, (label, value) in enumerate(zip(chart.labels, values, strict=True)):
        top = row * ROW_HEIGHT + 6
        width = value * scale
        bars.append(Rect(LABEL_WIDTH, top, round(width, 1), ROW_HEIGHT - 12, 0,
                         f"{label}: {value}"))
        labels.append(Text(LABEL_WIDTH - 8, top + ROW_HEIGHT / 2 - 1, _short(label)))
        numbers.append(Text(round(LABEL_WIDTH + width + 6, 1), top + ROW_HEIGHT / 2 - 1, str(value)))
    height = max(len(values), 1) * ROW_HEIGHT + 4
    return Geometry(BAR_WIDTH, height, bars, labels, numbers, [], [])


def column_geometry(chart: Chart) -> Geometry:
    """Grouped columns, one group per category (the weekly chart), with grid lines and a legend."""
    top_value = nice_ceiling(chart.largest)
    plot_width = COLUMN_WIDTH - PLOT_LEFT - 8
    plot_height = COLUMN_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    group = plot_width / max(len(chart.labels), 1)
    bar = group * 0.8 / max(len(chart.series), 1)
    base = PLOT_TOP + plot_height
    bars, labels = [], []
    # Room for a week label even at the larger type of narrow screens (see ddsite.css).
    step = max(1, math.ceil(len(chart.labels) * LABEL_ROOM / plot_width))
    for index, label in enumerate(chart.labels):
        left = PLOT_LEFT + index * group + group * 0.1
        for number, series in enumerate(chart.series):
            value = series.values[index]
            height = plot_height * value / top_value
            bars.append(Rect(round(left + number * bar, 1), round(base - height, 1),
                             round(bar - 1, 1), round(height, 1), number,
                             f"{label}: {value} {series.name.lower()}"))
        if index % step == 0:
            labels.append(Text(round(PLOT_LEFT + index * group + group / 2, 1), base + 18, label))
    grid = [Text(PLOT_LEFT, round(base - plot_height * fraction, 1),
                 str(round(top_value * fraction))) for fraction in (0, 0.5, 1)]
    legend = [Text(COLUMN_WIDTH - 130 * len(chart.series) + 130 * number, 14, series.name)
              for number, series in enumerate(chart.series)]
    return Geometry(COLUMN_WIDTH, COLUMN_HEIGHT, bars, labels, [], grid, legend)


def nice_ceiling(value: int) -> int:
    """The smallest of 2, 4, 6, 8, 10, 20, 40, … at or above value (grid halves stay whole)."""
    if value <= 2:
        return 2
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 4, 6, 8, 10):
        if step * magnitude >= value and (step * magnitude) % 2 == 0:
            return step * magnitude
    return 10 * magnitude


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"
