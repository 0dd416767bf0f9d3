"""FastAPI dependencies every service's routes use: its database and its clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database


def _database(request: Request) -> Database:
    database: Database = request.app.state.runtime.database
    return database


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.runtime.clock
    return clock


DatabaseDep = Annotated[Database, Depends(_database)]
ClockDep = Annotated[Clock, Depends(_clock)]
