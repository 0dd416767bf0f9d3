"""Enrolment in a study group, the study record kept by the provider, and what it does to the grant.

The study record says what happened, so each of its dates lies within what could have happened:

- a start from a week before the group's first day (`START_GRACE`: an introductory session, a learner who came to
  the first lesson ahead of the group) until the group's last day;
- a completion from the start, and not before the group's first day (a start may be dated in the week before it,
  but no one completes a group's studies before the group has begun), until the group's last day;
- a discontinuation from the start until the group's last day, or, of studies that never started, from the day the
  learner enrolled (a learner may give up a place before the group begins);
- and never a day after today in Riga: nothing is recorded ahead.

What the grant pays (`cost_due`): on completion the programme's cost; on a discontinuation of studies that started
the cost's share of the group's days delivered, from the group's first day up to and including the discontinuation
day; of studies that never started nothing. Never more than the grant: what it pays is spent and the rest released
to the project's budget, in the same change. The provider then invoices what was spent, once (`invoice`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import Conflict, InvalidInput
from prasmes_runtime.money import money

from accounts.domain import events as ev
from accounts.domain.account import DigCompAssessment, latest_since, latest_until
from accounts.domain.applications import Application, ApplicationState
from accounts.domain.programmes import Programme, StudyGroup, open_for_enrolment

S = ApplicationState
START_GRACE = timedelta(days=7)
"""How long before the group's first day a start may be dated."""


class StudyState(StrEnum):
    ENROLLED = "enrolled"
    STUDYING = "studying"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


ENDED = (StudyState.COMPLETED, StudyState.DISCONTINUED)


@dataclass(frozen=True)
class Bound:
    """One end of the days a study record's date may take: the day, the rule a date beyond it breaks, and why."""

    day: date
    rule: str
    why: str


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
    invoiced_amount: Decimal | None = None
    invoiced_at: datetime | None = None
    """What the provider invoiced for these studies, and when (once, after they ended)."""
    events: tuple[ev.DomainEvent, ...] = field(default=(), compare=False, repr=False)

    def current(self) -> dict[str, str]:
        return {"enrolment_id": str(self.id), "state": self.state.value}

    def _require(self, step: str, *states: StudyState) -> None:
        if self.state in states:
            return
        if self.state in ENDED:
            raise Conflict(f"the studies are {self.state.value}: their record is final", self.current())
        raise Conflict(f"studies can be {step} (current state: {self.state.value})", self.current())

    def start(self, on: date, group: StudyGroup, today: date) -> Enrolment:
        self._require("started only once, while enrolled", StudyState.ENROLLED)
        earliest = Bound(group.start_date - START_GRACE, "not_before_group_start", "a week before the group starts")
        _check_day("started_on", "the studies can start", on, earliest, group, today)
        started = ev.StudiesStarted(**self._about(), started_on=on)
        return self._raised(started, state=StudyState.STUDYING, started_on=on)

    def discontinue(self, on: date, reason: str | None, group: StudyGroup, today: date) -> Enrolment:
        self._require("discontinued only while enrolled or studying", StudyState.ENROLLED, StudyState.STUDYING)
        if self.started_on is not None:
            earliest = Bound(self.started_on, "not_before_start", "the day the studies started")
        else:
            earliest = Bound(self.enrolled_at.astimezone(RIGA).date(), "not_before_enrolment", "the day of enrolment")
        _check_day("discontinued_on", "the studies can be discontinued", on, earliest, group, today)
        stopped = ev.StudiesDiscontinued(**self._about(), discontinued_on=on, reason_code=reason)
        return self._raised(stopped, state=StudyState.DISCONTINUED, ended_on=on, reason=reason)

    def complete(
        self, on: date, hours_attended: int, result: str, programme_hours: int | None, group: StudyGroup, today: date
    ) -> Enrolment:
        self._require("completed only after they started", StudyState.STUDYING)
        assert self.started_on is not None
        earliest = Bound(self.started_on, "not_before_start", "the day the studies started")
        if group.start_date > self.started_on:  # started in the week before the group: it has not begun yet
            earliest = Bound(group.start_date, "not_before_group_start", "the group's first day")
        _check_day("completed_on", "the studies can be completed", on, earliest, group, today)
        if programme_hours is not None and hours_attended > programme_hours:
            raise InvalidInput.of("hours_attended", "max_programme_hours", f"the programme has {programme_hours} hours")
        completed = ev.StudiesCompleted(**self._about(), completed_on=on, hours_attended=hours_attended, result=result)
        done = {"state": StudyState.COMPLETED, "ended_on": on, "hours_attended": hours_attended, "result": result}
        return self._raised(completed, **done)

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


def _check_day(field: str, what: str, on: date, earliest: Bound, group: StudyGroup, today: date) -> None:
    """Raise InvalidInput naming `field` and the bound `on` passes: `earliest`, the group's last day or today."""
    if group.end_date <= today:
        latest = Bound(group.end_date, "not_after_group_end", "the group's last day")
    else:
        latest = Bound(today, "not_in_future", "today: nothing is recorded ahead")
    if earliest.day <= on <= latest.day:
        return
    broken = earliest if on < earliest.day else latest
    if earliest.day <= latest.day:
        allowed = f"{what} from {earliest.day} ({earliest.why}) until {latest.day} ({latest.why})"
    else:
        allowed = f"{what} from {earliest.day} ({earliest.why}), not yet: today is {today}"
    raise InvalidInput.of(field, broken.rule, allowed)


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


def start(
    enrolment: Enrolment, application: Application, group: StudyGroup, on: date, today: date, at: datetime
) -> tuple[Enrolment, Application]:
    """`today`: the Riga date the start is recorded on; `at`: the instant."""
    return enrolment.start(on, group, today), application.move_to(S.STUDYING, at)


def discontinue(
    enrolment: Enrolment,
    application: Application,
    group: StudyGroup,
    programme: Programme | None,
    on: date,
    reason: str | None,
    today: date,
    at: datetime,
) -> tuple[Enrolment, Application]:
    """The learner stopped: the share of the group delivered is paid from the grant, the rest released."""
    stopped = enrolment.discontinue(on, reason, group, today)
    due = cost_due(stopped, group, programme)
    return stopped, settle(application.move_to(S.DISCONTINUED, at), stopped, due, "discontinued", "discontinued", at)


def complete(
    enrolment: Enrolment,
    application: Application,
    group: StudyGroup,
    programme: Programme | None,
    on: date,
    hours_attended: int,
    result: str,
    today: date,
    at: datetime,
) -> tuple[Enrolment, Application]:
    """The learner completed: the programme's cost is paid from the grant and the remainder released."""
    done = enrolment.complete(on, hours_attended, result, programme.hours if programme else None, group, today)
    due = cost_due(done, group, programme)
    return done, settle(application.move_to(S.COMPLETED, at), done, due, "completed", "remainder", at)


def cost_due(enrolment: Enrolment, group: StudyGroup, programme: Programme | None) -> Decimal:
    """What the grant pays for studies that ended (see the module's docstring); nothing when the programme is
    unknown."""
    if programme is None or enrolment.started_on is None or enrolment.ended_on is None:
        return Decimal("0.00")
    cost = programme.cost_per_participant
    if enrolment.state is StudyState.COMPLETED:
        return money(cost)
    group_days = (group.end_date - group.start_date).days + 1
    delivered = min(max((enrolment.ended_on - group.start_date).days + 1, 0), group_days)
    return money(cost * delivered / group_days)


def settle(
    application: Application, enrolment: Enrolment, due: Decimal, spent_as: str, released_as: str, at: datetime
) -> Application:
    """Spend what is `due` (counting what was spent before, at most what the grant holds), release the rest."""
    still_due = due - application.grant.spent
    paid = application
    if still_due > 0:
        paid = application.spend(still_due, spent_as, at, enrolment.programme_id, enrolment.institution_id)
    return paid.release_rest(released_as, at)


def invoice(enrolment: Enrolment, application: Application, at: datetime) -> Enrolment:
    """The provider invoices what the ended studies spent of the grant, once. Raise Conflict, with what was paid
    and when, when there is nothing (more) to invoice."""
    if enrolment.state not in ENDED:
        message = f"an invoice is due once the studies are completed or discontinued (current state: {enrolment.state})"
        raise Conflict(message, enrolment.current())
    if enrolment.invoiced_at is not None:
        paid, paid_at = money(enrolment.invoiced_amount or 0), enrolment.invoiced_at
        paid_on = paid_at.astimezone(RIGA).date().isoformat()
        message = f"these studies were already invoiced: {paid} EUR on {paid_on}"
        raise Conflict(message, {**enrolment.current(), "paid": str(paid), "paid_at": paid_at.isoformat()})
    due = application.grant.spent
    if due <= 0:
        message = (
            "nothing is due for these studies: no part of the group was delivered before they ended "
            f"(current state: {enrolment.state})"
        )
        raise Conflict(message, {**enrolment.current(), "due": str(money(due))})
    return replace(enrolment, invoiced_amount=due, invoiced_at=at)


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
