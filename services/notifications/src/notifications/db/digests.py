"""Who chose the daily digest, what the last one covered, and the notices a digest lists."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.notices import metadata, notices
from notifications.domain.digests import DigestChoice

digest_choices = sa.Table(
    "digest_choices",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("chosen_at", UtcDateTime(), nullable=False),
    sa.Column("covered_until", UtcDateTime(), nullable=False),
    sa.Column("last_sent_on", sa.Date(), nullable=True),
)


def _choice(row: sa.Row[Any]) -> DigestChoice:
    return DigestChoice(**row._mapping)


async def choice_of(session: AsyncSession, user_id: str) -> DigestChoice | None:
    row = (await session.execute(digest_choices.select().where(digest_choices.c.user_id == user_id))).first()
    return None if row is None else _choice(row)


async def choose(session: AsyncSession, user_id: str, now: datetime, today: date) -> None:
    """Chosen from now, the first digest tomorrow morning (choosing it again keeps what the last one covered)."""
    if await choice_of(session, user_id) is None:
        values = {"user_id": user_id, "chosen_at": now, "covered_until": now, "last_sent_on": today}
        await session.execute(digest_choices.insert().values(**values))


async def drop(session: AsyncSession, user_id: str) -> None:
    await session.execute(digest_choices.delete().where(digest_choices.c.user_id == user_id))


async def choices(session: AsyncSession) -> list[DigestChoice]:
    """Everyone who chose it: the staff, a few hundred at most."""
    return [_choice(r) for r in await session.execute(digest_choices.select().order_by(digest_choices.c.user_id))]


async def covered(session: AsyncSession, user_id: str, day: date, until: datetime) -> bool:
    """The day's digest made, up to `until`: whether this process made it (not another, meanwhile)."""
    where = (
        digest_choices.c.user_id == user_id,
        sa.or_(digest_choices.c.last_sent_on.is_(None), digest_choices.c.last_sent_on < day),
    )
    done = await session.execute(digest_choices.update().where(*where).values(last_sent_on=day, covered_until=until))
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def waiting(
    session: AsyncSession, user_id: str, kinds: Collection[str], after: datetime, until: datetime, limit: int
) -> tuple[list[dict[str, str]], int]:
    """The titles of the user's unread notices of `kinds` created in (after, until], newest first, and how many."""
    where = (
        notices.c.recipient_id == user_id,
        notices.c.read_at.is_(None),
        notices.c.kind.in_(list(kinds)),
        notices.c.created_at > after,
        notices.c.created_at <= until,
    )
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(notices).where(*where)) or 0)
    query = sa.select(notices.c.title).where(*where).order_by(notices.c.created_at.desc(), notices.c.id).limit(limit)
    return [json.loads(title) for title in (await session.execute(query)).scalars()], total
