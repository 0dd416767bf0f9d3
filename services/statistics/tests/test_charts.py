"""The dashboard's charts: the funnel of the platform's stages and the counts per day."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from prasmes_statistics.adapters import charts

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NNBSP = "\u202f"
STAGES = [("Konti", 12345), ("Pieteikumi", 5000), ("Piešķirti", 3333), ("Uzsākti", 3000), ("Pabeigti", 2000)]
DAY = date(2026, 6, 1)


def _days(count: int, per_day: Callable[[int], int]) -> list[tuple[date, int]]:
    return [(DAY + timedelta(days=i), per_day(i)) for i in range(count)]


SERIES = {"Pieteikumi": _days(30, lambda i: 40 * i), "Piešķirti": _days(30, lambda i: 1000 + i)}


def _drawn(draw: Callable[[], bytes]) -> bytes:
    """The chart, failing on any warning (a glyph missing from the font, a date locator at a loss)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return draw()


def _texts(svg: bytes) -> list[str]:
    """The SVG's texts in document order; parsing it also proves it is well-formed XML."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _heights(svg: bytes) -> dict[str, float]:
    """Each text's distance from the top of the image (its y)."""
    return {"".join(t.itertext()): float(t.attrib["y"]) for t in ET.fromstring(svg).iter(f"{SVG}text")}


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR, the chunk right after the signature."""
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_funnel_has_a_bar_per_stage_the_first_on_top_and_the_discontinued_last() -> None:
    svg = _drawn(lambda: charts.funnel_chart(STAGES, 300, title="Piltuve", fmt="svg", language="lv"))
    names = [name for name, _ in STAGES] + ["Pārtraukuši"]
    texts = _texts(svg)
    assert [t for t in texts if t in names] == names
    y = _heights(svg)
    assert [y[n] for n in names] == sorted(y[n] for n in names)  # the first stage on top
    labels = [f"12{NNBSP}345 (100 %)", f"5{NNBSP}000 (41 %)", f"3{NNBSP}333 (27 %)", f"3{NNBSP}000 (24 %)"]
    assert {"Piltuve", *labels, f"2{NNBSP}000 (16 %)", "300 (10 %)"} <= set(texts)  # 300 of the 3 000 who started
    assert charts.DISCONTINUED_COLOUR.encode() in svg


def test_the_funnel_in_english_separates_thousands_by_a_comma_and_has_no_discontinued_bar_unless_given() -> None:
    svg = _drawn(lambda: charts.funnel_chart(STAGES, None, title="", fmt="svg", language="en"))
    texts = _texts(svg)
    assert {"12,345 (100 %)", "3,333 (27 %)", "2,000 (16 %)"} <= set(texts)
    assert "Discontinued" not in texts and charts.DISCONTINUED_COLOUR.encode() not in svg


def test_without_a_started_stage_the_discontinued_are_a_share_of_the_first() -> None:
    stages = [("Accounts", 200), ("Applications", 50)]
    texts = _texts(_drawn(lambda: charts.funnel_chart(stages, 30, title="", fmt="svg", language="en")))
    assert {"200 (100 %)", "50 (25 %)", "30 (15 %)", "Discontinued"} <= set(texts)


def test_an_all_zero_or_empty_funnel_draws() -> None:
    zeros = [(name, 0) for name, _ in STAGES]
    texts = _texts(_drawn(lambda: charts.funnel_chart(zeros, 0, title="", fmt="svg", language="lv")))
    assert texts.count("0 (–)") == len(STAGES) + 1
    assert _drawn(lambda: charts.funnel_chart(zeros, 0, title="", fmt="png", language="en"))
    assert _drawn(lambda: charts.funnel_chart([], None, title="Tukšs", fmt="svg", language="lv"))


def test_the_series_have_a_line_each_named_in_the_legend_over_the_days() -> None:
    svg = _drawn(lambda: charts.series_chart(SERIES, title="Dienā", fmt="svg", language="lv"))
    texts = _texts(svg)
    assert {"Dienā", "Pieteikumi", "Piešķirti", "01.06.2026.", "0"} <= set(texts)
    assert any(re.fullmatch("1" + NNBSP + r"\d{3}", t) for t in texts)  # a count's thousands set apart
    english = _texts(_drawn(lambda: charts.series_chart(SERIES, title="", fmt="svg", language="en")))
    assert "2026-06-01" in english and any(re.fullmatch(r"1,\d{3}", t) for t in english)


@pytest.mark.parametrize("days", [1, 2, 1000])
def test_the_series_draw_for_one_day_and_for_a_thousand(days: int) -> None:
    lines = {"Konti": _days(days, lambda i: i % 7), "Pieteikumi": _days(days, lambda i: 0)}
    svg = _drawn(lambda: charts.series_chart(lines, title="", fmt="svg", language="en"))
    ticks = [t for t in _texts(svg) if re.fullmatch(r"\d{4}-\d\d-\d\d", t)]
    assert 2 <= len(ticks) <= 8 and len(set(ticks)) == len(ticks)  # never two ticks within one day
    if days == 1:
        assert ticks == ["2026-05-31", "2026-06-01", "2026-06-02"]


def test_no_series_draw_an_empty_chart_saying_so() -> None:
    texts = _texts(_drawn(lambda: charts.series_chart({}, title="Dienā", fmt="svg", language="lv")))
    assert texts == ["Nav datu", "Dienā"]
    assert "No data" in _texts(_drawn(lambda: charts.series_chart({"A": []}, title="", fmt="svg", language="en")))


def test_a_png_is_1000_px_wide() -> None:
    funnel = _drawn(lambda: charts.funnel_chart(STAGES, 300, title="Piltuve", fmt="png", language="lv"))
    series = _drawn(lambda: charts.series_chart(SERIES, title="Dienā", fmt="png", language="lv"))
    assert _png_size(funnel) == (1000, 400)
    assert _png_size(series) == (1000, 450)


def test_the_same_data_give_the_same_svg_bytes_also_from_several_threads() -> None:
    def funnel() -> bytes:
        return charts.funnel_chart(STAGES, 300, title="Funnel", fmt="svg", language="en")

    def series() -> bytes:
        return charts.series_chart(SERIES, title="Per day", fmt="svg", language="en")

    with ThreadPoolExecutor(max_workers=2) as pool:
        drawn = list(pool.map(lambda draw: draw(), [funnel, series, funnel, series]))
    assert drawn[0] == drawn[2] == funnel() and drawn[1] == drawn[3] == series()
    assert b"<dc:date>" not in drawn[0]


def test_an_unknown_language_or_format_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'de'.*lv, en"):
        charts.funnel_chart(STAGES, None, title="", fmt="svg", language="de")
    with pytest.raises(ValueError, match=r"'pdf'.*svg, png"):
        charts.series_chart({}, title="", fmt="pdf", language="en")  # type: ignore[arg-type]


def test_importing_the_charts_does_not_import_matplotlib() -> None:
    code = "import sys, prasmes_statistics.adapters.charts; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
