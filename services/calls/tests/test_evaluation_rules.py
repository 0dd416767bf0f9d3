"""The evaluation's rules, pure: clarification due dates in Latvian working days, answering once and on time,
completeness, four eyes, the outcome a decision may have, the criteria a finding may name, the phase gates and
the agreement's dates."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
from calls.domain.agreements import check_dates
from calls.domain.evaluations import (
    Clarification,
    Evaluation,
    Finding,
    FindingResult,
    Reason,
    check_decision,
    check_findings,
    clarification_due,
    criteria_of,
    require_phase,
)
from prasmes_runtime.errors import Conflict, Forbidden, InvalidInput
from prasmes_runtime.workdays import add_working_days, is_working_day

from .conftest import riga
from .test_domain import _call

CALL = _call()
CRITERIA = criteria_of(CALL)
AT = riga(2025, 10, 20, 10, 0)


def _evaluation(results: dict[str, FindingResult], evaluator: str = "ilze") -> Evaluation:
    findings = {c: Finding(c, r, "", AT) for c, r in results.items()}
    return Evaluation(uuid.uuid4(), evaluator, AT, findings)


def _all(result: FindingResult) -> dict[str, FindingResult]:
    return dict.fromkeys(CRITERIA, result)


def _violations(error: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[str, str]]:
    return {(v.field, v.rule) for v in error.value.violations}


# --------------------------------------------------------------------------- working days


def test_the_criteria_are_the_calls_institution_then_programme_criteria() -> None:
    assert CRITERIA == ("I1", "I2", "I3", "I4", "P1", "P2", "P3", "P4", "P5", "P6")


def test_a_clarification_asked_before_the_november_holidays_is_due_after_them() -> None:
    # Fri 14 Nov 2025; Mon 17 Nov is a transferred day off, Tue 18 Nov the Proclamation Day.
    asked = riga(2025, 11, 14, 15, 0)
    assert clarification_due(asked, 3) == date(2025, 11, 21)
    assert clarification_due(asked, 5) == date(2025, 11, 25)


def test_a_weekend_and_a_moved_holiday_do_not_count() -> None:
    # Fri 3 May 2024; 4 May fell on a Saturday and moved to Monday 6 May.
    assert clarification_due(riga(2024, 5, 3, 9, 0), 1) == date(2024, 5, 7)
    assert clarification_due(riga(2024, 5, 3, 9, 0), 5) == date(2024, 5, 13)


def test_the_day_asked_is_the_riga_day_and_never_counts() -> None:
    late_thursday_utc = datetime.fromisoformat("2025-10-16T22:30:00+00:00")  # Friday 01:30 in Riga
    assert clarification_due(late_thursday_utc, 1) == date(2025, 10, 20)
    assert is_working_day(date(2025, 11, 8))  # the Saturday worked for 17 November
    assert add_working_days(date(2025, 11, 7), 1) == date(2025, 11, 8)
    with pytest.raises(ValueError):
        add_working_days(date(2025, 11, 7), 0)


def test_a_clarification_is_answered_once_and_through_its_due_day() -> None:
    asked = Clarification(uuid.uuid4(), uuid.uuid4(), ("I4",), "?", riga(2025, 11, 14, 15), date(2025, 11, 21))
    asked.require_answerable(riga(2025, 11, 21, 23, 59, 59))
    with pytest.raises(Conflict) as late:
        asked.require_answerable(riga(2025, 11, 22, 0, 0))
    assert late.value.current["due_on"] == "2025-11-21"
    answered = Clarification(**vars(asked) | {"answer": "jā", "answered_at": riga(2025, 11, 17)})
    with pytest.raises(Conflict) as twice:
        answered.require_answerable(riga(2025, 11, 18))
    assert twice.value.current["answered_at"] is not None


# --------------------------------------------------------------------------- findings and completeness


def test_a_finding_names_a_criterion_of_the_call_once() -> None:
    check_findings(CRITERIA, [("I1", "meets"), ("P6", "does_not_meet")])
    with pytest.raises(InvalidInput) as error:
        check_findings(CRITERIA, [("I1", "meets"), ("X9", "meets"), ("I1", "meets")])
    assert _violations(error) == {("findings[1].criterion", "known_criterion"), ("findings[2].criterion", "unique")}


def test_complete_when_every_criterion_has_a_conclusive_finding() -> None:
    partial = _evaluation({"I1": "meets", "I2": "needs_clarification"})
    assert partial.missing(CRITERIA) == ["I2", "I3", "I4", "P1", "P2", "P3", "P4", "P5", "P6"]
    assert not partial.complete(CRITERIA)
    assert _evaluation(_all("meets") | {"P2": "does_not_meet"}).complete(CRITERIA)
    assert not _evaluation(_all("meets") | {"P2": "needs_clarification"}).complete(CRITERIA)


def test_only_the_assigned_evaluator_records_findings() -> None:
    _evaluation({}).require_evaluator("ilze")
    with pytest.raises(Forbidden):
        _evaluation({}).require_evaluator("martins")


# --------------------------------------------------------------------------- the decision


def test_four_eyes_the_evaluator_does_not_decide() -> None:
    with pytest.raises(Forbidden):
        check_decision(_evaluation(_all("meets"), "martins"), CRITERIA, "approved", [], "martins", "under_evaluation")
    check_decision(_evaluation(_all("meets"), "ilze"), CRITERIA, "approved", [], "martins", "under_evaluation")


def test_an_incomplete_evaluation_is_not_decided() -> None:
    with pytest.raises(Conflict) as error:
        check_decision(_evaluation({"I1": "meets"}), CRITERIA, "rejected", [], "martins", "under_evaluation")
    assert error.value.current["missing"][0] == "I2" and error.value.current["state"] == "under_evaluation"
    with pytest.raises(Conflict):
        check_decision(None, CRITERIA, "approved", [], "martins", "submitted")


def test_an_approval_needs_every_criterion_met_and_a_rejection_its_reasons() -> None:
    unmet = _evaluation(_all("meets") | {"I4": "does_not_meet"})
    with pytest.raises(InvalidInput) as approval:
        check_decision(unmet, CRITERIA, "approved", [], "martins", "under_evaluation")
    assert _violations(approval) == {("outcome", "criteria_met")}
    with pytest.raises(InvalidInput) as bare:
        check_decision(unmet, CRITERIA, "rejected", [], "martins", "under_evaluation")
    assert _violations(bare) == {("reasons", "required")}
    with pytest.raises(InvalidInput) as unknown:
        check_decision(unmet, CRITERIA, "rejected", [Reason("Z1", "x", "y")], "martins", "under_evaluation")
    assert _violations(unknown) == {("reasons[0]", "known_criterion")}
    check_decision(unmet, CRITERIA, "rejected", [Reason("I4", "no_history", "…")], "martins", "under_evaluation")


def test_decisions_and_agreements_wait_for_their_phase() -> None:
    with pytest.raises(Conflict) as early:
        require_phase(CALL, riga(2025, 11, 9, 23, 59), "decision", "decide an offer")
    assert early.value.current == {"call_id": str(CALL.id), "phase": "evaluation", "from_phase": "decision"}
    require_phase(CALL, riga(2025, 11, 10, 0, 0), "agreements", "make an agreement")  # the same day as the decision
    with pytest.raises(Conflict):
        require_phase(CALL, riga(2025, 10, 10, 23, 59, 59), "evaluation", "assign an evaluator")


def test_an_agreement_runs_from_the_agreements_day_through_the_delivery() -> None:
    check_dates(CALL, date(2025, 11, 10), date(2026, 4, 30))
    with pytest.raises(InvalidInput) as error:
        check_dates(CALL, date(2025, 11, 9), date(2025, 11, 1))
    assert _violations(error) == {("valid_from", "order"), ("valid_until", "order")}
    with pytest.raises(InvalidInput) as short:
        check_dates(CALL, date(2025, 11, 10), date(2026, 1, 31))
    assert _violations(short) == {("valid_until", "order")}
