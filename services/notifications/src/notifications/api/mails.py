"""A user's unread count and e-mail preferences; the operators' view of mails that wait, failed or are in doubt.
(Declared before the notices' `/notifications/{notice_id}`: the first route whose path matches answers.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_person
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, PagingDep, refuse_unknown_query
from prasmes_runtime.schemas import Page, StrictModel
from pydantic import BaseModel, Field

from notifications.domain.mails import CATEGORIES, Mail, MailState
from notifications.service import mails as service
from notifications.service import notices

router = APIRouter(prefix="/notifications", tags=["notifications"], dependencies=[Depends(refuse_unknown_query)])
Person = Annotated[Principal, Depends(require_person())]
"""Any signed-in person (not a partner system or a service): their own inbox and preferences."""
Operator = Annotated[Principal, Depends(require_person(*roles.AGENCY_ADMINS))]
"""The mails' delivery: `roles.AGENCY_ADMINS`."""


class UnreadOut(BaseModel):
    unread: int


class PreferencesOut(BaseModel):
    email: dict[str, bool] = Field(description="Category -> whether its notices are also sent by e-mail.")
    legal: list[str] = Field(description="The categories always sent by e-mail (decisions, the learner's money).")
    digest: bool = Field(
        description="Staff: the other notices come in one daily mail listing what waits, not one mail each."
    )


class PreferencesIn(StrictModel):
    email: Annotated[
        dict[Annotated[str, Field(max_length=30)], bool], Field(default_factory=dict, max_length=len(CATEGORIES) + 5)
    ]
    digest: bool | None = Field(default=None, description="Choose (staff only) or drop the daily digest; omit: as is.")


class MailOut(BaseModel):
    id: uuid.UUID
    notice_id: uuid.UUID
    recipient_id: str
    kind: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    message_id: str

    @classmethod
    def of(cls, mail: Mail) -> MailOut:
        fields = {k: getattr(mail, k) for k in cls.model_fields if k != "message_id"}
        return cls(**fields, message_id=mail.message_id)


def _preferences(chosen: service.Preferences) -> PreferencesOut:
    legal = [c for c, is_legal in CATEGORIES.items() if is_legal]
    return PreferencesOut(email=chosen.email, legal=legal, digest=chosen.digest)


@router.get("/unread-count", summary="How many of my notices are unread")
async def unread_count(user: Person, database: DatabaseDep) -> UnreadOut:
    return UnreadOut(unread=await notices.unread(database, user.subject))


@router.get("/preferences", summary="My e-mail preferences per category")
async def my_preferences(user: Person, database: DatabaseDep) -> PreferencesOut:
    return _preferences(await service.preferences(database, user.subject))


@router.put(
    "/preferences", summary="Switch e-mail on or off per category (legal notices are always sent), or the digest"
)
async def set_my_preferences(
    user: Person, database: DatabaseDep, clock: ClockDep, body: PreferencesIn
) -> PreferencesOut:
    return _preferences(await service.set_preferences(database, user, body.email, body.digest, clock.now()))


States = Annotated[list[MailState] | None, Query(description="Default: failed and in_doubt (what waits for you).")]


@router.get("/mails", summary="Mails by state, for operators (no address: it is never stored)")
async def mails(_: Operator, database: DatabaseDep, paging: PagingDep, state: States = None) -> Page[MailOut]:
    wanted: list[str] = list(state or ("failed", "in_doubt"))
    items, total = await service.mails_in(database, wanted, paging.limit, paging.offset)
    return Page(items=[MailOut.of(m) for m in items], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/mails/{mail_id}/retry", summary="Send a failed or in-doubt mail again (the same Message-ID)")
async def retry(mail_id: uuid.UUID, _: Operator, database: DatabaseDep, clock: ClockDep) -> MailOut:
    return MailOut.of(await service.requeue(database, mail_id, clock.now()))
