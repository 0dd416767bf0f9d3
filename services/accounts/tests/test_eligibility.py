"""Which funding projects a learner may apply to, and every reason why not where not: the domain's rules (one source
for the eligibility and for a submission's refusal), and `GET /accounts/me/eligibility` (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from accounts.domain.account import Account, EmploymentStatus, Profile
from accounts.domain.applications import Application, ApplicationState
from accounts.domain.eligibility import eligibility
from accounts.domain.personal_code import parse_personal_code
from accounts.domain.projects import FundingProject, ProjectBudget
from hypothesis import given, settings
from hypothesis import strategies as st
from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import InvalidInput

from .conftest import NOW, Service

S = ApplicationState
GRANT = Decimal("500.00")
OFFICER = ("ilze", "agency_officer")
SEEDED = ["4242", "IMK", "TALAK", "VARAM"]
"""The seed's projects by code (`GET /accounts/me/eligibility` answers them in this order)."""
OPEN = {S.SUBMITTED, S.APPROVED, S.ENROLLED, S.STUDYING}
"""The states of an open application, as the domain document says (written here, not read off the domain)."""


# --- the domain ---------------------------------------------------------------------------------


def _account(birth: date = date(1975, 11, 16), status: EmploymentStatus | None = None) -> Account:
    code = parse_personal_code("161175-19997")
    return Account(uuid.uuid4(), "anna", code, birth, NOW, Profile(employment_status=status))


def _project(**overrides: object) -> FundingProject:
    values: dict[str, object] = {
        "code": "IMK",
        "name": "IMK",
        "budget": Decimal("1000.00"),
        "grant_per_person": GRANT,
        "window_opens_at": NOW - timedelta(days=1),
        "window_closes_at": NOW + timedelta(days=1),
        "enrolment_deadline": date(2027, 3, 31),
    }
    values.update(overrides)
    return FundingProject(**values)  # type: ignore[arg-type]


def _application(state: ApplicationState, project_code: str = "IMK", days_ago: int = 1) -> Application:
    return Application(uuid.uuid4(), uuid.uuid4(), "anna", project_code, state, NOW - timedelta(days=days_ago))


def test_every_failed_rule_is_named_in_order_and_check_eligible_raises_the_first() -> None:
    project = _project(min_age=25, employment_statuses=frozenset({EmploymentStatus.UNEMPLOYED}))
    young = _account(date(2005, 5, 1), EmploymentStatus.EMPLOYED)
    late = NOW + timedelta(days=2)
    failed = project.unmet_rules(young, late, late.date())
    assert [(v.field, v.rule) for v in failed] == [
        ("project_code", "application_window"),
        ("birth_date", "minimum_age"),
        ("employment_status", "project_condition"),
    ]
    with pytest.raises(InvalidInput) as refused:
        project.check_eligible(young, late, late.date())
    assert refused.value.violations == (failed[0],)
    assert failed[0].message == "applications to IMK are accepted from 2026-11-29 10:00 until 2026-12-01 10:00 (UTC)"


def test_the_window_is_told_in_utc_whatever_offset_the_project_was_given() -> None:
    riga = _project(window_opens_at=datetime(2026, 12, 1, 0, 0, tzinfo=RIGA), enrolment_deadline=date(2027, 3, 31))
    (window,) = riga.unmet_rules(_account(), NOW, NOW.date())
    assert "from 2026-11-30 22:00 until" in window.message


def test_an_open_application_and_an_exhausted_budget_are_reasons_too() -> None:
    project = _project()
    submitted = _application(S.SUBMITTED)
    full = ProjectBudget(Decimal("1000.00"), reserved=Decimal("500.00"), spent=Decimal("320.00"))
    seen = eligibility(project, full, _account(), [_application(S.COMPLETED, days_ago=90), submitted], NOW, NOW.date())
    assert not seen.eligible and seen.open_application == submitted
    assert [(v.field, v.rule) for v in seen.reasons] == [
        ("project_code", "open_application"),
        ("project_code", "budget_exhausted"),
    ]
    assert seen.reasons[0].message == "you already have an open application to IMK (submitted)"
    assert seen.reasons[1].message == "the budget of IMK holds no more grants of 500.00 EUR (180.00 EUR left)"
    other = [_application(S.APPROVED, "VARAM"), _application(S.WITHDRAWN), _application(S.LAPSED)]
    free = eligibility(project, ProjectBudget(Decimal("1000.00")), _account(), other, NOW, NOW.date())
    assert free.eligible and free.reasons == () and free.open_application is None


def _birthday(born: date, years: int) -> date:
    """The day `born` is `years` old: its anniversary, 1 March for 29 February in a common year (DOMAIN.md)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


@settings(max_examples=300, deadline=None)
@given(
    opens=st.integers(-2000, 2000),
    hours=st.integers(1, 2000),
    at=st.integers(-3000, 3000),
    min_age=st.integers(18, 70),
    statuses=st.none() | st.frozensets(st.sampled_from(EmploymentStatus)),
    born=st.dates(date(1930, 1, 1), date(2010, 12, 31)),
    status=st.none() | st.sampled_from(EmploymentStatus),
    grants=st.integers(1, 4),
    reserved=st.integers(0, 4),
    applications=st.lists(st.tuples(st.sampled_from(["IMK", "VARAM"]), st.sampled_from(S)), max_size=4),
)
def test_the_reasons_are_the_rules_and_check_eligible_refuses_with_the_first(
    opens: int,
    hours: int,
    at: int,
    min_age: int,
    statuses: frozenset[EmploymentStatus] | None,
    born: date,
    status: EmploymentStatus | None,
    grants: int,
    reserved: int,
    applications: list[tuple[str, ApplicationState]],
) -> None:
    window_opens_at = NOW + timedelta(hours=opens)
    window_closes_at = window_opens_at + timedelta(hours=hours)
    project = _project(
        budget=GRANT * grants + Decimal("123.45"),
        window_opens_at=window_opens_at,
        window_closes_at=window_closes_at,
        enrolment_deadline=window_closes_at.date() + timedelta(days=1),
        min_age=min_age,
        employment_statuses=statuses,
    )
    budget = ProjectBudget(project.budget, reserved=GRANT * min(reserved, grants))
    now = NOW + timedelta(hours=at)
    today = now.astimezone(RIGA).date()
    account = _account(born, status)
    mine = [_application(state, code, days_ago=n) for n, (code, state) in enumerate(applications)]

    failed = project.unmet_rules(account, now, today)
    try:
        project.check_eligible(account, now, today)
    except InvalidInput as refused:
        assert failed and refused.violations == (failed[0],)
    else:
        assert failed == []

    expected = [
        rule
        for rule, fails in [
            ("application_window", not window_opens_at <= now < window_closes_at),
            ("minimum_age", today < _birthday(born, min_age)),
            ("project_condition", statuses is not None and status not in statuses),
            ("open_application", any(a.project_code == "IMK" and a.state in OPEN for a in mine)),
            ("budget_exhausted", budget.available < project.grant_per_person),
        ]
        if fails
    ]
    seen = eligibility(project, budget, account, mine, now, today)
    assert [v.rule for v in seen.reasons] == expected
    assert list(seen.reasons[: len(failed)]) == failed  # the project's rules first, exactly check_eligible's
    assert seen.eligible is (expected == [])
    assert (seen.open_application is not None) is ("open_application" in expected)


# --- GET /accounts/me/eligibility ----------------------------------------------------------------------------


async def _eligibility(service: Service, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    response = await service.client.get("/accounts/me/eligibility", headers=headers)
    assert response.status_code == 200, response.text
    return {item["project_code"]: item for item in response.json()}


def _rules(item: dict[str, object]) -> list[tuple[str, str]]:
    reasons = item["reasons"]
    assert isinstance(reasons, list)
    return [(r["rule"], r["field"]) for r in reasons]


def _message(item: dict[str, object], n: int = 0) -> str:
    reasons = item["reasons"]
    assert isinstance(reasons, list)
    message: str = reasons[n]["message"]
    return message


async def test_a_learner_is_eligible_for_every_seeded_project_by_default(service: Service) -> None:
    anna = await service.learner("anna", 1)
    response = await service.client.get("/accounts/me/eligibility", headers=anna)
    assert response.status_code == 200, response.text
    items = response.json()
    assert [item["project_code"] for item in items] == SEEDED
    imk = (await service.client.get("/funding-projects/IMK")).json()
    assert items[1] == {
        "project_code": "IMK",
        "name": imk["name"],
        "eligible": True,
        "reasons": [],
        "open_application_id": None,
        "grant_per_person": "500.00",
        "window_opens_at": imk["window_opens_at"],
        "window_closes_at": imk["window_closes_at"],
        "enrolment_deadline": imk["enrolment_deadline"],
    }
    assert all(item["eligible"] and item["reasons"] == [] for item in items)
    assert items[2]["grant_per_person"] == "600.00"  # TĀLĀK's


async def test_a_window_not_open_is_the_reason_and_the_refusal_of_a_submission(service: Service) -> None:
    later = (NOW + timedelta(days=5)).isoformat()
    await service.project("LATER", "1000.00", window_opens_at=later)
    anna = await service.learner("anna", 1)
    seen = await _eligibility(service, anna)
    assert _rules(seen["LATER"]) == [("application_window", "project_code")]
    assert not seen["LATER"]["eligible"] and all(seen[code]["eligible"] for code in SEEDED)
    refused = await service.client.post("/applications", json={"project_code": "LATER"}, headers=anna)
    assert (refused.status_code, refused.json()["errors"][0]["rule"]) == (422, "application_window")
    service.clock.at += timedelta(days=6)
    assert (await _eligibility(service, anna))["LATER"]["eligible"]
    service.clock.at += timedelta(days=5000)  # every window closed
    closed = await _eligibility(service, anna)
    assert all(_rules(item) == [("application_window", "project_code")] for item in closed.values())


async def _young(service: Service, subject: str = "young-adult") -> dict[str, str]:
    """A learner born on 1 May 2005 (21 on the tests' day), with a new-form personal code."""
    headers = service.as_(subject)
    opened = await service.client.post(
        "/accounts", json={"personal_code": "328673-00679", "birth_date": "2005-05-01"}, headers=headers
    )
    assert opened.status_code == 201, opened.text
    return headers


async def test_a_learner_under_a_projects_minimum_age(service: Service) -> None:
    await service.project("OVER25", "1000.00", min_age=25)
    young = await _young(service)
    seen = await _eligibility(service, young)
    assert _rules(seen["OVER25"]) == [("minimum_age", "birth_date")]
    assert _message(seen["OVER25"]) == "OVER25 is for learners aged 25 or over"
    assert all(seen[code]["eligible"] for code in SEEDED)  # 18 is old enough


async def test_a_projects_employment_condition(service: Service) -> None:
    await service.project("JOBLESS", "1000.00", employment_statuses=["unemployed"])
    employed = await service.learner("anna", 1, employment_status="employed")
    unstated = await service.learner("janis", 2)
    for headers in (employed, unstated):
        seen = (await _eligibility(service, headers))["JOBLESS"]
        assert _rules(seen) == [("project_condition", "employment_status")]
        assert _message(seen) == "JOBLESS requires one of: unemployed"
    changed = await service.client.patch(
        "/accounts/me/profile", json={"employment_status": "unemployed"}, headers=employed
    )
    assert changed.status_code == 200
    assert (await _eligibility(service, employed))["JOBLESS"]["eligible"]


async def test_an_open_application_is_listed_with_its_id_until_it_closes(service: Service) -> None:
    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    seen = await _eligibility(service, anna)
    assert _rules(seen["IMK"]) == [("open_application", "project_code")]
    assert seen["IMK"]["open_application_id"] == application["id"]
    assert all(seen[code]["eligible"] and seen[code]["open_application_id"] is None for code in SEEDED if code != "IMK")
    approval = await service.client.post(
        f"/agency/applications/{application['id']}/approval", headers=service.as_(*OFFICER)
    )
    assert approval.status_code == 200
    approved = (await _eligibility(service, anna))["IMK"]
    assert approved["open_application_id"] == application["id"]
    assert _message(approved) == "you already have an open application to IMK (approved)"
    again = await service.client.post("/applications", json={"project_code": "IMK"}, headers=anna)
    assert (again.status_code, again.json()["current"]["application_id"]) == (409, application["id"])
    assert again.json()["message"] == "you already have an open application to IMK"
    withdrawn = await service.client.post(f"/applications/{application['id']}/withdrawal", headers=anna)
    assert withdrawn.status_code == 200
    free = (await _eligibility(service, anna))["IMK"]
    assert (free["eligible"], free["reasons"], free["open_application_id"]) == (True, [], None)


async def test_every_reason_at_once_the_first_being_what_a_submission_is_refused_with(service: Service) -> None:
    await service.project("STRICT", "1000.00", min_age=25, employment_statuses=["unemployed"])
    young = await _young(service)
    changed = await service.client.patch("/accounts/me/profile", json={"employment_status": "employed"}, headers=young)
    assert changed.status_code == 200
    seen = await _eligibility(service, young)
    assert _rules(seen["STRICT"]) == [("minimum_age", "birth_date"), ("project_condition", "employment_status")]
    refused = await service.client.post("/applications", json={"project_code": "STRICT"}, headers=young)
    assert refused.status_code == 422
    assert [(e["rule"], e["field"]) for e in refused.json()["errors"]] == [("minimum_age", "birth_date")]
    application = await service.apply(young, "VARAM")
    service.clock.at += timedelta(days=11)  # STRICT's window closed
    later = await _eligibility(service, young)
    assert _rules(later["STRICT"]) == [
        ("application_window", "project_code"),
        ("minimum_age", "birth_date"),
        ("project_condition", "employment_status"),
    ]
    assert _rules(later["VARAM"]) == [("open_application", "project_code")]
    assert later["VARAM"]["open_application_id"] == application["id"]


async def test_an_exhausted_budget_is_a_reason(service: Service) -> None:
    await service.project("SMALL", "500.00")  # one grant
    first = await service.learner("l1", 11)
    second = await service.learner("l2", 12)
    application = await service.apply(first, "SMALL")
    assert (await _eligibility(service, second))["SMALL"]["eligible"]  # nothing is reserved on submission
    approval = await service.client.post(
        f"/agency/applications/{application['id']}/approval", headers=service.as_(*OFFICER)
    )
    assert approval.status_code == 200
    seen = (await _eligibility(service, second))["SMALL"]
    assert _rules(seen) == [("budget_exhausted", "project_code")]
    assert _message(seen) == "the budget of SMALL holds no more grants of 500.00 EUR (0.00 EUR left)"
    own = (await _eligibility(service, first))["SMALL"]
    assert _rules(own) == [("open_application", "project_code"), ("budget_exhausted", "project_code")]
    withdrawn = await service.client.post(f"/applications/{application['id']}/withdrawal", headers=first)
    assert withdrawn.status_code == 200  # the grant is given back to the budget
    assert (await _eligibility(service, second))["SMALL"]["eligible"]


async def test_only_a_learner_with_an_account_has_an_answer(service: Service) -> None:
    no_account = await service.client.get("/accounts/me/eligibility", headers=service.as_("nobody"))
    assert (no_account.status_code, no_account.json()["error"]) == (404, "not_found")
    for role in (OFFICER, ("martins", "agency_admin"), ("liga", "provider_admin"), ("partner-nva", "partner")):
        assert (await service.client.get("/accounts/me/eligibility", headers=service.as_(*role))).status_code == 403
    assert (await service.client.get("/accounts/me/eligibility")).status_code == 401
    await service.learner("anna", 1)
    unknown = await service.client.get("/accounts/me/eligibility?project=IMK", headers=service.as_("anna"))
    assert unknown.status_code == 422  # unknown query parameters are refused, as everywhere
