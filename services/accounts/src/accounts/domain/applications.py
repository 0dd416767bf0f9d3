"""Applications for studies: the state machine, the decisions with the events they raise, and the ranking
and allocation of a window_then_rank project."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, get_args

from prasmes_runtime.errors import Conflict, InvalidInput

from accounts.domain import events as ev
from accounts.domain.account import Account, DigCompAssessment, EducationLevel, EmploymentStatus
from accounts.domain.ledger import Grant, LedgerEntry
from accounts.domain.programmes import Programme, StudyGroup, open_for_enrolment
from accounts.domain.projects import AllocationMode, FundingProject, ProjectBudget


class ApplicationState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"
    ENROLLED = "enrolled"
    STUDYING = "studying"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


S = ApplicationState
TRANSITIONS: dict[ApplicationState, frozenset[ApplicationState]] = {
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    # A learner may also give an approved grant back before enrolling: it is released at once.
    S.APPROVED: frozenset({S.ENROLLED, S.LAPSED, S.WITHDRAWN}),
    S.ENROLLED: frozenset({S.STUDYING, S.DISCONTINUED}),
    S.STUDYING: frozenset({S.COMPLETED, S.DISCONTINUED}),
}
OPEN_STATES = frozenset({S.SUBMITTED, S.APPROVED, S.ENROLLED, S.STUDYING})
"""At most one application per person per project may be in one of these."""
OPEN_APPLICATION = "open_application"
"""The rule a second open application to a project breaks (a 409 on submission; a reason of eligibility)."""


def already_open(project_code: str) -> str:
    """What the learner is told of their open application to the project."""
    return f"you already have an open application to {project_code}"


def open_application_to(project_code: str, applications: Iterable[Application]) -> Application | None:
    """The learner's open application (one in `OPEN_STATES`) to the project among `applications`, if any (the
    latest submitted, should there be more)."""
    open_ = [a for a in applications if a.project_code == project_code and a.state in OPEN_STATES]
    return max(open_, key=lambda a: a.submitted_at) if open_ else None


def _what_it_may_become(state: ApplicationState, allowed: frozenset[ApplicationState]) -> str:
    if not allowed:
        return f"{state.value} is final"
    names = sorted(s.value for s in allowed)
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"it can become {listed}"


BUDGET_EXHAUSTED = "budget_exhausted"
RANKED_LOWER = "The project's budget was granted to applications ranked higher."
"""The reason a learner is shown when an allocation's budget ran out before their application."""


@dataclass(frozen=True)
class Application:
    """The aggregate of an application and its grant.

    Every change returns a new application that carries, beside its new state, what the change raised and
    what it wrote to the grant's ledger, in order: `events` and `entries`, until the use case writes them
    with the application (an application read from the database carries none).
    """

    id: uuid.UUID
    account_id: uuid.UUID
    learner_id: str
    project_code: str
    state: ApplicationState
    submitted_at: datetime
    learning_need: str | None = None
    """The learner's own words: shown to the learner and the agency, never published."""
    learning_need_code: str | None = None
    """One of the project's approved learning needs (none while the project had none approved)."""
    programme_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    """The study group the learner chose when applying (its programme is `programme_id`): the group offered first
    at enrolment. A place is taken only by enrolling."""
    decided_at: datetime | None = None
    reason: str | None = None
    reason_code: str | None = None
    grant: Grant = field(default_factory=Grant)
    version: int = 1
    events: tuple[ev.DomainEvent, ...] = field(default=(), compare=False, repr=False)
    entries: tuple[LedgerEntry, ...] = field(default=(), compare=False, repr=False)

    def current(self) -> dict[str, str]:
        return {"application_id": str(self.id), "state": self.state.value, "project_code": self.project_code}

    def move_to(self, target: ApplicationState, at: datetime | None = None) -> Application:
        allowed = TRANSITIONS.get(self.state, frozenset())
        if target not in allowed:
            refused = f"an application that is {self.state.value} cannot become {target.value}"
            raise Conflict(f"{refused}; {_what_it_may_become(self.state, allowed)}", self.current())
        decided = at if self.state is S.SUBMITTED else self.decided_at
        return replace(self, state=target, decided_at=decided, version=self.version + 1)

    def approve(self, amount: Decimal, at: datetime) -> Application:
        """Grant `amount`: approved, with the grant reserved (an officer's approval and an allocation's alike)."""
        approved = self.move_to(S.APPROVED, at)
        grant, entry = approved.grant.reserve(amount)
        return approved._raised(
            ev.ApplicationApproved(**self._about(at), grant_amount=amount),
            ev.GrantReserved(**self._about(at), amount=amount),
            entry=entry,
            grant=grant,
        )

    def reject(self, reason_code: str, reason: str, at: datetime) -> Application:
        """Refused: the learner is shown `reason`; only `reason_code` is published."""
        rejected = ev.ApplicationRejected(**self._about(at), reason_code=reason_code)
        return self.move_to(S.REJECTED, at)._raised(rejected, reason=reason, reason_code=reason_code)

    def withdraw(self, at: datetime) -> Application:
        """The learner withdraws: before a decision, or giving an approved grant back (released at once)."""
        withdrawn = self.move_to(S.WITHDRAWN, at).release_rest("withdrawn", at)
        return withdrawn._raised(ev.ApplicationWithdrawn(**self._about(at)))

    def lapse(self, at: datetime) -> Application:
        """No enrolment by the project's deadline: the grant is released."""
        lapsed = self.move_to(S.LAPSED, at).release_rest("lapsed", at)
        return lapsed._raised(ev.ApplicationLapsed(**self._about(at)))

    def spend(
        self, cost: Decimal, cause: str, at: datetime, programme_id: uuid.UUID, institution_id: uuid.UUID
    ) -> Application:
        """Pay the programme's cost from the grant, never more than is outstanding; nothing when nothing is."""
        grant, entry = self.grant.spend(cost, cause)
        if entry.amount == 0:
            return self
        spent = ev.GrantSpent(
            **self._about(at), amount=entry.amount, programme_id=programme_id, institution_id=institution_id
        )
        return self._raised(spent, entry=entry, grant=grant)

    def release_rest(self, cause: str, at: datetime) -> Application:
        """Give what is outstanding of the grant back to the project's budget (nothing when nothing is)."""
        grant, entry = self.grant.release_all(cause)
        if entry is None:
            return self
        released = ev.GrantReleased(**self._about(at), amount=entry.amount, cause=cause)
        return self._raised(released, entry=entry, grant=grant)

    def _about(self, at: datetime) -> dict[str, Any]:
        return {"application_id": self.id, "learner_id": self.learner_id, "project_code": self.project_code, "at": at}

    def _raised(self, *raised: ev.DomainEvent, entry: LedgerEntry | None = None, **changes: Any) -> Application:
        """This application with `changes`, having raised `raised` and written `entry` to the grant's ledger."""
        entries = (*self.entries, entry) if entry is not None else self.entries
        return replace(self, events=(*self.events, *raised), entries=entries, **changes)


AgencySort = Literal["submitted", "-submitted", "decided", "-decided", "name", "-name", "state"]
AGENCY_SORTS: tuple[str, ...] = get_args(AgencySort)
"""How the agency's list sorts: by the time submitted or decided, the learner's name (last, first) or the state;
a leading - for the reverse. Ties in the order submitted."""


@dataclass(frozen=True)
class ApplicationQuery:
    """Which applications the agency lists: every filter given narrows it (none: all of them)."""

    project_code: str | None = None
    states: tuple[str, ...] = ()
    submitted_from: datetime | None = None
    """Submitted at or after."""
    submitted_before: datetime | None = None
    """Submitted before."""
    name: str | None = None
    """Part of the learner's name, any case."""
    sort: AgencySort = "submitted"


@dataclass(frozen=True)
class Wish:
    """What the learner applies for: a learning need (its code, and their own words), perhaps a programme and one
    of its study groups."""

    learning_need_code: str | None = None
    learning_need: str | None = None
    programme_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None


def with_group(wish: Wish, group: StudyGroup | None, programme: Programme | None) -> Wish:
    """The wish with its chosen group checked (`group` and `programme` as the read models know them, None when
    unknown): scheduled, of a programme in the catalogue, of the programme chosen (when one is), with a free place
    now. The programme is the group's."""
    if wish.group_id is None:
        return wish
    chosen = open_for_enrolment(wish.group_id, group, programme)
    if wish.programme_id is not None and wish.programme_id != chosen.programme_id:
        raise InvalidInput.of("group_id", "group_of_programme", "the study group is not one of the programme's groups")
    if chosen.taken >= chosen.capacity:
        raise InvalidInput.of("group_id", "free_place", "the study group has no free place")
    return replace(wish, programme_id=chosen.programme_id)


def submit(account: Account, project_code: str, at: datetime, wish: Wish) -> Application:
    """A submitted application. It publishes the learning need's code, never the learner's own words."""
    application = Application(
        uuid.uuid4(),
        account.id,
        account.learner_id,
        project_code,
        S.SUBMITTED,
        at,
        learning_need=wish.learning_need,
        learning_need_code=wish.learning_need_code,
        programme_id=wish.programme_id,
        group_id=wish.group_id,
    )
    submitted = ev.ApplicationSubmitted(
        **application._about(at),
        learning_need_code=wish.learning_need_code,
        programme_id=wish.programme_id,
        group_id=wish.group_id,
    )
    return application._raised(submitted)


def approve_one(application: Application, project: FundingProject, at: datetime) -> Application:
    """An officer's approval of one application: only where the project grants first come, first served."""
    if project.allocation_mode is AllocationMode.WINDOW_THEN_RANK:
        raise Conflict(
            f"{project.code} grants by ranking after its window closes, not one by one",
            {**application.current(), "allocation_mode": project.allocation_mode.value},
        )
    return application.approve(project.grant_per_person, at)


# The priority score of window_then_rank allocation. Documented and stable: changing it changes
# who gets a grant, so it is versioned with the allocation record.
PRIORITY_RULES_VERSION = 1
PRIORITY_RULES = (
    "+3 when the learner is unemployed (a labour-market priority of the ESF+ and RRF programmes)",
    "+2 when the learner's education is basic or secondary at most (low-qualified adults first)",
    "+1 when the learner's DigComp self-assessment averages below 3 (those who need digital skills most)",
    "+1 when the learner is 45 or older on the day the window closes",
    "ties: a lottery, ordered by SHA-256(seed + application id), with the seed recorded on the project",
)


def priority_score(account: Account, digcomp_average: float | None, age: int) -> int:
    score = 0
    if account.profile.employment_status is EmploymentStatus.UNEMPLOYED:
        score += 3
    if account.profile.education_level in (EducationLevel.BASIC, EducationLevel.SECONDARY):
        score += 2
    if digcomp_average is not None and digcomp_average < 3:
        score += 1
    if age >= 45:
        score += 1
    return score


def lottery_ticket(seed: str, application_id: uuid.UUID) -> str:
    return hashlib.sha256(f"{seed}:{application_id}".encode()).hexdigest()


def ranking_key(score: int, seed: str, application_id: uuid.UUID) -> tuple[int, str]:
    """Sort ascending: the highest score first, then the lottery ticket."""
    return (-score, lottery_ticket(seed, application_id))


def rank(
    applicants: Sequence[tuple[Application, Account]],
    digcomp: Mapping[uuid.UUID, DigCompAssessment],
    seed: str,
    closing_day: date,
) -> list[Application]:
    """The applications in the order they are granted: by priority score, ties by the lottery.

    `digcomp` holds each account's latest self-assessment; the learner's age counts on `closing_day`.
    """

    def key(applicant: tuple[Application, Account]) -> tuple[int, str]:
        application, account = applicant
        assessment = digcomp.get(account.id)
        score = priority_score(account, assessment.average if assessment else None, account.age_on(closing_day))
        return ranking_key(score, seed, application.id)

    return [application for application, _ in sorted(applicants, key=key)]


@dataclass(frozen=True)
class Allocation:
    """A window's allocation: the project as allocated, and its applications approved and rejected in rank order."""

    project: FundingProject
    approved: tuple[Application, ...]
    rejected: tuple[Application, ...]

    @property
    def seed(self) -> str:
        """The lottery's seed, recorded on the project."""
        assert self.project.lottery_seed is not None
        return self.project.lottery_seed

    @property
    def decided(self) -> tuple[Application, ...]:
        return (*self.approved, *self.rejected)

    @property
    def reserved(self) -> Decimal:
        """What the approvals take from the project's budget together."""
        return self.project.grant_per_person * len(self.approved)


def allocate(
    project: FundingProject,
    budget: ProjectBudget,
    applicants: Sequence[tuple[Application, Account]],
    digcomp: Mapping[uuid.UUID, DigCompAssessment],
    seed: str,
    at: datetime,
) -> Allocation:
    """Rank a closed window's submitted applications and grant them in order while the budget lasts; the rest
    are rejected for the exhausted budget. The lottery's `seed` is recorded on the project."""
    project.check_allocatable(at)
    ranked = rank(applicants, digcomp, seed, project.window_closes_at.date())
    approved, rejected = decide_in_rank(project, budget, ranked, at)
    return Allocation(replace(project, allocated_at=at, lottery_seed=seed), approved, rejected)


def decide_in_rank(
    project: FundingProject, budget: ProjectBudget, ranked: Sequence[Application], at: datetime
) -> tuple[tuple[Application, ...], tuple[Application, ...]]:
    """Applications in rank order (all of a window, or its next batch) granted while `budget` lasts; the rest
    rejected for the exhausted budget: (approved, rejected)."""
    grants = min(budget.grants_of(project.grant_per_person), len(ranked))
    return (
        tuple(a.approve(project.grant_per_person, at) for a in ranked[:grants]),
        tuple(a.reject(BUDGET_EXHAUSTED, RANKED_LOWER, at) for a in ranked[grants:]),
    )
