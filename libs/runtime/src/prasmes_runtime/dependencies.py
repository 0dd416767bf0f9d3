"""FastAPI dependencies every service's routes use: its database, its clock, its whole context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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
