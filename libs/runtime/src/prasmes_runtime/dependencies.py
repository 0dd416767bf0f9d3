"""FastAPI dependencies every service's routes use: its database, its clock, its whole context, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from prasmes_runtime.clock import Clock
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database


def _database(request: Request) -> Database:
    database: Database = request.app.state.runtime.context.database
    return database


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.runtime.context.clock
    return clock


DatabaseDep = Annotated[Database, Depends(_database)]
ClockDep = Annotated[Clock, Depends(_clock)]


def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.runtime.context
    return context


ContextDep = Annotated[ServiceContext, Depends(_context)]
"""The service's settings, database, clock and adapters (a route picks what it needs)."""


DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
"""The deepest page a list serves by offset. Every value reaches the database as a BIGINT (an offset of 2**63 was a
5xx); beyond a million rows offset paging costs a scan of all the skipped rows anyway, so a caller that deep
narrows the list with its filters instead."""


@dataclass(frozen=True)
class Paging:
    """Which page of a list: at most `limit` items, after skipping `offset`."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


def _paging(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"How many items at most (1 to {MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"How many items to skip (0 to {MAX_OFFSET}).")] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(_paging)]
"""`limit` (1..200, default 50) and `offset` (0..1,000,000, default 0) from the query string; a value out of range,
or not an integer, is a 422 naming the field and the rule (`less_than_equal`, `greater_than_equal`, `int_parsing`).
Every paged list takes its page through this, and answers a `prasmes_runtime.schemas.Page`."""
