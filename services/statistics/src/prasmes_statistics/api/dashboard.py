"""The agency's dashboard: every figure as of an instant, with its definition, and as CSV and XLSX."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Response
from prasmes_documents.tables import table_response
from prasmes_runtime.dependencies import DatabaseDep, refuse_unknown_query

from prasmes_statistics.api.common import Agency, AsOf
from prasmes_statistics.api.schemas import DashboardOut, dashboard_out, definition_out
from prasmes_statistics.domain.figures import DEFINITIONS
from prasmes_statistics.service import exports
from prasmes_statistics.service import figures as service

router = APIRouter(tags=["statistics"], dependencies=[Depends(refuse_unknown_query)])


@router.get("/dashboard", name="dashboard", summary="Every figure as of an instant (agency)")
async def dashboard(_: Agency, database: DatabaseDep, at: AsOf) -> DashboardOut:
    found = await service.dashboard(database, at)
    return dashboard_out(found, [definition_out(d) for d in DEFINITIONS])


@router.get("/exports/dashboard.{fmt}", name="dashboard_export", summary="The dashboard as CSV or XLSX (agency)")
async def dashboard_export(
    _: Agency,
    fmt: Annotated[Literal["csv", "xlsx"], Path(description="csv or xlsx.")],
    database: DatabaseDep,
    at: AsOf,
) -> Response:
    table = exports.rows(await service.dashboard(database, at))
    return table_response(f"statistics-{at.at:%Y%m%dT%H%M}", exports.COLUMNS, table, fmt)
