"""The dashboard and its series, counted from the projection as of an instant."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from prasmes_runtime.clock import RIGA
from prasmes_runtime.db import Database

from prasmes_statistics.db import figures as db
from prasmes_statistics.domain.figures import (
    CallFigures,
    Dashboard,
    ProjectFigures,
    SeriesPoint,
    SurveyFigures,
    daily,
    mean,
    percent,
    total_applications,
)

KINDS = ("completion", "discontinuation")


async def dashboard(database: Database, at: datetime) -> Dashboard:
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


async def series(database: Database, figure: str, at: datetime, project: str | None) -> list[SeriesPoint]:
    """A figure's daily series (days in Riga) from its first counted day to the as-of day."""
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


async def funnels(database: Database, at: datetime) -> tuple[int, list[ProjectFigures]]:
    """The accounts opened and each project's figures (what the funnels are drawn from)."""
    async with database.session() as session:
        accounts = await db.accounts_opened(session, at)
        projects = await db.per_project(session, at)
    return accounts, [ProjectFigures(code, projects[code]) for code in sorted(projects)]
