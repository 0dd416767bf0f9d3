"""Enrolments in study groups and the study record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.tables import enrolments
from accounts.domain.studies import Enrolment, StudyState


def _enrolment(row: sa.Row[Any]) -> Enrolment:
    m = row._mapping
    return Enrolment(
        id=m["id"],
        application_id=m["application_id"],
        learner_id=m["learner_id"],
        project_code=m["project_code"],
        programme_id=m["programme_id"],
        group_id=m["group_id"],
        institution_id=m["institution_id"],
        enrolled_at=m["enrolled_at"],
        state=StudyState(m["state"]),
        started_on=m["started_on"],
        ended_on=m["ended_on"],
        reason=m["reason"],
        hours_attended=m["hours_attended"],
        result=m["result"],
    )


async def insert_enrolment(session: AsyncSession, enrolment: Enrolment) -> None:
    await session.execute(
        enrolments.insert().values(
            id=enrolment.id,
            application_id=enrolment.application_id,
            learner_id=enrolment.learner_id,
            project_code=enrolment.project_code,
            programme_id=enrolment.programme_id,
            group_id=enrolment.group_id,
            institution_id=enrolment.institution_id,
            enrolled_at=enrolment.enrolled_at,
            state=enrolment.state.value,
        )
    )


async def save_enrolment(session: AsyncSession, enrolment: Enrolment) -> None:
    await session.execute(
        enrolments.update()
        .where(enrolments.c.id == enrolment.id)
        .values(
            state=enrolment.state.value,
            started_on=enrolment.started_on,
            ended_on=enrolment.ended_on,
            reason=enrolment.reason,
            hours_attended=enrolment.hours_attended,
            result=enrolment.result,
        )
    )


async def _all(session: AsyncSession, query: sa.Select[Any]) -> list[Enrolment]:
    return [_enrolment(r) for r in await session.execute(query)]


async def enrolment_by_id(session: AsyncSession, enrolment_id: uuid.UUID) -> Enrolment | None:
    found = await _all(session, sa.select(enrolments).where(enrolments.c.id == enrolment_id))
    return found[0] if found else None


async def enrolments_of_learner(session: AsyncSession, learner_id: str) -> list[Enrolment]:
    c = enrolments.c
    return await _all(session, sa.select(enrolments).where(c.learner_id == learner_id).order_by(c.enrolled_at))


async def enrolments_of_institution(
    session: AsyncSession, institution_ids: Sequence[uuid.UUID], group_id: uuid.UUID | None
) -> list[Enrolment]:
    c = enrolments.c
    query = sa.select(enrolments).where(c.institution_id.in_(institution_ids))
    if group_id is not None:
        query = query.where(c.group_id == group_id)
    return await _all(session, query.order_by(c.group_id, c.enrolled_at))
