"""Survey results: for an institution, a programme or a group (its institution's users and the agency), for the whole
platform (the agency); their free-text comments and charts; the agency's quality flags and exports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from prasmes_documents.tables import table_response
from prasmes_runtime.dependencies import MAX_LIMIT, MAX_OFFSET, DatabaseDep, PagingDep, refuse_unknown_query
from prasmes_runtime.errors import NotFound
from prasmes_runtime.schemas import Page
from pydantic import BaseModel

from surveys.adapters import charts
from surveys.api.common import Agency, Reader, SettingsDep
from surveys.domain.aggregates import CompletionResults
from surveys.domain.results import MIN_SHOWN, CompletionBlock, FlagReason, Level, Results, Scope
from surveys.service import exports
from surveys.service import results as service

# The fixed paths (/platform/..., /exports/...) come before the breakdowns' /{breakdown}/{scope_id}: the first
# route whose path matches is the one that answers.
router = APIRouter(prefix="/survey-results", tags=["survey results"], dependencies=[Depends(refuse_unknown_query)])
Language = Annotated[Literal["lv", "en"], Query(description="The chart's language.")]
Breakdown = Literal["institutions", "programmes", "groups"]
LEVEL_OF: dict[str, Level] = {"institutions": "institution", "programmes": "programme", "groups": "group"}
ChartName = Literal["stars.svg", "stars.png", "reasons.svg", "reasons.png"]
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
TITLES = {
    "stars": {"lv": "Mācību novērtējums", "en": "Study evaluation"},
    "reasons": {"lv": "Mācību pārtraukšanas iemesli", "en": "Reasons for discontinuing the studies"},
}


class ScopeOut(BaseModel):
    level: Level
    id: uuid.UUID | None
    institution_id: uuid.UUID | None


class AspectOut(BaseModel):
    answers: int
    mean: Decimal
    distribution: dict[int, Decimal]
    """Stars -> share of the answers, whole percent."""


class CheckOut(BaseModel):
    answers: int
    yes: Decimal
    no: Decimal


class GainOut(BaseModel):
    answers: int
    mean: Decimal
    distribution: dict[str, int]


class CompletionOut(BaseModel):
    answers: int
    mean: Decimal | None
    aspects: dict[str, AspectOut]
    checks: dict[str, CheckOut]
    skill_gain: GainOut | None


class DiscontinuationOut(BaseModel):
    answers: int
    reasons: dict[str, Decimal]
    """Reason -> share of the answers that chose it, whole percent; several reasons per answer, so the shares can
    add up to more than 100."""


class ResultsOut(BaseModel):
    scope: ScopeOut
    invited: dict[str, int]
    answered: dict[str, int]
    response_rate: dict[str, Decimal | None]
    dropout_rate: Decimal | None
    completion: CompletionOut | None
    discontinuation: DiscontinuationOut | None
    withheld: bool
    """Figures of a kind fewer than `min_shown` answered are withheld from the institution (null)."""
    min_shown: int = MIN_SHOWN


class CommentOut(BaseModel):
    kind: str
    programme_id: uuid.UUID
    group_id: uuid.UUID
    texts: dict[str, str]
    submitted_at: str


class FlagOut(BaseModel):
    reason: str
    value: Decimal
    threshold: Decimal
    over: int


class FlaggedOut(BaseModel):
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    title: str | None
    flags: list[FlagOut]
    raters: int
    rating: Decimal | None
    dropout_rate: Decimal | None
    description_mismatch: Decimal | None


def _completion(block: CompletionBlock | None) -> CompletionOut | None:
    if block is None:
        return None
    gain = block.skill_gain
    return CompletionOut(
        answers=block.answers,
        mean=block.mean,
        aspects={
            a: AspectOut(answers=block.answers, mean=r.mean, distribution=r.distribution)
            for a, r in block.aspects.items()
        },
        checks={c: CheckOut(answers=r.answers, yes=r.yes, no=r.no) for c, r in block.checks.items()},
        skill_gain=None
        if gain is None
        else GainOut(answers=gain.answers, mean=gain.mean, distribution=gain.distribution),
    )


def _out(found: service.ScopeResults) -> ResultsOut:
    r: Results = found.results
    scope_id = uuid.UUID(found.scope.scope_id) if found.scope.scope_id else None
    return ResultsOut(
        scope=ScopeOut(level=found.scope.level, id=scope_id, institution_id=found.institution_id),
        invited=r.invited,
        answered=r.answered,
        response_rate={k: r.response_rate(k) for k in r.invited},
        dropout_rate=r.dropout_rate,
        completion=_completion(r.completion),
        discontinuation=None
        if r.discontinuation is None
        else DiscontinuationOut(answers=r.discontinuation.answers, reasons=r.discontinuation.reasons),
        withheld=found.withheld,
    )


ScopeId = Annotated[uuid.UUID, Path(description="The institution's, programme's or group's id.")]


def _scope(breakdown: Breakdown, scope_id: uuid.UUID) -> Scope:
    return Scope(LEVEL_OF[breakdown], str(scope_id))


PLATFORM = Scope("all", "")


@router.get("/platform", name="platform_results", summary="The whole platform's survey results (agency)")
async def platform_results(user: Agency, database: DatabaseDep) -> ResultsOut:
    return _out(await service.scope_results(database, user, PLATFORM))


QualitySort = Literal["flags", "rating", "-dropout", "-mismatch", "title"]
TOTAL_HEADER = "X-Total-Count"
_MISSING_LOW, _MISSING_HIGH = Decimal(-1), Decimal(100)


def _by_title(f: FlaggedOut) -> tuple[str, str]:
    return (f.title or "").casefold(), str(f.programme_id)


def _quality_key(sort: QualitySort) -> Callable[[FlaggedOut], Any] | None:
    """None: the service's order, the most flags first. A missing figure sorts last."""
    title = _by_title
    keys: dict[str, Callable[[FlaggedOut], Any]] = {
        "rating": lambda f: (_MISSING_HIGH if f.rating is None else f.rating, title(f)),
        "-dropout": lambda f: (-(_MISSING_LOW if f.dropout_rate is None else f.dropout_rate), title(f)),
        "-mismatch": lambda f: (
            -(_MISSING_LOW if f.description_mismatch is None else f.description_mismatch),
            title(f),
        ),
        "title": title,
    }
    return keys.get(sort)


@router.get(
    "/quality-flags",
    name="quality_flags",
    summary="Programmes flagged for the agency, with the figures",
    description="Every flagged programme without parameters, the most flags first; `reason` keeps those with that "
    f"flag, `sort` orders them, `limit`/`offset` page them; `{TOTAL_HEADER}` is how many match before paging.",
)
async def quality_flags(
    _: Agency,
    database: DatabaseDep,
    settings: SettingsDep,
    response: Response,
    reason: Annotated[FlagReason | None, Query(description="Only the programmes with this flag.")] = None,
    sort: QualitySort = "flags",
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[FlaggedOut]:
    found = await service.flagged(database, settings.quality_rules())
    flagged = [
        FlaggedOut(
            programme_id=f.programme_id,
            institution_id=f.institution_id,
            title=f.title,
            flags=[FlagOut(reason=x.reason, value=x.value, threshold=x.threshold, over=x.over) for x in f.flags],
            raters=f.results.answered.get("completion", 0),
            rating=f.results.completion.mean if f.results.completion else None,
            dropout_rate=f.results.dropout_rate,
            description_mismatch=c.no
            if f.results.completion and (c := f.results.completion.checks.get("description_matched"))
            else None,
        )
        for f in found
        if reason is None or any(x.reason == reason for x in f.flags)
    ]
    key = _quality_key(sort)
    ordered = sorted(flagged, key=key) if key else flagged
    response.headers[TOTAL_HEADER] = str(len(ordered))
    return ordered[offset : offset + limit] if limit is not None else ordered[offset:]


@router.get("/exports/answers.csv", name="answers_csv", summary="Every submitted answer, without the learner (CSV)")
async def answers_csv(_: Agency, database: DatabaseDep) -> Response:
    return table_response("answers", exports.ANSWER_COLUMNS, await exports.answer_rows(database), "csv")


@router.get("/exports/answers.xlsx", name="answers_xlsx", summary="Every submitted answer, without the learner (XLSX)")
async def answers_xlsx(_: Agency, database: DatabaseDep) -> Response:
    return table_response("answers", exports.ANSWER_COLUMNS, await exports.answer_rows(database), "xlsx")


@router.get(
    "/exports/aggregates.csv", name="aggregates_csv", summary="The results of every institution and programme (CSV)"
)
async def aggregates_csv(_: Agency, database: DatabaseDep) -> Response:
    return table_response("aggregates", exports.AGGREGATE_COLUMNS, await exports.aggregate_rows(database), "csv")


@router.get(
    "/exports/aggregates.xlsx", name="aggregates_xlsx", summary="The results of every institution and programme (XLSX)"
)
async def aggregates_xlsx(_: Agency, database: DatabaseDep) -> Response:
    return table_response("aggregates", exports.AGGREGATE_COLUMNS, await exports.aggregate_rows(database), "xlsx")


async def _comments(user: Reader, database: DatabaseDep, scope: Scope, paging: PagingDep) -> Page[CommentOut]:
    items, total = await service.comments(database, user, scope, paging.limit, paging.offset)
    out = [
        CommentOut(
            kind=s.kind,
            programme_id=s.enrolment.programme_id,
            group_id=s.enrolment.group_id,
            texts=s.comments,
            submitted_at=s.submitted_at.isoformat() if s.submitted_at else "",
        )
        for s in items
    ]
    return Page(items=out, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/platform/comments", name="platform_comments", summary="Every free-text comment (agency)")
async def platform_comments(user: Agency, database: DatabaseDep, paging: PagingDep) -> Page[CommentOut]:
    return await _comments(user, database, PLATFORM, paging)


class GroupScopeOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    shown: bool
    """Whether the caller may see the group's results (for an institution: a kind with at least 3 answers)."""


@router.get(
    "/institutions/{institution_id}/groups",
    name="institution_groups",
    summary="The institution's groups that have surveys, and whether their results are shown",
)
async def institution_groups(institution_id: uuid.UUID, user: Reader, database: DatabaseDep) -> list[GroupScopeOut]:
    found = await service.institution_groups(database, user, institution_id)
    return [GroupScopeOut(id=g.group_id, programme_id=g.programme_id, shown=g.shown) for g in found]


@router.get("/{breakdown}/{scope_id}", name="scope_results", summary="An institution's, programme's or group's results")
async def scope_results(breakdown: Breakdown, scope_id: ScopeId, user: Reader, database: DatabaseDep) -> ResultsOut:
    """An institution's users see their own institution's scopes; a group's figures only when at least 3 answered."""
    return _out(await service.scope_results(database, user, _scope(breakdown, scope_id)))


@router.get("/{breakdown}/{scope_id}/comments", name="scope_comments", summary="The scope's free-text comments")
async def scope_comments(
    breakdown: Breakdown, scope_id: ScopeId, user: Reader, database: DatabaseDep, paging: PagingDep
) -> Page[CommentOut]:
    return await _comments(user, database, _scope(breakdown, scope_id), paging)


async def _chart(found: service.ScopeResults, name: ChartName, lang: str) -> Response:
    chart, _, fmt = name.partition(".")
    r = found.results
    title = TITLES[chart][lang]
    if chart == "stars":
        if r.completion is None:
            raise NotFound("no completion answers to chart")
        data = CompletionResults(r.completion.answers, r.completion.aspects)
        image = await run_in_threadpool(charts.stars_chart, data, language=lang, title=title, fmt=fmt)  # type: ignore[arg-type]
    else:
        if r.discontinuation is None:
            raise NotFound("no discontinuation answers to chart")
        block = r.discontinuation
        image = await run_in_threadpool(
            charts.reasons_chart,
            block.reasons,
            block.answers,
            language=lang,
            title=title,
            fmt=fmt,  # type: ignore[arg-type]
        )
    return Response(image, media_type=MEDIA[fmt], headers={"Cache-Control": "private, max-age=60"})


@router.get("/platform/charts/{name}", name="platform_chart", summary="A chart of the platform's results (agency)")
async def platform_chart(name: ChartName, user: Agency, database: DatabaseDep, lang: Language = "lv") -> Response:
    return await _chart(await service.scope_results(database, user, PLATFORM), name, lang)


@router.get("/{breakdown}/{scope_id}/charts/{name}", name="scope_chart", summary="A chart of the scope's results")
async def scope_chart(
    breakdown: Breakdown, scope_id: ScopeId, name: ChartName, user: Reader, database: DatabaseDep, lang: Language = "lv"
) -> Response:
    """stars.svg|png: a 100 % stacked bar per aspect; reasons.svg|png: the reasons for discontinuing, n below."""
    return await _chart(await service.scope_results(database, user, _scope(breakdown, scope_id)), name, lang)
