"""The agency's anomaly flags as of an instant: each institution's figures from the projection, judged by the
rules (`domain.anomalies`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from prasmes_runtime.clock import RIGA
from prasmes_runtime.db import Database
from prasmes_runtime.money import money

from prasmes_statistics.db import anomalies as db
from prasmes_statistics.db.anomalies import StudyRow
from prasmes_statistics.domain.anomalies import AnomalyRules, FlaggedInstitution, InstitutionFigures, flagged


async def anomalies(database: Database, at: datetime, rules: AnomalyRules) -> list[FlaggedInstitution]:
    async with database.session() as session:
        rows = await db.study_rows(session, at)
        ratings = await db.ratings(session, at)
        answered = await db.answered_programmes(session, at)
        spent = await db.spent(session, at)
        names = await db.names(session)
    by_institution: dict[Any, list[StudyRow]] = defaultdict(list)
    for row in rows:
        by_institution[row.institution_id].append(row)
    ended = {(r.institution_id, r.programme_id) for r in rows if r.completed_on or r.discontinued_on}
    unanswered: dict[Any, dict[str, Decimal]] = defaultdict(dict)
    for (institution, programme), amount in spent.items():
        if programme not in answered and (institution, programme) in ended:
            unanswered[institution][str(programme)] = money(amount)
    figures = [
        _figures(i, names.get(i), by_institution.get(i, []), ratings.get(i, (0, 0, 0)), unanswered.get(i, {}), rules)
        for i in sorted({*by_institution, *ratings, *unanswered}, key=str)
    ]
    return flagged(figures, rules)


def _figures(
    institution: Any,
    name: str | None,
    rows: Sequence[StudyRow],
    rating: tuple[int, int, int],
    unanswered: dict[str, Decimal],
    rules: AnomalyRules,
) -> InstitutionFigures:
    enrolled = [r for r in rows if r.enrolled_at is not None]
    late = [r for r in enrolled if r.group_start is not None and _late(r.enrolled_at, r.group_start, rules)]
    completed = [r for r in rows if r.completed_on is not None]
    quick = [r for r in completed if r.started_on is not None and _quick(r.started_on, r.completed_on, rules)]
    return InstitutionFigures(
        institution_id=str(institution),
        name=name,
        enrolments=len(enrolled),
        late_enrolments=len(late),
        started=len({r.person for r in rows if r.started_on is not None}),
        completed=len({r.person for r in completed}),
        completed_without_start=sum(1 for r in completed if r.started_on is None),
        quick_completions=len(quick),
        answers=rating[0],
        stars_total=rating[1],
        stars_given=rating[2],
        spent_without_answers=unanswered,
    )


def _late(enrolled_at: datetime | None, start: date, rules: AnomalyRules) -> bool:
    assert enrolled_at is not None
    return start - enrolled_at.astimezone(RIGA).date() <= timedelta(days=rules.late_enrolment_days)


def _quick(started: date, completed: date | None, rules: AnomalyRules) -> bool:
    assert completed is not None
    return completed - started < timedelta(days=rules.quick_completion_days)
