"""Development only: the demo's replay of the demonstration call (`POST /dev/demonstration`). Outside dev mode the
route is a 404 for the agency_admin it serves, as if it did not exist (like the gateway's dev login, it is no part of
the platform); a caller without a token or with another role gets the 401 / 403 every route gives."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, DevMode, refuse_unknown_query
from pydantic import BaseModel, Field

from calls.api.common import AgencyAdmin, CallsIn, RegistersDep, SettingsDep, actor_of
from calls.api.evaluations import UserId
from calls.domain.offers import OfferState
from calls.service import demo

router = APIRouter(tags=["development"], dependencies=[Depends(refuse_unknown_query)])


class DemonstrationIn(CallsIn):
    provider_admin_id: UserId = Field(description="The demo institution's provider_admin (the token's subject).")
    evaluator_id: UserId = Field(description="The agency officer who evaluates (not the caller: four eyes).")
    programme_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=20)] = Field(
        description="The institution's programmes to offer (calls' read model must have them)."
    )


class DemonstrationOut(BaseModel):
    call_id: uuid.UUID
    call_code: str
    offer_id: uuid.UUID
    offer_state: OfferState
    programme_ids: list[uuid.UUID]
    agreement_number: str
    agreement_signed_at: datetime | None
    done: list[str] = Field(description="The steps this run took, in order; empty when it found them all done.")
    already_done: bool


@router.post(
    "/dev/demonstration",
    response_model=DemonstrationOut,
    summary="Development only: replay the demonstration call on its own dates to a signed agreement",
)
async def replay_demonstration(
    body: DemonstrationIn,
    request: Request,
    user: AgencyAdmin,
    _: DevMode,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
    settings: SettingsDep,
) -> DemonstrationOut:
    who = demo.cast(actor_of(request, user), body.provider_admin_id, body.evaluator_id)
    replay = await demo.replay_demonstration(
        database, clock, registers, who, tuple(body.programme_ids), settings.max_attachment_bytes
    )
    return DemonstrationOut(
        call_id=replay.call.id,
        call_code=replay.call.code,
        offer_id=replay.offer.id,
        offer_state=replay.offer.state,
        programme_ids=list(replay.agreement.programme_ids),
        agreement_number=replay.agreement.number,
        agreement_signed_at=replay.agreement.signed_at,
        done=replay.done,
        already_done=not replay.done,
    )
