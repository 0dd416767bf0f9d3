"""The dashboard's charts, drawn by matplotlib: the funnel of the platform's stages (a bar per stage, its count and
its share of the first) and counts per day (a line per series).

Pure functions, data in and the file's bytes out (SVG or PNG), drawn with the platform's chart machinery
(`prasmes_documents.charts`: one chart at a time, matplotlib imported by the first chart, texts as text in
DejaVu Sans, the same bytes for the same data). The SVG ids are salted with "prasmes-statistics". Counts are
written with thousands separated, a narrow no-break space in Latvian ("12 345") and a comma in English
("12,345"); days as "31.12.2026." in Latvian and "2026-12-31" in English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from prasmes_documents.charts import Format, bars_axes, check, drawing, saved

if TYPE_CHECKING:
    from matplotlib.axes import Axes

HASHSALT = "prasmes-statistics"
"""The SVG ids' salt: changing it changes every chart's bytes."""
LANGUAGES = ("lv", "en")
THOUSANDS = {"lv": "\u202f", "en": ","}
DAY_FORMATS = {"lv": "%d.%m.%Y.", "en": "%Y-%m-%d"}
NO_DATA = {"lv": "Nav datu", "en": "No data"}
DISCONTINUED = {"lv": "Pārtraukuši", "en": "Discontinued"}
STARTED = 3
"""The index of the "started" stage in the funnel (accounts, applications, granted, started, completed): the
discontinued are a share of those who started."""
STAGE_COLOUR = "#1f618d"
DISCONTINUED_COLOUR = "#c0392b"
SERIES_HEIGHT = 4.5
"""Inches; 450 px in PNG."""


def funnel_chart(
    stages: Sequence[tuple[str, int]], discontinued: int | None, *, title: str, fmt: Format, language: str
) -> bytes:
    """A horizontal bar per stage, the first on top, each labelled "<count> (<share of the first stage>)", e.g.
    "1 446 (27 %)"; then, when `discontinued` is given, a bar of its own colour labelled likewise, its share that of
    the "started" stage (the fourth) or, with fewer stages, of the first. A share of nothing is "–". No caption."""
    check(language, fmt, LANGUAGES)
    first = stages[0][1] if stages else 0
    bars = [(name, count, first, STAGE_COLOUR) for name, count in stages]
    if discontinued is not None:
        base = stages[STARTED][1] if len(stages) > STARTED else first
        bars.append((DISCONTINUED[language], discontinued, base, DISCONTINUED_COLOUR))
    with drawing(1.6 + 0.4 * max(len(bars), 1), title, hashsalt=HASHSALT) as (figure, axes):
        rows = range(len(bars))
        counts = [count for _, count, _, _ in bars]
        axes.barh(rows, counts, height=0.65, color=[colour for *_, colour in bars])
        top = max([1, *counts])
        for row, (_, count, of, _) in zip(rows, bars, strict=True):
            label = f"{_count(count, language)} ({_share(count, of, language)})"
            axes.text(count + top * 0.01, row, label, ha="left", va="center")
        axes.set_xlim(0, top * 1.3)
        bars_axes(axes, [name for name, *_ in bars])
        return saved(figure, fmt)


def series_chart(lines: Mapping[str, Sequence[tuple[date, int]]], *, title: str, fmt: Format, language: str) -> bytes:
    """A line per series (its name in the legend below) of counts per day, the points in the days' order, the days
    along the x axis, the counts from 0 up the y axis. Without any day, an empty chart saying "No data" ("Nav datu").
    """
    check(language, fmt, LANGUAGES)
    days = [day for points in lines.values() for day, _ in points]
    with drawing(SERIES_HEIGHT, title, hashsalt=HASHSALT) as (figure, axes):
        if not days:
            _no_data(axes, language)
            return saved(figure, fmt)
        for name, points in lines.items():
            _line(axes, name, sorted(points))
        counts = [count for points in lines.values() for _, count in points]
        _series_axes(axes, min(days), max(days), max([1, *counts]), language)
        figure.legend(loc="outside lower center", ncols=min(len(lines), 5), frameon=False)
        return saved(figure, fmt)


def _count(value: int, language: str) -> str:
    return f"{value:,}".replace(",", THOUSANDS[language])


def _share(count: int, base: int, language: str) -> str:
    if base == 0:
        return "–"
    percent = (Decimal(count * 100) / base).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{_count(int(percent), language)} %"


def _line(axes: Axes, name: str, points: Sequence[tuple[date, int]]) -> None:
    xs = [_day(day) for day, _ in points]
    # a single day is a dot: a line of one point draws nothing
    marker = "o" if len(xs) == 1 else ""
    axes.plot(xs, [count for _, count in points], label=name, linewidth=1.5, marker=marker)


def _series_axes(axes: Axes, first: date, last: date, top: int, language: str) -> None:
    """Days along x (at most 8 ticks, never within a day), counts from 0 along y (whole numbers), a light grid."""
    from matplotlib.dates import HOURLY, AutoDateLocator, DateFormatter
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if first == last:  # one day in the middle rather than matplotlib's two years around it
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    axes.set_xlim(_day(first), _day(last))
    # matplotlib.dates has no type hints
    locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    locator.intervald[HOURLY] = [24]  # a span under three days would otherwise be ticked by the hour
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(DateFormatter(DAY_FORMATS[language]))  # type: ignore[no-untyped-call]
    axes.set_ylim(0, top * 1.05)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _count(round(value), language)))
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _day(day: date) -> float:
    """The day as matplotlib's dates axis counts it."""
    from matplotlib.dates import date2num

    return float(date2num(day))  # type: ignore[no-untyped-call]


def _no_data(axes: Axes, language: str) -> None:
    axes.text(0.5, 0.5, NO_DATA[language], ha="center", va="center", color="#555555", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
