"""What every agency officer is told: work waiting for the agency as a whole (a registration to approve within a
working day, a programme flagged by its surveys), whoever of them takes it up.

The event's handler keeps one staff notice (in the consumer's transaction, once per event); the `officer-notices`
job makes it one notice, and its mail, per holder of the role once the identity provider's directory names them
(subjects only, kept for a few minutes), in one transaction. The directory down delays the notices, never loses
them."""

from __future__ import annotations

from collections.abc import Mapping

from prasmes_contracts.catalog import ProviderRegistered
from prasmes_contracts.surveys import QualityFlagRaised
from prasmes_runtime import roles
from prasmes_runtime.clock import RIGA
from prasmes_runtime.context import EventContext, ServiceContext
from prasmes_runtime.logging import get_logger
from prasmes_runtime.workdays import add_working_days

from notifications.adapters.contacts import Contacts, ContactsUnavailable
from notifications.db import officers as db
from notifications.domain.notices import Reference, day_values
from notifications.domain.officers import StaffNotice
from notifications.service.notices import keep_in

log = get_logger(__name__)
REVIEW_WORKING_DAYS = 1
"""The agency approves or rejects a registration within one working day (DOMAIN.md)."""
BATCH = 50


async def _for_officers(ctx: EventContext, kind: str, values: Mapping[str, str], reference: Reference) -> StaffNotice:
    staff_notice = StaffNotice.of(roles.AGENCY_OFFICER, kind, values, ctx.clock.now(), ctx.envelope.id, reference)
    await db.add(ctx.session, staff_notice)
    return staff_notice


async def registration_waiting(ctx: EventContext, event: ProviderRegistered) -> StaffNotice:
    """With the day it is due: one Latvian working day after the day it was registered (in Riga)."""
    due = add_working_days(event.at.astimezone(RIGA).date(), REVIEW_WORKING_DAYS)
    values = {"institution": event.name, **day_values(due)}
    return await _for_officers(ctx, "registration_waiting", values, Reference("institution", str(event.institution_id)))


async def quality_flagged(ctx: EventContext, event: QualityFlagRaised) -> StaffNotice:
    values = {
        "reason": event.reason,
        "value": str(event.value),
        "threshold": str(event.threshold),
        "over": str(event.over),
    }
    return await _for_officers(ctx, "quality_flagged", values, Reference("programme", str(event.programme_id)))


async def fan_out(context: ServiceContext) -> int:
    """The waiting staff notices made into their holders' notices (a batch a round): how many were."""
    async with context.database.session() as session:
        waiting = await db.waiting(session, BATCH)
    if not waiting:
        return 0
    contacts: Contacts = context.adapters.contacts
    try:
        holders = {role: await contacts.holders(role) for role in {n.role for n in waiting}}
    except ContactsUnavailable as exc:
        log.warning("officer_notices.directory_unavailable", waiting=len(waiting), error=str(exc))
        return 0
    made = 0
    async with context.database.transaction() as session:
        for staff_notice in waiting:
            if await db.take(session, staff_notice.id):
                for holder in holders[staff_notice.role]:
                    await keep_in(session, staff_notice.to(holder), context.clock.now())
                made += 1
    return made
