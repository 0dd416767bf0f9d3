"""Funding projects: data, not code. Eligibility, the application window, the budget."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import Conflict, InvalidInput, Violation
from prasmes_runtime.money import money

from accounts.domain.account import Account, EmploymentStatus

APPLICATION_WINDOW = "application_window"
MINIMUM_AGE = "minimum_age"
PROJECT_CONDITION = "project_condition"
"""The rules of a project's eligibility (`FundingProject.unmet_rules`), as a refusal names them."""


class AllocationMode(StrEnum):
    FIRST_COME = "first_come"
    """Officers decide applications one by one while the budget lasts."""
    WINDOW_THEN_RANK = "window_then_rank"
    """After the window closes, all eligible applications are ranked and granted in order."""


@dataclass(frozen=True)
class FundingProject:
    code: str
    name: str
    budget: Decimal
    grant_per_person: Decimal
    window_opens_at: datetime
    window_closes_at: datetime
    enrolment_deadline: date
    """An approved application with no enrolment by this day lapses and its grant is released."""
    allocation_mode: AllocationMode = AllocationMode.FIRST_COME
    min_age: int = 18
    employment_statuses: frozenset[EmploymentStatus] | None = None
    """When set, only learners with one of these employment statuses are eligible."""
    allocated_at: datetime | None = None
    lottery_seed: str | None = None

    def __post_init__(self) -> None:
        """Money in the platform's encoding (two decimals), and the rules a project cannot break: every one it
        breaks is named at once."""
        object.__setattr__(self, "budget", money(self.budget))
        object.__setattr__(self, "grant_per_person", money(self.grant_per_person))
        violations = [*self._money_violations(), *self._window_violations()]
        if violations:
            raise InvalidInput(*violations)

    def _money_violations(self) -> list[Violation]:
        if self.grant_per_person <= 0:
            return [Violation("grant_per_person", "positive", "the grant per person must be more than 0.00 EUR")]
        if self.budget < self.grant_per_person:
            return [
                Violation(
                    "budget",
                    "at_least_one_grant",
                    f"the budget must hold at least one grant of {self.grant_per_person} EUR",
                )
            ]
        return []

    def _window_violations(self) -> list[Violation]:
        for field in ("window_opens_at", "window_closes_at"):
            if getattr(self, field).tzinfo is None:
                return [
                    Violation(field, "timezone_aware", "give the time with its offset, e.g. 2026-09-19T23:59+03:00")
                ]
        if self.window_closes_at <= self.window_opens_at:
            return [Violation("window_closes_at", "after_window_opens", "the window must close after it opens")]
        closing_day = self.window_closes_at.astimezone(RIGA).date()
        if self.enrolment_deadline < closing_day:
            message = (
                "approved learners enrol by the deadline, so it cannot fall before the day the window closes "
                f"({closing_day.isoformat()}, Riga time)"
            )
            return [Violation("enrolment_deadline", "not_before_window_closes", message)]
        return []

    def window_is_open(self, at: datetime) -> bool:
        return self.window_opens_at <= at < self.window_closes_at

    def unmet_rules(self, account: Account, at: datetime, today: date) -> list[Violation]:
        """Every rule of the project the learner fails at `at` (`today`: its Riga date, on which the age counts), in
        the order they are checked: the application window, the minimum age, the employment status. Empty when the
        learner is eligible. The one source of these rules: `check_eligible` raises the first of them."""
        failed: list[Violation] = []
        if not self.window_is_open(at):
            opens, closes = self.window_opens_at.astimezone(UTC), self.window_closes_at.astimezone(UTC)
            failed.append(
                Violation(
                    "project_code",
                    APPLICATION_WINDOW,
                    f"applications to {self.code} are accepted from {opens:%Y-%m-%d %H:%M} "
                    f"until {closes:%Y-%m-%d %H:%M} (UTC)",
                )
            )
        if account.age_on(today) < self.min_age:
            failed.append(
                Violation("birth_date", MINIMUM_AGE, f"{self.code} is for learners aged {self.min_age} or over")
            )
        status = account.profile.employment_status
        if self.employment_statuses is not None and status not in self.employment_statuses:
            allowed = ", ".join(sorted(self.employment_statuses))
            failed.append(Violation("employment_status", PROJECT_CONDITION, f"{self.code} requires one of: {allowed}"))
        return failed

    def check_eligible(self, account: Account, at: datetime, today: date) -> None:
        """Raise InvalidInput naming the first rule the learner fails (the first of `unmet_rules`)."""
        failed = self.unmet_rules(account, at, today)
        if failed:
            raise InvalidInput(failed[0])

    def check_allocatable(self, at: datetime) -> None:
        """A window_then_rank project is allocated once, after its window closed; raise Conflict otherwise."""
        current = {
            "code": self.code,
            "allocation_mode": self.allocation_mode.value,
            "allocated_at": self.allocated_at.isoformat() if self.allocated_at else None,
        }
        if self.allocation_mode is not AllocationMode.WINDOW_THEN_RANK:
            raise Conflict(f"{self.code} grants first come, first served; it is not allocated by ranking", current)
        if at < self.window_closes_at:
            raise Conflict(f"the window of {self.code} is still open", current)
        if self.allocated_at is not None:
            raise Conflict(f"{self.code} was already allocated", current)


@dataclass(frozen=True)
class ProjectBudget:
    """The live budget of a project. Invariant: reserved + spent <= budget, all non-negative."""

    budget: Decimal
    reserved: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        for name in ("budget", "reserved", "spent"):
            object.__setattr__(self, name, money(getattr(self, name)))

    @property
    def available(self) -> Decimal:
        return self.budget - self.reserved - self.spent

    def grants_of(self, amount: Decimal) -> int:
        """How many grants of `amount` the available budget still holds."""
        return int(self.available // amount)

    def resized(self, budget: Decimal) -> ProjectBudget:
        """The budget changed to `budget`, never below what is already reserved and spent."""
        if budget < self.reserved + self.spent:
            raise Conflict("the budget cannot go below what is already reserved and spent", self.as_dict())
        return replace(self, budget=budget)

    def reserve(self, amount: Decimal) -> ProjectBudget:
        if amount > self.available:
            raise Conflict("the project's budget is exhausted", self.as_dict())
        return replace(self, reserved=self.reserved + amount)

    def release(self, amount: Decimal) -> ProjectBudget:
        assert 0 <= amount <= self.reserved, "cannot release more than is reserved"
        return replace(self, reserved=self.reserved - amount)

    def spend(self, amount: Decimal) -> ProjectBudget:
        assert 0 <= amount <= self.reserved, "cannot spend more than is reserved"
        return replace(self, reserved=self.reserved - amount, spent=self.spent + amount)

    def as_dict(self) -> dict[str, str]:
        return {
            "budget": str(self.budget),
            "reserved": str(self.reserved),
            "spent": str(self.spent),
            "available": str(self.available),
        }
