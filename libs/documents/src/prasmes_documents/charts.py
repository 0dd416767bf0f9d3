"""What every chart of the platform is drawn with: matplotlib, one chart at a time, the same bytes for the same data.

A service draws its charts in `drawing(...)`, which gives a `Figure` of its own with one `Axes` (never pyplot's
global figures), and ends them with `saved(figure, fmt)`. matplotlib is imported by the first chart, not by
importing this module, so that a service starts without it. A lock keeps one chart at a time: matplotlib's
settings (`rc_context`) and its font cache are process-wide, and the services draw in worker threads.

SVG keeps its texts as text (`svg.fonttype = "none"`), so a label can be searched and copied, and is the same bytes
for the same data (the service's fixed `svg.hashsalt`, no date). PNG is drawn at 100 dpi, 1000 px wide. Texts are
set in DejaVu Sans, the font matplotlib ships, which has every Latvian letter and the star.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Format = Literal["svg", "png"]
FORMATS: tuple[Format, ...] = ("svg", "png")
DPI = 100
WIDTH = 10.0
"""Inches; 1000 px in PNG."""
FONT = "DejaVu Sans"
_LOCK = threading.Lock()


def check_format(fmt: str) -> None:
    """A ValueError naming the formats unless `fmt` is one of them."""
    if fmt not in FORMATS:
        raise ValueError(f"no chart as {fmt!r}; the formats are {', '.join(FORMATS)}")


def check(language: str, fmt: str, languages: Sequence[str]) -> None:
    """A ValueError naming what is allowed unless the chart's texts exist in `language` and `fmt` is a format."""
    if language not in languages:
        raise ValueError(f"no texts in {language!r}; the languages are {', '.join(languages)}")
    check_format(fmt)


def bars_axes(axes: Axes, labels: Sequence[str], caption: str | None = None) -> None:
    """Horizontal bars' axes: the labels on the left, the first bar on top, no value axis, the caption (if any) at
    the bottom right."""
    axes.set_yticks(range(len(labels)), labels)
    axes.tick_params(axis="y", length=0, pad=6)
    axes.set_ylim(max(len(labels), 1) - 0.5, -0.5)
    axes.set_xticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
    if caption is not None:
        axes.set_xlabel(caption, loc="right", color="#555555")


@contextmanager
def drawing(height: float, title: str, *, hashsalt: str) -> Iterator[tuple[Figure, Axes]]:
    """A figure of its own, `WIDTH` by `height` inches, with one axes and `title` (if any) on top at the left,
    under the lock and the charts' settings; `hashsalt` makes the SVG's ids, the same in every rendering."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    settings = rc_context(
        {
            "svg.fonttype": "none",  # texts as text
            "svg.hashsalt": hashsalt,
            "font.family": "sans-serif",
            "font.sans-serif": [FONT],
            "font.size": 10,
            "text.parse_math": False,  # a "$" in a title is a dollar sign
            "axes.unicode_minus": False,
        }
    )
    with _LOCK, settings:
        figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
        if title:
            figure.suptitle(title, fontsize=13, fontweight="bold", x=0.01, ha="left")
        yield figure, figure.add_subplot()


def saved(figure: Figure, fmt: Format) -> bytes:
    """The figure's file: SVG without a date, or PNG at `DPI`. Call it inside `drawing(...)`, under its settings."""
    out = io.BytesIO()
    metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {}
    figure.savefig(out, format=fmt, dpi=DPI, metadata=metadata)
    return out.getvalue()
