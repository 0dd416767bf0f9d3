"""What the accounts aggregates raise: pure records of what happened, collected by the aggregate that
changed and recorded in the outbox with that change, in the same transaction.

Each has the fields of the published contract of the same name (`prasmes_contracts.accounts`), which the
service layer builds from it (`accounts.service.outbox`): the domain never sees the contracts, which are
pydantic models.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to one aggregate."""


@dataclass(frozen=True, kw_only=True)
class AccountOpened(DomainEvent):
    account_id: uuid.UUID
    learner_id: str
    opened_at: datetime


@dataclass(frozen=True, kw_only=True)
class DigCompAssessed(DomainEvent):
    learner_id: str
    level: Decimal
    levels: dict[str, int]
    assessed_on: date
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ApplicationEvent(DomainEvent):
    """About one application and its grant (keyed by the application)."""

    application_id: uuid.UUID
    learner_id: str
    project_code: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ApplicationSubmitted(ApplicationEvent):
    """Published as version 2: the learning need's code, never the learner's own words (which stay here)."""

    learning_need_code: str | None
    programme_id: uuid.UUID | None
    group_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class ApplicationWithdrawn(ApplicationEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class ApplicationApproved(ApplicationEvent):
    grant_amount: Decimal


@dataclass(frozen=True, kw_only=True)
class ApplicationRejected(ApplicationEvent):
    reason_code: str


@dataclass(frozen=True, kw_only=True)
class ApplicationLapsed(ApplicationEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class GrantReserved(ApplicationEvent):
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class GrantReleased(ApplicationEvent):
    amount: Decimal
    cause: str


@dataclass(frozen=True, kw_only=True)
class GrantSpent(ApplicationEvent):
    amount: Decimal
    programme_id: uuid.UUID
    institution_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class StudyEvent(DomainEvent):
    """About one enrolment (keyed by the enrolment)."""

    enrolment_id: uuid.UUID
    application_id: uuid.UUID
    learner_id: str
    project_code: str
    programme_id: uuid.UUID
    group_id: uuid.UUID
    institution_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class EnrolmentConfirmed(StudyEvent):
    at: datetime


@dataclass(frozen=True, kw_only=True)
class StudiesStarted(StudyEvent):
    started_on: date


@dataclass(frozen=True, kw_only=True)
class StudiesDiscontinued(StudyEvent):
    discontinued_on: date
    reason_code: str | None


@dataclass(frozen=True, kw_only=True)
class StudiesCompleted(StudyEvent):
    completed_on: date
    hours_attended: int
    result: str
