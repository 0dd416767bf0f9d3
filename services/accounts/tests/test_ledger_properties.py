"""Property tests of the grant ledger: whatever sequence of decisions and study records happens to a project's
applications, each step either moves one application along an allowed transition, with exactly the money the rule
says, or is refused and changes nothing; and the project's budget always equals what its grants hold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from accounts.domain import events as ev
from accounts.domain import studies
from accounts.domain.applications import TRANSITIONS, Application, ApplicationState
from accounts.domain.ledger import EntryKind, Grant, budget_moves
from accounts.domain.programmes import Programme, StudyGroup
from accounts.domain.projects import ProjectBudget
from accounts.domain.studies import Enrolment
from hypothesis import given, settings
from hypothesis import strategies as st
from prasmes_runtime.errors import Conflict, InvalidInput
from prasmes_runtime.money import money

S = ApplicationState
GRANT = Decimal("500.00")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
"""When decisions and enrolments happen: before the group."""
TODAY = date(2027, 4, 10)
"""The Riga date the study record is kept on: after the group ended."""
INSTITUTION = uuid.uuid4()
GROUP = StudyGroup(
    uuid.uuid4(), uuid.uuid4(), INSTITUTION, 50, date(2027, 1, 11), date(2027, 3, 26), "Rīga", "scheduled"
)
GROUP_DAYS = 75
TARGET = {
    "approve": S.APPROVED,
    "reject": S.REJECTED,
    "withdraw": S.WITHDRAWN,
    "lapse": S.LAPSED,
    "enrol": S.ENROLLED,
    "start": S.STUDYING,
    "complete": S.COMPLETED,
    "discontinue": S.DISCONTINUED,
}
FROM = {
    "approve": {S.SUBMITTED},
    "reject": {S.SUBMITTED},
    "withdraw": {S.SUBMITTED, S.APPROVED},
    "lapse": {S.APPROVED},
    "enrol": {S.APPROVED},
    "start": {S.ENROLLED},
    "complete": {S.STUDYING},
    "discontinue": {S.ENROLLED, S.STUDYING},
}
"""The states each action is allowed from, as the domain document says (written here, not read off the domain)."""
FUNDED = {S.APPROVED, S.ENROLLED, S.STUDYING}
"""States that hold a whole grant, nothing of it spent or released yet."""
CLOSED = {S.REJECTED, S.WITHDRAWN, S.LAPSED, S.COMPLETED, S.DISCONTINUED}
"""Final states: nothing of a grant is left outstanding."""
WEIGHTED = ("approve", "enrol", "start") * 4 + ("complete", "discontinue") * 3 + ("reject", "withdraw", "lapse")
"""Every action, the steps forward more often: so that many applications get as far as a study record."""


def _programme(cost: Decimal) -> Programme:
    return Programme(GROUP.programme_id, INSTITUTION, "RTU", {"lv": "Datu analīze"}, 160, cost)


@dataclass
class Project:
    """One project's budget and its applications (with their enrolments), moved only by the domain's operations,
    and the budget by what each change wrote to the ledger (as the use cases do)."""

    budget: ProjectBudget
    applications: dict[int, Application] = field(default_factory=dict)
    enrolments: dict[int, Enrolment] = field(default_factory=dict)

    def application(self, n: int) -> Application:
        if n not in self.applications:
            self.applications[n] = Application(uuid.uuid4(), uuid.uuid4(), f"l{n}", "IMK", S.SUBMITTED, NOW)
        return self.applications[n]

    def act(self, n: int, action: str, cost: Decimal, day: date) -> Application:
        """One use case: the domain's change, then the budget moved by what it collected; answers the changed
        application with what it collected."""
        application = self.application(n)
        enrolment = self.enrolments.get(n)
        programme = _programme(cost)
        budget = self.budget
        if action == "approve":
            changed = application.approve(GRANT, NOW)
            budget = budget.reserve(GRANT)  # the conditional reservation: Conflict when it does not fit
        elif action == "reject":
            changed = application.reject("other", "no", NOW)
        elif action == "withdraw":
            changed = application.withdraw(NOW)
        elif action == "lapse":
            changed = application.lapse(NOW)
        elif action == "enrol":
            changed, enrolment = studies.enrol(application, GROUP.id, GROUP, programme, NOW)
        elif enrolment is None:  # no enrolment to record on: the application was never enrolled
            raise Conflict("not enrolled", application.current())
        elif action == "start":
            enrolment, changed = studies.start(enrolment, application, GROUP, day, TODAY, NOW)
        elif action == "complete":
            enrolment, changed = studies.complete(enrolment, application, GROUP, programme, day, 100, "ok", TODAY, NOW)
        else:
            enrolment, changed = studies.discontinue(enrolment, application, GROUP, programme, day, None, TODAY, NOW)
        released, spent = budget_moves(changed.entries)
        self.budget = budget.release(released).spend(spent)
        self.applications[n] = replace(changed, events=(), entries=())
        if enrolment is not None:
            self.enrolments[n] = replace(enrolment, events=())
        return changed


def _entries(application: Application, kind: EntryKind) -> Decimal:
    return sum((e.amount for e in application.entries if e.kind is kind), Decimal("0.00"))


def _expected_spend(action: str, before: Enrolment | None, cost: Decimal, day: date) -> Decimal:
    """The rule, written again independently: completion pays the cost, a discontinuation of studies that started
    the cost's share of the group's days up to and including that day; never more than the grant."""
    if action == "complete":
        return min(cost, GRANT)
    assert before is not None
    if before.started_on is None:
        return Decimal("0.00")
    delivered = min(max((day - GROUP.start_date).days + 1, 0), GROUP_DAYS)
    return min(money(cost * delivered / GROUP_DAYS), GRANT)


def _check_step(project: Project, n: int, action: str, cost: Decimal, day: date) -> None:
    before = dict(project.applications)
    before_enrolments = dict(project.enrolments)
    budget_before = project.budget
    state = project.application(n).state
    old = project.applications[n]
    try:
        changed = project.act(n, action, cost, day)
    except (Conflict, InvalidInput) as refused:
        # Refused: allowed only for a wrong state, a full budget or a date that cannot be; and nothing changed.
        if isinstance(refused, Conflict) and state in FROM[action]:
            assert action == "approve" and budget_before.available < GRANT, (action, state, refused.message)
        if isinstance(refused, InvalidInput):
            assert state in FROM[action] and action in ("start", "complete", "discontinue"), refused.message
        assert project.applications == {**before, n: old} and project.enrolments == before_enrolments
        assert project.budget == budget_before
        return
    assert state in FROM[action], (action, state)
    # The one application moved to the action's target, its version once; no other application changed.
    assert changed.state is TARGET[action] and changed.version == old.version + 1
    assert {k: v for k, v in project.applications.items() if k != n} == {k: v for k, v in before.items() if k != n}
    # What the ledger wrote is exactly how the grant moved, and what the events published says the same.
    grant, was = changed.grant, old.grant
    assert _entries(changed, EntryKind.RESERVE) == grant.reserved - was.reserved
    assert _entries(changed, EntryKind.SPEND) == grant.spent - was.spent
    assert _entries(changed, EntryKind.RELEASE) == grant.released - was.released
    published = [
        (type(e), e.amount)
        for e in changed.events
        if isinstance(e, ev.GrantReserved | ev.GrantSpent | ev.GrantReleased)
    ]
    kinds = {EntryKind.RESERVE: ev.GrantReserved, EntryKind.SPEND: ev.GrantSpent, EntryKind.RELEASE: ev.GrantReleased}
    assert published == [(kinds[e.kind], e.amount) for e in changed.entries]
    # Each transition's own money.
    if action == "approve":
        assert grant == Grant(GRANT) and project.budget.reserved == budget_before.reserved + GRANT
    elif action in ("complete", "discontinue"):
        spent = _expected_spend(action, before_enrolments[n], cost, day)
        assert grant == Grant(GRANT, spent, GRANT - spent), (action, day, cost)
    else:
        assert grant.spent == was.spent  # nothing else pays anything
    if action in ("start", "complete", "discontinue"):
        assert project.enrolments[n].state.value == TARGET[action].value


def _check_invariants(project: Project) -> None:
    grants = [a.grant for a in project.applications.values()]
    for application in project.applications.values():
        g = application.grant
        assert g.spent + g.released <= g.reserved and g.reserved in (0, GRANT) and g.outstanding >= 0
        if application.state in FUNDED:
            assert g == Grant(GRANT), application.state
        if application.state in CLOSED:
            assert g.outstanding == 0, application.state
        if application.state is S.SUBMITTED:
            assert g == Grant()
    budget = project.budget
    assert budget.reserved == sum((g.outstanding for g in grants), Decimal("0.00"))
    assert budget.spent == sum((g.spent for g in grants), Decimal("0.00"))
    assert budget.reserved >= 0 and budget.spent >= 0 and budget.available >= 0  # never overspent


@settings(max_examples=300, deadline=None)
@given(
    budget=st.integers(min_value=0, max_value=12).map(lambda n: GRANT * n + Decimal("123.45")),
    steps=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.sampled_from(WEIGHTED),
            st.decimals(min_value=0, max_value=900, places=2),
            st.integers(-20, 90).map(lambda d: GROUP.start_date + timedelta(days=d)),
        ),
        min_size=30,
        max_size=120,
    ),
)
def test_every_step_moves_exactly_the_rules_money_or_changes_nothing(
    budget: Decimal, steps: list[tuple[int, str, Decimal, date]]
) -> None:
    project = Project(ProjectBudget(budget))
    for n, action, cost, day in steps:
        _check_step(project, n, action, cost, day)
        _check_invariants(project)


def test_the_state_machine_is_the_documented_one() -> None:
    derived = {
        action: {s for s, targets in TRANSITIONS.items() if target in targets} for action, target in TARGET.items()
    }
    assert derived == FROM


def test_the_property_sees_every_kind_of_step() -> None:
    """The checks above are not vacuous: a path through every transition passes them, each step changing."""
    project = Project(ProjectBudget(GRANT * 4))
    path = [
        (0, "approve"), (0, "enrol"), (0, "start"), (0, "complete"),
        (1, "approve"), (1, "enrol"), (1, "start"), (1, "discontinue"),
        (2, "approve"), (2, "enrol"), (2, "discontinue"),
        (3, "approve"), (3, "withdraw"), (4, "approve"), (4, "lapse"), (5, "reject"),
    ]  # fmt: skip
    for n, action in path:
        _check_step(project, n, action, Decimal("320.00"), date(2027, 1, 20))
        _check_invariants(project)
        assert project.applications[n].state is TARGET[action]
    assert project.budget == ProjectBudget(GRANT * 4, Decimal("0.00"), Decimal("362.67"))
