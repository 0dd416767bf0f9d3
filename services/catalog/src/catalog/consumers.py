"""Events the catalog service reacts to: calls' agreements publish and withdraw programmes; accounts'
enrolments fill study groups and its study record feeds the completion and dropout rates."""

from __future__ import annotations

from prasmes_contracts import CloudEvent
from prasmes_contracts.accounts import EnrolmentConfirmed, StudiesCompleted, StudiesDiscontinued, StudiesStarted
from prasmes_contracts.calls import CooperationAgreementEnded, CooperationAgreementSigned
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import service

TOPICS = ("calls.offers", "accounts.studies")
handlers = Handlers()


@handlers.on(CooperationAgreementSigned)
async def on_agreement_signed(session: AsyncSession, event: CooperationAgreementSigned, _: CloudEvent) -> None:
    await service.agreement_signed(session, event)


@handlers.on(CooperationAgreementEnded)
async def on_agreement_ended(session: AsyncSession, event: CooperationAgreementEnded, _: CloudEvent) -> None:
    await service.agreement_ended(session, event)


@handlers.on(EnrolmentConfirmed)
async def on_enrolment_confirmed(session: AsyncSession, event: EnrolmentConfirmed, _: CloudEvent) -> None:
    await service.enrolment_confirmed(session, event)


@handlers.on(StudiesStarted, StudiesDiscontinued, StudiesCompleted)
async def on_study_progress(
    session: AsyncSession, event: StudiesStarted | StudiesDiscontinued | StudiesCompleted, _: CloudEvent
) -> None:
    await service.study_progress(session, event)


def consumer_specs(group: str = "catalog") -> list[ConsumerSpec]:
    """One consumer group over both topics; `group` is overridable so tests on a shared broker stay apart."""
    return [ConsumerSpec(name=group, topics=list(TOPICS), handlers=handlers)]


CONSUMERS = consumer_specs()
