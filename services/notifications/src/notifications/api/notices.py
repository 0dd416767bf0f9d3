"""HTTP routes of the notifications service: a user reads their own notices."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from prasmes_runtime.auth import CurrentUser
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, PagingDep
from prasmes_runtime.schemas import Page
from pydantic import BaseModel, Field

from notifications.domain.notices import Notice, Reference
from notifications.service import notices as service

router = APIRouter(prefix="/notifications", tags=["notifications"])


class ReferenceOut(BaseModel):
    type: str = Field(
        description="What the notice is about: `survey` (surveys), `application` (accounts), `institution` or "
        "`programme` (catalog), `offer` (calls)."
    )
    id: str = Field(description="Its id in the service that owns it.")
    path: str = Field(
        description="Its path in that service's API, e.g. `/surveys/{id}` "
        "(through the gateway: `/api/surveys/surveys/{id}`), `/offers/{id}` (`/api/calls/offers/{id}`)."
    )

    @classmethod
    def of(cls, reference: Reference) -> ReferenceOut:
        return cls(type=reference.type, id=reference.id, path=reference.path)


class NoticeOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: dict[str, str]
    body: dict[str, str]
    created_at: datetime
    read_at: datetime | None
    reference: ReferenceOut | None = Field(
        default=None, description="What the notice is about, for a link to it (none when it is about nothing to open)."
    )

    @classmethod
    def of(cls, notice: Notice) -> NoticeOut:
        return cls(
            id=notice.id,
            kind=notice.kind,
            title=notice.title,
            body=notice.body,
            created_at=notice.created_at,
            read_at=notice.read_at,
            reference=ReferenceOut.of(notice.reference) if notice.reference else None,
        )


@router.get("", response_model=Page[NoticeOut], summary="My notices, newest first")
async def my_notices(user: CurrentUser, database: DatabaseDep, paging: PagingDep) -> Page[NoticeOut]:
    items, total = await service.list_notices(database, user.subject, paging.limit, paging.offset)
    return Page[NoticeOut](
        items=[NoticeOut.of(n) for n in items], total=total, limit=paging.limit, offset=paging.offset
    )


@router.get("/{notice_id}", response_model=NoticeOut, summary="One of my notices")
async def get_notice(notice_id: uuid.UUID, user: CurrentUser, database: DatabaseDep) -> NoticeOut:
    return NoticeOut.of(await service.get_notice(database, user.subject, notice_id))


@router.post("/{notice_id}/read", response_model=NoticeOut, summary="Mark one of my notices read")
async def read_notice(notice_id: uuid.UUID, user: CurrentUser, database: DatabaseDep, clock: ClockDep) -> NoticeOut:
    return NoticeOut.of(await service.mark_read(database, clock, user.subject, notice_id))
