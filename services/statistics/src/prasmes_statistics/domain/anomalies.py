"""The agency's anomaly flags: institutions whose figures stand out (the lesson of CPF's fraud), each flag with the
figures behind it, for an officer to look at. A flag is a question, never a sanction: nothing here changes
anything anywhere.

Pure Python: the per-institution figures in, the flags out, judged by rules the agency sets (`AnomalyRules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from prasmes_statistics.domain.figures import mean, percent


@dataclass(frozen=True)
class AnomalyRules:
    quick_completion_days: int = 7
    """A completion recorded fewer than this many days after the start is too quick for a funded programme."""
    late_enrolment_days: int = 1
    """An enrolment confirmed this many days or fewer before its group's start is a late one."""
    late_enrolment_share: Decimal = Decimal(50)
    """An institution is flagged when at least this percent of its enrolments are late..."""
    min_enrolments: int = 10
    """...and it has at least this many enrolments."""
    completion_rate_gap: Decimal = Decimal(25)
    """Percentage points between an institution's completion rate and its peers' that flag it..."""
    min_started: int = 10
    """...once at least this many of its learners started."""
    rating_gap: Decimal = Decimal("0.8")
    """Stars between an institution's mean rating and its peers' that flag it..."""
    min_raters: int = 10
    """...once at least this many answered."""


@dataclass(frozen=True)
class InstitutionFigures:
    institution_id: str
    name: str | None
    enrolments: int = 0
    late_enrolments: int = 0
    started: int = 0
    completed: int = 0
    completed_without_start: int = 0
    quick_completions: int = 0
    answers: int = 0
    stars_total: int = 0
    stars_given: int = 0
    spent_without_answers: dict[str, Decimal] = field(default_factory=dict)
    """Programme -> grants spent on it, for its programmes with ended studies and no survey answer at all."""

    @property
    def completion_rate(self) -> Decimal | None:
        return percent(self.completed, self.started)

    @property
    def rating(self) -> Decimal | None:
        return mean(self.stars_total, self.stars_given)


@dataclass(frozen=True)
class AnomalyFlag:
    code: str
    value: Decimal | int
    threshold: Decimal | int
    peers: Decimal | None = None
    """The other institutions' figure it is compared with, where it is a comparison."""
    over: int = 0
    """How many enrolments, starts or answers the figure is of."""
    programmes: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class FlaggedInstitution:
    figures: InstitutionFigures
    flags: list[AnomalyFlag]


CODES = (
    "completed_without_start",
    "quick_completion",
    "late_enrolments",
    "completion_rate_outlier",
    "rating_outlier",
    "spent_without_answers",
)


def flagged(institutions: list[InstitutionFigures], rules: AnomalyRules) -> list[FlaggedInstitution]:
    """The institutions with at least one flag, the most flagged first."""
    found = [FlaggedInstitution(i, _flags(i, [p for p in institutions if p is not i], rules)) for i in institutions]
    return sorted((f for f in found if f.flags), key=lambda f: (-len(f.flags), f.figures.institution_id))


def _flags(mine: InstitutionFigures, peers: list[InstitutionFigures], rules: AnomalyRules) -> list[AnomalyFlag]:
    flags = [
        *_counted(mine, rules),
        *_late(mine, rules),
        *_completion_gap(mine, peers, rules),
        *_rating_gap(mine, peers, rules),
    ]
    if mine.spent_without_answers:
        total = sum(mine.spent_without_answers.values(), Decimal(0))
        flags.append(
            AnomalyFlag(
                "spent_without_answers",
                total,
                0,
                over=len(mine.spent_without_answers),
                programmes=dict(mine.spent_without_answers),
            )
        )
    return flags


def _counted(mine: InstitutionFigures, rules: AnomalyRules) -> list[AnomalyFlag]:
    flags = []
    if mine.completed_without_start:
        flags.append(AnomalyFlag("completed_without_start", mine.completed_without_start, 0, over=mine.completed))
    if mine.quick_completions:
        flags.append(
            AnomalyFlag("quick_completion", mine.quick_completions, rules.quick_completion_days, over=mine.completed)
        )
    return flags


def _late(mine: InstitutionFigures, rules: AnomalyRules) -> list[AnomalyFlag]:
    share = percent(mine.late_enrolments, mine.enrolments)
    if share is None or mine.enrolments < rules.min_enrolments or share < rules.late_enrolment_share:
        return []
    return [AnomalyFlag("late_enrolments", share, rules.late_enrolment_share, over=mine.enrolments)]


def _completion_gap(
    mine: InstitutionFigures, peers: list[InstitutionFigures], rules: AnomalyRules
) -> list[AnomalyFlag]:
    rate = mine.completion_rate
    theirs = percent(sum(p.completed for p in peers), sum(p.started for p in peers))
    if rate is None or theirs is None or mine.started < rules.min_started:
        return []
    if abs(rate - theirs) < rules.completion_rate_gap:
        return []
    return [AnomalyFlag("completion_rate_outlier", rate, rules.completion_rate_gap, peers=theirs, over=mine.started)]


def _rating_gap(mine: InstitutionFigures, peers: list[InstitutionFigures], rules: AnomalyRules) -> list[AnomalyFlag]:
    rating = mine.rating
    theirs = mean(sum(p.stars_total for p in peers), sum(p.stars_given for p in peers))
    if rating is None or theirs is None or mine.answers < rules.min_raters:
        return []
    if abs(rating - theirs) < rules.rating_gap:
        return []
    return [AnomalyFlag("rating_outlier", rating, rules.rating_gap, peers=theirs, over=mine.answers)]
