"""Use cases of the notifications service."""

from __future__ import annotations

import uuid
from datetime import datetime

from prasmes_contracts.accounts import AccountOpened, ApplicationRejected, ApplicationSubmittedV2, EnrolmentConfirmed
from prasmes_contracts.surveys import SurveyInvited, SurveyReminded
from prasmes_runtime.clock import Clock
from prasmes_runtime.context import EventContext
from prasmes_runtime.db import Database
from prasmes_runtime.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db import notices as db
from notifications.domain.notices import (
    APPLICATION_REJECTIONS,
    Notice,
    Reference,
    SurveyNoticeKind,
    grant_notice,
    known,
    notice_of,
    survey_notice,
    welcome_notice,
)
from notifications.service import mails


async def keep(ctx: EventContext, notice: Notice) -> None:
    """The notice, and its mail unless the recipient switched its category off: one transaction, the event's."""
    await keep_in(ctx.session, notice, ctx.clock.now())


async def keep_in(session: AsyncSession, notice: Notice, now: datetime) -> None:
    await db.insert_notice(session, notice)
    await mails.enqueue(session, notice, notice.values, now)


async def welcome(ctx: EventContext, event: AccountOpened) -> Notice:
    """Runs inside the consumer's transaction, beside its inbox row (as every handler's use case here)."""
    notice = welcome_notice(event.learner_id, event.account_id, ctx.clock.now(), ctx.envelope.id)
    await keep(ctx, notice)
    return notice


async def grant_changed(ctx: EventContext, kind: str, recipient_id: str, project: str, amount: str | None) -> Notice:
    notice = grant_notice(kind, recipient_id, project, amount, ctx.clock.now(), ctx.envelope.id)
    await keep(ctx, notice)
    return notice


async def application_submitted(ctx: EventContext, event: ApplicationSubmittedV2) -> Notice:
    """The learner's application is received (accounts publishes version 2 only)."""
    values = {"project": event.project_code}
    return await _about_application(ctx, "application_submitted", event.learner_id, event.application_id, values)


async def application_rejected(ctx: EventContext, event: ApplicationRejected) -> Notice:
    """The rejection with its reason in a sentence (a code the texts do not know says: see the application)."""
    values = {"project": event.project_code, "reason": known(APPLICATION_REJECTIONS, event.reason_code)}
    return await _about_application(ctx, "application_rejected", event.learner_id, event.application_id, values)


async def enrolment_confirmed(ctx: EventContext, event: EnrolmentConfirmed) -> Notice:
    """The learner's place in a study group (the event names the project, not the programme nor the dates)."""
    values = {"project": event.project_code}
    return await _about_application(ctx, "enrolment_confirmed", event.learner_id, event.application_id, values)


async def _about_application(
    ctx: EventContext, kind: str, learner_id: str, application_id: uuid.UUID, values: dict[str, str]
) -> Notice:
    reference = Reference("application", str(application_id))
    notice = notice_of(kind, learner_id, values, ctx.clock.now(), ctx.envelope.id, reference)
    await keep(ctx, notice)
    return notice


async def survey_invitation(ctx: EventContext, event: SurveyInvited | SurveyReminded) -> Notice:
    """The invitation to a survey, or its one reminder (surveys sends none for a survey answered or closed)."""
    kind: SurveyNoticeKind = "survey_reminded" if isinstance(event, SurveyReminded) else "survey_invited"
    notice = survey_notice(
        kind, event.kind, event.learner_id, event.survey_id, event.closes_at, ctx.clock.now(), ctx.envelope.id
    )
    await keep(ctx, notice)
    return notice


async def list_notices(database: Database, recipient_id: str, limit: int, offset: int) -> tuple[list[Notice], int]:
    async with database.session() as session:
        return await db.notices_of(session, recipient_id, limit, offset), await db.count_of(session, recipient_id)


async def get_notice(database: Database, recipient_id: str, notice_id: uuid.UUID) -> Notice:
    """One's own notice; another person's is simply not found."""
    async with database.session() as session:
        notice = await db.notice_by_id(session, notice_id)
    if notice is None or notice.recipient_id != recipient_id:
        raise NotFound(f"no notice {notice_id}")
    return notice


async def mark_read(database: Database, clock: Clock, recipient_id: str, notice_id: uuid.UUID) -> Notice:
    notice = await get_notice(database, recipient_id, notice_id)
    read = notice.read(clock.now())
    if read != notice:
        async with database.transaction() as session:
            await db.save_read(session, read)
    return read


async def unread(database: Database, recipient_id: str) -> int:
    async with database.session() as session:
        return await db.unread_of(session, recipient_id)
