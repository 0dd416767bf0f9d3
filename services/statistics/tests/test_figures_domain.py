"""The figures' pure rules: persons' digests, shares and means, the daily series, the funnel, the definitions."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from prasmes_statistics.domain.figures import (
    BY_CODE,
    DEFINITIONS,
    FUNNEL,
    SERIES_FIGURES,
    ProjectFigures,
    Unit,
    daily,
    funnel,
    mean,
    percent,
    person_of,
    total_applications,
)


def test_a_person_has_one_digest_under_a_key_and_another_under_another() -> None:
    key, other = secrets.token_hex(32), secrets.token_hex(32)
    assert person_of(key, "learner-1") == person_of(key, "learner-1")
    assert person_of(key, "learner-1") != person_of(key, "learner-2")
    assert person_of(key, "learner-1") != person_of(other, "learner-1")
    digest = person_of(key, "learner-1")
    assert len(digest) == 32 and "learner" not in digest


def test_shares_and_means_to_one_decimal_half_up_and_none_of_nothing() -> None:
    assert percent(1446, 2096) == Decimal("69.0")
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(0, 0) is None
    assert mean(9, 2) == Decimal("4.5")
    assert mean(0, 0) is None


def test_the_daily_series_has_every_day_with_its_running_total() -> None:
    days = [date(2025, 9, 1), date(2025, 9, 1), date(2025, 9, 3)]
    points = daily(days, last=date(2025, 9, 5))
    assert [(p.day.day, p.new, p.total) for p in points] == [(1, 2, 2), (2, 0, 2), (3, 1, 3), (4, 0, 3), (5, 0, 3)]
    later = daily(days, first=date(2025, 9, 2), last=date(2025, 9, 3))
    assert [(p.day.day, p.new, p.total) for p in later] == [(2, 0, 2), (3, 1, 3)]  # what came before is carried
    assert daily([]) == []


def test_the_funnel_and_the_total_of_applications() -> None:
    imk = ProjectFigures("IMK", {"applicants": 7574, "granted": 7574, "started": 5360, "completed": 2228})
    stages = funnel(28063, imk)
    assert [s for s, _ in stages] == list(FUNNEL)
    assert [v for _, v in stages] == [28063, 7574, 7574, 5360, 2228]
    projects = [
        imk,
        *(ProjectFigures(c, {"applicants": n}) for c, n in (("VARAM", 9153), ("TALAK", 418), ("4242", 8284))),
    ]
    assert total_applications(projects) == 25429  # the seed's total, from persons per project


def test_every_figure_is_defined_in_both_languages_with_its_unit() -> None:
    assert len(BY_CODE) == len(DEFINITIONS)
    for definition in DEFINITIONS:
        assert set(definition.label) == {"lv", "en"} and definition.definition
    assert {BY_CODE[f].unit for f in ("applicants", "started", "discontinued", "completed")} == {Unit.PERSONS}
    assert {BY_CODE[f].unit for f in ("applications_submitted", "granted", "rejected", "pending")} == {
        Unit.APPLICATIONS
    }
    assert set(SERIES_FIGURES) <= set(BY_CODE) and set(FUNNEL) <= set(BY_CODE)
