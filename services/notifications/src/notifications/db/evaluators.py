"""The read model of who evaluates an offer (from calls' `EvaluatorAssigned`, internal): the officer's opaque user
id and the call's code, the latest assignment winning."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime, upsert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.notices import metadata
from notifications.domain.evaluators import OfferEvaluator

offer_evaluators = sa.Table(
    "offer_evaluators",
    metadata,
    sa.Column("offer_id", sa.Uuid(), primary_key=True),
    sa.Column("evaluator_id", sa.String(64), nullable=False),
    sa.Column("call_code", sa.String(50), nullable=False),
    sa.Column("assigned_at", UtcDateTime(), nullable=False),
)


async def evaluator_of(session: AsyncSession, offer_id: uuid.UUID) -> OfferEvaluator | None:
    row = (await session.execute(sa.select(offer_evaluators).where(offer_evaluators.c.offer_id == offer_id))).first()
    if row is None:
        return None
    return OfferEvaluator(row.offer_id, row.evaluator_id, row.call_code, row.assigned_at)


async def save_evaluator(session: AsyncSession, assigned: OfferEvaluator) -> None:
    values: dict[str, str | datetime] = {
        "evaluator_id": assigned.evaluator_id,
        "call_code": assigned.call_code,
        "assigned_at": assigned.assigned_at,
    }
    await upsert(session, offer_evaluators, {"offer_id": assigned.offer_id}, values)
