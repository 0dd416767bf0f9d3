"""The aggregates without I/O: what each change collects (events, ledger entries), and the rules the use
cases and routes leave to the domain (allocation, grant sums, DigComp before and after, invoicing)."""

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from accounts.domain import events as ev
from accounts.domain.account import (
    Account,
    DigCompAssessment,
    EmploymentStatus,
    Profile,
    assess_digcomp,
    latest_since,
    latest_until,
    open_account,
)
from accounts.domain.applications import (
    BUDGET_EXHAUSTED,
    RANKED_LOWER,
    Application,
    ApplicationState,
    Wish,
    allocate,
    approve_one,
    submit,
)
from accounts.domain.ledger import EntryKind, Grant, LedgerEntry, budget_moves
from accounts.domain.personal_code import parse_personal_code
from accounts.domain.programmes import Programme, StudyGroup, open_for_enrolment
from accounts.domain.projects import AllocationMode, FundingProject, ProjectBudget
from accounts.domain.studies import Enrolment, StudyState, complete, discontinue, enrol, invoice, start, study
from accounts.service.outbox import CONTRACTS, contract_of
from prasmes_contracts import accounts as published
from prasmes_runtime.errors import Conflict, InvalidInput

S = ApplicationState
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
GRANT = Decimal("500.00")
DIGCOMP = (
    "information_and_data_literacy",
    "communication_and_collaboration",
    "digital_content_creation",
    "safety",
    "problem_solving",
)


def _account(learner: str = "anna", employment_status: EmploymentStatus | None = None) -> Account:
    profile = Profile(employment_status=employment_status)
    return Account(uuid.uuid4(), learner, parse_personal_code("161175-19997"), date(1975, 11, 16), NOW, profile)


def _application(state: ApplicationState = S.SUBMITTED, grant: Grant | None = None) -> Application:
    return Application(uuid.uuid4(), uuid.uuid4(), "anna", "IMK", state, NOW, grant=grant or Grant())


def _approved() -> Application:
    return _application(S.APPROVED, Grant(GRANT))


def _project(mode: AllocationMode = AllocationMode.FIRST_COME, **overrides: object) -> FundingProject:
    values: dict[str, object] = {
        "code": "IMK",
        "name": "IMK",
        "budget": Decimal("1500.00"),
        "grant_per_person": GRANT,
        "window_opens_at": NOW - timedelta(days=10),
        "window_closes_at": NOW - timedelta(days=1),
        "enrolment_deadline": date(2027, 3, 31),
        "allocation_mode": mode,
    }
    values.update(overrides)
    return FundingProject(**values)  # type: ignore[arg-type]


def _about(application: Application, at: datetime = NOW) -> dict[str, Any]:
    return {"application_id": application.id, "learner_id": "anna", "project_code": "IMK", "at": at}


def _programme(cost: str = "320.00", published: bool = True) -> Programme:
    return Programme(uuid.uuid4(), uuid.uuid4(), "RTU", {"lv": "Datu analīze"}, 160, Decimal(cost), published)


def _group(programme: Programme, status: str = "scheduled") -> StudyGroup:
    return StudyGroup(
        uuid.uuid4(), programme.id, programme.institution_id, 2, date(2027, 1, 11), date(2027, 3, 26), "Rīga", status
    )


def _enrolment(
    application: Application,
    state: StudyState = StudyState.ENROLLED,
    started_on: date | None = None,
    ended_on: date | None = None,
) -> Enrolment:
    ids = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    return Enrolment(uuid.uuid4(), application.id, "anna", "IMK", *ids, NOW, state, started_on, ended_on)


def _study_about(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "enrolment_id": enrolment.id,
        "application_id": enrolment.application_id,
        "learner_id": "anna",
        "project_code": "IMK",
        "programme_id": enrolment.programme_id,
        "group_id": enrolment.group_id,
        "institution_id": enrolment.institution_id,
    }


# --- what the application collects -----------------------------------------------------------


def test_an_application_read_back_carries_nothing_and_what_it_collects_is_not_its_state() -> None:
    application = _application()
    assert application.events == () and application.entries == ()
    approved = application.approve(GRANT, NOW)
    assert approved == dataclasses.replace(approved, events=(), entries=())


def test_submitting_and_opening_raise_their_event() -> None:
    account = open_account("anna", "161175-19997", None, NOW, NOW.date())
    assert account.events == (ev.AccountOpened(account_id=account.id, learner_id="anna", opened_at=NOW),)
    programme_id = uuid.uuid4()
    application = submit(account, "IMK", NOW, Wish("IMK4-DATA", "datu analīze", programme_id))
    assert (application.learning_need_code, application.learning_need) == ("IMK4-DATA", "datu analīze")
    assert application.events == (
        ev.ApplicationSubmitted(
            application_id=application.id,
            learner_id="anna",
            project_code="IMK",
            at=NOW,
            learning_need_code="IMK4-DATA",
            programme_id=programme_id,
        ),
    )


def test_an_approval_raises_approved_and_reserved_and_writes_the_reservation() -> None:
    application = _application()
    approved = application.approve(GRANT, NOW)
    assert (approved.state, approved.decided_at, approved.grant.reserved) == (S.APPROVED, NOW, GRANT)
    assert approved.events == (
        ev.ApplicationApproved(**_about(application), grant_amount=GRANT),
        ev.GrantReserved(**_about(application), amount=GRANT),
    )
    assert approved.entries == (LedgerEntry(EntryKind.RESERVE, GRANT, "approved"),)


def test_an_officer_approves_one_by_one_only_where_the_project_grants_first_come() -> None:
    application = _application()
    approved = approve_one(application, _project(), NOW)
    assert approved.events == application.approve(GRANT, NOW).events
    with pytest.raises(Conflict) as refused:
        approve_one(application, _project(AllocationMode.WINDOW_THEN_RANK), NOW)
    assert refused.value.current == {**application.current(), "allocation_mode": "window_then_rank"}


def test_a_rejection_publishes_the_code_and_keeps_the_words_for_the_learner() -> None:
    application = _application()
    rejected = application.reject("incomplete", "Lūdzu, norādiet mācību vajadzību.", NOW)
    assert (rejected.state, rejected.reason, rejected.reason_code) == (
        S.REJECTED,
        "Lūdzu, norādiet mācību vajadzību.",
        "incomplete",
    )
    assert rejected.events == (ev.ApplicationRejected(**_about(application), reason_code="incomplete"),)
    assert rejected.entries == ()


def test_withdrawing_before_a_decision_releases_nothing() -> None:
    application = _application()
    assert application.withdraw(NOW).events == (ev.ApplicationWithdrawn(**_about(application)),)


def test_giving_a_grant_back_releases_it_before_the_withdrawal() -> None:
    application = _approved()
    withdrawn = application.withdraw(NOW)
    assert withdrawn.grant == Grant(GRANT, released=GRANT)
    assert withdrawn.events == (
        ev.GrantReleased(**_about(application), amount=GRANT, cause="withdrawn"),
        ev.ApplicationWithdrawn(**_about(application)),
    )
    assert withdrawn.entries == (LedgerEntry(EntryKind.RELEASE, GRANT, "withdrawn"),)
    assert budget_moves(withdrawn.entries) == (GRANT, 0)


def test_a_lapse_releases_the_grant() -> None:
    application = _approved()
    lapsed = application.lapse(NOW)
    assert lapsed.state is S.LAPSED
    assert lapsed.events == (
        ev.GrantReleased(**_about(application), amount=GRANT, cause="lapsed"),
        ev.ApplicationLapsed(**_about(application)),
    )


def test_spending_nothing_raises_nothing() -> None:
    spent_out = _application(S.STUDYING, Grant(GRANT, spent=GRANT))
    assert spent_out.spend(Decimal("320.00"), "completed", NOW, uuid.uuid4(), uuid.uuid4()) is spent_out
    assert spent_out.release_rest("remainder", NOW) is spent_out


# --- the window's allocation -----------------------------------------------------------------


def test_an_allocation_approves_in_rank_order_while_the_budget_lasts_with_the_same_builders() -> None:
    project = _project(AllocationMode.WINDOW_THEN_RANK)
    employed = [(_application(), _account(f"e{n}", employment_status=EmploymentStatus.EMPLOYED)) for n in range(3)]
    unemployed = (_application(), _account("u", employment_status=EmploymentStatus.UNEMPLOYED))
    allocation = allocate(project, ProjectBudget(Decimal("1000.00")), [*employed, unemployed], {}, "seed", NOW)
    assert allocation.approved[0].id == unemployed[0].id  # the priority score first
    assert (len(allocation.approved), len(allocation.rejected), allocation.reserved) == (2, 2, Decimal("1000.00"))
    assert (allocation.project.allocated_at, allocation.seed) == (NOW, "seed")
    for approved in allocation.approved:  # what a single approval raises, built in the same place
        assert approved.events == (
            ev.ApplicationApproved(**_about(approved), grant_amount=GRANT),
            ev.GrantReserved(**_about(approved), amount=GRANT),
        )
        assert approved.entries == (LedgerEntry(EntryKind.RESERVE, GRANT, "approved"),)
    for rejected in allocation.rejected:
        assert (rejected.reason_code, rejected.reason) == (BUDGET_EXHAUSTED, RANKED_LOWER)
        assert rejected.events == (ev.ApplicationRejected(**_about(rejected), reason_code=BUDGET_EXHAUSTED),)
    events = [e for a in allocation.decided for e in a.events]
    assert [type(e) for e in events] == [ev.ApplicationApproved, ev.GrantReserved] * 2 + [ev.ApplicationRejected] * 2


def test_an_allocation_counts_the_digcomp_self_assessment() -> None:
    project = _project(AllocationMode.WINDOW_THEN_RANK, budget=GRANT)
    low, high = _account("low"), _account("high")
    applicants = [(_application(), low), (_application(), high)]
    digcomp = {low.id: DigCompAssessment(dict.fromkeys(DIGCOMP, 2), NOW), high.id: _levels(5)}
    for seed in ("a", "b", "c", "d"):  # whatever the lottery, the lower self-assessment ranks first
        (approved,) = allocate(project, ProjectBudget(GRANT), applicants, digcomp, seed, NOW).approved
        assert approved.id == applicants[0][0].id


def _levels(level: int, at: datetime = NOW) -> DigCompAssessment:
    return DigCompAssessment(dict.fromkeys(DIGCOMP, level), at)


def test_only_a_closed_window_ranking_project_is_allocated_once() -> None:
    cases = [
        (_project(), "first come"),
        (_project(AllocationMode.WINDOW_THEN_RANK, window_closes_at=NOW + timedelta(days=1)), "still open"),
        (_project(AllocationMode.WINDOW_THEN_RANK, allocated_at=NOW), "already allocated"),
    ]
    for project, why in cases:
        with pytest.raises(Conflict) as refused:
            allocate(project, ProjectBudget(GRANT), [], {}, "seed", NOW)
        assert refused.value.current["code"] == "IMK", why
    assert allocate(_project(AllocationMode.WINDOW_THEN_RANK), ProjectBudget(GRANT), [], {}, "s", NOW).decided == ()


# --- budgets and grants ----------------------------------------------------------------------


def test_a_budget_holds_whole_grants_and_never_shrinks_below_what_is_taken() -> None:
    budget = ProjectBudget(Decimal("1400.00"), reserved=Decimal("500.00"))
    assert budget.grants_of(GRANT) == 1
    assert budget.resized(Decimal("500.00")).available == 0
    with pytest.raises(Conflict) as refused:
        budget.resized(Decimal("499.99"))
    assert refused.value.current["reserved"] == "500.00"


def test_a_learners_grant_sums_every_application() -> None:
    grants = [Grant(GRANT, Decimal("320.00"), Decimal("180.00")), Grant(GRANT), Grant()]
    total = Grant.total(grants)
    assert (total.reserved, total.spent, total.released, total.outstanding) == (1000, 320, 180, 500)
    assert str(Grant.total([]).outstanding) == "0.00"


def test_budget_moves_count_releases_and_spending_not_reservations() -> None:
    entries = [
        LedgerEntry(EntryKind.RESERVE, GRANT, "approved"),
        LedgerEntry(EntryKind.SPEND, Decimal("320.00"), "completed"),
        LedgerEntry(EntryKind.RELEASE, Decimal("180.00"), "remainder"),
    ]
    assert budget_moves(entries) == (Decimal("180.00"), Decimal("320.00"))


# --- enrolment and the study record ----------------------------------------------------------


def test_enrolment_takes_a_scheduled_group_of_a_published_programme() -> None:
    application, programme = _approved(), _programme()
    group = _group(programme)
    enrolled, enrolment = enrol(application, group.id, group, programme, NOW)
    assert (enrolled.state, enrolment.group_id, enrolment.programme_id) == (S.ENROLLED, group.id, programme.id)
    assert enrolled.events == ()
    assert enrolment.events == (ev.EnrolmentConfirmed(**_study_about(enrolment), at=NOW),)
    for bad_group, bad_programme, rule in [
        (None, None, "scheduled_group"),
        (_group(programme, "cancelled"), programme, "scheduled_group"),
        (group, None, "published_programme"),
        (group, _programme(published=False), "published_programme"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            open_for_enrolment(group.id, bad_group, bad_programme)
        assert refused.value.violations[0].rule == rule
    with pytest.raises(Conflict):  # the application's state is checked before the group
        enrol(_application(), group.id, None, None, NOW)
    assert group.current() == {"group_id": str(group.id), "capacity": 2, "taken": 0}


GROUP = StudyGroup(
    uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 2, date(2027, 1, 11), date(2027, 3, 26), "Rīga", "scheduled"
)
"""The group of `_enrolment`'s studies: 75 days, 11 January to 26 March 2027."""
LATER = date(2027, 4, 10)
"""Today, for a study record: after the group ended."""


def test_starting_raises_studies_started() -> None:
    application = _application(S.ENROLLED, Grant(GRANT))
    enrolment, studying = start(_enrolment(application), application, GROUP, date(2027, 1, 11), LATER, NOW)
    assert studying.state is S.STUDYING and studying.events == ()
    assert enrolment.events == (ev.StudiesStarted(**_study_about(enrolment), started_on=date(2027, 1, 11)),)


def test_completion_pays_the_cost_releases_the_remainder_then_records_the_completion() -> None:
    application = _application(S.STUDYING, Grant(GRANT))
    enrolment = _enrolment(application, StudyState.STUDYING, started_on=date(2027, 1, 11))
    done, completed = complete(
        enrolment, application, GROUP, _programme(), date(2027, 3, 26), 150, "passed", LATER, NOW
    )
    assert completed.grant == Grant(GRANT, Decimal("320.00"), Decimal("180.00"))
    assert completed.events == (
        ev.GrantSpent(
            **_about(application),
            amount=Decimal("320.00"),
            programme_id=enrolment.programme_id,
            institution_id=enrolment.institution_id,
        ),
        ev.GrantReleased(**_about(application), amount=Decimal("180.00"), cause="remainder"),
    )
    assert [(e.kind, e.cause) for e in completed.entries] == [
        (EntryKind.SPEND, "completed"),
        (EntryKind.RELEASE, "remainder"),
    ]
    assert done.events == (
        ev.StudiesCompleted(**_study_about(done), completed_on=date(2027, 3, 26), hours_attended=150, result="passed"),
    )


def test_a_discontinuation_before_the_start_releases_the_whole_grant() -> None:
    application = _application(S.ENROLLED, Grant(GRANT))
    stopped, discontinued = discontinue(
        _enrolment(application), application, GROUP, _programme(), date(2026, 12, 20), "time", LATER, NOW
    )
    assert discontinued.grant == Grant(GRANT, released=GRANT)
    assert discontinued.events == (ev.GrantReleased(**_about(application), amount=GRANT, cause="discontinued"),)
    assert stopped.events == (
        ev.StudiesDiscontinued(**_study_about(stopped), discontinued_on=date(2026, 12, 20), reason_code="time"),
    )


@pytest.mark.parametrize(
    ("on", "spent"),
    [
        (date(2027, 1, 10), "0.00"),  # started in the week before the group: nothing delivered yet
        (date(2027, 1, 11), "4.27"),  # the first of 75 days: 320.00 / 75
        (date(2027, 1, 20), "42.67"),  # 10 days
        (date(2027, 3, 25), "315.73"),  # 74 days
        (date(2027, 3, 26), "320.00"),  # every day: the whole cost
    ],
)
def test_a_discontinuation_pays_the_share_of_the_groups_days_delivered(on: date, spent: str) -> None:
    application = _application(S.STUDYING, Grant(GRANT))
    enrolment = _enrolment(application, StudyState.STUDYING, started_on=date(2027, 1, 4))
    _, discontinued = discontinue(enrolment, application, GROUP, _programme(), on, None, LATER, NOW)
    assert discontinued.grant == Grant(GRANT, Decimal(spent), GRANT - Decimal(spent))
    assert [(e.kind, e.cause, str(e.amount)) for e in discontinued.entries] == [
        *([(EntryKind.SPEND, "discontinued", spent)] if spent != "0.00" else []),
        (EntryKind.RELEASE, "discontinued", str(GRANT - Decimal(spent))),
    ]


def test_the_cost_is_paid_at_most_from_the_grant() -> None:
    application = _application(S.STUDYING, Grant(GRANT))
    enrolment = _enrolment(application, StudyState.STUDYING, started_on=date(2027, 1, 11))
    _, completed = complete(
        enrolment, application, GROUP, _programme("650.00"), date(2027, 3, 26), 150, "passed", LATER, NOW
    )
    assert completed.grant == Grant(GRANT, GRANT)
    _, stopped = discontinue(enrolment, application, GROUP, _programme("1500.00"), date(2027, 3, 1), None, LATER, NOW)
    assert stopped.grant == Grant(GRANT, GRANT)  # 50 of 75 days of 1500.00 is 1000.00: the grant pays 500.00


def test_the_invoice_asks_for_what_the_ended_studies_spent_once() -> None:
    application = _application(S.STUDYING, Grant(GRANT))
    studying = _enrolment(application, StudyState.STUDYING, started_on=date(2027, 1, 11))
    with pytest.raises(Conflict) as too_early:
        invoice(studying, application, NOW)
    assert too_early.value.current == {"enrolment_id": str(studying.id), "state": "studying"}
    done, completed = complete(studying, application, GROUP, _programme(), date(2027, 3, 26), 150, "passed", LATER, NOW)
    invoiced = invoice(done, completed, NOW)
    assert (invoiced.invoiced_amount, invoiced.invoiced_at, invoiced.events) == (Decimal("320.00"), NOW, done.events)
    with pytest.raises(Conflict) as again:
        invoice(invoiced, completed, NOW + timedelta(days=1))
    assert again.value.current == {
        "enrolment_id": str(studying.id),
        "state": "completed",
        "paid": "320.00",
        "paid_at": NOW.isoformat(),
    }
    stopped, released = discontinue(
        _enrolment(application),
        _application(S.ENROLLED, Grant(GRANT)),
        GROUP,
        _programme(),
        date(2027, 2, 1),
        None,
        LATER,
        NOW,
    )
    with pytest.raises(Conflict) as nothing:
        invoice(stopped, released, NOW)
    assert nothing.value.current == {"enrolment_id": str(stopped.id), "state": "discontinued", "due": "0.00"}


def test_a_study_records_date_lies_within_the_group_and_never_ahead() -> None:
    application = _application(S.ENROLLED, Grant(GRANT))
    enrolled = _enrolment(application)
    cases = [
        (date(2027, 1, 3), LATER, ("started_on", "not_before_group_start")),
        (date(2027, 3, 27), LATER, ("started_on", "not_after_group_end")),
        (date(2027, 1, 12), date(2027, 1, 11), ("started_on", "not_in_future")),
    ]
    for on, today, expected in cases:
        with pytest.raises(InvalidInput) as refused:
            start(enrolled, application, GROUP, on, today, NOW)
        (violation,) = refused.value.violations
        assert (violation.field, violation.rule) == expected, on
    earliest, _ = start(enrolled, application, GROUP, date(2027, 1, 4), date(2027, 1, 4), NOW)
    assert earliest.started_on == date(2027, 1, 4)


def test_the_learning_history_shows_digcomp_before_the_start_and_after_the_end() -> None:
    application = _approved()
    enrolment = _enrolment(application, StudyState.COMPLETED, started_on=date(2027, 1, 11), ended_on=date(2027, 3, 26))
    assessments = [
        _levels(1, datetime(2026, 12, 1, tzinfo=UTC)),
        _levels(2, datetime(2027, 1, 11, tzinfo=UTC)),
        _levels(3, datetime(2027, 2, 1, tzinfo=UTC)),
        _levels(4, datetime(2027, 3, 26, tzinfo=UTC)),
        _levels(5, datetime(2027, 4, 1, tzinfo=UTC)),
    ]
    record = study(enrolment, _programme(), assessments)
    assert (record.programme_title, record.institution_name) == ({"lv": "Datu analīze"}, "RTU")
    assert record.digcomp_before and record.digcomp_before.average == 2.0
    assert record.digcomp_after and record.digcomp_after.average == 5.0
    going_on = study(_enrolment(application, StudyState.STUDYING, started_on=date(2027, 1, 11)), None, assessments)
    assert (going_on.digcomp_after, going_on.programme_title, going_on.institution_name) == (None, {}, None)
    not_started = study(_enrolment(application), None, assessments)  # before the start: up to the enrolment
    assert not_started.digcomp_before is None


def test_a_self_assessment_is_dated_by_its_day_in_riga() -> None:
    """23:30 UTC on 10 January is 01:30 on 11 January in Riga: made on the first day of studies starting then."""
    late = _levels(3, datetime(2027, 1, 10, 23, 30, tzinfo=UTC))
    assert late.assessed_on == date(2027, 1, 11)
    assert latest_until([late], date(2027, 1, 11)) is late and latest_until([late], date(2027, 1, 10)) is None
    assert latest_since([late], date(2027, 1, 11)) is late and latest_since([late], date(2027, 1, 12)) is None


def test_a_self_assessment_is_published_with_the_mean_of_its_areas() -> None:
    levels = dict(zip(DIGCOMP, (3, 4, 4, 5, 5), strict=True))
    at = datetime(2026, 11, 30, 22, 15, tzinfo=UTC)  # 00:15 on 1 December in Riga
    assessment = assess_digcomp("anna", levels, at)
    (assessed,) = assessment.events
    assert contract_of(assessed) == published.DigCompAssessed(
        learner_id="anna", level=Decimal("4.2"), levels=levels, assessed_on=date(2026, 12, 1), at=at
    )
    assert contract_of(assessed).model_dump(mode="json")["level"] == "4.2"
    assert _levels(8).level == Decimal("8.0") and assess_digcomp("anna", {**levels, "safety": 1}, at).level == Decimal(
        "3.4"
    )
    assert DigCompAssessment(levels, at).events == ()  # one read back from the database publishes nothing


# --- what is shown of an account -------------------------------------------------------------


def test_the_personal_code_is_shown_masked_and_the_name_as_far_as_given() -> None:
    assert parse_personal_code("161175-19997").masked == "16****-*****"
    assert (Profile("Anna", "Bērziņa").full_name, Profile(last_name="Bērziņa").full_name, Profile().full_name) == (
        "Anna Bērziņa",
        "Bērziņa",
        None,
    )


# --- the events as published -----------------------------------------------------------------


def test_every_domain_event_is_published_as_the_contract_with_the_same_fields() -> None:
    concrete = {
        cls
        for cls in vars(ev).values()
        if isinstance(cls, type) and issubclass(cls, ev.DomainEvent) and not cls.__subclasses__()
    }
    assert len(concrete) == 14 and set(CONTRACTS) == concrete
    for raised, contract in CONTRACTS.items():
        assert contract.event_name == raised.__name__
        assert {f.name for f in dataclasses.fields(raised)} == set(contract.model_fields), raised


def test_a_submission_is_published_as_version_2_with_the_code_and_without_the_learners_words() -> None:
    account = open_account("anna", "161175-19997", None, NOW, NOW.date())
    (submitted,) = submit(account, "IMK", NOW, Wish("IMK4-DATA", "datu analīze")).events
    contract = contract_of(submitted)
    assert isinstance(contract, published.ApplicationSubmittedV2)
    assert contract.event_type() == "lv.prasmes.accounts.ApplicationSubmitted.v2"
    assert contract.model_dump(mode="json")["learning_need_code"] == "IMK4-DATA"
    assert "datu analīze" not in contract.model_dump_json()


def test_a_collected_event_is_published_with_the_contents_built_before() -> None:
    application = _application()
    approved, reserved = application.approve(GRANT, NOW).events
    assert contract_of(approved) == published.ApplicationApproved(**_about(application), grant_amount=GRANT)
    assert contract_of(reserved) == published.GrantReserved(**_about(application), amount=GRANT)
