"""Events published by the calls service: calls to institutions, their learning needs, offers and their outcome.

Institutions are organisations: their ids travel. No person appears on the public topics, not even as an id: an
evaluator or a decider is the agency, and a provider user who submits acts for the institution. The one exception is
the internal `calls.assignments` (`partner_readable=False`): who evaluates an offer, as the officer's opaque user id,
so that notifications can tell the officer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from prasmes_contracts.events import Event, Topic

CallPhase = Literal[
    "announced",  # published, the learners' application period has not begun
    "applications",  # learners apply for studies
    "offers",  # the offer window: institutions submit offers (until the deadline, to the minute, Riga time)
    "evaluation",  # officers evaluate the submitted offers
    "decision",  # the agency decides
    "agreements",  # cooperation agreements are signed
    "delivery",  # programmes are published and delivered
    "closed",  # delivery ended
]
Finding = Literal["meets", "does_not_meet", "needs_clarification"]


class LearningNeed(BaseModel):
    """One learning need approved by the supervisory council, by code (applications refer to the code)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str = Field(description="Stable within the call, e.g. IMK4-CYBER.")
    title: dict[str, str] = Field(description="By language: lv, en.")


class _CallEvent(Event):
    service: ClassVar[str] = "calls"
    key_field: ClassVar[str] = "call_id"

    call_id: UUID
    at: datetime = Field(description="When it happened (UTC).")


class CallOpened(_CallEvent):
    """The agency announced a call: its timeline and the funding project it serves."""

    code: str = Field(description="e.g. IMK-4.")
    title: dict[str, str] = Field(description="By language: lv, en.")
    project_code: str = Field(description="The funding project, e.g. IMK.")
    applications_open_on: date
    applications_close_on: date
    offers_open_at: datetime = Field(description="The offer window opens (an instant; Riga time in the UI).")
    offers_deadline_at: datetime = Field(description="The last instant an offer can be submitted or withdrawn.")
    evaluation_ends_on: date
    decision_on: date
    agreements_from: date
    publication_from: date
    delivery_ends_on: date
    max_programmes_per_institution: int
    phase: CallPhase


class CallPhaseChanged(_CallEvent):
    """The call's phase followed the clock (or the agency changed the timeline)."""

    phase: CallPhase
    previous_phase: CallPhase


class LearningNeedsApproved(_CallEvent):
    """The supervisory council's approved learning needs of the call (the full list, replacing any earlier one)."""

    project_code: str
    approved_on: date
    needs: list[LearningNeed]


class _OfferEvent(Event):
    service: ClassVar[str] = "calls"
    key_field: ClassVar[str] = "offer_id"

    offer_id: UUID
    call_id: UUID
    institution_id: UUID
    at: datetime = Field(description="When it happened (UTC).")


class OfferSubmitted(_OfferEvent):
    """An institution submitted an offer (one version; a resubmission after a withdrawal is the next version)."""

    offer_version: int = Field(description="1 for the first submission, then one more for each resubmission.")
    programme_ids: list[UUID]
    funding_source: str


class OfferWithdrawn(_OfferEvent):
    """The institution withdrew its submitted offer before the deadline."""

    offer_version: int


class ClarificationRequested(_OfferEvent):
    """The evaluator asked the institution to clarify; it answers once, by the due date (Latvian working days)."""

    clarification_id: UUID
    criteria: list[str] = Field(description="The criteria codes the clarification is about.")
    due_on: date


class ClarificationAnswered(_OfferEvent):
    """The institution answered the clarification."""

    clarification_id: UUID


class EvaluatorAssigned(_OfferEvent):
    """An agency admin assigned the offer's evaluator, or reassigned it to another officer (the latest wins).

    Internal (`calls.assignments`): it names an agency person."""

    evaluator_id: str = Field(description="The officer's opaque user id.")
    call_code: str = Field(description="The offer's call, as the agency names it (e.g. IMK-4), to say which call.")


class OfferEvaluated(_OfferEvent):
    """Every criterion of the offer has a finding: the evaluation is complete and awaits the decision."""

    findings: dict[str, Finding] = Field(description="Criterion code -> finding.")


class OfferApproved(_OfferEvent):
    """The agency approved the offer: a cooperation agreement follows."""

    programme_ids: list[UUID]


class OfferRejected(_OfferEvent):
    """The agency rejected the offer, with its reasons per criterion (codes; the words go to the institution)."""

    reasons: dict[str, str] = Field(description="Criterion code -> reason code.")


class _AgreementEvent(Event):
    service: ClassVar[str] = "calls"
    key_field: ClassVar[str] = "offer_id"

    offer_id: UUID
    call_id: UUID
    institution_id: UUID
    programme_ids: list[UUID]
    at: datetime


class CooperationAgreementSigned(_AgreementEvent):
    """An approved offer's cooperation agreement was signed: its programmes may be published."""

    valid_until: date


class CooperationAgreementEnded(_AgreementEvent):
    """The cooperation agreement ended: its programmes leave the public catalogue."""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "calls.calls",
        "calls",
        "call",
        (CallOpened, CallPhaseChanged, LearningNeedsApproved),
        "The agency's calls to institutions: announced, their phases, their approved learning needs. Keyed by call id.",
    ),
    Topic(
        "calls.offers",
        "calls",
        "offer",
        (
            OfferSubmitted,
            OfferWithdrawn,
            ClarificationRequested,
            ClarificationAnswered,
            OfferEvaluated,
            OfferApproved,
            OfferRejected,
            CooperationAgreementSigned,
            CooperationAgreementEnded,
        ),
        "Offers of institutions to the agency's calls, their evaluation, decisions and agreements. Keyed by offer id.",
    ),
    Topic(
        "calls.assignments",
        "calls",
        "offer",
        (EvaluatorAssigned,),
        "Who evaluates an offer (internal: carries the officer's user id). Keyed by offer id.",
        partner_readable=False,
    ),
)
