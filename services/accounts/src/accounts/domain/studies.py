"""Enrolment in a study group, the study record kept by the provider, and what it does to the grant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from prasmes_runtime.errors import Conflict, InvalidInput

from accounts.domain import events as ev
from accounts.domain.account import DigCompAssessment, latest_since, latest_until
from accounts.domain.applications import Application, ApplicationState
from accounts.domain.programmes import Programme, StudyGroup, open_for_enrolment

S = ApplicationState


class StudyState(StrEnum):
    ENROLLED = "enrolled"
    STUDYING = "studying"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


@dataclass(frozen=True)
class Enrolment:
    """The aggregate of a learner's place in a group and their study record; like an application, it carries
    what a change raised (`events`) until the use case records it."""

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
    events: tuple[ev.DomainEvent, ...] = field(default=(), compare=False, repr=False)

    def current(self) -> dict[str, str]:
        return {"enrolment_id": str(self.id), "state": self.state.value}

    def _require(self, *states: StudyState) -> None:
        if self.state not in states:
            raise Conflict(f"the studies are {self.state.value}", self.current())

    def start(self, on: date) -> Enrolment:
        self._require(StudyState.ENROLLED)
        started = ev.StudiesStarted(**self._about(), started_on=on)
        return self._raised(started, state=StudyState.STUDYING, started_on=on)

    def discontinue(self, on: date, reason: str | None) -> Enrolment:
        self._require(StudyState.ENROLLED, StudyState.STUDYING)
        self._not_before_start(on, "discontinued_on")
        stopped = ev.StudiesDiscontinued(**self._about(), discontinued_on=on, reason_code=reason)
        return self._raised(stopped, state=StudyState.DISCONTINUED, ended_on=on, reason=reason)

    def complete(self, on: date, hours_attended: int, result: str, programme_hours: int | None) -> Enrolment:
        self._require(StudyState.STUDYING)
        self._not_before_start(on, "completed_on")
        if programme_hours is not None and hours_attended > programme_hours:
            raise InvalidInput.of("hours_attended", "max_programme_hours", f"the programme has {programme_hours} hours")
        completed = ev.StudiesCompleted(**self._about(), completed_on=on, hours_attended=hours_attended, result=result)
        done = {"state": StudyState.COMPLETED, "ended_on": on, "hours_attended": hours_attended, "result": result}
        return self._raised(completed, **done)

    def _not_before_start(self, on: date, field: str) -> None:
        if self.started_on is not None and on < self.started_on:
            raise InvalidInput.of(field, "not_before_start", f"the studies started on {self.started_on}")

    def _about(self) -> dict[str, Any]:
        return {
            "enrolment_id": self.id,
            "application_id": self.application_id,
            "learner_id": self.learner_id,
            "project_code": self.project_code,
            "programme_id": self.programme_id,
            "group_id": self.group_id,
            "institution_id": self.institution_id,
        }

    def _raised(self, *raised: ev.DomainEvent, **changes: Any) -> Enrolment:
        """This enrolment with `changes`, having raised `raised`."""
        return replace(self, events=(*self.events, *raised), **changes)


def enrol(
    application: Application,
    group_id: uuid.UUID,
    group: StudyGroup | None,
    programme: Programme | None,
    at: datetime,
) -> tuple[Application, Enrolment]:
    """With an approved application, the learner takes a place in a scheduled group of a published programme
    (`group` and `programme` as the read models know them, None when unknown)."""
    enrolled = application.move_to(S.ENROLLED, at)
    group = open_for_enrolment(group_id, group, programme)
    enrolment = Enrolment(
        uuid.uuid4(),
        application.id,
        application.learner_id,
        application.project_code,
        group.programme_id,
        group.id,
        group.institution_id,
        at,
    )
    return enrolled, enrolment._raised(ev.EnrolmentConfirmed(**enrolment._about(), at=at))


def start(enrolment: Enrolment, application: Application, on: date, at: datetime) -> tuple[Enrolment, Application]:
    return enrolment.start(on), application.move_to(S.STUDYING, at)


def discontinue(
    enrolment: Enrolment, application: Application, on: date, reason: str | None, at: datetime
) -> tuple[Enrolment, Application]:
    """The learner stopped: what is left of the grant goes back to the project's budget."""
    stopped = enrolment.discontinue(on, reason)
    return stopped, application.move_to(S.DISCONTINUED, at).release_rest("discontinued", at)


def complete(
    enrolment: Enrolment,
    application: Application,
    programme: Programme | None,
    on: date,
    hours_attended: int,
    result: str,
    at: datetime,
) -> tuple[Enrolment, Application]:
    """The learner completed: the programme's cost is paid (unless the provider's invoice paid it) and the
    remainder of the grant released."""
    done = enrolment.complete(on, hours_attended, result, programme.hours if programme else None)
    paid = pay(application.move_to(S.COMPLETED, at), done, programme, "completed", at)
    return done, paid.release_rest("remainder", at)


def invoice(enrolment: Enrolment, application: Application, programme: Programme | None, at: datetime) -> Application:
    """The provider invoices the programme's cost for a learner who is studying or completed, once."""
    if enrolment.state not in (StudyState.STUDYING, StudyState.COMPLETED):
        raise Conflict("only studies that started can be invoiced", enrolment.current())
    if application.grant.spent > 0:
        raise Conflict("the cost was already paid", {**enrolment.current(), "spent": str(application.grant.spent)})
    paid = pay(application, enrolment, programme, "invoiced", at)
    return replace(paid, version=paid.version + 1)  # a grant-only change is still a change


def pay(
    application: Application, enrolment: Enrolment, programme: Programme | None, cause: str, at: datetime
) -> Application:
    """Pay the programme's cost from the grant, once: not again after the provider's invoice paid it."""
    if application.grant.spent > 0 or programme is None:
        return application
    return application.spend(
        programme.cost_per_participant, cause, at, enrolment.programme_id, enrolment.institution_id
    )


@dataclass(frozen=True)
class Study:
    """One entry of the learner's learning history."""

    enrolment: Enrolment
    programme_title: dict[str, str]
    institution_name: str | None
    digcomp_before: DigCompAssessment | None
    """The latest self-assessment up to the start of the studies (or the enrolment, before they start)."""
    digcomp_after: DigCompAssessment | None
    """The latest self-assessment once the studies ended (none while they go on)."""


def study(enrolment: Enrolment, programme: Programme | None, assessments: Sequence[DigCompAssessment]) -> Study:
    """`assessments`: the learner's self-assessments in the order they were made."""
    started = enrolment.started_on or enrolment.enrolled_at.date()
    return Study(
        enrolment,
        programme.title if programme else {},
        programme.institution_name if programme else None,
        latest_until(assessments, started),
        latest_since(assessments, enrolment.ended_on) if enrolment.ended_on else None,
    )
