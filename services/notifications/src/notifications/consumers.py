"""Events the notifications service reacts to."""

from __future__ import annotations

from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationLapsed,
    ApplicationRejected,
    ApplicationSubmittedV2,
    EnrolmentConfirmed,
    GrantReleased,
    GrantSpent,
)
from prasmes_contracts.calls import (
    ClarificationAnswered,
    ClarificationRequested,
    CooperationAgreementSigned,
    EvaluatorAssigned,
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
from prasmes_contracts.surveys import QualityFlagRaised, SurveyInvited, SurveyReminded
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from notifications.domain.notices import SILENT_RELEASES
from notifications.service import evaluators, officers, providers
from notifications.service import notices as service

handlers = Handlers()


@handlers.on(AccountOpened)
async def on_account_opened(ctx: EventContext, event: AccountOpened) -> None:
    await service.welcome(ctx, event)


@handlers.on(ApplicationSubmittedV2)
async def on_submitted(ctx: EventContext, event: ApplicationSubmittedV2) -> None:
    await service.application_submitted(ctx, event)


@handlers.on(ApplicationApproved)
async def on_approved(ctx: EventContext, event: ApplicationApproved) -> None:
    await service.grant_changed(
        ctx, "application_approved", event.learner_id, event.project_code, str(event.grant_amount)
    )


@handlers.on(ApplicationRejected)
async def on_rejected(ctx: EventContext, event: ApplicationRejected) -> None:
    await service.application_rejected(ctx, event)


@handlers.on(ApplicationLapsed)
async def on_lapsed(ctx: EventContext, event: ApplicationLapsed) -> None:
    await service.grant_changed(ctx, "application_lapsed", event.learner_id, event.project_code, None)


@handlers.on(GrantSpent)
async def on_spent(ctx: EventContext, event: GrantSpent) -> None:
    await service.grant_changed(ctx, "grant_spent", event.learner_id, event.project_code, str(event.amount))


@handlers.on(GrantReleased)
async def on_released(ctx: EventContext, event: GrantReleased) -> None:
    if event.cause in SILENT_RELEASES:
        return
    await service.grant_changed(ctx, "grant_released", event.learner_id, event.project_code, str(event.amount))


@handlers.on(EnrolmentConfirmed)
async def on_enrolment_confirmed(ctx: EventContext, event: EnrolmentConfirmed) -> None:
    await service.enrolment_confirmed(ctx, event)


@handlers.on(SurveyInvited, SurveyReminded)
async def on_survey_invitation(ctx: EventContext, event: SurveyInvited | SurveyReminded) -> None:
    await service.survey_invitation(ctx, event)


# --------------------------------------------------------------------------- education institutions


@handlers.on(ProviderUserAdded)
async def on_provider_user_added(ctx: EventContext, event: ProviderUserAdded) -> None:
    await providers.user_added(ctx, event)


@handlers.on(ProviderUserRemoved)
async def on_provider_user_removed(ctx: EventContext, event: ProviderUserRemoved) -> None:
    await providers.user_removed(ctx, event)


@handlers.on(ProviderRegistered)
async def on_provider_registered(ctx: EventContext, event: ProviderRegistered) -> None:
    await providers.registered(ctx, event)
    await officers.registration_waiting(ctx, event)


@handlers.on(ProviderApproved)
async def on_provider_approved(ctx: EventContext, event: ProviderApproved) -> None:
    await providers.approved(ctx, event)


@handlers.on(ProviderRejected)
async def on_provider_rejected(ctx: EventContext, event: ProviderRejected) -> None:
    await providers.rejected(ctx, event)


@handlers.on(OfferSubmitted)
async def on_offer_submitted(ctx: EventContext, event: OfferSubmitted) -> None:
    await providers.offer_submitted(ctx, event)


@handlers.on(ClarificationRequested)
async def on_clarification_requested(ctx: EventContext, event: ClarificationRequested) -> None:
    await providers.clarification_requested(ctx, event)


@handlers.on(OfferApproved, OfferRejected)
async def on_offer_decided(ctx: EventContext, event: OfferApproved | OfferRejected) -> None:
    await providers.offer_decided(ctx, event)


@handlers.on(CooperationAgreementSigned)
async def on_agreement_signed(ctx: EventContext, event: CooperationAgreementSigned) -> None:
    await providers.agreement_signed(ctx, event)


@handlers.on(ProgrammePublished)
async def on_programme_published(ctx: EventContext, event: ProgrammePublished) -> None:
    await providers.programme_published(ctx, event)


# --------------------------------------------------------------------------- the agency's officers


@handlers.on(EvaluatorAssigned)
async def on_evaluator_assigned(ctx: EventContext, event: EvaluatorAssigned) -> None:
    await evaluators.evaluator_assigned(ctx, event)


@handlers.on(ClarificationAnswered)
async def on_clarification_answered(ctx: EventContext, event: ClarificationAnswered) -> None:
    await evaluators.clarification_answered(ctx, event)


@handlers.on(QualityFlagRaised)
async def on_quality_flagged(ctx: EventContext, event: QualityFlagRaised) -> None:
    await officers.quality_flagged(ctx, event)


CONSUMERS = [ConsumerSpec(name="notifications", handlers=handlers)]
