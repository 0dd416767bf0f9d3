"""Catalog's copy of a learner's study progress: the state machine that follows accounts' study record and
feeds the completion and dropout rates."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from catalog.domain.groups import (
    COUNTED_AS_STARTED,
    STUDY_TRANSITIONS,
    Enrolment,
    EnrolmentStatus,
    OutcomeCounts,
    StudyStep,
    progress_counts,
)

S = EnrolmentStatus
STARTED_ON = date(2026, 3, 16)
ENDED_ON = date(2026, 5, 29)


def _enrolment(status: EnrolmentStatus = S.ENROLLED, **changes: object) -> Enrolment:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "group_id": uuid.uuid4(),
        "programme_id": uuid.uuid4(),
        "institution_id": uuid.uuid4(),
        "learner_id": "learner-1",
        "status": status,
        "enrolled_at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    } | changes
    return Enrolment(**values)  # type: ignore[arg-type]


def _take(enrolment: Enrolment, step: StudyStep) -> Enrolment | None:
    if step == StudyStep.START:
        return enrolment.start(STARTED_ON)
    if step == StudyStep.DISCONTINUE:
        return enrolment.discontinue(ENDED_ON)
    return enrolment.complete(ENDED_ON, 160, "completed")


ALLOWED = {
    (S.ENROLLED, StudyStep.START): S.STARTED,
    (S.ENROLLED, StudyStep.DISCONTINUE): S.DISCONTINUED,
    (S.ENROLLED, StudyStep.COMPLETE): S.COMPLETED,
    (S.STARTED, StudyStep.START): S.STARTED,
    (S.STARTED, StudyStep.DISCONTINUE): S.DISCONTINUED,
    (S.STARTED, StudyStep.COMPLETE): S.COMPLETED,
    (S.DISCONTINUED, StudyStep.DISCONTINUE): S.DISCONTINUED,
    (S.DISCONTINUED, StudyStep.COMPLETE): S.COMPLETED,
    (S.COMPLETED, StudyStep.DISCONTINUE): S.DISCONTINUED,
    (S.COMPLETED, StudyStep.COMPLETE): S.COMPLETED,
}
IGNORED = {(S.DISCONTINUED, StudyStep.START), (S.COMPLETED, StudyStep.START)}


def test_every_state_and_step_is_either_allowed_or_ignored() -> None:
    every = {(status, step) for status in EnrolmentStatus for step in StudyStep}
    assert set(ALLOWED) | IGNORED == every and not set(ALLOWED) & IGNORED
    table = {(status, step): target for status, steps in STUDY_TRANSITIONS.items() for step, target in steps.items()}
    assert table == ALLOWED


@pytest.mark.parametrize(("status", "step"), sorted(ALLOWED))
def test_an_allowed_step_moves_the_enrolment(status: EnrolmentStatus, step: StudyStep) -> None:
    moved = _take(_enrolment(status), step)
    assert moved is not None and moved.status == ALLOWED[(status, step)]


@pytest.mark.parametrize(("status", "step"), sorted(IGNORED))
def test_a_late_start_never_undoes_a_known_outcome(status: EnrolmentStatus, step: StudyStep) -> None:
    assert _take(_enrolment(status, ended_on=ENDED_ON), step) is None


def test_each_step_records_what_accounts_reports() -> None:
    started = _enrolment().start(STARTED_ON)
    assert started is not None and (started.status, started.started_on, started.ended_on) == (
        S.STARTED,
        STARTED_ON,
        None,
    )
    dropped = started.discontinue(date(2026, 4, 1))
    assert dropped is not None and (dropped.started_on, dropped.ended_on) == (STARTED_ON, date(2026, 4, 1))
    done = started.complete(ENDED_ON, 152, "x" * 300)
    assert done is not None
    assert (done.status, done.ended_on, done.hours_attended, done.result) == (S.COMPLETED, ENDED_ON, 152, "x" * 200)


def test_a_repeated_step_restates_its_date() -> None:
    started = _enrolment(S.STARTED, started_on=STARTED_ON).start(date(2026, 3, 17))
    assert started is not None and started.started_on == date(2026, 3, 17)


def test_progress_reported_before_the_confirmed_enrolment_is_kept() -> None:
    unconfirmed = _enrolment(enrolled_at=None)
    started = unconfirmed.start(STARTED_ON)
    assert started is not None and (started.status, started.enrolled_at) == (S.STARTED, None)


def test_the_rates_count_those_who_started_whatever_happened_next() -> None:
    assert {S.STARTED, S.COMPLETED, S.DISCONTINUED} == COUNTED_AS_STARTED
    learners = [_enrolment() for _ in range(4)]
    paths = [[StudyStep.START, StudyStep.COMPLETE], [StudyStep.START, StudyStep.DISCONTINUE], [StudyStep.START], []]
    now: list[Enrolment] = []
    for enrolment, path in zip(learners, paths, strict=True):
        for step in path:
            moved = _take(enrolment, step)
            assert moved is not None
            enrolment = moved
        now.append(enrolment)
    assert progress_counts(now) == {"enrolled": 1, "started": 1, "discontinued": 1, "completed": 1}
    statuses = [e.status for e in now]
    counts = OutcomeCounts(
        started=sum(s in COUNTED_AS_STARTED for s in statuses),
        completed=statuses.count(S.COMPLETED),
        discontinued=statuses.count(S.DISCONTINUED),
    )
    assert (counts.started, counts.completion_rate, counts.dropout_rate) == (3, Decimal("33.3"), Decimal("33.3"))


def test_every_state_is_named_in_a_groups_progress() -> None:
    assert progress_counts([]) == {"enrolled": 0, "started": 0, "discontinued": 0, "completed": 0}
