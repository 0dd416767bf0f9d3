"""The results' charts, drawn from the seed's answers (DOMAIN.md: 1 446 completion and 69 discontinuation answers)."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from surveys.adapters import charts
from surveys.domain.aggregates import CompletionResults, completion_results, reason_shares
from surveys.domain.questionnaires import ASPECTS, COMPLETION_V1, OTHER, REASONS
from surveys.domain.seed import SEED_DISCONTINUATION_ANSWERS, seed_completion_answers, seed_discontinuation_answers

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MEANS = {"lv": ("4,4", "4,5", "4,6", "4,5"), "en": ("4.4", "4.5", "4.6", "4.5")}
REASONS_BY_SHARE = (
    "content",
    "learning_difficulty",
    "time",
    "personal",
    "teacher",
    "job_change",
    "motivation",
    "organisation",
    "employer_support",
    "technical_means",
    OTHER,
)
"""The seed's reasons, the largest share first (job change and motivation tie at 16 %: the questionnaire's order),
"other" (7 %) last."""


@pytest.fixture(scope="module")
def results() -> CompletionResults:
    return completion_results(seed_completion_answers())


@pytest.fixture(scope="module")
def shares() -> dict[str, Decimal]:
    return reason_shares(seed_discontinuation_answers())


def _drawn(draw: Callable[[], bytes]) -> bytes:
    """The chart, failing on any warning (a glyph missing from the font is one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return draw()


def _texts(svg: bytes) -> list[str]:
    """The SVG's texts in document order; parsing it also proves it is well-formed XML."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_stars_chart_labels_each_aspect_its_shares_and_its_mean(results: CompletionResults, language: str) -> None:
    title = {"lv": "Mācību novērtējums", "en": "Study evaluation"}[language]
    svg = _drawn(lambda: charts.stars_chart(results, language=language, title=title, fmt="svg"))
    texts = _texts(svg)
    labels = [q.text[language] for a in ASPECTS if (q := COMPLETION_V1.question(a)) is not None]
    assert [t for t in texts if t in labels] == labels  # the first aspect on top
    assert {title, "57 %", "31 %", "9 %", "n = 1446", *(f"{s} ★" for s in range(1, 6))} <= set(texts)
    assert [t for t in texts if t in set(MEANS["lv"] + MEANS["en"])] == list(MEANS[language])
    assert "1 %" not in texts and "2 %" not in texts  # segments under 4 % have no room for a label


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_reasons_chart_has_the_largest_share_first_and_other_last(
    shares: dict[str, Decimal], language: str
) -> None:
    svg = _drawn(
        lambda: charts.reasons_chart(shares, SEED_DISCONTINUATION_ANSWERS, language=language, title="", fmt="svg")
    )
    texts = _texts(svg)
    text_of = {r.code: r.text[language] for r in REASONS}
    assert [t for t in texts if t in text_of.values()] == [text_of[c] for c in REASONS_BY_SHARE]
    assert {"42 %", "36 %", "1 %", "7 %", "n = 69"} <= set(texts)


def test_a_png_is_a_decodable_image_at_100_dpi(results: CompletionResults, shares: dict[str, Decimal]) -> None:
    from matplotlib.image import imread

    stars = _drawn(lambda: charts.stars_chart(results, language="lv", title="Vērtējums", fmt="png"))
    reasons = _drawn(lambda: charts.reasons_chart(shares, 69, language="lv", title="Iemesli", fmt="png"))
    for png in (stars, reasons):
        assert png.startswith(PNG_SIGNATURE)
        height, width, _ = imread(io.BytesIO(png), format="png").shape
        assert width == 1000 and 300 <= height <= 800


def test_the_same_data_give_the_same_svg_bytes_also_from_several_threads(
    results: CompletionResults, shares: dict[str, Decimal]
) -> None:
    def stars() -> bytes:
        return charts.stars_chart(results, language="en", title="Results", fmt="svg")

    def reasons() -> bytes:
        return charts.reasons_chart(shares, 69, language="en", title="Reasons", fmt="svg")

    with ThreadPoolExecutor(max_workers=2) as pool:
        drawn = list(pool.map(lambda draw: draw(), [stars, reasons, stars, reasons]))
    assert drawn[0] == drawn[2] == stars() and drawn[1] == drawn[3] == reasons()
    assert b"<dc:date>" not in drawn[0]


def test_no_answers_draw_empty_bars_and_a_dash_for_the_mean() -> None:
    none = completion_results([])
    assert none.answers == 0
    texts = _texts(_drawn(lambda: charts.stars_chart(none, language="lv", title="", fmt="svg")))
    assert texts.count("–") == len(ASPECTS) and "n = 0" in texts
    assert "n = 0" in _texts(_drawn(lambda: charts.reasons_chart({}, 0, language="en", title="", fmt="svg")))
    assert _drawn(lambda: charts.reasons_chart(reason_shares([]), 0, language="en", title="", fmt="png"))


def test_an_unknown_language_or_format_is_refused(results: CompletionResults) -> None:
    with pytest.raises(ValueError, match="'de'"):
        charts.stars_chart(results, language="de", title="", fmt="svg")
    with pytest.raises(ValueError, match="'pdf'"):
        charts.reasons_chart({}, 0, language="en", title="", fmt="pdf")  # type: ignore[arg-type]


def test_importing_the_charts_does_not_import_matplotlib() -> None:
    code = "import sys, surveys.adapters.charts; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
