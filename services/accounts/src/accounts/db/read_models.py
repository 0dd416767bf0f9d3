"""The read models fed by catalog's events: published programmes, study groups, provider users."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import upsert
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.tables import groups, programmes, provider_users
from accounts.domain.programmes import SCHEDULED, Programme, StudyGroup


def _programme(row: sa.Row[Any]) -> Programme:
    m = row._mapping
    return Programme(
        id=m["id"],
        institution_id=m["institution_id"],
        institution_name=m["institution_name"],
        title=json.loads(m["title"]),
        hours=m["hours"],
        cost_per_participant=m["cost_per_participant"],
        published=m["published"],
        digcomp_level=m["digcomp_level"],
    )


def _group(row: sa.Row[Any]) -> StudyGroup:
    m = row._mapping
    return StudyGroup(
        id=m["id"],
        programme_id=m["programme_id"],
        institution_id=m["institution_id"],
        capacity=m["capacity"],
        start_date=m["start_date"],
        end_date=m["end_date"],
        city=m["city"],
        status=m["status"],
        taken=m["taken"],
    )


async def save_programme(session: AsyncSession, programme: Programme) -> None:
    await upsert(
        session,
        programmes,
        {"id": programme.id},
        {
            "institution_id": programme.institution_id,
            "institution_name": programme.institution_name,
            "title": json.dumps(programme.title, ensure_ascii=False),
            "hours": programme.hours,
            "cost_per_participant": programme.cost_per_participant,
            "published": programme.published,
            "digcomp_level": programme.digcomp_level,
        },
    )


async def withdraw_programme(session: AsyncSession, programme_id: uuid.UUID) -> None:
    await session.execute(programmes.update().where(programmes.c.id == programme_id).values(published=False))


async def programme_by_id(session: AsyncSession, programme_id: uuid.UUID) -> Programme | None:
    row = (await session.execute(sa.select(programmes).where(programmes.c.id == programme_id))).first()
    return _programme(row) if row else None


async def programmes_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Programme]:
    rows = await session.execute(sa.select(programmes).where(programmes.c.id.in_(ids)))
    return {r.id: _programme(r) for r in rows}


async def save_group(session: AsyncSession, group: StudyGroup) -> None:
    """Catalog's view of the group; `taken` is ours (it counts our enrolments) and is never overwritten."""
    await upsert(
        session,
        groups,
        {"id": group.id},
        {
            "programme_id": group.programme_id,
            "institution_id": group.institution_id,
            "capacity": group.capacity,
            "start_date": group.start_date,
            "end_date": group.end_date,
            "city": group.city,
            "status": group.status,
        },
    )


async def group_by_id(session: AsyncSession, group_id: uuid.UUID) -> StudyGroup | None:
    row = (await session.execute(sa.select(groups).where(groups.c.id == group_id))).first()
    return _group(row) if row else None


async def group_and_programme(session: AsyncSession, group_id: uuid.UUID) -> tuple[StudyGroup | None, Programme | None]:
    """The group and its programme as the read models know them (None for what they do not)."""
    group = await group_by_id(session, group_id)
    return group, await programme_by_id(session, group.programme_id) if group else None


async def take_place(session: AsyncSession, group_id: uuid.UUID) -> bool:
    """Atomically take one free place in a scheduled group; False when it is full."""
    c = groups.c
    result = await session.execute(
        groups.update().where(c.id == group_id, c.status == SCHEDULED, c.taken < c.capacity).values(taken=c.taken + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def save_provider_user(session: AsyncSession, institution_id: uuid.UUID, user_id: str, role: str) -> None:
    await upsert(session, provider_users, {"institution_id": institution_id, "user_id": user_id}, {"role": role})


async def remove_provider_user(session: AsyncSession, institution_id: uuid.UUID, user_id: str) -> None:
    await session.execute(
        provider_users.delete().where(
            provider_users.c.institution_id == institution_id, provider_users.c.user_id == user_id
        )
    )


async def institutions_of(session: AsyncSession, user_id: str, roles: Sequence[str]) -> list[uuid.UUID]:
    """The institutions for which the user holds one of `roles`."""
    rows = await session.execute(
        sa.select(provider_users.c.institution_id).where(
            provider_users.c.user_id == user_id, provider_users.c.role.in_(roles)
        )
    )
    return [r[0] for r in rows]
