"""The agency's dashboard: every figure as of an instant, with its definition, and as CSV and XLSX."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Response
from prasmes_documents.tables import table_response
from prasmes_runtime.dependencies import DatabaseDep, refuse_unknown_query
from pydantic import TypeAdapter

from prasmes_statistics.api.common import Agency, AsOf
from prasmes_statistics.api.schemas import DashboardOut, dashboard_out, definition_out
from prasmes_statistics.domain.figures import DEFINITIONS, Dashboard
from prasmes_statistics.service import exports
from prasmes_statistics.service import figures as service

router = APIRouter(tags=["statistics"], dependencies=[Depends(refuse_unknown_query)])


_AS_OF = TypeAdapter(datetime)


@router.get(
    "/dashboard", name="dashboard", summary="Every figure as of an instant (agency)", response_model=DashboardOut
)
async def dashboard(_: Agency, database: DatabaseDep, at: AsOf) -> Response:
    body = await service.rendered_dashboard(database, at, _rendered)
    as_of = b'{"as_of":' + _AS_OF.dump_json(at.at) + b","
    return Response(as_of + body.removeprefix(b"{"), media_type="application/json")


def _rendered(found: Dashboard) -> bytes:
    """Every figure but the instant, which each request puts first (the figures are the same for every instant of
    one key: `Instant.key`)."""
    return dashboard_out(found, [definition_out(d) for d in DEFINITIONS]).model_dump_json(exclude={"as_of"}).encode()


@router.get("/exports/dashboard.{fmt}", name="dashboard_export", summary="The dashboard as CSV or XLSX (agency)")
async def dashboard_export(
    _: Agency,
    fmt: Annotated[Literal["csv", "xlsx"], Path(description="csv or xlsx.")],
    database: DatabaseDep,
    at: AsOf,
) -> Response:
    table = exports.rows(await service.dashboard(database, at))
    return table_response(f"statistics-{at.at:%Y%m%dT%H%M}", exports.COLUMNS, table, fmt)
