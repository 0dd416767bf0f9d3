"""What the anomaly flags are judged from, per institution, as of an instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from prasmes_runtime.clock import RIGA
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_statistics.db.tables import answer_stars, grant_entries, groups, institutions, studies, survey_answers

S = studies.c
T = TypeVar("T", date, datetime)


@dataclass(frozen=True)
class StudyRow:
    institution_id: Any
    programme_id: Any
    person: str
    enrolled_at: datetime | None
    group_start: date | None
    started_on: date | None
    completed_on: date | None
    discontinued_on: date | None


async def study_rows(session: AsyncSession, at: datetime) -> list[StudyRow]:
    """Every enrolment: its institution, programme, when it was confirmed, its group's start, and the days of its
    start and end, each only if it was so by then (the instant, or its day in Riga)."""
    query = sa.select(
        S.institution_id,
        S.programme_id,
        S.person,
        S.enrolled_at,
        groups.c.start_date,
        S.started_on,
        S.completed_on,
        S.discontinued_on,
    ).outerjoin(groups, groups.c.group_id == S.group_id)
    day = at.astimezone(RIGA).date()
    return [
        StudyRow(
            institution_id=row.institution_id,
            programme_id=row.programme_id,
            person=row.person,
            enrolled_at=_by(row.enrolled_at, at),
            group_start=row.start_date,
            started_on=_by(row.started_on, day),
            completed_on=_by(row.completed_on, day),
            discontinued_on=_by(row.discontinued_on, day),
        )
        for row in (await session.execute(query)).all()
    ]


def _by(value: T | None, limit: T) -> T | None:
    return value if value is not None and value <= limit else None


async def ratings(session: AsyncSession, at: datetime) -> dict[Any, tuple[int, int, int]]:
    """Institution -> completion answers, the stars given in them summed, and how many stars were given."""
    a = survey_answers.c
    answers = dict(
        (row.institution_id, row.n)
        for row in (
            await session.execute(
                sa.select(a.institution_id, sa.func.count().label("n"))
                .where(a.at <= at, a.kind == "completion")
                .group_by(a.institution_id)
            )
        ).all()
    )
    stars = {
        row.institution_id: (int(row.total or 0), int(row.n))
        for row in (
            await session.execute(
                sa.select(
                    a.institution_id,
                    sa.func.sum(answer_stars.c.stars).label("total"),
                    sa.func.count().label("n"),
                )
                .join(answer_stars, answer_stars.c.event_id == a.event_id)
                .where(a.at <= at)
                .group_by(a.institution_id)
            )
        ).all()
    }
    return {i: (answers.get(i, 0), *stars.get(i, (0, 0))) for i in {*answers, *stars}}


async def answered_programmes(session: AsyncSession, at: datetime) -> set[Any]:
    a = survey_answers.c
    return set((await session.execute(sa.select(a.programme_id).where(a.at <= at).distinct())).scalars())


async def spent(session: AsyncSession, at: datetime) -> dict[tuple[Any, Any], Decimal]:
    """(institution, programme) -> grants spent on it by then."""
    g = grant_entries.c
    query = (
        sa.select(g.institution_id, g.programme_id, sa.func.sum(g.amount).label("amount"))
        .where(g.entry == "spent", g.at <= at, g.programme_id.is_not(None))
        .group_by(g.institution_id, g.programme_id)
    )
    return {(row.institution_id, row.programme_id): Decimal(row.amount) for row in (await session.execute(query))}


async def names(session: AsyncSession) -> dict[Any, str]:
    rows = await session.execute(sa.select(institutions.c.institution_id, institutions.c.name))
    return {row.institution_id: row.name for row in rows}
