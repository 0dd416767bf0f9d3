"""The notifications service's tables and queries."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.notices import Notice, Reference

metadata = sa.MetaData()

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("recipient_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("read_at", UtcDateTime(), nullable=True),
    sa.Column("cause_event_id", sa.String(64), nullable=True),
    sa.Column("reference_type", sa.String(30), nullable=True),
    sa.Column("reference_id", sa.String(64), nullable=True),
    sa.Column("template_values", sa.Text(), nullable=False, server_default="{}"),
)


def reference_columns(reference: Reference | None) -> dict[str, str | None]:
    """A notice's reference as its two columns (the staff notices' too)."""
    return {
        "reference_type": reference.type if reference else None,
        "reference_id": reference.id if reference else None,
    }


def reference_of(row: sa.RowMapping) -> Reference | None:
    return Reference(row["reference_type"], row["reference_id"]) if row["reference_type"] is not None else None


def _notice(row: sa.Row[tuple[object, ...]]) -> Notice:
    m = row._mapping
    return Notice(
        m["id"],
        m["recipient_id"],
        m["kind"],
        json.loads(m["title"]),
        json.loads(m["body"]),
        m["created_at"],
        m["read_at"],
        m["cause_event_id"],
        reference_of(m),
        json.loads(m["template_values"]),
    )


_INSERT_NOTICE = notices.insert()


async def insert_notice(session: AsyncSession, notice: Notice) -> None:
    row = {
        "id": notice.id,
        "recipient_id": notice.recipient_id,
        "kind": notice.kind,
        "title": json.dumps(notice.title, ensure_ascii=False),
        "body": json.dumps(notice.body, ensure_ascii=False),
        "created_at": notice.created_at,
        "read_at": notice.read_at,
        "cause_event_id": notice.cause_event_id,
        "template_values": json.dumps(notice.values, ensure_ascii=False, sort_keys=True),
        **reference_columns(notice.reference),
    }
    await session.execute(_INSERT_NOTICE, row)


async def notices_of(session: AsyncSession, recipient_id: str, limit: int, offset: int) -> list[Notice]:
    rows = await session.execute(
        sa.select(notices)
        .where(notices.c.recipient_id == recipient_id)
        .order_by(notices.c.created_at.desc(), notices.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_notice(r) for r in rows]


async def count_of(session: AsyncSession, recipient_id: str) -> int:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(notices).where(notices.c.recipient_id == recipient_id)
    )
    return int(total or 0)


async def notice_by_id(session: AsyncSession, notice_id: uuid.UUID) -> Notice | None:
    row = (await session.execute(sa.select(notices).where(notices.c.id == notice_id))).first()
    return _notice(row) if row else None


async def save_read(session: AsyncSession, notice: Notice) -> None:
    """Record when the notice was read, unless it was read before (the first time stays)."""
    await session.execute(
        notices.update().where(notices.c.id == notice.id, notices.c.read_at.is_(None)).values(read_at=notice.read_at)
    )


async def unread_of(session: AsyncSession, recipient_id: str) -> int:
    where = (notices.c.recipient_id == recipient_id, notices.c.read_at.is_(None))
    return int(await session.scalar(sa.select(sa.func.count()).select_from(notices).where(*where)) or 0)
