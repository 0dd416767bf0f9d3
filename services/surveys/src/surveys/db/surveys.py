"""The surveys table: one row per enrolment, the learner only as the opaque id; answers as JSON text (portable)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.domain.results import Level
from surveys.domain.surveys import Enrolment, Survey

metadata = sa.MetaData()

surveys = sa.Table(
    "surveys",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("enrolment_id", sa.Uuid(), nullable=False, unique=True),
    sa.Column("learner_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_code", sa.String(30), nullable=False),
    sa.Column("programme_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("group_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("questionnaire_version", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("answers", sa.Text(), nullable=False),
    sa.Column("invited_at", UtcDateTime(), nullable=False),
    sa.Column("remind_at", UtcDateTime(), nullable=False),
    sa.Column("closes_at", UtcDateTime(), nullable=False),
    sa.Column("saved_at", UtcDateTime(), nullable=True),
    sa.Column("reminded_at", UtcDateTime(), nullable=True),
    sa.Column("submitted_at", UtcDateTime(), nullable=True),
    sa.Column("digcomp_before", sa.Numeric(3, 1), nullable=True),
    # A submitted answer with a free text: the list of comments reads only those.
    sa.Column("commented", sa.Boolean(), nullable=False, server_default=sa.false()),
)

_ENROLMENT = ("enrolment_id", "learner_id", "project_code", "programme_id", "group_id", "institution_id")


def _values(survey: Survey) -> dict[str, Any]:
    values = {k: v for k, v in vars(survey).items() if k != "enrolment"} | vars(survey.enrolment)
    answers = json.dumps(survey.answers, ensure_ascii=False, sort_keys=True)
    return values | {"answers": answers, "commented": survey.status == "submitted" and bool(survey.comments)}


def _survey(row: sa.Row[Any]) -> Survey:
    m = dict(row._mapping)
    del m["commented"]
    if m["digcomp_before"] is not None:
        m["digcomp_before"] = Decimal(m["digcomp_before"])
    enrolment = Enrolment(**{k: m.pop(k) for k in _ENROLMENT})
    return Survey(enrolment=enrolment, **(m | {"answers": json.loads(m["answers"])}))


async def add(session: AsyncSession, survey: Survey) -> bool:
    """Added unless the enrolment has its survey already (one per enrolment)."""
    exists = await session.scalar(
        sa.select(surveys.c.id).where(surveys.c.enrolment_id == survey.enrolment.enrolment_id)
    )
    if exists is not None:
        return False
    await session.execute(surveys.insert().values(**_values(survey)))
    return True


async def add_many(session: AsyncSession, added: Sequence[Survey]) -> None:
    """New surveys in one statement (the demo's replay of the seed)."""
    if added:
        await session.execute(surveys.insert(), [_values(s) for s in added])


async def exists(session: AsyncSession, enrolment_id: uuid.UUID) -> bool:
    found = await session.scalar(sa.select(surveys.c.id).where(surveys.c.enrolment_id == enrolment_id))
    return found is not None


async def update(session: AsyncSession, survey: Survey) -> None:
    values = _values(survey)
    del values["id"]
    await session.execute(surveys.update().where(surveys.c.id == survey.id).values(**values))


async def get(session: AsyncSession, survey_id: uuid.UUID, *, for_update: bool = False) -> Survey | None:
    query = surveys.select().where(surveys.c.id == survey_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else _survey(row)


async def of_learner(session: AsyncSession, learner_id: str, limit: int, offset: int) -> tuple[list[Survey], int]:
    where = surveys.c.learner_id == learner_id
    total = await session.scalar(sa.select(sa.func.count()).select_from(surveys).where(where)) or 0
    query = (
        surveys.select().where(where).order_by(surveys.c.invited_at.desc(), surveys.c.id).limit(limit).offset(offset)
    )
    return [_survey(r) for r in await session.execute(query)], total


async def due(session: AsyncSession, now: datetime, limit: int = 500) -> list[Survey]:
    """Open surveys whose reminder or closing time has come."""
    query = (
        surveys.select()
        .where(
            surveys.c.status == "open",
            sa.or_(surveys.c.closes_at < now, sa.and_(surveys.c.reminded_at.is_(None), surveys.c.remind_at <= now)),
        )
        .order_by(surveys.c.closes_at)
        .limit(limit)
    )
    return [_survey(r) for r in await session.execute(query)]


_SCOPE_COLUMN = {"institution": "institution_id", "programme": "programme_id", "group": "group_id"}


def _in_scope(level: Level, scope_id: str) -> list[sa.ColumnElement[bool]]:
    where = [surveys.c.status == "submitted"]
    if level != "all":
        where.append(surveys.c[_SCOPE_COLUMN[level]] == uuid.UUID(scope_id))
    return where


async def commented(
    session: AsyncSession, level: Level, scope_id: str, kinds: Sequence[str], limit: int, offset: int
) -> tuple[list[Survey], int]:
    """The scope's submitted surveys of these kinds with a free text, newest first."""
    where = [*_in_scope(level, scope_id), surveys.c.commented.is_(True), surveys.c.kind.in_(kinds)]
    total = await session.scalar(sa.select(sa.func.count()).select_from(surveys).where(*where)) or 0
    query = surveys.select().where(*where).order_by(surveys.c.submitted_at.desc(), surveys.c.id)
    return [_survey(r) for r in await session.execute(query.limit(limit).offset(offset))], total


async def groups_of_institution(session: AsyncSession, institution_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """The institution's groups with surveys: (programme id, group id, kind, how many answered) for each kind."""
    c = surveys.c
    answered = sa.func.sum(sa.case((c.status == "submitted", 1), else_=0))
    query = (
        sa.select(c.programme_id, c.group_id, c.kind, answered.label("answered"))
        .where(c.institution_id == institution_id)
        .group_by(c.programme_id, c.group_id, c.kind)
        .order_by(c.programme_id, c.group_id)
    )
    return [tuple(r) for r in await session.execute(query)]


async def submitted(session: AsyncSession, batch: int = 2000) -> AsyncIterator[Survey]:
    """Every submitted survey, oldest first, read in batches (the agency's export)."""
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = surveys.select().where(surveys.c.status == "submitted")
        if after is not None:
            at, last = after
            later = surveys.c.submitted_at > at
            query = query.where(later | ((surveys.c.submitted_at == at) & (surveys.c.id > last)))
        rows = (await session.execute(query.order_by(surveys.c.submitted_at, surveys.c.id).limit(batch))).all()
        for row in rows:
            yield _survey(row)
        if len(rows) < batch:
            return
        after = (rows[-1].submitted_at, rows[-1].id)
