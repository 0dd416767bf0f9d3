"""The projection's consumer: every public event the dashboard counts, in batches (its facts are idempotent by their
keys, so it keeps no inbox), in the group of the projection's current generation (a rebuild starts the next)."""

from __future__ import annotations

from prasmes_runtime.consumer import Batched, ConsumerSpec
from prasmes_runtime.context import ServiceContext
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_statistics.db import projection
from prasmes_statistics.service.projection import handlers


async def _flush(_: ServiceContext, session: AsyncSession) -> None:
    await projection.flush(session)


async def _generation(context: ServiceContext) -> int:
    async with context.database.session() as session:
        return await projection.generation(session)


PROJECTION = ConsumerSpec(name="statistics", handlers=handlers, batched=Batched(_flush), generation=_generation)
CONSUMERS = [PROJECTION]
