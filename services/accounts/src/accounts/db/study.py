"""Enrolments in study groups and the study record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.tables import accounts, enrolments
from accounts.domain.account import Profile
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
        invoiced_amount=m["invoiced_amount"],
        invoiced_at=m["invoiced_at"],
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


async def save_invoice(session: AsyncSession, enrolment: Enrolment) -> bool:
    """Record the provider's invoice unless one was recorded meanwhile (False then)."""
    c = enrolments.c
    result = await session.execute(
        enrolments.update()
        .where(c.id == enrolment.id, c.invoiced_at.is_(None))
        .values(invoiced_amount=enrolment.invoiced_amount, invoiced_at=enrolment.invoiced_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _all(session: AsyncSession, query: sa.Select[Any]) -> list[Enrolment]:
    return [_enrolment(r) for r in await session.execute(query)]


async def enrolment_by_id(session: AsyncSession, enrolment_id: uuid.UUID) -> Enrolment | None:
    found = await _all(session, sa.select(enrolments).where(enrolments.c.id == enrolment_id))
    return found[0] if found else None


async def enrolments_of_learner(session: AsyncSession, learner_id: str) -> list[Enrolment]:
    c = enrolments.c
    return await _all(session, sa.select(enrolments).where(c.learner_id == learner_id).order_by(c.enrolled_at))


SORTS: dict[str, tuple[sa.ColumnElement[Any], ...]] = {
    "enrolled": (enrolments.c.enrolled_at,),
    "-enrolled": (enrolments.c.enrolled_at.desc(),),
    "name": (accounts.c.last_name, accounts.c.first_name, enrolments.c.enrolled_at),
    "-name": (accounts.c.last_name.desc(), accounts.c.first_name.desc(), enrolments.c.enrolled_at),
    "state": (enrolments.c.state, enrolments.c.enrolled_at),
}
"""The orders the institution's list may take (within each group); the id last, so that paging is stable."""


@dataclass(frozen=True)
class InstitutionFilter:
    """Which of the institutions' enrolments a list holds: a group's, and those in any of `states` (all if none)."""

    institution_ids: Sequence[uuid.UUID]
    group_id: uuid.UUID | None = None
    states: Sequence[StudyState] = ()


def _of_institution(chosen: InstitutionFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [enrolments.c.institution_id.in_(chosen.institution_ids)]
    if chosen.group_id is not None:
        conditions.append(enrolments.c.group_id == chosen.group_id)
    if chosen.states:
        conditions.append(enrolments.c.state.in_([s.value for s in chosen.states]))
    return conditions


def _named(query: sa.Select[Any]) -> sa.Select[Any]:
    return query.outerjoin(accounts, accounts.c.learner_id == enrolments.c.learner_id)


async def enrolments_of_institution(
    session: AsyncSession, chosen: InstitutionFilter, sort: str, limit: int, offset: int
) -> list[tuple[Enrolment, str | None]]:
    """One page of the enrolments in the institutions' groups, each with the learner's name as far as the profile
    gives it (nothing else of the learner's account)."""
    c = enrolments.c
    query = (
        _named(sa.select(enrolments, accounts.c.first_name, accounts.c.last_name))
        .where(*_of_institution(chosen))
        .order_by(c.group_id, *SORTS[sort], c.id)
        .limit(limit)
        .offset(offset)
    )
    return [(_enrolment(r), Profile(r.first_name, r.last_name).full_name) for r in await session.execute(query)]


async def named_enrolment(session: AsyncSession, enrolment_id: uuid.UUID) -> tuple[Enrolment, str | None] | None:
    """One enrolment with the learner's name as far as the profile gives it."""
    query = _named(sa.select(enrolments, accounts.c.first_name, accounts.c.last_name)).where(
        enrolments.c.id == enrolment_id
    )
    row = (await session.execute(query)).first()
    return None if row is None else (_enrolment(row), Profile(row.first_name, row.last_name).full_name)


async def count_of_institution(session: AsyncSession, chosen: InstitutionFilter) -> int:
    total = await session.scalar(sa.select(sa.func.count()).select_from(enrolments).where(*_of_institution(chosen)))
    return int(total or 0)
