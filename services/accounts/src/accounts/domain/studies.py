"""Enrolment in a study group and the study record kept by the provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from prasmes_runtime.errors import Conflict, InvalidInput


class StudyState(StrEnum):
    ENROLLED = "enrolled"
    STUDYING = "studying"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


@dataclass(frozen=True)
class Enrolment:
    id: uuid.UUID
    application_id: uuid.UUID
    learner_id: str
    project_code: str
    programme_id: uuid.UUID
    group_id: uuid.UUID
    institution_id: uuid.UUID
    enrolled_at: datetime
    state: StudyState = StudyState.ENROLLED
    started_on: date | None = None
    ended_on: date | None = None
    reason: str | None = None
    hours_attended: int | None = None
    result: str | None = None

    def current(self) -> dict[str, str]:
        return {"enrolment_id": str(self.id), "state": self.state.value}

    def _require(self, *states: StudyState) -> None:
        if self.state not in states:
            raise Conflict(f"the studies are {self.state.value}", self.current())

    def start(self, on: date) -> Enrolment:
        self._require(StudyState.ENROLLED)
        return replace(self, state=StudyState.STUDYING, started_on=on)

    def discontinue(self, on: date, reason: str | None) -> Enrolment:
        self._require(StudyState.ENROLLED, StudyState.STUDYING)
        self._not_before_start(on, "discontinued_on")
        return replace(self, state=StudyState.DISCONTINUED, ended_on=on, reason=reason)

    def complete(self, on: date, hours_attended: int, result: str, programme_hours: int | None) -> Enrolment:
        self._require(StudyState.STUDYING)
        self._not_before_start(on, "completed_on")
        if programme_hours is not None and hours_attended > programme_hours:
            raise InvalidInput.of("hours_attended", "max_programme_hours", f"the programme has {programme_hours} hours")
        return replace(self, state=StudyState.COMPLETED, ended_on=on, hours_attended=hours_attended, result=result)

    def _not_before_start(self, on: date, field: str) -> None:
        if self.started_on is not None and on < self.started_on:
            raise InvalidInput.of(field, "not_before_start", f"the studies started on {self.started_on}")
