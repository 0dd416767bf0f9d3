"""The accounts domain without I/O: the application state machine, grants, budgets, eligibility, ranking."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from accounts.domain import events as ev
from accounts.domain.account import (
    DIGCOMP_AREAS,
    Account,
    EducationLevel,
    EmploymentStatus,
    Profile,
    check_digcomp_levels,
)
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
    """A recorded seed gives the recorded order: the ticket is SHA-256 of "seed:application id", as documented."""
    ids = [uuid.UUID(int=n) for n in range(1, 6)]
    assert lottery_ticket("seed-1", ids[0]) == "e8ca32872d025b697b2f13e02e2acac7ec0735079dfd262431337ad1bebe813f"
    assert [ids.index(i) for i in sorted(ids, key=lambda i: ranking_key(0, "seed-1", i))] == [3, 2, 1, 4, 0]
    assert [ids.index(i) for i in sorted(ids, key=lambda i: ranking_key(0, "seed-2", i))] == [1, 3, 0, 2, 4]
    assert sorted(ids, key=lambda i: ranking_key(1 if i == ids[4] else 0, "seed-1", i))[0] == ids[4]  # score first


# --- projects that cannot be, and money with two decimals --------------------------------------


def _refusal(**overrides: object) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as refused:
        _project(**overrides)
    (violation,) = refused.value.violations
    return violation.field, violation.rule


def test_a_project_that_cannot_be_names_the_field_and_the_rule() -> None:
    assert _refusal(budget=Decimal("499.99")) == ("budget", "at_least_one_grant")
    assert _refusal(budget=Decimal("-1.00")) == ("budget", "at_least_one_grant")
    assert _refusal(grant_per_person=Decimal("0.00")) == ("grant_per_person", "positive")
    assert _refusal(enrolment_deadline=(NOW - timedelta(days=2)).date()) == (
        "enrolment_deadline",
        "not_before_window_closes",
    )
    assert _refusal(window_closes_at=NOW - timedelta(days=2)) == ("window_closes_at", "after_window_opens")
    assert _project(budget=Decimal("500.00")).budget == Decimal("500.00")  # one grant is enough


def test_the_deadline_is_compared_with_the_day_the_window_closes_in_riga() -> None:
    closes = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 2 December, 00:30 in Riga
    assert _refusal(window_closes_at=closes, enrolment_deadline=date(2026, 12, 1)) == (
        "enrolment_deadline",
        "not_before_window_closes",
    )
    assert _project(window_closes_at=closes, enrolment_deadline=date(2026, 12, 2)).enrolment_deadline.day == 2


def test_a_projects_money_has_two_decimals_and_so_has_what_it_raises() -> None:
    project = _project(budget=Decimal("1000"), grant_per_person=Decimal("500"))
    assert (str(project.budget), str(project.grant_per_person)) == ("1000.00", "500.00")
    approved, reserved = _application(S.SUBMITTED).approve(project.grant_per_person, NOW).events
    assert isinstance(approved, ev.ApplicationApproved) and isinstance(reserved, ev.GrantReserved)
    assert (str(approved.grant_amount), str(reserved.amount)) == ("500.00", "500.00")
    assert ProjectBudget(Decimal("1000")).as_dict()["budget"] == "1000.00"


# --- one clear message per mistake -------------------------------------------------------------


def test_a_refused_transition_says_what_the_application_may_become() -> None:
    with pytest.raises(Conflict) as refused:
        _application(S.APPROVED).move_to(S.APPROVED, NOW)
    assert refused.value.message == (
        "an application that is approved cannot become approved; it can become enrolled, lapsed or withdrawn"
    )
    with pytest.raises(Conflict) as final:
        _application(S.COMPLETED).move_to(S.STUDYING, NOW)
    assert final.value.message == "an application that is completed cannot become studying; completed is final"


def test_digcomp_levels_are_named_as_the_request_names_them() -> None:
    levels = dict.fromkeys(DIGCOMP_AREAS, 3)
    cases = [
        ({"safety": 3}, ("levels", "areas"), "missing: information_and_data_literacy"),
        ({**levels, "typing": 3}, ("levels", "areas"), "unknown: typing"),
        ({**levels, "safety": 9}, ("levels.safety", "range_1_8"), "between 1 and 8"),
    ]
    for given, expected, words in cases:
        with pytest.raises(InvalidInput) as refused:
            check_digcomp_levels(given)
        (violation,) = refused.value.violations
        assert ((violation.field, violation.rule), words in violation.message) == (expected, True), violation
