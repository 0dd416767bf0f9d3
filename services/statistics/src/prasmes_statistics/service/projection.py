"""Each public event as the facts it tells: rows keyed by what they are about, which the transaction writes in bulk
at its end (`db.projection.flush`). Applying an event twice writes the same rows, so the projection needs no inbox
and a rebuild from the first offsets ends where the live projection stands."""

from __future__ import annotations

from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationLapsed,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationSubmittedV2,
    ApplicationWithdrawn,
    EnrolmentConfirmed,
    GrantReleased,
    GrantReserved,
    GrantSpent,
    StudiesCompleted,
    StudiesDiscontinued,
    StudiesStarted,
)
from prasmes_contracts.calls import (
    CallOpened,
    CallPhaseChanged,
    OfferApproved,
    OfferRejected,
    OfferSubmitted,
    OfferWithdrawn,
)
from prasmes_contracts.catalog import GroupChanged, GroupScheduled, ProviderRegistered
from prasmes_contracts.surveys import SurveyAnswered
from prasmes_runtime.clock import RIGA
from prasmes_runtime.consumer import Handlers
from prasmes_runtime.context import EventContext

from prasmes_statistics.db import tables
from prasmes_statistics.db.projection import facts_of, person_key
from prasmes_statistics.domain.figures import person_of

handlers = Handlers()

_Application = (
    ApplicationSubmitted
    | ApplicationSubmittedV2
    | ApplicationApproved
    | ApplicationRejected
    | ApplicationWithdrawn
    | ApplicationLapsed
)
_Study = EnrolmentConfirmed | StudiesStarted | StudiesDiscontinued | StudiesCompleted


@handlers.on(AccountOpened)
async def on_account(ctx: EventContext, event: AccountOpened) -> None:
    facts_of(ctx.session).add(tables.accounts, {"account_id": event.account_id, "opened_at": event.opened_at})


async def _application(ctx: EventContext, event: _Application, **values: object) -> None:
    person = person_of(await person_key(ctx.session), event.learner_id)
    row = {"application_id": event.application_id, "person": person, "project_code": event.project_code}
    facts_of(ctx.session).add(tables.applications, {**row, **values})


@handlers.on(ApplicationSubmitted, ApplicationSubmittedV2)
async def on_submitted(ctx: EventContext, event: ApplicationSubmitted | ApplicationSubmittedV2) -> None:
    await _application(ctx, event, submitted_at=event.at, submitted_on=event.at.astimezone(RIGA).date())


@handlers.on(ApplicationApproved)
async def on_approved(ctx: EventContext, event: ApplicationApproved) -> None:
    await _application(ctx, event, approved_at=event.at, grant_amount=event.grant_amount)


@handlers.on(ApplicationRejected)
async def on_rejected(ctx: EventContext, event: ApplicationRejected) -> None:
    await _application(ctx, event, rejected_at=event.at, reason_code=event.reason_code)


@handlers.on(ApplicationWithdrawn)
async def on_withdrawn(ctx: EventContext, event: ApplicationWithdrawn) -> None:
    await _application(ctx, event, withdrawn_at=event.at)


@handlers.on(ApplicationLapsed)
async def on_lapsed(ctx: EventContext, event: ApplicationLapsed) -> None:
    await _application(ctx, event, lapsed_at=event.at)


@handlers.on(GrantReserved, GrantReleased, GrantSpent)
async def on_grant(ctx: EventContext, event: GrantReserved | GrantReleased | GrantSpent) -> None:
    entry = {GrantReserved: "reserved", GrantReleased: "released", GrantSpent: "spent"}[type(event)]
    row = {
        "event_id": ctx.envelope.id,
        "application_id": event.application_id,
        "project_code": event.project_code,
        "entry": entry,
        "cause": event.cause if isinstance(event, GrantReleased) else None,
        "amount": event.amount,
        "programme_id": event.programme_id if isinstance(event, GrantSpent) else None,
        "institution_id": event.institution_id if isinstance(event, GrantSpent) else None,
        "at": event.at,
    }
    facts_of(ctx.session).add(tables.grant_entries, row)


async def _study(ctx: EventContext, event: _Study, **values: object) -> None:
    row = {
        "enrolment_id": event.enrolment_id,
        "application_id": event.application_id,
        "person": person_of(await person_key(ctx.session), event.learner_id),
        "project_code": event.project_code,
        "programme_id": event.programme_id,
        "group_id": event.group_id,
        "institution_id": event.institution_id,
    }
    facts_of(ctx.session).add(tables.studies, {**row, **values})


@handlers.on(EnrolmentConfirmed)
async def on_enrolled(ctx: EventContext, event: EnrolmentConfirmed) -> None:
    await _study(ctx, event, enrolled_at=event.at)


@handlers.on(StudiesStarted)
async def on_started(ctx: EventContext, event: StudiesStarted) -> None:
    await _study(ctx, event, started_on=event.started_on)


@handlers.on(StudiesDiscontinued)
async def on_discontinued(ctx: EventContext, event: StudiesDiscontinued) -> None:
    await _study(ctx, event, discontinued_on=event.discontinued_on)


@handlers.on(StudiesCompleted)
async def on_completed(ctx: EventContext, event: StudiesCompleted) -> None:
    await _study(ctx, event, completed_on=event.completed_on)


@handlers.on(CallOpened)
async def on_call_opened(ctx: EventContext, event: CallOpened) -> None:
    facts = facts_of(ctx.session)
    row = {
        "call_id": event.call_id,
        "code": event.code,
        "project_code": event.project_code,
        "applications_open_on": event.applications_open_on,
        "applications_close_on": event.applications_close_on,
        "opened_at": event.at,
    }
    facts.add(tables.calls, row)
    facts.add(tables.call_phases, {"call_id": event.call_id, "phase": event.phase, "at": event.at})


@handlers.on(CallPhaseChanged)
async def on_phase(ctx: EventContext, event: CallPhaseChanged) -> None:
    facts_of(ctx.session).add(tables.call_phases, {"call_id": event.call_id, "phase": event.phase, "at": event.at})


@handlers.on(OfferSubmitted)
async def on_offer_submitted(ctx: EventContext, event: OfferSubmitted) -> None:
    row = {
        "offer_id": event.offer_id,
        "version": event.offer_version,
        "call_id": event.call_id,
        "institution_id": event.institution_id,
        "submitted_at": event.at,
    }
    facts_of(ctx.session).add(tables.offer_versions, row)


@handlers.on(OfferWithdrawn)
async def on_offer_withdrawn(ctx: EventContext, event: OfferWithdrawn) -> None:
    row = {
        "offer_id": event.offer_id,
        "version": event.offer_version,
        "call_id": event.call_id,
        "institution_id": event.institution_id,
        "withdrawn_at": event.at,
    }
    facts_of(ctx.session).add(tables.offer_versions, row)


@handlers.on(OfferApproved, OfferRejected)
async def on_offer_decided(ctx: EventContext, event: OfferApproved | OfferRejected) -> None:
    row = {
        "offer_id": event.offer_id,
        "call_id": event.call_id,
        "institution_id": event.institution_id,
        "decision": "approved" if isinstance(event, OfferApproved) else "rejected",
        "at": event.at,
    }
    facts_of(ctx.session).add(tables.offer_decisions, row)


@handlers.on(SurveyAnswered)
async def on_answered(ctx: EventContext, event: SurveyAnswered) -> None:
    facts = facts_of(ctx.session)
    answer = ctx.envelope.id
    row = {
        "event_id": answer,
        "programme_id": event.programme_id,
        "institution_id": event.institution_id,
        "project_code": event.project_code,
        "kind": event.kind,
        "at": event.at,
    }
    facts.add(tables.survey_answers, row)
    for aspect, stars in event.stars.items():
        facts.add(tables.answer_stars, {"event_id": answer, "aspect": aspect, "stars": stars})
    for reason in event.reasons:
        facts.add(tables.answer_reasons, {"event_id": answer, "reason": reason})


@handlers.on(GroupScheduled, GroupChanged)
async def on_group(ctx: EventContext, event: GroupScheduled | GroupChanged) -> None:
    row = {
        "group_id": event.group_id,
        "programme_id": event.programme_id,
        "institution_id": event.institution_id,
        "start_date": event.start_date,
        "end_date": event.end_date,
    }
    facts_of(ctx.session).add(tables.groups, row)


@handlers.on(ProviderRegistered)
async def on_provider(ctx: EventContext, event: ProviderRegistered) -> None:
    facts_of(ctx.session).add(tables.institutions, {"institution_id": event.institution_id, "name": event.name})
