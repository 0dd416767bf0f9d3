"""Read models fed by catalog's events (published programmes, study groups, provider users) and by calls' events
(the calls of each funding project and their approved learning needs)."""

from __future__ import annotations

from prasmes_contracts.calls import CallOpened, LearningNeedsApproved
from prasmes_contracts.catalog import (
    GroupChanged,
    GroupScheduled,
    ProgrammePublished,
    ProgrammeWithdrawn,
    ProviderUserAdded,
    ProviderUserRemoved,
)
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from accounts.db import read_models
from accounts.domain.programmes import Programme, StudyGroup
from accounts.service import learning_needs

handlers = Handlers()


@handlers.on(ProgrammePublished)
async def programme_published(ctx: EventContext, event: ProgrammePublished) -> None:
    programme = Programme(
        id=event.programme_id,
        institution_id=event.institution_id,
        institution_name=event.institution_name,
        title=event.title,
        hours=event.hours,
        cost_per_participant=event.cost_per_participant,
        digcomp_level=event.digcomp_level,
    )
    await read_models.save_programme(ctx.session, programme)


@handlers.on(ProgrammeWithdrawn)
async def programme_withdrawn(ctx: EventContext, event: ProgrammeWithdrawn) -> None:
    await read_models.withdraw_programme(ctx.session, event.programme_id)


@handlers.on(GroupScheduled, GroupChanged)
async def group_scheduled_or_changed(ctx: EventContext, event: GroupScheduled | GroupChanged) -> None:
    group = StudyGroup(
        id=event.group_id,
        programme_id=event.programme_id,
        institution_id=event.institution_id,
        capacity=event.capacity,
        start_date=event.start_date,
        end_date=event.end_date,
        city=event.city,
        status=event.status,
    )
    await read_models.save_group(ctx.session, group)  # keeps our count of the places taken


@handlers.on(ProviderUserAdded)
async def provider_user_added(ctx: EventContext, event: ProviderUserAdded) -> None:
    await read_models.save_provider_user(ctx.session, event.institution_id, event.user_id, event.role)


@handlers.on(ProviderUserRemoved)
async def provider_user_removed(ctx: EventContext, event: ProviderUserRemoved) -> None:
    await read_models.remove_provider_user(ctx.session, event.institution_id, event.user_id)


@handlers.on(CallOpened)
async def call_opened(ctx: EventContext, event: CallOpened) -> None:
    await learning_needs.call_opened(ctx.session, event.call_id, event.project_code, event.code, event.title)


@handlers.on(LearningNeedsApproved)
async def learning_needs_approved(ctx: EventContext, event: LearningNeedsApproved) -> None:
    needs = [(need.code, need.title) for need in event.needs]
    await learning_needs.needs_approved(
        ctx.session, event.call_id, event.project_code, event.approved_on, event.at, needs
    )


CONSUMERS = [ConsumerSpec(name="accounts", handlers=handlers)]
