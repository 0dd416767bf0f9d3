"""The evaluation of a submitted offer, the clarifications it asks for, and the agency's decision.

An agency_admin assigns an offer to one evaluator (an agency officer, by user id), which moves a submitted offer to
`under_evaluation` (the offer deadline passing does the same for every submitted offer of the call). The evaluator
records one finding per criterion of the call (its institution and programme criteria, by code): meets, does not
meet, or needs clarification, with a note. A clarification asks the institution about some criteria; it answers
once, by the end of the due day: that many Latvian working days after the (Riga) day it was asked. The evaluation is
complete when every criterion has a conclusive finding (meets or does not meet: a criterion that needs
clarification is still open). An agency_admin who is not the offer's evaluator (four eyes) decides a complete
evaluation: approved when every criterion meets, or rejected with a reason for each criterion it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import Conflict, Forbidden, InvalidInput, Violation
from prasmes_runtime.workdays import add_working_days

from calls.domain.calls import PHASES, Call, CallPhase
from calls.domain.common import riga_midnight

FindingResult = Literal["meets", "does_not_meet", "needs_clarification"]
FINDING_RESULTS: tuple[FindingResult, ...] = ("meets", "does_not_meet", "needs_clarification")
CONCLUSIVE: frozenset[FindingResult] = frozenset({"meets", "does_not_meet"})
Outcome = Literal["approved", "rejected"]
DEFAULT_CLARIFICATION_WORKING_DAYS = 5


def criteria_of(call: Call) -> tuple[str, ...]:
    """The criteria an offer to the call is evaluated on, by code: the institution's, then the programmes'."""
    return tuple(c.code for c in (*call.institution_criteria, *call.programme_criteria))


def require_phase(call: Call, now: datetime, earliest: CallPhase, action: str) -> None:
    """409 naming the call's phase when it has not reached `earliest` (evaluation, decision, agreements)."""
    phase = call.phase_at(now)
    if PHASES.index(phase) < PHASES.index(earliest):
        raise Conflict(
            f"cannot {action} before the call's {earliest} phase",
            {"call_id": str(call.id), "phase": phase, "from_phase": earliest},
        )


@dataclass(frozen=True)
class Finding:
    criterion: str
    result: FindingResult
    note: str
    recorded_at: datetime


@dataclass(frozen=True)
class Evaluation:
    offer_id: uuid.UUID
    evaluator_id: str
    """The assigned officer (an opaque user id)."""
    assigned_at: datetime
    findings: Mapping[str, Finding]

    def current(self) -> dict[str, object]:
        return {"offer_id": str(self.offer_id), "evaluator_id": self.evaluator_id}

    def require_evaluator(self, user_id: str) -> None:
        if user_id != self.evaluator_id:
            raise Forbidden("only the offer's assigned evaluator records findings and asks for clarifications")

    def missing(self, criteria: Sequence[str]) -> list[str]:
        """The criteria without a conclusive finding, in the call's order."""
        return [c for c in criteria if c not in self.findings or self.findings[c].result not in CONCLUSIVE]

    def complete(self, criteria: Sequence[str]) -> bool:
        return not self.missing(criteria)

    def unmet(self) -> list[str]:
        return sorted(c for c, f in self.findings.items() if f.result == "does_not_meet")


def check_findings(criteria: Sequence[str], given: Sequence[tuple[str, str]]) -> None:
    """Each finding names a criterion of the call, once (422 naming the item)."""
    known, seen = set(criteria), set()
    violations = []
    for i, (criterion, _) in enumerate(given):
        if criterion not in known:
            message = f"the call has no criterion {criterion}; its criteria are {', '.join(criteria)}"
            violations.append(Violation(f"findings[{i}].criterion", "known_criterion", message))
        elif criterion in seen:
            violations.append(Violation(f"findings[{i}].criterion", "unique", f"{criterion} is given twice"))
        seen.add(criterion)
    if violations:
        raise InvalidInput(*violations)


def check_criteria_named(criteria: Sequence[str], named: Sequence[str], field: str) -> None:
    known = set(criteria)
    violations = [
        Violation(f"{field}[{i}]", "known_criterion", f"the call has no criterion {code}")
        for i, code in enumerate(named)
        if code not in known
    ]
    if violations:
        raise InvalidInput(*violations)


# --------------------------------------------------------------------------- clarifications


def clarification_due(asked_at: datetime, working_days: int) -> date:
    """The last day to answer: `working_days` Latvian working days after the Riga day it was asked."""
    return add_working_days(asked_at.astimezone(RIGA).date(), working_days)


@dataclass(frozen=True)
class Clarification:
    id: uuid.UUID
    offer_id: uuid.UUID
    criteria: tuple[str, ...]
    question: str
    asked_at: datetime
    due_on: date
    answer: str | None = None
    answered_at: datetime | None = None

    def current(self) -> dict[str, object]:
        return {
            "clarification_id": str(self.id),
            "due_on": self.due_on.isoformat(),
            "answered_at": None if self.answered_at is None else self.answered_at.isoformat(),
        }

    def closes_at(self) -> datetime:
        """The first instant too late: midnight (Riga) after the due day."""
        return riga_midnight(self.due_on + timedelta(days=1))

    def require_answerable(self, now: datetime) -> None:
        if self.answered_at is not None:
            raise Conflict("the clarification is answered: an institution answers once", self.current())
        if now >= self.closes_at():
            raise Conflict(f"the clarification was due by the end of {self.due_on} (Riga time)", self.current())


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True)
class Reason:
    criterion: str
    code: str
    """A short reason code (on the event); the text is for the institution."""
    text: str


@dataclass(frozen=True)
class Decision:
    offer_id: uuid.UUID
    outcome: Outcome
    reasons: tuple[Reason, ...]
    decided_at: datetime
    decided_by: str


def check_decision(
    evaluation: Evaluation | None,
    criteria: Sequence[str],
    outcome: Outcome,
    reasons: Sequence[Reason],
    decider: str,
    offer_state: str,
) -> None:
    """Four eyes, a complete evaluation, and an outcome its findings and reasons bear."""
    current = {"state": offer_state, "evaluator_id": None if evaluation is None else evaluation.evaluator_id}
    if evaluation is None:
        raise Conflict("the offer has no evaluation to decide: assign an evaluator first", current)
    if evaluation.evaluator_id == decider:
        raise Forbidden("four eyes: the offer's evaluator does not decide it")
    missing = evaluation.missing(criteria)
    if missing:
        raise Conflict(
            "the evaluation is not complete: every criterion needs a finding (meets or does not meet)",
            current | {"missing": missing},
        )
    check_criteria_named(criteria, [r.criterion for r in reasons], "reasons")
    if outcome == "approved":
        _check_approval(evaluation, reasons)
    elif not reasons:
        raise InvalidInput.of("reasons", "required", "a rejection gives a reason for each criterion it names")
    codes = [r.criterion for r in reasons]
    if len(set(codes)) != len(codes):
        raise InvalidInput.of("reasons", "unique", "one reason per criterion")


def _check_approval(evaluation: Evaluation, reasons: Sequence[Reason]) -> None:
    if reasons:
        raise InvalidInput.of("reasons", "approval_without_reasons", "an approval gives no reasons")
    unmet = evaluation.unmet()
    if unmet:
        raise InvalidInput.of(
            "outcome", "criteria_met", f"an offer is approved only when every criterion meets; not: {', '.join(unmet)}"
        )
