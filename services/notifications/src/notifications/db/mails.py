"""Mails to send (no address: it is asked for at send time) and the recipients' e-mail preferences."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime, upsert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.digests import digest_choices
from notifications.db.notices import metadata
from notifications.domain.mails import Mail, MailState

mails = sa.Table(
    "mails",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("notice_id", sa.Uuid(), nullable=False, unique=True),
    sa.Column("recipient_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("template_values", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("claimed_at", UtcDateTime(), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Index("ix_mails_state_next_attempt_at", "state", "next_attempt_at"),
)

email_preferences = sa.Table(
    "email_preferences",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("category", sa.String(30), primary_key=True),
    sa.Column("email", sa.Boolean(), nullable=False),
)


def _values(mail: Mail) -> dict[str, Any]:
    values = {k: v for k, v in vars(mail).items() if k != "values"}
    return values | {"template_values": json.dumps(mail.values, ensure_ascii=False, sort_keys=True)}


def _mail(row: sa.Row[Any]) -> Mail:
    m = dict(row._mapping)
    return Mail(values=json.loads(m.pop("template_values")), **m)


_INSERT_MAIL = mails.insert()


async def add(session: AsyncSession, mail: Mail) -> None:
    await session.execute(_INSERT_MAIL, _values(mail))


async def save(session: AsyncSession, mail: Mail, *, expected: MailState) -> bool:
    """Stored unless its state changed meanwhile (another sender claimed it): whether it was."""
    values = _values(mail)
    del values["id"]
    where = (mails.c.id == mail.id, mails.c.state == expected)
    done = await session.execute(mails.update().where(*where).values(**values))
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def save_all(session: AsyncSession, outcomes: Sequence[Mail], *, expected: MailState) -> None:
    """Each of `outcomes` stored unless its state changed meanwhile: one statement executed for all of them."""
    if not outcomes:
        return
    rows = [{f"v_{k}": v for k, v in _values(mail).items()} for mail in outcomes]
    columns = [name for name in rows[0] if name != "v_id"]
    statement = (
        mails.update()
        .where(mails.c.id == sa.bindparam("v_id"), mails.c.state == expected)
        .values({name.removeprefix("v_"): sa.bindparam(name) for name in columns})
    )
    await session.execute(statement, rows)


async def claim(session: AsyncSession, due: Sequence[Mail], now: datetime) -> set[uuid.UUID]:
    """Those of `due` still queued set `sending` (one more attempt) in one statement: the ids this transaction
    claimed (another sender's are not among them)."""
    if not due:
        return set()
    where = (mails.c.id.in_([m.id for m in due]), mails.c.state == "queued")
    claimed = mails.update().where(*where).values(state="sending", claimed_at=now, attempts=mails.c.attempts + 1)
    return set((await session.execute(claimed.returning(mails.c.id))).scalars())


async def get(session: AsyncSession, mail_id: uuid.UUID) -> Mail | None:
    row = (await session.execute(mails.select().where(mails.c.id == mail_id))).first()
    return None if row is None else _mail(row)


async def due(session: AsyncSession, now: datetime, limit: int) -> list[Mail]:
    query = (
        mails.select()
        .where(mails.c.state == "queued", mails.c.next_attempt_at <= now)
        .order_by(mails.c.next_attempt_at, mails.c.id)
        .limit(limit)
    )
    return [_mail(r) for r in await session.execute(query)]


async def stuck(session: AsyncSession, before: datetime) -> list[Mail]:
    """Mails claimed for sending before `before` and never marked: their sender stopped."""
    query = mails.select().where(mails.c.state == "sending", mails.c.claimed_at < before)
    return [_mail(r) for r in await session.execute(query)]


async def listed(session: AsyncSession, states: Sequence[str], limit: int, offset: int) -> tuple[list[Mail], int]:
    where = mails.c.state.in_(list(states))
    total = await session.scalar(sa.select(sa.func.count()).select_from(mails).where(where)) or 0
    query = mails.select().where(where).order_by(mails.c.created_at.desc(), mails.c.id).limit(limit).offset(offset)
    return [_mail(r) for r in await session.execute(query)], total


async def counts(session: AsyncSession) -> dict[str, int]:
    query = sa.select(mails.c.state, sa.func.count()).group_by(mails.c.state)
    return {state: n for state, n in (await session.execute(query)).tuples()}


_WISHES = sa.union_all(
    sa.select(email_preferences.c.category, email_preferences.c.email).where(
        email_preferences.c.user_id == sa.bindparam("user_id")
    ),
    sa.select(sa.null(), sa.true()).where(digest_choices.c.user_id == sa.bindparam("user_id")),
)
"""Built once: SQLAlchemy keeps a statement's cache key on the statement, so every notice skips building both."""


async def wishes(session: AsyncSession, user_id: str) -> tuple[dict[str, bool], bool]:
    """The user's choices per category and whether they chose the daily digest, in one query (every notice asks)."""
    categories: dict[str, bool] = {}
    in_digest = False
    for category, on in (await session.execute(_WISHES, {"user_id": user_id})).tuples():
        if category is None:
            in_digest = True
        else:
            categories[category] = bool(on)
    return categories, in_digest


async def save_preferences(session: AsyncSession, user_id: str, changes: dict[str, bool]) -> None:
    for category, on in changes.items():
        await upsert(session, email_preferences, {"user_id": user_id, "category": category}, {"email": on})
