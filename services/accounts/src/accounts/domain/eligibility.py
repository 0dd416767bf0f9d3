"""Which funding projects a learner may apply to, and every reason why not where not.

The reasons are the rules a submission follows, all of them at once rather than the first: the project's own
(`FundingProject.unmet_rules`: the application window, the minimum age, the employment status), the learner's open
application to the project (the states `OPEN_STATES` counts), and the project's budget holding no more grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from prasmes_runtime.errors import Violation

from accounts.domain.account import Account
from accounts.domain.applications import (
    BUDGET_EXHAUSTED,
    OPEN_APPLICATION,
    Application,
    already_open,
    open_application_to,
)
from accounts.domain.projects import FundingProject, ProjectBudget


@dataclass(frozen=True)
class Eligibility:
    """A learner's eligibility for one project: every reason they may not apply (none when they may)."""

    project: FundingProject
    reasons: tuple[Violation, ...]
    open_application: Application | None = None
    """The learner's open application to the project, when that is one of the reasons."""

    @property
    def eligible(self) -> bool:
        return not self.reasons


def eligibility(
    project: FundingProject,
    budget: ProjectBudget,
    account: Account,
    applications: Iterable[Application],
    at: datetime,
    today: date,
) -> Eligibility:
    """The learner's eligibility for `project` at `at` (`today`: its Riga date), given all their `applications`.

    The reasons in order: the project's rules (as `check_eligible` checks them, so its refusal is the first), an open
    application to the project, a budget that holds less than one grant. The last is no refusal of a submission
    (an officer's approval is refused, 409) but no grant can be approved while it lasts: released grants give the
    budget back, so it may pass.
    """
    reasons = project.unmet_rules(account, at, today)
    open_ = open_application_to(project.code, applications)
    if open_ is not None:
        reasons.append(Violation("project_code", OPEN_APPLICATION, f"{already_open(project.code)} ({open_.state})"))
    if budget.grants_of(project.grant_per_person) == 0:
        message = (
            f"the budget of {project.code} holds no more grants of {project.grant_per_person} EUR "
            f"({budget.available} EUR left)"
        )
        reasons.append(Violation("project_code", BUDGET_EXHAUSTED, message))
    return Eligibility(project, tuple(reasons), open_)


def eligibilities(
    projects: Sequence[tuple[FundingProject, ProjectBudget]],
    account: Account,
    applications: Sequence[Application],
    at: datetime,
    today: date,
) -> list[Eligibility]:
    """The learner's eligibility for each of `projects`, in their order."""
    return [eligibility(project, budget, account, applications, at, today) for project, budget in projects]
