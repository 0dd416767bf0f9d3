"""Development only: the demo's replay of the seed's survey answers (`POST /dev/demonstration`); outside dev mode a
404 for the agency_admin it serves."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, DevMode, refuse_unknown_query
from prasmes_runtime.schemas import StrictModel
from pydantic import BaseModel, Field

from surveys.api.common import AgencyAdmin, SettingsDep
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
