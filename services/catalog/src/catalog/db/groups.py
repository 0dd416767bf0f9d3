"""Study groups with their places, and the enrolments whose progress accounts reports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.common import Row, metadata, record
from catalog.domain.common import search_key
from catalog.domain.groups import (
    COUNTED_AS_STARTED,
    Enrolment,
    EnrolmentStatus,
    GroupInput,
    GroupStatus,
    OutcomeCounts,
    StudyGroup,
)

study_groups = sa.Table(
    "study_groups",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("programmes.id"), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("location_id", sa.Uuid(), sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("city_key", sa.String(100), nullable=False, index=True),
    sa.Column("start_date", sa.Date(), nullable=False, index=True),
    sa.Column("end_date", sa.Date(), nullable=False),
    sa.Column("schedule", sa.Text(), nullable=False),
    sa.Column("capacity", sa.Integer(), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("entry_level", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("enrolled", sa.Integer(), nullable=False),
    sa.Column("free_places", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_study_groups_programme", "programme_id", "status", "start_date"),
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("group_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("learner_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("enrolled_at", UtcDateTime(), nullable=True),
    sa.Column("started_on", sa.Date(), nullable=True),
    sa.Column("ended_on", sa.Date(), nullable=True),
    sa.Column("hours_attended", sa.Integer(), nullable=True),
    sa.Column("result", sa.String(200), nullable=True),
)


# --------------------------------------------------------------------------- study groups


def _group(row: Row) -> StudyGroup:
    m = row._mapping
    spec = GroupInput(
        location_id=m["location_id"],
        start_date=m["start_date"],
        end_date=m["end_date"],
        schedule=m["schedule"],
        capacity=m["capacity"],
        language=m["language"],
        entry_level=m["entry_level"],
    )
    return StudyGroup(
        id=m["id"],
        programme_id=m["programme_id"],
        institution_id=m["institution_id"],
        spec=spec,
        city=m["city"],
        status=GroupStatus(m["status"]),
        enrolled=m["enrolled"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def group_values(group: StudyGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "programme_id": group.programme_id,
        "institution_id": group.institution_id,
        **asdict(group.spec),
        "city": group.city,
        "city_key": search_key(group.city),
        "status": group.status.value,
        "enrolled": group.enrolled,
        "free_places": group.free_places,
        "created_at": group.created_at,
        "updated_at": group.updated_at,
    }


async def insert_group(session: AsyncSession, group: StudyGroup) -> None:
    await session.execute(study_groups.insert().values(**group_values(group)))


async def update_group(session: AsyncSession, group: StudyGroup) -> None:
    values = group_values(group)
    for kept in ("id", "programme_id", "institution_id", "created_at", "enrolled", "free_places"):
        values.pop(kept)
    # Places are counted by the database, so that a concurrent enrolment is never lost.
    values["free_places"] = _free_places(sa.literal(group.spec.capacity), study_groups.c.enrolled)
    await session.execute(study_groups.update().where(study_groups.c.id == group.id).values(**values))


async def group_by_id(session: AsyncSession, group_id: uuid.UUID) -> StudyGroup | None:
    row = (await session.execute(sa.select(study_groups).where(study_groups.c.id == group_id))).first()
    return _group(row) if row else None


async def groups_of_institution(session: AsyncSession, institution_id: uuid.UUID) -> list[StudyGroup]:
    query = (
        sa.select(study_groups)
        .where(study_groups.c.institution_id == institution_id)
        .order_by(study_groups.c.start_date, study_groups.c.id)
    )
    return [_group(r) for r in await session.execute(query)]


def upcoming(today: date) -> sa.ColumnElement[bool]:
    """Scheduled groups that have not started before today."""
    return sa.and_(study_groups.c.status == GroupStatus.SCHEDULED.value, study_groups.c.start_date >= today)


async def upcoming_groups(
    session: AsyncSession, programme_ids: Sequence[uuid.UUID], today: date, per_programme: int = 20
) -> dict[uuid.UUID, list[StudyGroup]]:
    found: dict[uuid.UUID, list[StudyGroup]] = {pid: [] for pid in programme_ids}
    if not programme_ids:
        return found
    query = (
        sa.select(study_groups)
        .where(study_groups.c.programme_id.in_(list(programme_ids)), upcoming(today))
        .order_by(study_groups.c.start_date, study_groups.c.id)
    )
    for row in await session.execute(query):
        groups = found[row.programme_id]
        if len(groups) < per_programme:
            groups.append(_group(row))
    return found


def _free_places(capacity: sa.ColumnElement[int], enrolled: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    return sa.case((capacity - enrolled > 0, capacity - enrolled), else_=0)


async def count_enrolment(session: AsyncSession, group_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        study_groups.update()
        .where(study_groups.c.id == group_id)
        .values(
            enrolled=study_groups.c.enrolled + 1,
            free_places=_free_places(study_groups.c.capacity, study_groups.c.enrolled + 1),
            updated_at=at,
        )
    )


# --------------------------------------------------------------------------- enrolments and outcomes


def _enrolment(row: Row) -> Enrolment:
    return record(Enrolment, row, status=EnrolmentStatus(row.status))


async def enrolment_by_id(session: AsyncSession, enrolment_id: uuid.UUID) -> Enrolment | None:
    row = (await session.execute(sa.select(enrolments).where(enrolments.c.id == enrolment_id))).first()
    return _enrolment(row) if row else None


async def save_enrolment(session: AsyncSession, enrolment: Enrolment, *, new: bool) -> None:
    values = asdict(enrolment)
    values["status"] = enrolment.status.value
    if new:
        await session.execute(enrolments.insert().values(**values))
    else:
        await session.execute(enrolments.update().where(enrolments.c.id == enrolment.id).values(**values))


async def enrolments_of_group(session: AsyncSession, group_id: uuid.UUID) -> list[Enrolment]:
    query = sa.select(enrolments).where(enrolments.c.group_id == group_id).order_by(enrolments.c.enrolled_at)
    return [_enrolment(r) for r in await session.execute(query)]


async def outcome_counts(session: AsyncSession, programme_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OutcomeCounts]:
    if not programme_ids:
        return {}
    query = (
        sa.select(
            enrolments.c.programme_id,
            sa.func.count().filter(enrolments.c.status.in_(sorted(s.value for s in COUNTED_AS_STARTED))),
            sa.func.count().filter(enrolments.c.status == EnrolmentStatus.COMPLETED.value),
            sa.func.count().filter(enrolments.c.status == EnrolmentStatus.DISCONTINUED.value),
        )
        .where(enrolments.c.programme_id.in_(list(programme_ids)))
        .group_by(enrolments.c.programme_id)
    )
    return {pid: OutcomeCounts(s, c, d) for pid, s, c, d in await session.execute(query)}
