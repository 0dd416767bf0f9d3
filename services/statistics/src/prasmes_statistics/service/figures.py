"""The dashboard and its series, counted from the projection as of an instant."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from prasmes_runtime.cache import ShortCache
from prasmes_runtime.clock import RIGA
from prasmes_runtime.db import Database

from prasmes_statistics.db import figures as db
from prasmes_statistics.db import projection
from prasmes_statistics.domain.figures import (
    CallFigures,
    Dashboard,
    Instant,
    ProjectFigures,
    SeriesPoint,
    SurveyFigures,
    daily,
    mean,
    percent,
    total_applications,
)

KINDS = ("completion", "discontinuation")
FIGURES_SECONDS = 3600.0
"""How long figures read are kept in the process. They are kept under the projection's version, so a batch of facts
written (by any process) makes the next read count afresh (once the version read is renewed: at most
`projection.VERSION_SECONDS` later): never a stale figure, only one computed once. Their time bounds only the memory
(a minute made the dashboard recount, 0.2 s, every half minute while nothing changed: the tail of its p99)."""
_dashboards: ShortCache[tuple[int, object], Dashboard] = ShortCache(FIGURES_SECONDS, entries=256)
_funnels: ShortCache[tuple[int, object], tuple[int, list[ProjectFigures]]] = ShortCache(FIGURES_SECONDS, entries=256)
_rendered: ShortCache[tuple[int, object], bytes] = ShortCache(FIGURES_SECONDS, entries=256)
_series: ShortCache[tuple[int, object, str, str | None], list[SeriesPoint]] = ShortCache(FIGURES_SECONDS, entries=512)


async def _version(database: Database) -> int:
    return await projection.current_version(database)


async def dashboard(database: Database, instant: Instant) -> Dashboard:
    """Every figure as of the instant (counted once per version of the projection and instant)."""
    key = (await _version(database), instant.key)
    found = await _dashboards.read(database, key, lambda: _dashboard(database, instant.at))
    return replace(found, as_of=instant.at)


async def rendered_dashboard(database: Database, instant: Instant, render: Callable[[Dashboard], bytes]) -> bytes:
    """The dashboard as the api renders it (its bytes kept beside its figures: rendering the JSON of every figure was
    most of a cached read's own work); `render` gets the figures with the instant they were counted as of."""
    key = (await _version(database), instant.key)

    async def rendered() -> bytes:
        return render(await dashboard(database, instant))

    return await _rendered.read(database, key, rendered)


async def _dashboard(database: Database, at: datetime) -> Dashboard:
    async with database.session() as session:
        accounts = await db.accounts_opened(session, at)
        projects = await db.per_project(session, at)
        rounds = await db.per_round(session, at)
        calls = await db.per_call(session, at)
        surveys = await db.survey_counts(session, at)
    project_figures = [ProjectFigures(code, projects[code], rounds.get(code, {})) for code in sorted(projects)]
    return Dashboard(
        as_of=at,
        accounts_opened=accounts,
        applications_total=total_applications(project_figures),
        projects=project_figures,
        calls=[CallFigures(c["call_id"], c["code"], c["project_code"], c["phase"], c["figures"]) for c in calls],
        surveys=_surveys(surveys, None),
        surveys_by_project={p: _surveys(surveys, p) for p in sorted(_projects_answered(surveys))},
    )


def _projects_answered(counts: dict[str, Any]) -> set[str]:
    return {row.project_code for row in counts["answers"]}


def _mine(rows: Iterable[Any], project: str | None) -> list[Any]:
    return [row for row in rows if project is None or row.project_code == project]


def _surveys(counts: dict[str, Any], project: str | None) -> SurveyFigures:
    answers = {kind: 0 for kind in KINDS}
    for row in _mine(counts["answers"], project):
        answers[row.kind] = answers.get(row.kind, 0) + row.n
    stars: dict[str, dict[int, int]] = {}
    for row in _mine(counts["stars"], project):
        by_stars = stars.setdefault(row.aspect, {})
        by_stars[row.stars] = by_stars.get(row.stars, 0) + row.n
    reasons: dict[str, int] = {}
    for row in _mine(counts["reasons"], project):
        reasons[row.reason] = reasons.get(row.reason, 0) + row.n
    ended = counts["ended"]
    scope = "" if project is None else project
    return SurveyFigures(
        answers=answers,
        response_rate={kind: percent(answers[kind], ended[kind].get(scope, 0)) for kind in KINDS},
        mean_rating={
            aspect: mean(sum(s * n for s, n in values.items()), sum(values.values()))
            for aspect, values in sorted(stars.items())
        },
        stars={aspect: dict(sorted(values.items())) for aspect, values in sorted(stars.items())},
        reasons=dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
    )


TRAILING_DAYS = 366
"""A series runs to the as-of day, but no further than this many days past its last counted day."""


async def series(database: Database, figure: str, instant: Instant, project: str | None) -> list[SeriesPoint]:
    """A figure's daily series (days in Riga) from its first counted day to the as-of day."""
    key = (await _version(database), instant.key, figure, project)
    return await _series.read(database, key, lambda: _series_of(database, figure, instant.at, project))


async def _series_of(database: Database, figure: str, at: datetime, project: str | None) -> list[SeriesPoint]:
    async with database.session() as session:
        found = await db.days(session, figure, at, project)
    if not found:
        return []
    last = min(at.astimezone(RIGA).date(), max(found) + timedelta(days=TRAILING_DAYS))
    return daily(found, last=last)


def headline(found: Dashboard) -> dict[str, int | Decimal]:
    """The public summary's numbers."""
    totals: dict[str, int | Decimal] = {"accounts_opened": found.accounts_opened}
    totals["applications"] = found.applications_total
    for code in ("granted", "started", "discontinued", "completed"):
        totals[code] = sum(int(p.figures.get(code, 0)) for p in found.projects)
    totals["survey_answers"] = sum(found.surveys.answers.values())
    return totals


async def funnels(database: Database, instant: Instant) -> tuple[int, list[ProjectFigures]]:
    """The accounts opened and each project's figures (what the funnels are drawn from)."""
    key = (await _version(database), instant.key)
    return await _funnels.read(database, key, lambda: _funnels_of(database, instant.at))


async def _funnels_of(database: Database, at: datetime) -> tuple[int, list[ProjectFigures]]:
    async with database.session() as session:
        accounts = await db.accounts_opened(session, at)
        projects = await db.per_project(session, at)
    return accounts, [ProjectFigures(code, projects[code]) for code in sorted(projects)]
