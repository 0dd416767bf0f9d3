"""The read model fed by calls' events: each call's funding project, and the learning needs its latest list approved."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import upsert
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.project import forget_published
from accounts.db.tables import calls, learning_needs
from accounts.domain.learning_needs import LearningNeed


def _need(row: sa.Row[Any]) -> LearningNeed:
    m = row._mapping
    return LearningNeed(
        code=m["code"],
        title=json.loads(m["title"]),
        call_id=m["call_id"],
        approved_on=m["approved_on"],
        approved_at=m["approved_at"],
    )


async def save_call(
    session: AsyncSession, call_id: uuid.UUID, project_code: str, code: str, title: dict[str, str]
) -> None:
    values = {"project_code": project_code, "code": code, "title": json.dumps(title, ensure_ascii=False)}
    await upsert(session, calls, {"id": call_id}, values)


async def needs_approved_at(session: AsyncSession, call_id: uuid.UUID) -> datetime | None:
    """When the call's stored list was published (None: no list yet)."""
    stored: datetime | None = await session.scalar(sa.select(calls.c.needs_approved_at).where(calls.c.id == call_id))
    return stored


async def replace_needs(
    session: AsyncSession,
    call_id: uuid.UUID,
    project_code: str,
    approved_on: date,
    at: datetime,
    needs: Sequence[tuple[str, dict[str, str]]],
) -> None:
    """The call's list of (code, title) replaces whatever list it had."""
    forget_published(session, project_code)
    await upsert(session, calls, {"id": call_id}, {"project_code": project_code, "needs_approved_at": at})
    await session.execute(learning_needs.delete().where(learning_needs.c.call_id == call_id))
    rows = [
        {
            "call_id": call_id,
            "code": code,
            "project_code": project_code,
            "title": json.dumps(title, ensure_ascii=False),
            "approved_on": approved_on,
            "approved_at": at,
        }
        for code, title in needs
    ]
    if rows:
        await session.execute(learning_needs.insert(), rows)


async def needs_of(session: AsyncSession, project_codes: Sequence[str]) -> dict[str, list[LearningNeed]]:
    """Every stored need of these projects, over all their calls, by project."""
    rows = await session.execute(sa.select(learning_needs).where(learning_needs.c.project_code.in_(project_codes)))
    found: dict[str, list[LearningNeed]] = {code: [] for code in project_codes}
    for row in rows:
        found[row.project_code].append(_need(row))
    return found
