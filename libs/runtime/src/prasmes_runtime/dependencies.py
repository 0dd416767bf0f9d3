"""FastAPI dependencies every service's routes use: its database, its clock, its whole context, paging.

All are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per dependency per
request (about 0.1 ms each on the hot path) for work that never blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from prasmes_runtime.clock import Clock
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database
from prasmes_runtime.errors import InvalidInput, NotFound, Violation


async def _database(request: Request) -> Database:
    database: Database = request.app.state.runtime.context.database
    return database


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.runtime.context.clock
    return clock


DatabaseDep = Annotated[Database, Depends(_database)]
ClockDep = Annotated[Clock, Depends(_clock)]


async def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.runtime.context
    return context


ContextDep = Annotated[ServiceContext, Depends(_context)]
"""The service's settings, database, clock and adapters (a route picks what it needs)."""


async def _dev_mode(context: ContextDep) -> None:
    if not context.settings.dev_mode:
        raise NotFound("no such route")


DevMode = Annotated[None, Depends(_dev_mode)]
"""A development-only route (a demo's replay): outside dev mode it is a 404, as if it did not exist. Put it after
the caller's role, so that a caller without a token or the role gets the 401 / 403 every route gives."""


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


async def _paging(
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


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters of a route, its dependencies' included."""
    names = {str(p.alias) for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not take is a 422 naming it (`extra_forbidden`), never silently ignored: a
    typo in a filter (`digcomp=5`) would otherwise answer the whole list."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names(route.dependant)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        raise InvalidInput(
            *(
                Violation(name, "extra_forbidden", f"{request.url.path} has no query parameter {name}; {takes}")
                for name in unknown
            )
        )


StrictQuery = Annotated[None, Depends(refuse_unknown_query)]
"""Unknown query parameters are 422s. As a route's parameter after the caller's (`_: StrictQuery`) a 401 or 403
comes first; in a router's dependencies (`APIRouter(dependencies=[Depends(refuse_unknown_query)])`) it runs before
the route's own."""
