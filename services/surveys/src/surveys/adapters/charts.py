"""The survey results as the agency's charts, drawn by matplotlib: the stars per aspect (a 100 % stacked bar per
aspect, its mean at the bar's end) and the reasons of discontinuation (a bar per reason, the largest share first).

Pure functions, data in and the file's bytes out (SVG or PNG), drawn with the platform's chart machinery
(`prasmes_documents.charts`: one chart at a time, matplotlib imported by the first chart, texts as text in
DejaVu Sans, the same bytes for the same data). The SVG ids are salted with "prasmes-surveys".
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from prasmes_documents.charts import Format, bars_axes, check, drawing, saved

from surveys.domain.aggregates import STARS, CompletionResults
from surveys.domain.questionnaires import COMPLETION_V1, LANGUAGES, OTHER, REASONS

if TYPE_CHECKING:
    pass

HASHSALT = "prasmes-surveys"
"""The SVG ids' salt: changing it changes every chart's bytes."""
SEGMENT_LABEL_FROM = Decimal(4)
"""A segment of a stars bar is labelled with its percent from this share on (a narrower one has no room)."""
STAR_COLOURS = {1: "#c0392b", 2: "#e67e22", 3: "#f1c40f", 4: "#7fb3d5", 5: "#1f618d"}
STAR_TEXT_COLOURS = {1: "white", 2: "black", 3: "black", 4: "black", 5: "white"}
REASON_COLOUR = "#1f618d"


def stars_chart(results: CompletionResults, *, language: str, title: str, fmt: Format) -> bytes:
    """A 100 % stacked horizontal bar per aspect (the aspect's question as its label), its segments the shares of
    1..5 stars, each of at least 4 % labelled "57 %"; the aspect's mean at the bar's end ("4,4" in Latvian, "4.4" in
    English); a legend of the stars and the caption "n = <answers>"."""
    check(language, fmt, LANGUAGES)
    aspects = list(results.aspects.items())
    labels = [_aspect_text(code, language) for code, _ in aspects]
    with drawing(_height(len(aspects), per_bar=0.6), title, hashsalt=HASHSALT) as (figure, axes):
        rows = range(len(aspects))
        for stars in STARS:
            shares = [a.distribution.get(stars, Decimal(0)) for _, a in aspects]
            lefts = [
                sum((a.distribution.get(s, Decimal(0)) for s in STARS if s < stars), Decimal(0)) for _, a in aspects
            ]
            axes.barh(
                rows,
                [float(s) for s in shares],
                left=[float(x) for x in lefts],
                height=0.6,
                color=STAR_COLOURS[stars],
                edgecolor="white",
                linewidth=0.8,
                label=f"{stars} ★",
            )
            for row, share, left in zip(rows, shares, lefts, strict=True):
                if share >= SEGMENT_LABEL_FROM:
                    axes.text(
                        float(left + share / 2),
                        row,
                        _percent(share),
                        ha="center",
                        va="center",
                        color=STAR_TEXT_COLOURS[stars],
                        fontsize=9,
                    )
        ends = [sum(a.distribution.values(), Decimal(0)) for _, a in aspects]
        for row, (_, aspect), end in zip(rows, aspects, ends, strict=True):
            mean = _decimal(aspect.mean, language) if end else "–"
            axes.text(float(max(end, Decimal(100))) + 1.5, row, mean, ha="left", va="center", fontweight="bold")
        axes.set_xlim(0, float(max([Decimal(100), *ends])) + 9)
        bars_axes(axes, labels, f"n = {results.answers}")
        figure.legend(loc="outside lower center", ncols=len(STARS), frameon=False)
        return saved(figure, fmt)


def reasons_chart(shares: Mapping[str, Decimal], answers: int, *, language: str, title: str, fmt: Format) -> bytes:
    """A horizontal bar per reason of discontinuation, the largest share first ("other" last whatever its share),
    each labelled "42 %" at its end; the caption "n = <answers>". The shares may add up to more than 100 %."""
    check(language, fmt, LANGUAGES)
    order = {r.code: i for i, r in enumerate(REASONS)}
    codes = sorted(shares, key=lambda c: (c == OTHER, -shares[c], order.get(c, len(order)), c))
    values = [shares[c] for c in codes]
    with drawing(_height(len(codes), per_bar=0.4), title, hashsalt=HASHSALT) as (figure, axes):
        rows = range(len(codes))
        axes.barh(rows, [float(v) for v in values], height=0.65, color=REASON_COLOUR)
        top = max([Decimal(1), *values])
        for row, value in zip(rows, values, strict=True):
            axes.text(float(value) + float(top) * 0.01, row, _percent(value), ha="left", va="center")
        axes.set_xlim(0, float(top) * 1.1)
        bars_axes(axes, [_reason_text(c, language) for c in codes], f"n = {answers}")
        return saved(figure, fmt)


def _aspect_text(code: str, language: str) -> str:
    question = COMPLETION_V1.question(code)
    return code if question is None else question.text[language]


def _reason_text(code: str, language: str) -> str:
    return next((r.text[language] for r in REASONS if r.code == code), code)


def _percent(share: Decimal) -> str:
    return f"{share:.0f} %"


def _decimal(value: Decimal, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "lv" else text


def _height(bars: int, *, per_bar: float) -> float:
    return 1.6 + per_bar * max(bars, 1)
