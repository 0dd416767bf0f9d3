"""Notices for every holder of an agency role, waiting for the directory to name the holders."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.notices import metadata, reference_columns, reference_of
from notifications.domain.officers import StaffNotice

staff_notices = sa.Table(
    "staff_notices",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("role", sa.String(30), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("cause_event_id", sa.String(64), nullable=False),
    sa.Column("reference_type", sa.String(30), nullable=True),
    sa.Column("reference_id", sa.String(64), nullable=True),
    sa.Column("template_values", sa.Text(), nullable=False),
)


def _staff_notice(row: sa.Row[Any]) -> StaffNotice:
    m = row._mapping
    values = json.loads(m["template_values"])
    return StaffNotice(m["id"], m["role"], m["kind"], m["created_at"], m["cause_event_id"], reference_of(m), values)


async def add(session: AsyncSession, notice: StaffNotice) -> None:
    await session.execute(
        staff_notices.insert().values(
            id=notice.id,
            role=notice.role,
            kind=notice.kind,
            created_at=notice.created_at,
            cause_event_id=notice.cause_event_id,
            **reference_columns(notice.reference),
            template_values=json.dumps(notice.values, ensure_ascii=False, sort_keys=True),
        )
    )


async def waiting(session: AsyncSession, limit: int) -> list[StaffNotice]:
    query = sa.select(staff_notices).order_by(staff_notices.c.created_at, staff_notices.c.id).limit(limit)
    return [_staff_notice(r) for r in await session.execute(query)]


async def take(session: AsyncSession, notice_id: uuid.UUID) -> bool:
    """Removed, in the transaction that writes its holders' notices: whether it was still there (another process
    may have taken it meanwhile; on PostgreSQL the second waits for the first's commit and finds nothing)."""
    done = await session.execute(staff_notices.delete().where(staff_notices.c.id == notice_id))
    return bool(done.rowcount)  # type: ignore[attr-defined]
