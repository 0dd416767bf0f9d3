"""Events published by the accounts service.

A person appears only as an opaque id (`learner_id`, the token subject): never a personal code,
name or contact. Amounts are EUR as decimal strings with two decimals.

The DigComp self-assessments are on an internal topic (`accounts.assessments`, `partner_readable=False`): a
person's own assessment of their skills, keyed by their id, is for the platform's services (surveys computes the
skill gain from it), not for partners.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from prasmes_contracts.events import Event, Topic

LEARNER = "The learner's opaque user id (the token subject)."


class AccountOpened(Event):
    """A learner opened a learning account."""

    service: ClassVar[str] = "accounts"
    key_field: ClassVar[str] = "account_id"

    account_id: UUID = Field(description="The learning account's opaque id.")
    learner_id: str = Field(description=LEARNER)
    opened_at: datetime = Field(description="When the account was opened (UTC).")


class _ApplicationEvent(Event):
    service: ClassVar[str] = "accounts"
    key_field: ClassVar[str] = "application_id"

    application_id: UUID
    learner_id: str = Field(description=LEARNER)
    project_code: str = Field(description="The funding project, e.g. IMK.")
    at: datetime = Field(description="When it happened (UTC).")


# Version 1, no longer published (accounts publishes version 2): kept, unchanged, so that the events of it already on
# the topic, and dead letters replayed, stay readable. Its `learning_need` carried the learner's own words.
class ApplicationSubmitted(_ApplicationEvent):
    """A learner applied for studies in a funding project."""

    learning_need: str | None = None
    programme_id: UUID | None = None


# Version 2: the learning need is the code of one the supervisory council approved (calls' LearningNeedsApproved); the
# learner's own words stay with accounts, so version 1's free-text `learning_need` is gone.
class ApplicationSubmittedV2(_ApplicationEvent):
    """A learner applied for studies in a funding project, for one of its approved learning needs (by code)."""

    event_name: ClassVar[str] = "ApplicationSubmitted"
    version: ClassVar[int] = 2

    learning_need_code: str | None = Field(
        default=None,
        description="One of the project's approved learning needs (calls' LearningNeedsApproved); none while the "
        "project has none approved.",
    )
    programme_id: UUID | None = None
    group_id: UUID | None = Field(
        default=None, description="The programme's study group the learner chose, if any (catalog's GroupScheduled)."
    )


class ApplicationWithdrawn(_ApplicationEvent):
    """The learner withdrew the application before a decision."""


class ApplicationApproved(_ApplicationEvent):
    """The application was granted; the grant is reserved from the project's budget."""

    grant_amount: Decimal


class ApplicationRejected(_ApplicationEvent):
    """The application was refused. The officer's words go to the learner only, never on a topic."""

    reason_code: str = Field(description="e.g. not_eligible, budget_exhausted, incomplete, other.")


class ApplicationLapsed(_ApplicationEvent):
    """No enrolment happened before the project's deadline; the grant is released."""


class _GrantEvent(Event):
    service: ClassVar[str] = "accounts"
    key_field: ClassVar[str] = "application_id"

    application_id: UUID
    learner_id: str = Field(description=LEARNER)
    project_code: str
    amount: Decimal
    at: datetime


class GrantReserved(_GrantEvent):
    """The grant was reserved from the project's budget on approval."""


class GrantReleased(_GrantEvent):
    """Reserved money went back to the project's budget."""

    cause: Literal["rejected", "withdrawn", "lapsed", "remainder", "discontinued"]


class GrantSpent(_GrantEvent):
    """The programme's cost per participant was paid from the grant."""

    programme_id: UUID
    institution_id: UUID


class _StudyEvent(Event):
    service: ClassVar[str] = "accounts"
    key_field: ClassVar[str] = "enrolment_id"

    enrolment_id: UUID
    application_id: UUID
    learner_id: str = Field(description=LEARNER)
    project_code: str
    programme_id: UUID
    group_id: UUID
    institution_id: UUID


class EnrolmentConfirmed(_StudyEvent):
    """The learner took a place in a study group."""

    at: datetime


class StudiesStarted(_StudyEvent):
    """The provider recorded that the learner started studies."""

    started_on: date


class StudiesDiscontinued(_StudyEvent):
    """The provider recorded that the learner discontinued studies."""

    discontinued_on: date
    reason_code: str | None = None


class StudiesCompleted(_StudyEvent):
    """The provider recorded that the learner completed studies."""

    completed_on: date
    hours_attended: int
    result: str


class DigCompAssessed(Event):
    """The learner recorded a DigComp self-assessment (each one is kept: the history, not only the latest)."""

    service: ClassVar[str] = "accounts"
    key_field: ClassVar[str] = "learner_id"

    learner_id: str = Field(description=LEARNER)
    level: Decimal = Field(description="The mean of the five areas' levels, one decimal (rounded half up).")
    levels: dict[str, int] = Field(
        description="The level 1-8 of each of the five DigComp 2.2 areas (information_and_data_literacy, "
        "communication_and_collaboration, digital_content_creation, safety, problem_solving)."
    )
    assessed_on: date = Field(description="The day it was made, in Riga.")
    at: datetime = Field(description="When it was made (UTC).")


TOPICS: tuple[Topic, ...] = (
    Topic(
        "accounts.accounts", "accounts", "account", (AccountOpened,), "Learning accounts: opened. Keyed by account id."
    ),
    Topic(
        "accounts.applications",
        "accounts",
        "application",
        (
            ApplicationSubmitted,
            ApplicationSubmittedV2,
            ApplicationWithdrawn,
            ApplicationApproved,
            ApplicationRejected,
            ApplicationLapsed,
        ),
        "Applications for studies and their decisions. Keyed by application id.",
    ),
    Topic(
        "accounts.grants",
        "accounts",
        "grant",
        (GrantReserved, GrantReleased, GrantSpent),
        "The grant ledger: reservations, releases and spending. Keyed by application id.",
    ),
    Topic(
        "accounts.studies",
        "accounts",
        "enrolment",
        (EnrolmentConfirmed, StudiesStarted, StudiesDiscontinued, StudiesCompleted),
        "Enrolments in study groups and the study record. Keyed by enrolment id.",
    ),
    Topic(
        "accounts.assessments",
        "accounts",
        "learner",
        (DigCompAssessed,),
        "DigComp self-assessments (internal: a person's self-assessment). Keyed by learner id.",
        partner_readable=False,
    ),
)
