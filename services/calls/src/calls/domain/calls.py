"""A call to education institutions: its timeline, the phase the clock puts it in, its criteria and learning needs.

The phase follows the clock: each phase starts at an instant of the timeline, and the call is in the latest phase
whose start has passed. The offer window runs from `offers_open_at` through the whole deadline minute: with a
deadline of 23:59 Riga time an offer at 23:59:59 is on time and one at 00:00:00 is late, whatever the day's length
(a daylight-saving change day is 23 or 25 hours long; the instants are computed in Europe/Riga, never by adding
hours). Dates (applications, evaluation, decision, ...) are Riga calendar days.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from prasmes_runtime.errors import Conflict, InvalidInput, Violation

from calls.domain.common import in_riga, one_minute_after, riga_midnight

CallPhase = Literal["announced", "applications", "offers", "evaluation", "decision", "agreements", "delivery", "closed"]
PHASES: tuple[CallPhase, ...] = (
    "announced",
    "applications",
    "offers",
    "evaluation",
    "decision",
    "agreements",
    "delivery",
    "closed",
)
ParamValue = int | str | list[str]


@dataclass(frozen=True)
class Timeline:
    applications_open_on: date
    applications_close_on: date
    offers_open_at: datetime
    """The first instant an offer can be drafted and submitted (UTC)."""
    offers_deadline_at: datetime
    """The deadline minute (UTC instant of its start): offers are on time through its last second."""
    evaluation_starts_on: date
    evaluation_ends_on: date
    decision_on: date
    agreements_from: date
    publication_from: date
    delivery_ends_on: date

    @property
    def offers_close_at(self) -> datetime:
        """The first instant that is too late (the minute after the deadline minute)."""
        return one_minute_after(self.offers_deadline_at)

    def phase_starts(self) -> list[tuple[CallPhase, datetime]]:
        return [
            ("applications", riga_midnight(self.applications_open_on)),
            ("offers", self.offers_open_at),
            ("evaluation", self.offers_close_at),
            ("decision", riga_midnight(self.decision_on)),
            ("agreements", riga_midnight(self.agreements_from)),
            ("delivery", riga_midnight(self.publication_from)),
            ("closed", riga_midnight(self.delivery_ends_on + timedelta(days=1))),
        ]

    def phase_at(self, now: datetime) -> CallPhase:
        phase: CallPhase = "announced"
        for candidate, starts in self.phase_starts():
            if now >= starts:
                phase = candidate
        return phase

    def offers_open(self, now: datetime) -> bool:
        return self.offers_open_at <= now < self.offers_close_at


_ORDER: tuple[tuple[str, str, bool], ...] = (
    # (field, the field it may not come before, strictly after)
    ("applications_close_on", "applications_open_on", False),
    ("offers_deadline_at", "offers_open_at", True),
    ("evaluation_starts_on", "offers_deadline_at", False),
    ("evaluation_ends_on", "evaluation_starts_on", False),
    ("decision_on", "evaluation_ends_on", True),
    ("agreements_from", "decision_on", False),
    ("publication_from", "agreements_from", False),
    ("delivery_ends_on", "publication_from", False),
)


def _comparable(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def check_timeline(timeline: Timeline) -> None:
    """Every step of the timeline in order (all violations at once)."""
    violations = []
    for name, earlier, strictly in _ORDER:
        value, bound = getattr(timeline, name), getattr(timeline, earlier)
        if isinstance(value, datetime) != isinstance(bound, datetime):
            value, bound = _comparable(value), _comparable(bound)
        if value < bound or (strictly and value == bound):
            relation = "after" if strictly else "on or after"
            violations.append(Violation(f"timeline.{name}", "order", f"must be {relation} {earlier}"))
    if violations:
        raise InvalidInput(*violations)


@dataclass(frozen=True)
class LearningNeed:
    code: str
    title: Mapping[str, str]


@dataclass(frozen=True)
class Criterion:
    """A configurable rule of the call: `rule` names what is checked, `params` how (see `INSTITUTION_RULES` and
    `PROGRAMME_RULES`); `source` says where it comes from (default: the call's criterion `code`)."""

    code: str
    rule: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    source: str | None = None

    def source_in(self, call_code: str) -> str:
        return self.source or f"call {call_code}, criterion {self.code}"


INSTITUTION_RULES: dict[str, dict[str, type]] = {
    "accredited": {},
    "registered_years": {"years": int},
    "vocational_programme_years": {"years": int},
    "delivered_programmes": {"count": int, "min_digcomp": int, "min_completers": int},
}
"""What an institution criterion may check, with its parameters (from the registers and the platform's history)."""
PROGRAMME_RULES: dict[str, dict[str, type]] = {
    "licensed": {},
    "programme_kind": {"kind": str},
    "form": {"forms": list},
    "digcomp_range": {"min": int, "max": int},
    "digital_share": {"min_percent": int},
    "qualifications": {"any_of": list},
}
"""What a programme criterion may check, with its parameters."""


def check_criteria(criteria: Sequence[Criterion], rules: Mapping[str, Mapping[str, type]], name: str) -> None:
    violations = []
    codes: set[str] = set()
    for i, criterion in enumerate(criteria):
        at = f"{name}[{i}]"
        if criterion.code in codes:
            violations.append(Violation(f"{at}.code", "unique", f"criterion {criterion.code} is listed twice"))
        codes.add(criterion.code)
        wanted = rules.get(criterion.rule)
        if wanted is None:
            violations.append(Violation(f"{at}.rule", "one_of", f"one of {', '.join(sorted(rules))}"))
            continue
        violations += _param_violations(at, criterion, wanted)
    if violations:
        raise InvalidInput(*violations)


def _param_violations(at: str, criterion: Criterion, wanted: Mapping[str, type]) -> list[Violation]:
    found = []
    for param in sorted(set(criterion.params) - set(wanted)):
        found.append(Violation(f"{at}.params.{param}", "extra_forbidden", f"{criterion.rule} takes no {param}"))
    for param, kind in wanted.items():
        value = criterion.params.get(param)
        if value is None:
            found.append(Violation(f"{at}.params.{param}", "required", f"{criterion.rule} needs {param}"))
        elif not isinstance(value, kind) or (isinstance(value, int) and not 0 <= value <= 100):
            found.append(Violation(f"{at}.params.{param}", "type", f"{param} must be a {kind.__name__} (0 to 100)"))
    return found


@dataclass(frozen=True)
class Call:
    id: uuid.UUID
    code: str
    title: Mapping[str, str]
    project_code: str
    timeline: Timeline
    max_programmes_per_institution: int
    institution_criteria: tuple[Criterion, ...]
    programme_criteria: tuple[Criterion, ...]
    learning_needs: tuple[LearningNeed, ...]
    needs_approved_on: date | None
    phase: CallPhase
    """The phase last recorded (and announced by an event); `phase_at(now)` is where the clock is."""
    created_at: datetime

    def phase_at(self, now: datetime) -> CallPhase:
        return self.timeline.phase_at(now)

    def phases_passed(self, now: datetime) -> list[tuple[CallPhase, CallPhase]]:
        """Each (previous, next) phase change from the recorded phase to the clock's, in order: every phase is
        announced even when two start on the same day (IMK-4's decision, agreements and publication)."""
        target = PHASES.index(self.phase_at(now))
        current = PHASES.index(self.phase)
        return [(PHASES[i], PHASES[i + 1]) for i in range(current, target)]

    def require_offer_window(self, now: datetime, action: str) -> None:
        """Offers are drafted, submitted and withdrawn only inside the offer window (409 naming it in Riga time)."""
        if self.timeline.offers_open(now):
            return
        timeline = self.timeline
        current = {
            "call_id": str(self.id),
            "phase": self.phase_at(now),
            "offers_open_at": in_riga(timeline.offers_open_at),
            "offers_deadline": in_riga(timeline.offers_deadline_at),
        }
        if now < timeline.offers_open_at:
            raise Conflict(f"cannot {action}: the offer window opens at {in_riga(timeline.offers_open_at)}", current)
        raise Conflict(
            f"cannot {action}: the deadline for offers was {in_riga(timeline.offers_deadline_at)} "
            "(offers are accepted through that minute)",
            current,
        )
