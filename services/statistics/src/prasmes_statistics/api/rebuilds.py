"""Rebuilding the projection from the first offsets (agency admin) and how far it has come (agency)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from prasmes_runtime.dependencies import ContextDep, refuse_unknown_query
from pydantic import BaseModel

from prasmes_statistics.api.common import AdaptersDep, Agency, AgencyAdmin
from prasmes_statistics.service import rebuilds as service

router = APIRouter(tags=["statistics"], dependencies=[Depends(refuse_unknown_query)])


class RebuildOut(BaseModel):
    generation: int
    requested_at: datetime | None
    requested_by: str | None
    read: int
    total: int
    done: bool


def _out(found: service.RebuildStatus) -> RebuildOut:
    return RebuildOut(
        generation=found.generation,
        requested_at=found.requested_at,
        requested_by=found.requested_by,
        read=found.read,
        total=found.total,
        done=found.done,
    )


@router.post(
    "/rebuilds",
    name="rebuild",
    status_code=202,
    summary="Rebuild the projection from the first offsets of its topics (agency admin)",
)
async def rebuild(_: AgencyAdmin, context: ContextDep, adapters: AdaptersDep) -> RebuildOut:
    await service.request(context, "admin")
    return _out(await service.status(context, adapters.bus))


@router.get("/rebuilds/current", name="rebuild_status", summary="The projection's generation and progress (agency)")
async def rebuild_status(_: Agency, context: ContextDep, adapters: AdaptersDep) -> RebuildOut:
    return _out(await service.status(context, adapters.bus))
