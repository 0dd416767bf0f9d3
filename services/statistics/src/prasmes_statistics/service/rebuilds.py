"""Rebuilding the projection from the first offsets of its topics, and how far a rebuild has come.

A rebuild starts the projection's next generation in one transaction: every fact is forgotten and the consumer,
which looks at the generation every second, leaves its group for the new generation's, which has no offsets and
so reads every topic from its first. The figures meanwhile are those of the events read so far; the status says how
far that is (the group's committed offsets against the topics' ends), and a rebuild is done when nothing is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prasmes_runtime.bus import Bus
from prasmes_runtime.context import ServiceContext

from prasmes_statistics.consumers import PROJECTION
from prasmes_statistics.db import projection


@dataclass(frozen=True)
class RebuildStatus:
    generation: int
    requested_at: datetime | None
    requested_by: str | None
    """"admin" (the endpoint) or "command"."""
    read: int
    """Records of the projection's topics its current generation has read."""
    total: int
    """Records on those topics now."""

    @property
    def done(self) -> bool:
        return self.read >= self.total


async def request(context: ServiceContext, by: str) -> int:
    """Start a rebuild: the new generation's number."""
    async with context.database.transaction() as session:
        return await projection.start_rebuild(session, context.clock.now(), by)


async def status(context: ServiceContext, bus: Bus) -> RebuildStatus:
    async with context.database.session() as session:
        row = await projection.state(session)
    group = PROJECTION.renamed(context.settings.consumer_group_suffix).group(row.generation)
    positions = await bus.positions(group, PROJECTION.topics)
    return RebuildStatus(
        generation=row.generation,
        requested_at=row.rebuild_requested_at,
        requested_by=row.rebuild_requested_by,
        read=sum(min(committed, end) for committed, end in positions.values()),
        total=sum(end for _, end in positions.values()),
    )
