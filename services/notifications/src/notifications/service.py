"""Use cases of the notifications service."""

from __future__ import annotations

import uuid
from dataclasses import replace

from prasmes_contracts import CloudEvent
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database
from prasmes_runtime.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import db
from notifications.domain import Notice, grant_notice, welcome_notice


async def welcome(session: AsyncSession, event: AccountOpened, envelope: CloudEvent, clock: Clock) -> Notice:
    """Runs inside the consumer's transaction, beside its inbox row."""
    notice = welcome_notice(event.learner_id, event.account_id, clock.now(), envelope.id)
    await db.insert_notice(session, notice)
    return notice


async def grant_changed(
    session: AsyncSession,
    kind: str,
    recipient_id: str,
    project: str,
    amount: str | None,
    envelope: CloudEvent,
    clock: Clock,
) -> Notice:
    notice = grant_notice(kind, recipient_id, project, amount, clock.now(), envelope.id)
    await db.insert_notice(session, notice)
    return notice


async def list_notices(database: Database, recipient_id: str, limit: int, offset: int) -> tuple[list[Notice], int]:
    async with database.session() as session:
        return await db.notices_of(session, recipient_id, limit, offset), await db.count_of(session, recipient_id)


async def get_notice(database: Database, recipient_id: str, notice_id: uuid.UUID) -> Notice:
    """One's own notice; another person's is simply not found."""
    async with database.session() as session:
        notice = await db.notice_by_id(session, notice_id)
    if notice is None or notice.recipient_id != recipient_id:
        raise NotFound(f"no notice {notice_id}")
    return notice


async def mark_read(database: Database, clock: Clock, recipient_id: str, notice_id: uuid.UUID) -> Notice:
    notice = await get_notice(database, recipient_id, notice_id)
    if notice.read_at is not None:
        return notice
    now = clock.now()
    async with database.transaction() as session:
        await db.mark_read(session, notice_id, now)
    return replace(notice, read_at=now)
