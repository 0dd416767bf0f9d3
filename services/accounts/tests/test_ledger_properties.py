"""Property tests: whatever happens to applications, no budget is overspent and no grant goes negative."""

from dataclasses import dataclass, field
from decimal import Decimal

from accounts.domain.applications import TRANSITIONS, ApplicationState
from accounts.domain.ledger import Grant
from accounts.domain.projects import ProjectBudget
from hypothesis import given, settings
from hypothesis import strategies as st
from prasmes_runtime.errors import Conflict

S = ApplicationState
GRANT = Decimal("500.00")
ACTIONS = ("approve", "reject", "withdraw", "enrol", "start", "complete", "discontinue", "lapse")
TARGET = {
    "approve": S.APPROVED,
    "reject": S.REJECTED,
    "withdraw": S.WITHDRAWN,
    "enrol": S.ENROLLED,
    "start": S.STUDYING,
    "complete": S.COMPLETED,
    "discontinue": S.DISCONTINUED,
    "lapse": S.LAPSED,
}


@dataclass
class Model:
    """The budget and every application's grant, moved only by the domain's own operations."""

    budget: ProjectBudget
    states: dict[int, ApplicationState] = field(default_factory=dict)
    grants: dict[int, Grant] = field(default_factory=dict)

    def apply(self, n: int, action: str, cost: Decimal) -> None:
        state = self.states.setdefault(n, S.SUBMITTED)
        target = TARGET[action]
        if target not in TRANSITIONS.get(state, frozenset()):
            return  # the service answers 409; nothing changes
        grant = self.grants.get(n, Grant())
        if target is S.APPROVED:
            try:
                self.budget = self.budget.reserve(GRANT)
            except Conflict:
                return
            grant, _ = grant.reserve(GRANT)
        elif target is S.COMPLETED:
            grant, spent = grant.spend(cost, "completed")
            self.budget = self.budget.spend(spent.amount)
            grant, released = grant.release_all("remainder")
            self.budget = self.budget.release(released.amount if released else Decimal("0"))
        elif target in (S.WITHDRAWN, S.LAPSED, S.DISCONTINUED):
            grant, released = grant.release_all(target.value)
            self.budget = self.budget.release(released.amount if released else Decimal("0"))
        self.states[n] = target
        self.grants[n] = grant


@settings(max_examples=300, deadline=None)
@given(
    budget=st.integers(min_value=0, max_value=20).map(lambda n: GRANT * n + Decimal("123.45")),
    steps=st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(ACTIONS), st.decimals(min_value=0, max_value=900, places=2)),
        max_size=200,
    ),
)
def test_no_sequence_overspends_a_budget_or_leaves_a_negative_balance(
    budget: Decimal, steps: list[tuple[int, str, Decimal]]
) -> None:
    model = Model(ProjectBudget(budget))
    for n, action, cost in steps:
        model.apply(n, action, cost)
        assert model.budget.reserved >= 0 and model.budget.spent >= 0
        assert model.budget.reserved + model.budget.spent <= model.budget.budget
        assert all(g.outstanding >= 0 and g.spent <= GRANT for g in model.grants.values())
    outstanding = sum((g.outstanding for g in model.grants.values()), Decimal("0"))
    spent = sum((g.spent for g in model.grants.values()), Decimal("0"))
    assert model.budget.reserved == outstanding
    assert model.budget.spent == spent


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(S)), max_size=12))
def test_states_only_move_along_allowed_transitions(path: list[ApplicationState]) -> None:
    state = S.SUBMITTED
    for target in path:
        if target in TRANSITIONS.get(state, frozenset()):
            state = target
    assert state in set(S)
