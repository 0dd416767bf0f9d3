"""The public statistics: the headline numbers, the definitions of every figure, the funnel per funding project and
the daily series, as data and as charts (SVG, PNG). Aggregates only: no route here reaches a single person."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from prasmes_runtime.auth import PUBLIC
from prasmes_runtime.dependencies import DatabaseDep, refuse_unknown_query
from prasmes_runtime.errors import NotFound

from prasmes_statistics.adapters import charts
from prasmes_statistics.api.common import AsOf, Project
from prasmes_statistics.api.schemas import (
    DefinitionOut,
    FunnelOut,
    FunnelStageOut,
    PointOut,
    SeriesOut,
    SummaryOut,
    definition_out,
)
from prasmes_statistics.domain.figures import BY_CODE, DEFINITIONS, SERIES_FIGURES, funnel
from prasmes_statistics.service import figures as service

router = APIRouter(tags=["statistics"], dependencies=[Depends(refuse_unknown_query)])
SeriesFigure = Literal[
    "accounts_opened", "applications_submitted", "granted", "rejected", "started", "discontinued", "completed"
]
assert set(SeriesFigure.__args__) == set(SERIES_FIGURES)  # type: ignore[attr-defined]
Language = Annotated[Literal["lv", "en"], Query(description="The chart's language.")]
Format = Literal["svg", "png"]
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
TITLES = {
    "funnel": {"lv": "Ceļš līdz mācībām: {project}", "en": "From account to completed studies: {project}"},
    "series": {"lv": "Pa dienām", "en": "Day by day"},
}


@router.get("/summary", name="summary", summary="The headline numbers (anyone)", openapi_extra=PUBLIC)
async def summary(database: DatabaseDep, at: AsOf) -> SummaryOut:
    found = await service.dashboard(database, at)
    return SummaryOut(as_of=at.at, figures={k: int(v) for k, v in service.headline(found).items()})


@router.get("/definitions", name="definitions", summary="What every figure counts (anyone)", openapi_extra=PUBLIC)
async def definitions() -> list[DefinitionOut]:
    return [definition_out(d) for d in DEFINITIONS]


async def _funnels(database: DatabaseDep, at: AsOf, project: Project = None) -> list[FunnelOut]:
    accounts, projects = await service.funnels(database, at)
    if project is not None:
        projects = [p for p in projects if p.project_code == project]
        if not projects:
            raise NotFound(f"no figures of a funding project {project} as of {at.at.isoformat()}")
    return [
        FunnelOut(
            as_of=at.at,
            project_code=p.project_code,
            stages=[FunnelStageOut(stage=s, value=v) for s, v in funnel(accounts, p)],
            discontinued=int(p.figures.get("discontinued", 0)),
        )
        for p in projects
    ]


Funnels = Annotated[list[FunnelOut], Depends(_funnels)]


@router.get("/funnels", name="funnels", summary="The funnel of each funding project (anyone)", openapi_extra=PUBLIC)
async def funnels(found: Funnels) -> list[FunnelOut]:
    return found


async def _series(
    database: DatabaseDep,
    at: AsOf,
    figure: Annotated[SeriesFigure, Path(description="The figure: " + ", ".join(SERIES_FIGURES) + ".")],
    project: Project = None,
) -> SeriesOut:
    points = await service.series(database, figure, at, project)
    return SeriesOut(
        as_of=at.at,
        figure=figure,
        project_code=project,
        points=[PointOut(day=p.day, new=p.new, total=p.total) for p in points],
    )


Series = Annotated[SeriesOut, Depends(_series)]


@router.get("/series/{figure}", name="series", summary="A figure's daily series (anyone)", openapi_extra=PUBLIC)
async def series(found: Series) -> SeriesOut:
    return found


@router.get(
    "/charts/funnel.{fmt}", name="funnel_chart", summary="A project's funnel as a chart (anyone)", openapi_extra=PUBLIC
)
async def funnel_chart(
    fmt: Annotated[Format, Path(description="svg or png.")],
    database: DatabaseDep,
    at: AsOf,
    project: Project = None,
    language: Language = "lv",
) -> Response:
    if project is None:
        raise NotFound("name the funding project: ?project=IMK")
    (chosen,) = await _funnels(database, at, project)
    title = TITLES["funnel"][language].format(project=chosen.project_code)
    stages = [(BY_CODE[s.stage].label[language], s.value) for s in chosen.stages]
    drawn = await run_in_threadpool(
        charts.funnel_chart, stages, chosen.discontinued, title=title, fmt=fmt, language=language
    )
    return Response(drawn, media_type=MEDIA[fmt])


@router.get(
    "/charts/series/{figure}.{fmt}",
    name="series_chart",
    summary="A figure's daily series as a chart (anyone)",
    openapi_extra=PUBLIC,
)
async def series_chart(
    fmt: Annotated[Format, Path(description="svg or png.")],
    database: DatabaseDep,
    at: AsOf,
    figure: Annotated[SeriesFigure, Path(description="The figure: " + ", ".join(SERIES_FIGURES) + ".")],
    project: Project = None,
    language: Language = "lv",
) -> Response:
    found = await _series(database, at, figure, project)
    label = BY_CODE[found.figure].label[language]
    lines = {label: [(p.day, p.total) for p in found.points]} if found.points else {}
    title = TITLES["series"][language] + (f": {found.project_code}" if found.project_code else "")
    drawn = await run_in_threadpool(charts.series_chart, lines, title=title, fmt=fmt, language=language)
    return Response(drawn, media_type=MEDIA[fmt])
