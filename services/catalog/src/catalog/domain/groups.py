"""Study groups of published programmes, their places, and the learners' study progress that feeds the
completion and dropout rates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from prasmes_runtime.errors import Conflict, Violation

from catalog.domain.common import add_years, check_digcomp, check_language, check_text, raise_if_any
from catalog.domain.programmes import Programme

MAX_CAPACITY = 500
MAX_RESULT = 200
MAX_YEARS_AHEAD = 2
"""A group is scheduled at most two years ahead: no start or end date after the same day two years from today.
Cooperation agreements run for a call's period (months, a year or two), and a group is for learners applying
now; a date beyond is a typo (2062 for 2026), not a plan."""


# --------------------------------------------------------------------------- study groups


class GroupStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class GroupInput:
    location_id: uuid.UUID
    start_date: date
    end_date: date
    schedule: str
    capacity: int
    language: str
    entry_level: int


@dataclass(frozen=True)
class GroupChanges:
    location_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None
    schedule: str | None = None
    capacity: int | None = None
    language: str | None = None
    entry_level: int | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class StudyGroup:
    id: uuid.UUID
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    spec: GroupInput
    city: str
    status: GroupStatus
    enrolled: int
    created_at: datetime
    updated_at: datetime

    @property
    def free_places(self) -> int:
        """Capacity minus confirmed enrolments, never below zero."""
        return max(0, self.spec.capacity - self.enrolled)

    def summary(self) -> dict[str, Any]:
        return {
            "group_id": str(self.id),
            "status": self.status.value,
            "capacity": self.spec.capacity,
            "enrolled": self.enrolled,
        }

    def changed(self, changes: GroupChanges, programme: Programme, today: date, now: datetime) -> StudyGroup:
        """The group with the changes made: a cancelled group stays as it is, a group is cancelled only while
        nobody is enrolled, and the capacity never drops below the enrolled. A start or an end that does not move
        may lie in the past (a group under way, or over); one that moves is rescheduled from today on."""
        if self.status == GroupStatus.CANCELLED:
            raise Conflict("the group is cancelled", self.summary())
        given = {k: v for k, v in asdict(changes).items() if v is not None and k != "cancelled"}
        status = GroupStatus.CANCELLED if changes.cancelled else self.status
        changed = replace(self, spec=replace(self.spec, **given), status=status, updated_at=now)
        if changed.status == GroupStatus.CANCELLED and self.enrolled > 0:
            raise Conflict("a group with enrolled learners cannot be cancelled", self.summary())
        starts_anew = changes.start_date is not None and changes.start_date != self.spec.start_date
        ends_anew = changes.end_date is not None and changes.end_date != self.spec.end_date
        validate_group(changed.spec, programme, today, self.enrolled, new=starts_anew, new_end=ends_anew)
        return changed


def _check_dates(violations: list[Violation], spec: GroupInput, today: date, *, new: bool, new_end: bool) -> None:
    """Dates a group can have: it ends on or after its start, within two years from today, and a start or an end
    being (re)scheduled is from today on."""
    if new and spec.start_date < today:
        violations.append(Violation("start_date", "not_in_past", "a new group cannot start in the past"))
    if new_end and spec.end_date < today:
        violations.append(Violation("end_date", "not_in_past", "the group's end cannot be moved into the past"))
    if spec.end_date < spec.start_date:
        violations.append(Violation("end_date", "not_before_start", "the group cannot end before it starts"))
    last_day = add_years(today, MAX_YEARS_AHEAD)
    for name, day in (("start_date", spec.start_date), ("end_date", spec.end_date)):
        if day > last_day:
            violations.append(
                Violation(
                    name, "max_ahead", f"a group is scheduled at most {MAX_YEARS_AHEAD} years ahead, until {last_day}"
                )
            )


def validate_group(
    spec: GroupInput,
    programme: Programme,
    today: date,
    enrolled: int = 0,
    *,
    new: bool = True,
    new_end: bool | None = None,
) -> None:
    """`new`: the start is (re)scheduled; `new_end`: the end is (by default, with a new start)."""
    violations: list[Violation] = []
    if spec.location_id not in programme.spec.location_ids:
        violations.append(
            Violation("location_id", "programme_location", "must be one of the programme's implementation locations")
        )
    _check_dates(violations, spec, today, new=new, new_end=new if new_end is None else new_end)
    until = programme.publication_valid_until
    if until is not None and spec.end_date > until:
        violations.append(
            Violation("end_date", "within_agreement", f"the cooperation agreement runs until {until.isoformat()}")
        )
    if not 1 <= spec.capacity <= MAX_CAPACITY:
        violations.append(Violation("capacity", "range", f"1 to {MAX_CAPACITY} places"))
    elif spec.capacity < enrolled:
        violations.append(
            Violation("capacity", "not_below_enrolled", f"{enrolled} learners are already enrolled in the group")
        )
    check_digcomp(violations, "entry_level", spec.entry_level)
    check_language(violations, spec.language)
    check_text(violations, "schedule", spec.schedule, max_length=2000)
    raise_if_any(violations)


def validate_new_group(programme: Programme, spec: GroupInput, today: date) -> None:
    """Groups are scheduled for published programmes only, from today on."""
    if not programme.published:
        raise Conflict("groups are scheduled for published programmes only", programme.summary())
    validate_group(spec, programme, today)


def new_group(programme: Programme, spec: GroupInput, city: str, now: datetime) -> StudyGroup:
    return StudyGroup(
        uuid.uuid4(), programme.id, programme.institution_id, spec, city, GroupStatus.SCHEDULED, 0, now, now
    )


# --------------------------------------------------------------------------- learners' study progress


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    STARTED = "started"
    DISCONTINUED = "discontinued"
    COMPLETED = "completed"


class StudyStep(StrEnum):
    """What accounts' study record reports of an enrolment (StudiesStarted, -Discontinued, -Completed)."""

    START = "start"
    DISCONTINUE = "discontinue"
    COMPLETE = "complete"


STUDY_TRANSITIONS: Mapping[EnrolmentStatus, Mapping[StudyStep, EnrolmentStatus]] = {
    EnrolmentStatus.ENROLLED: {
        StudyStep.START: EnrolmentStatus.STARTED,
        StudyStep.DISCONTINUE: EnrolmentStatus.DISCONTINUED,
        StudyStep.COMPLETE: EnrolmentStatus.COMPLETED,
    },
    EnrolmentStatus.STARTED: {
        StudyStep.START: EnrolmentStatus.STARTED,
        StudyStep.DISCONTINUE: EnrolmentStatus.DISCONTINUED,
        StudyStep.COMPLETE: EnrolmentStatus.COMPLETED,
    },
    EnrolmentStatus.DISCONTINUED: {
        StudyStep.DISCONTINUE: EnrolmentStatus.DISCONTINUED,
        StudyStep.COMPLETE: EnrolmentStatus.COMPLETED,
    },
    EnrolmentStatus.COMPLETED: {
        StudyStep.DISCONTINUE: EnrolmentStatus.DISCONTINUED,
        StudyStep.COMPLETE: EnrolmentStatus.COMPLETED,
    },
}
"""Catalog's copy of a learner's progress follows accounts' study record, which keeps the real state machine:
catalog records every outcome reported (the last one wins), and a step repeated restates its dates. A step
missing here is ignored: once an outcome is known, a late start cannot undo it."""

COUNTED_AS_STARTED = frozenset({EnrolmentStatus.STARTED, EnrolmentStatus.COMPLETED, EnrolmentStatus.DISCONTINUED})
"""The learners the completion and dropout rates are rates of."""


@dataclass(frozen=True)
class Enrolment:
    id: uuid.UUID
    group_id: uuid.UUID
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    learner_id: str
    status: EnrolmentStatus
    enrolled_at: datetime | None
    """None when accounts reported progress before (or without) the confirmed enrolment."""
    started_on: date | None = None
    ended_on: date | None = None
    hours_attended: int | None = None
    result: str | None = None

    def _moved(self, step: StudyStep, **changes: Any) -> Enrolment | None:
        target = STUDY_TRANSITIONS[self.status].get(step)
        return None if target is None else replace(self, status=target, **changes)

    def start(self, on: date) -> Enrolment | None:
        """Started on `on`; None when the step is ignored (the outcome is already known)."""
        return self._moved(StudyStep.START, started_on=on)

    def discontinue(self, on: date) -> Enrolment | None:
        return self._moved(StudyStep.DISCONTINUE, ended_on=on)

    def complete(self, on: date, hours_attended: int, result: str) -> Enrolment | None:
        return self._moved(StudyStep.COMPLETE, ended_on=on, hours_attended=hours_attended, result=result[:MAX_RESULT])


def progress_counts(enrolments: Iterable[Enrolment]) -> dict[str, int]:
    """Learners per state, every state named (for the provider's view of a group)."""
    counts = {status.value: 0 for status in EnrolmentStatus}
    for enrolment in enrolments:
        counts[enrolment.status.value] += 1
    return counts


@dataclass(frozen=True)
class OutcomeCounts:
    started: int
    """Learners who started (whatever happened next)."""
    completed: int
    discontinued: int

    def rate(self, count: int) -> Decimal | None:
        if self.started == 0:
            return None
        return (Decimal(100) * count / self.started).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def completion_rate(self) -> Decimal | None:
        return self.rate(self.completed)

    @property
    def dropout_rate(self) -> Decimal | None:
        return self.rate(self.discontinued)


NO_OUTCOMES = OutcomeCounts(0, 0, 0)


# --------------------------------------------------------------------------- an institution's own list


class GroupSort(StrEnum):
    START = "start"
    START_DESC = "-start"
    FREE_PLACES = "-free_places"


def select_groups(
    groups: Iterable[StudyGroup],
    statuses: Iterable[GroupStatus] = (),
    programme_id: uuid.UUID | None = None,
    sort: GroupSort = GroupSort.START,
) -> list[StudyGroup]:
    """An institution's groups narrowed to the states and programme asked, in the order asked (ties by id)."""
    wanted = set(statuses)
    chosen = [
        g
        for g in groups
        if (not wanted or g.status in wanted) and (programme_id is None or g.programme_id == programme_id)
    ]
    chosen.sort(key=lambda g: str(g.id))
    if sort == GroupSort.FREE_PLACES:
        return sorted(chosen, key=lambda g: g.free_places, reverse=True)
    return sorted(chosen, key=lambda g: g.spec.start_date, reverse=sort == GroupSort.START_DESC)
