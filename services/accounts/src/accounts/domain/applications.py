"""Applications for studies: the state machine and the ranking used for fair allocation."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from prasmes_runtime.errors import Conflict

from accounts.domain.account import Account, EducationLevel, EmploymentStatus
from accounts.domain.ledger import Grant


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


@dataclass(frozen=True)
class Application:
    id: uuid.UUID
    account_id: uuid.UUID
    learner_id: str
    project_code: str
    state: ApplicationState
    submitted_at: datetime
    learning_need: str | None = None
    programme_id: uuid.UUID | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    reason_code: str | None = None
    grant: Grant = field(default_factory=Grant)
    version: int = 1

    def current(self) -> dict[str, str]:
        return {"application_id": str(self.id), "state": self.state.value, "project_code": self.project_code}

    def move_to(self, target: ApplicationState, at: datetime | None = None) -> Application:
        if target not in TRANSITIONS.get(self.state, frozenset()):
            raise Conflict(f"an application that is {self.state.value} cannot become {target.value}", self.current())
        decided = at if self.state is S.SUBMITTED else self.decided_at
        return replace(self, state=target, decided_at=decided, version=self.version + 1)


def submit(
    account: Account, project_code: str, at: datetime, learning_need: str | None, programme_id: uuid.UUID | None
) -> Application:
    return Application(
        uuid.uuid4(), account.id, account.learner_id, project_code, S.SUBMITTED, at, learning_need, programme_id
    )


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
