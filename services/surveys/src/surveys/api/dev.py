"""Development only: the demo's replay of the seed's survey answers (`POST /dev/demonstration`) and the seed's answers
as learners would submit them (`GET /dev/seed-answers`, for the seed scenario of `prasmes_devtools`); outside dev mode
a 404 for the agency_admin they serve."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, DevMode, refuse_unknown_query
from prasmes_runtime.schemas import StrictModel
from pydantic import BaseModel, Field

from surveys.api.common import AgencyAdmin, SettingsDep
from surveys.domain.answers import Value
from surveys.domain.seed import (
    SEED_ANSWERS,
    SEED_DISCONTINUATION_ANSWERS,
    seed_completion_answers,
    seed_discontinuation_answers,
)
from surveys.domain.surveys import Enrolment
from surveys.service import demo

router = APIRouter(tags=["development"], dependencies=[Depends(refuse_unknown_query)])


class DemonstrationIn(StrictModel):
    programme_id: uuid.UUID = Field(description="The demo's published programme.")
    institution_id: uuid.UUID
    group_id: uuid.UUID = Field(description="The (past) group the seed's learners studied in.")
    project_code: str = Field(default="IMK", max_length=30)


class DemonstrationOut(BaseModel):
    invited: int
    answered: int
    already_done: bool


@router.post(
    "/dev/demonstration",
    summary="Development only: the seed's survey answers for the demo's programme (idempotent)",
)
async def replay_seed(
    body: DemonstrationIn, _: AgencyAdmin, __: DevMode, database: DatabaseDep, clock: ClockDep, settings: SettingsDep
) -> DemonstrationOut:
    place = Enrolment(uuid.uuid4(), "", body.project_code, body.programme_id, body.group_id, body.institution_id)
    replay = await demo.replay_seed(database, place, clock.now(), settings.timing(), settings.quality_rules())
    return DemonstrationOut(invited=replay.invited, answered=replay.answered, already_done=replay.already_done)


MAX_SEED_ANSWERS = 100_000


class SeedAnswersOut(BaseModel):
    completion: list[dict[str, Value]] = Field(description="Each a completion survey's `answers`, ready to submit.")
    discontinuation: list[dict[str, Value]] = Field(description="Each a discontinuation survey's `answers`.")


Total = Annotated[int, Query(ge=0, le=MAX_SEED_ANSWERS)]


@router.get(
    "/dev/seed-answers",
    summary="Development only: the seed's survey answers, as many as asked, with the seed's distributions",
)
async def seed_answers(
    _: AgencyAdmin, __: DevMode, completion: Total = SEED_ANSWERS, discontinuation: Total = SEED_DISCONTINUATION_ANSWERS
) -> SeedAnswersOut:
    """What learners submit so that the answers show the seed's stars and reasons (`surveys.domain.seed`): by
    default the seed's 1 446 and 69 answers, or as many as a scaled population has answerers."""
    return SeedAnswersOut(
        completion=seed_completion_answers(completion), discontinuation=seed_discontinuation_answers(discontinuation)
    )
