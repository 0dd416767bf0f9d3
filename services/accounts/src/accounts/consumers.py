"""Read models fed by catalog's events: published programmes, study groups, provider users."""

from __future__ import annotations

import json

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

from accounts import db

handlers = Handlers()


@handlers.on(ProgrammePublished)
async def programme_published(ctx: EventContext, event: ProgrammePublished) -> None:
    await db.upsert(
        ctx.session,
        db.programmes,
        {"id": event.programme_id},
        {
            "institution_id": event.institution_id,
            "institution_name": event.institution_name,
            "title": json.dumps(event.title, ensure_ascii=False),
            "hours": event.hours,
            "cost_per_participant": event.cost_per_participant,
            "published": True,
        },
    )


@handlers.on(ProgrammeWithdrawn)
async def programme_withdrawn(ctx: EventContext, event: ProgrammeWithdrawn) -> None:
    await ctx.session.execute(
        db.programmes.update().where(db.programmes.c.id == event.programme_id).values(published=False)
    )


@handlers.on(GroupScheduled, GroupChanged)
async def group_scheduled_or_changed(ctx: EventContext, event: GroupScheduled | GroupChanged) -> None:
    # `taken` is ours (it counts our enrolments), so an upsert never overwrites it.
    await db.upsert(
        ctx.session,
        db.groups,
        {"id": event.group_id},
        {
            "programme_id": event.programme_id,
            "institution_id": event.institution_id,
            "capacity": event.capacity,
            "start_date": event.start_date,
            "end_date": event.end_date,
            "city": event.city,
            "status": event.status,
        },
    )


@handlers.on(ProviderUserAdded)
async def provider_user_added(ctx: EventContext, event: ProviderUserAdded) -> None:
    await db.upsert(
        ctx.session,
        db.provider_users,
        {"institution_id": event.institution_id, "user_id": event.user_id},
        {"role": event.role},
    )


@handlers.on(ProviderUserRemoved)
async def provider_user_removed(ctx: EventContext, event: ProviderUserRemoved) -> None:
    await db.remove_provider_user(ctx.session, event.institution_id, event.user_id)


CONSUMERS = [ConsumerSpec(name="accounts", handlers=handlers)]
