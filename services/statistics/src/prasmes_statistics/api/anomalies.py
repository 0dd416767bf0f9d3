"""The agency's anomaly flags: institutions whose figures stand out, with the figures behind each flag (a question
for an officer, never a sanction), as data and as CSV and XLSX."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Response
from prasmes_documents.tables import table_response
from prasmes_runtime.dependencies import DatabaseDep, refuse_unknown_query
from pydantic import BaseModel

from prasmes_statistics.api.common import Agency, AsOf, SettingsDep
from prasmes_statistics.domain.anomalies import FlaggedInstitution
from prasmes_statistics.service.anomalies import anomalies as find

router = APIRouter(tags=["statistics"], dependencies=[Depends(refuse_unknown_query)])
COLUMNS = ["institution_id", "name", "flag", "value", "threshold", "peers", "over", "programmes"]


class FlagOut(BaseModel):
    code: str
    value: Decimal | int
    threshold: Decimal | int
    peers: Decimal | None
    over: int
    programmes: dict[str, Decimal]
    """For `spent_without_answers`: programme -> grants spent on it."""


class FiguresOut(BaseModel):
    enrolments: int
    late_enrolments: int
    started: int
    completed: int
    completed_without_start: int
    quick_completions: int
    completion_rate: Decimal | None
    answers: int
    rating: Decimal | None


class FlaggedOut(BaseModel):
    institution_id: str
    name: str | None
    flags: list[FlagOut]
    figures: FiguresOut


def _out(found: FlaggedInstitution) -> FlaggedOut:
    f = found.figures
    return FlaggedOut(
        institution_id=f.institution_id,
        name=f.name,
        flags=[
            FlagOut(
                code=x.code, value=x.value, threshold=x.threshold, peers=x.peers, over=x.over, programmes=x.programmes
            )
            for x in found.flags
        ],
        figures=FiguresOut(
            enrolments=f.enrolments,
            late_enrolments=f.late_enrolments,
            started=f.started,
            completed=f.completed,
            completed_without_start=f.completed_without_start,
            quick_completions=f.quick_completions,
            completion_rate=f.completion_rate,
            answers=f.answers,
            rating=f.rating,
        ),
    )


@router.get("/anomalies", name="anomalies", summary="Institutions whose figures stand out (agency)")
async def anomalies(_: Agency, database: DatabaseDep, at: AsOf, settings: SettingsDep) -> list[FlaggedOut]:
    return [_out(f) for f in await find(database, at.at, settings.anomaly_rules())]


@router.get("/exports/anomalies.{fmt}", name="anomalies_export", summary="The anomaly flags as CSV or XLSX (agency)")
async def anomalies_export(
    _: Agency,
    fmt: Annotated[Literal["csv", "xlsx"], Path(description="csv or xlsx.")],
    database: DatabaseDep,
    at: AsOf,
    settings: SettingsDep,
) -> Response:
    rows = [
        [
            f.figures.institution_id,
            f.figures.name,
            x.code,
            x.value,
            x.threshold,
            x.peers,
            x.over,
            " ".join(f"{p}={a}" for p, a in sorted(x.programmes.items())) or None,
        ]
        for f in await find(database, at.at, settings.anomaly_rules())
        for x in f.flags
    ]
    return table_response(f"anomalies-{at.at:%Y%m%dT%H%M}", COLUMNS, rows, fmt)
