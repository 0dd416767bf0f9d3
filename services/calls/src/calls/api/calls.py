"""Calls: opened by agency_admin with their timeline, criteria and learning needs; read by agency and providers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, PagingDep, refuse_unknown_query
from prasmes_runtime.schemas import Page, Text
from pydantic import BaseModel, Field, model_validator

from calls.api.common import AgencyAdmin, CallsIn, Reader
from calls.domain.calls import Call, CallPhase, Criterion, LearningNeed, ParamValue, Timeline
from calls.domain.common import in_riga, riga_minute
from calls.service import calls, seed

router = APIRouter(tags=["calls"], dependencies=[Depends(refuse_unknown_query)])
Code = Annotated[Text, Field(min_length=1, max_length=30)]
Titles = Annotated[dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], Annotated[str, Field(max_length=300)]], Field()]
FIRST_YEAR, LAST_YEAR = 2000, 2100


class TimelineIn(CallsIn):
    """Dates are Riga calendar days; the offer window's two instants are Riga wall-clock times to the minute
    (e.g. "2025-10-10T23:59"), or instants with an offset."""

    applications_open_on: date
    applications_close_on: date
    offers_open_at: datetime
    offers_deadline_at: datetime = Field(description="The deadline minute: offers are on time through its last second.")
    evaluation_starts_on: date
    evaluation_ends_on: date
    decision_on: date
    agreements_from: date
    publication_from: date
    delivery_ends_on: date

    @model_validator(mode="after")
    def _within_years(self) -> TimelineIn:
        for name, value in self:
            if not FIRST_YEAR <= value.year <= LAST_YEAR:
                raise ValueError(f"{name}: years {FIRST_YEAR} to {LAST_YEAR}")
        return self

    def to_timeline(self) -> Timeline:
        values: dict[str, Any] = dict(self)
        for name in ("offers_open_at", "offers_deadline_at"):
            values[name] = riga_minute(values[name], f"timeline.{name}")
        return Timeline(**values)


class CriterionIn(CallsIn):
    code: Code
    rule: Annotated[Text, Field(max_length=50)]
    params: dict[Annotated[str, Field(max_length=50)], int | Annotated[str, Field(max_length=100)] | list[str]] = Field(
        default_factory=dict
    )
    source: Annotated[Text, Field(max_length=300)] | None = Field(
        default=None, description="Where the rule comes from (default: the call's criterion code)."
    )

    def to_criterion(self) -> Criterion:
        return Criterion(self.code, self.rule, dict(self.params), self.source)


class LearningNeedIn(CallsIn):
    code: Code
    title: Titles


def _needs(items: list[LearningNeedIn]) -> tuple[LearningNeed, ...]:
    return tuple(LearningNeed(n.code, n.title) for n in items)


class CallIn(CallsIn):
    code: Code
    title: Titles
    project_code: Code
    timeline: TimelineIn
    max_programmes_per_institution: int = Field(ge=1, le=50)
    institution_criteria: list[CriterionIn] = Field(default=[], max_length=30)
    programme_criteria: list[CriterionIn] = Field(default=[], max_length=30)
    learning_needs: list[LearningNeedIn] = Field(default=[], max_length=100)
    needs_approved_on: date | None = None


class LearningNeedsIn(CallsIn):
    approved_on: date
    needs: list[LearningNeedIn] = Field(min_length=1, max_length=100)


class CriterionOut(BaseModel):
    code: str
    rule: str
    params: dict[str, ParamValue]
    source: str


class TimelineOut(BaseModel):
    applications_open_on: date
    applications_close_on: date
    offers_open_at: datetime
    offers_deadline_at: datetime = Field(description="The deadline minute (UTC); on time through its last second.")
    offers_open_at_riga: str
    offers_deadline_riga: str
    evaluation_starts_on: date
    evaluation_ends_on: date
    decision_on: date
    agreements_from: date
    publication_from: date
    delivery_ends_on: date


class LearningNeedOut(BaseModel):
    code: str
    title: dict[str, str]


class CallOut(BaseModel):
    id: uuid.UUID
    code: str
    title: dict[str, str]
    project_code: str
    phase: CallPhase = Field(description="Where the call's clock is now.")
    as_of: datetime = Field(description="The instant `phase` is of (calls' clock): what the time left counts from.")
    timeline: TimelineOut
    max_programmes_per_institution: int
    institution_criteria: list[CriterionOut]
    programme_criteria: list[CriterionOut]
    learning_needs: list[LearningNeedOut]
    needs_approved_on: date | None

    @classmethod
    def of(cls, call: Call, now: datetime) -> CallOut:
        t = call.timeline
        return cls(
            id=call.id,
            code=call.code,
            title=dict(call.title),
            project_code=call.project_code,
            phase=call.phase_at(now),
            as_of=now,
            timeline=TimelineOut(
                **vars(t),
                offers_open_at_riga=in_riga(t.offers_open_at),
                offers_deadline_riga=in_riga(t.offers_deadline_at),
            ),
            max_programmes_per_institution=call.max_programmes_per_institution,
            institution_criteria=[_criterion(c, call) for c in call.institution_criteria],
            programme_criteria=[_criterion(c, call) for c in call.programme_criteria],
            learning_needs=[LearningNeedOut(code=n.code, title=dict(n.title)) for n in call.learning_needs],
            needs_approved_on=call.needs_approved_on,
        )


def _criterion(criterion: Criterion, call: Call) -> CriterionOut:
    return CriterionOut(
        code=criterion.code, rule=criterion.rule, params=dict(criterion.params), source=criterion.source_in(call.code)
    )


@router.post("/calls", response_model=CallOut, status_code=status.HTTP_201_CREATED, summary="Open a call")
async def open_call(body: CallIn, _: AgencyAdmin, database: DatabaseDep, clock: ClockDep) -> CallOut:
    call = await calls.open_call(
        database,
        clock,
        code=body.code,
        title=body.title,
        project_code=body.project_code,
        timeline=body.timeline.to_timeline(),
        max_programmes_per_institution=body.max_programmes_per_institution,
        institution_criteria=tuple(c.to_criterion() for c in body.institution_criteria),
        programme_criteria=tuple(c.to_criterion() for c in body.programme_criteria),
        learning_needs=_needs(body.learning_needs),
        needs_approved_on=body.needs_approved_on,
    )
    return CallOut.of(call, clock.now())


@router.post("/calls/seed", response_model=list[CallOut], summary="Open the seeded calls (IMK-4) unless they exist")
async def seed_calls(_: AgencyAdmin, database: DatabaseDep, clock: ClockDep) -> list[CallOut]:
    return [CallOut.of(c, clock.now()) for c in await seed.seed_calls(database, clock)]


@router.get("/calls", response_model=Page[CallOut], summary="Calls, the latest offer window first")
async def list_calls(_: Reader, database: DatabaseDep, clock: ClockDep, paging: PagingDep) -> Page[CallOut]:
    found, total = await calls.list_calls(database, paging.limit, paging.offset)
    now = clock.now()
    return Page(items=[CallOut.of(c, now) for c in found], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/calls/{call_id}", response_model=CallOut, summary="A call")
async def get_call(call_id: uuid.UUID, _: Reader, database: DatabaseDep, clock: ClockDep) -> CallOut:
    return CallOut.of(await calls.get_call(database, call_id), clock.now())


@router.put("/calls/{call_id}/learning-needs", response_model=CallOut, summary="The council's approved learning needs")
async def approve_learning_needs(
    call_id: uuid.UUID, body: LearningNeedsIn, _: AgencyAdmin, database: DatabaseDep, clock: ClockDep
) -> CallOut:
    call = await calls.approve_learning_needs(database, clock, call_id, _needs(body.needs), body.approved_on)
    return CallOut.of(call, clock.now())
