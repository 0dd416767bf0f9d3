"""The accounts domain without I/O: the application state machine, grants, budgets, eligibility, ranking."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from accounts.domain.account import Account, EducationLevel, EmploymentStatus, Profile
from accounts.domain.applications import (
    TRANSITIONS,
    Application,
    ApplicationState,
    lottery_ticket,
    priority_score,
    ranking_key,
)
from accounts.domain.ledger import EntryKind, Grant
from accounts.domain.personal_code import parse_personal_code
from accounts.domain.projects import FundingProject, ProjectBudget
from prasmes_runtime.errors import Conflict, InvalidInput
from prasmes_runtime.money import money

S = ApplicationState
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _application(state: ApplicationState) -> Application:
    return Application(uuid.uuid4(), uuid.uuid4(), "anna", "IMK", state, NOW)


def _account(birth: date = date(1975, 11, 16), **profile: object) -> Account:
    return Account(uuid.uuid4(), "anna", parse_personal_code("161175-19997"), birth, NOW, Profile(**profile))  # type: ignore[arg-type]


def _project(**overrides: object) -> FundingProject:
    values: dict[str, object] = {
        "code": "IMK",
        "name": "IMK",
        "budget": Decimal("1000.00"),
        "grant_per_person": Decimal("500.00"),
        "window_opens_at": NOW - timedelta(days=1),
        "window_closes_at": NOW + timedelta(days=1),
        "enrolment_deadline": date(2027, 3, 31),
    }
    values.update(overrides)
    return FundingProject(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_allowed_transitions_pass(source: ApplicationState, target: ApplicationState) -> None:
    application = _application(source)
    if target in TRANSITIONS.get(source, frozenset()):
        moved = application.move_to(target, NOW)
        assert moved.state is target and moved.version == application.version + 1
    else:
        with pytest.raises(Conflict) as refused:
            application.move_to(target, NOW)
        assert refused.value.current["state"] == source.value


def test_the_decision_time_is_set_once() -> None:
    approved = _application(S.SUBMITTED).move_to(S.APPROVED, NOW)
    enrolled = approved.move_to(S.ENROLLED, NOW + timedelta(days=3))
    assert approved.decided_at == NOW and enrolled.decided_at == NOW


def test_terminal_states_are_final() -> None:
    for state in (S.REJECTED, S.WITHDRAWN, S.LAPSED, S.COMPLETED, S.DISCONTINUED):
        assert state not in TRANSITIONS


def test_a_grant_spends_the_cost_and_releases_the_remainder() -> None:
    grant, reserve = Grant().reserve(Decimal("500.00"))
    grant, spend = grant.spend(Decimal("320.00"), "completed")
    grant, release = grant.release_all("remainder")
    assert (reserve.kind, spend.kind, release and release.kind) == (
        EntryKind.RESERVE,
        EntryKind.SPEND,
        EntryKind.RELEASE,
    )
    assert (grant.reserved, grant.spent, grant.released, grant.outstanding) == (500, 320, 180, 0)


def test_a_grant_never_spends_more_than_it_holds() -> None:
    grant, _ = Grant().reserve(Decimal("500.00"))
    grant, entry = grant.spend(Decimal("650.00"), "completed")
    assert entry.amount == Decimal("500.00") and grant.outstanding == 0
    assert grant.release_all("remainder") == (grant, None)


def test_the_budget_refuses_what_it_does_not_have() -> None:
    budget = ProjectBudget(Decimal("1000.00")).reserve(Decimal("500.00")).reserve(Decimal("500.00"))
    with pytest.raises(Conflict) as refused:
        budget.reserve(Decimal("0.01"))
    assert refused.value.current["available"] == "0.00"
    assert budget.spend(Decimal("320.00")).release(Decimal("180.00")).available == Decimal("180.00")


def test_money_rounds_half_up_to_cents() -> None:
    assert money("2.005") == Decimal("2.01") and money("1.996") == Decimal("2.00")


def test_eligibility_names_the_rule_that_failed() -> None:
    project = _project(employment_statuses=frozenset({EmploymentStatus.EMPLOYED}))
    cases = [
        (
            project,
            _account(employment_status=EmploymentStatus.EMPLOYED),
            NOW + timedelta(days=2),
            ("project_code", "application_window"),
        ),
        (
            project,
            _account(date(2009, 1, 1), employment_status=EmploymentStatus.EMPLOYED),
            NOW,
            ("birth_date", "minimum_age"),
        ),
        (
            project,
            _account(employment_status=EmploymentStatus.UNEMPLOYED),
            NOW,
            ("employment_status", "project_condition"),
        ),
    ]
    for proj, account, at, expected in cases:
        with pytest.raises(InvalidInput) as refused:
            proj.check_eligible(account, at, at.date())
        violation = refused.value.violations[0]
        assert (violation.field, violation.rule) == expected
    project.check_eligible(_account(employment_status=EmploymentStatus.EMPLOYED), NOW, NOW.date())


def test_eighteen_on_the_day_of_submission_is_old_enough() -> None:
    born = date(2008, 11, 30)
    _project().check_eligible(_account(born), NOW, date(2026, 11, 30))
    with pytest.raises(InvalidInput):
        _project().check_eligible(_account(born), NOW, date(2026, 11, 29))


def test_a_window_must_close_after_it_opens() -> None:
    with pytest.raises(InvalidInput):
        _project(window_closes_at=NOW - timedelta(days=2))


def test_priority_score_follows_the_documented_rules() -> None:
    plain = _account(employment_status=EmploymentStatus.EMPLOYED, education_level=EducationLevel.MASTER)
    assert priority_score(plain, 5.0, 30) == 0
    needy = _account(employment_status=EmploymentStatus.UNEMPLOYED, education_level=EducationLevel.SECONDARY)
    assert priority_score(needy, 2.0, 50) == 3 + 2 + 1 + 1


def test_the_lottery_is_reproducible_from_its_seed() -> None:
    ids = [uuid.uuid4() for _ in range(50)]
    order = sorted(ids, key=lambda i: ranking_key(0, "seed-1", i))
    assert order == sorted(ids, key=lambda i: ranking_key(0, "seed-1", i))
    assert order != sorted(ids, key=lambda i: ranking_key(0, "seed-2", i))
    assert lottery_ticket("seed-1", ids[0]) == lottery_ticket("seed-1", ids[0])
    assert sorted(ids, key=lambda i: ranking_key(1 if i == ids[7] else 0, "s", i))[0] == ids[7]
