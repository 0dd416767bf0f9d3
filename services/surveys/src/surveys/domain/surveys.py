"""A survey: one per enrolment, invited on completion or discontinuation, reminded once, closed by the clock.
Its learner may save a partial answer and resume it, and submit once; a submitted answer never changes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from prasmes_runtime.errors import Conflict

from surveys.domain.answers import Answers, checked
from surveys.domain.questionnaires import Kind, Questionnaire, current, questionnaire

Status = Literal["open", "submitted", "closed"]


@dataclass(frozen=True)
class Enrolment:
    """What the survey needs of accounts' study event: the enrolment and where it was (no person but the id)."""

    enrolment_id: uuid.UUID
    learner_id: str
    project_code: str
    programme_id: uuid.UUID
    group_id: uuid.UUID
    institution_id: uuid.UUID


@dataclass(frozen=True)
class Timing:
    """When a survey is reminded and when it closes, counted from the invitation (the service's settings)."""

    remind_after: timedelta
    close_after: timedelta


@dataclass(frozen=True)
class Survey:
    id: uuid.UUID
    enrolment: Enrolment
    kind: Kind
    questionnaire_version: int
    invited_at: datetime
    remind_at: datetime
    closes_at: datetime
    status: Status = "open"
    answers: Answers = field(default_factory=dict)
    """The draft while open, the submitted answer after."""
    saved_at: datetime | None = None
    reminded_at: datetime | None = None
    submitted_at: datetime | None = None
    digcomp_before: Decimal | None = None
    """The mean of the learner's DigComp self-assessment (accounts) up to the start of the studies, if any."""

    @staticmethod
    def invite(enrolment: Enrolment, kind: Kind, now: datetime, timing: Timing) -> Survey:
        return Survey(
            id=uuid.uuid4(),
            enrolment=enrolment,
            kind=kind,
            questionnaire_version=current(kind).version,
            invited_at=now,
            remind_at=now + timing.remind_after,
            closes_at=now + timing.close_after,
        )

    @property
    def questionnaire(self) -> Questionnaire:
        return questionnaire(self.kind, self.questionnaire_version)

    def _answerable(self, now: datetime) -> None:
        if self.status == "submitted":
            raise Conflict("the survey is already answered: a submitted answer cannot be changed", self.state())
        if self.status == "closed" or now > self.closes_at:
            raise Conflict(f"the survey closed at {self.closes_at.isoformat()}", self.state())

    def save(self, values: Mapping[str, object], now: datetime) -> Survey:
        """A partial answer, kept to be resumed: it replaces the earlier draft."""
        self._answerable(now)
        return replace(self, answers=checked(self.questionnaire, values, complete=False), saved_at=now)

    def submit(self, values: Mapping[str, object], now: datetime, digcomp_before: Decimal | None = None) -> Survey:
        """The answer, complete and final."""
        self._answerable(now)
        answers = checked(self.questionnaire, values, complete=True)
        return replace(
            self, answers=answers, status="submitted", saved_at=now, submitted_at=now, digcomp_before=digcomp_before
        )

    @property
    def comments(self) -> dict[str, str]:
        """The free texts of the answer (what should be improved, another reason)."""
        return {
            q.id: v
            for q in self.questionnaire.questions
            if q.kind == "text" and isinstance(v := self.answers.get(q.id), str)
        }

    def due_reminder(self, now: datetime) -> bool:
        return self.status == "open" and self.reminded_at is None and self.remind_at <= now < self.closes_at

    def remind(self, now: datetime) -> Survey:
        return replace(self, reminded_at=now)

    def due_closing(self, now: datetime) -> bool:
        return self.status == "open" and now > self.closes_at

    def close(self) -> Survey:
        """Closed unanswered: a draft is dropped, it was never submitted."""
        return replace(self, status="closed", answers={})

    def state(self) -> dict[str, str]:
        return {"status": self.status, "closes_at": self.closes_at.isoformat()}
