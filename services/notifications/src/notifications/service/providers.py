"""What an education institution's provider admins are told, and the read model of who they are.

Every use case runs in the consumer's transaction beside the event's inbox row, so a fan-out (one notice, and its
mail, per admin) is made whole or not at all, and once per event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from prasmes_contracts.calls import (
    ClarificationRequested,
    CooperationAgreementSigned,
    OfferApproved,
    OfferRejected,
    OfferSubmitted,
)
from prasmes_contracts.catalog import (
    ProgrammePublished,
    ProviderApproved,
    ProviderRegistered,
    ProviderRejected,
    ProviderUserAdded,
    ProviderUserRemoved,
)
from prasmes_runtime.context import EventContext

from notifications.db import providers as db
from notifications.domain.notices import (
    REGISTRATION_REJECTIONS,
    Notice,
    Reference,
    day_values,
    known,
    notice_of,
    programme_title,
)
from notifications.domain.providers import ADMIN, ProviderUser, activated_by_approval
from notifications.service.notices import keep


async def _tell(
    ctx: EventContext, recipients: list[str], kind: str, values: Mapping[str, str], reference: Reference
) -> list[Notice]:
    made = []
    for recipient in recipients:
        notice = notice_of(kind, recipient, values, ctx.clock.now(), ctx.envelope.id, reference)
        await keep(ctx, notice)
        made.append(notice)
    return made


async def _tell_admins(
    ctx: EventContext, institution_id: uuid.UUID, kind: str, values: Mapping[str, str], reference: Reference
) -> list[Notice]:
    """One notice per provider admin the institution has now."""
    return await _tell(ctx, await db.admins_of(ctx.session, institution_id), kind, values, reference)


def _institution(institution_id: uuid.UUID) -> Reference:
    return Reference("institution", str(institution_id))


def _offer(offer_id: uuid.UUID) -> Reference:
    return Reference("offer", str(offer_id))


# --------------------------------------------------------------------------- who acts for an institution


async def user_added(ctx: EventContext, event: ProviderUserAdded) -> list[Notice]:
    """The user is kept as acting for the institution. A user the approval activated (the registrant) is told the
    registration is approved; anyone else added is welcomed, and the institution's other admins are told. A user
    already known (a role kept again) is told nothing new."""
    session, institution_id = ctx.session, event.institution_id
    known_role = await db.role_of(session, institution_id, event.user_id)
    await db.save_user(session, ProviderUser(institution_id, event.user_id, event.role))
    if known_role is not None:
        return []
    reference = _institution(institution_id)
    if event.role == ADMIN and activated_by_approval(await db.approved_at(session, institution_id), event.at):
        return await _tell(ctx, [event.user_id], "provider_approved", {}, reference)
    role = {"role": event.role}
    others = [admin for admin in await db.admins_of(session, institution_id) if admin != event.user_id]
    welcome = await _tell(ctx, [event.user_id], "provider_user_welcome", role, reference)
    return welcome + await _tell(ctx, others, "provider_user_added", role, reference)


async def user_removed(ctx: EventContext, event: ProviderUserRemoved) -> None:
    """The user no longer acts for the institution: told nothing more about it."""
    await db.remove_user(ctx.session, event.institution_id, event.user_id)


async def registered(ctx: EventContext, event: ProviderRegistered) -> None:
    """The registrant kept (told nothing now): they are no provider user until the approval, but are told of a
    rejection. A registration from before catalog named its registrant keeps nobody."""
    if event.registered_by is not None:
        await db.save_registrant(ctx.session, event.institution_id, event.registered_by)


async def approved(ctx: EventContext, event: ProviderApproved) -> list[Notice]:
    """The approval kept (its instant tells the members it activates, whose `ProviderUserAdded` follows); the
    admins known already, if any, are told now."""
    await db.save_approval(ctx.session, event.institution_id, event.at)
    return await _tell_admins(ctx, event.institution_id, "provider_approved", {}, _institution(event.institution_id))


async def rejected(ctx: EventContext, event: ProviderRejected) -> list[Notice]:
    """The registrant and the admins known (no one twice) are told why; then the institution has no users and no
    registrant (catalog removes its members, without a `ProviderUserRemoved` each; a new registration names its
    registrant again)."""
    session, institution_id = ctx.session, event.institution_id
    registrant = await db.registrant_of(session, institution_id)
    admins = await db.admins_of(session, institution_id)
    recipients = list(dict.fromkeys([*([registrant] if registrant is not None else []), *admins]))
    values = {"reason": known(REGISTRATION_REJECTIONS, event.reason_code)}
    told = await _tell(ctx, recipients, "provider_rejected", values, _institution(institution_id))
    await db.remove_users_of(session, institution_id)
    await db.remove_registrant(session, institution_id)
    return told


# --------------------------------------------------------------------------- the institution's offers and programmes


async def offer_submitted(ctx: EventContext, event: OfferSubmitted) -> list[Notice]:
    return await _tell_admins(ctx, event.institution_id, "offer_received", {}, _offer(event.offer_id))


async def clarification_requested(ctx: EventContext, event: ClarificationRequested) -> list[Notice]:
    """With the criteria and the due day (counted by calls in Latvian working days)."""
    values = {"criteria": ", ".join(event.criteria), **day_values(event.due_on)}
    return await _tell_admins(ctx, event.institution_id, "clarification_requested", values, _offer(event.offer_id))


async def offer_decided(ctx: EventContext, event: OfferApproved | OfferRejected) -> list[Notice]:
    """The agency's decision; a rejection names the criteria it gives reasons on (the reasons' words are calls')."""
    if isinstance(event, OfferApproved):
        return await _tell_admins(ctx, event.institution_id, "offer_approved", {}, _offer(event.offer_id))
    values = {"criteria": ", ".join(event.reasons)}
    return await _tell_admins(ctx, event.institution_id, "offer_rejected", values, _offer(event.offer_id))


async def agreement_signed(ctx: EventContext, event: CooperationAgreementSigned) -> list[Notice]:
    values = day_values(event.valid_until)
    return await _tell_admins(ctx, event.institution_id, "agreement_signed", values, _offer(event.offer_id))


async def programme_published(ctx: EventContext, event: ProgrammePublished) -> list[Notice]:
    values = {"lv_title": programme_title(event.title, "lv"), "en_title": programme_title(event.title, "en")}
    reference = Reference("programme", str(event.programme_id))
    return await _tell_admins(ctx, event.institution_id, "programme_published", values, reference)
