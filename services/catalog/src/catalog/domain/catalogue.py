"""The public catalogue: its search query, the page of a published programme, and its ratings."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from prasmes_runtime.errors import Violation

from catalog.domain.common import check_digcomp, check_language, listed, raise_if_any, search_words
from catalog.domain.groups import OutcomeCounts, StudyGroup
from catalog.domain.programmes import QUALIFICATIONS, Programme, ProgrammeForm

RATING_ASPECTS = ("knowledge_skills", "content_quality", "teacher", "learning_process")
MIN_PUBLIC_RATERS = 10
ONE_PLACE = Decimal("0.1")
PROJECT_CODE = re.compile(r"[A-Z0-9_-]{2,20}")
"""A funding project's code as accounts, which owns the projects, takes it (IMK, VARAM, TALAK, 4242)."""


# --------------------------------------------------------------------------- ratings (fed by surveys)


@dataclass(frozen=True)
class RatingSummary:
    """Surveys' aggregate for one programme: how many completers rated it and the average per aspect."""

    programme_id: uuid.UUID
    raters: int
    averages: Mapping[str, Decimal] = field(default_factory=dict)
    overall: Decimal | None = None
    """Surveys' mean of the aspects' exact means; without it, the mean of the averages given."""


@dataclass(frozen=True)
class PublicRating:
    raters: int
    shown: bool
    averages: Mapping[str, Decimal] | None
    overall: Decimal | None


def public_rating(summary: RatingSummary | None) -> PublicRating:
    """A rating is public once at least 10 completers have rated; the count of raters is always shown."""
    raters = summary.raters if summary else 0
    if summary is None or raters < MIN_PUBLIC_RATERS or not summary.averages:
        return PublicRating(raters=raters, shown=False, averages=None, overall=None)
    averages = {k: v.quantize(ONE_PLACE, ROUND_HALF_UP) for k, v in summary.averages.items()}
    overall = summary.overall
    if overall is None:
        overall = sum(summary.averages.values(), Decimal(0)) / len(summary.averages)
    overall = overall.quantize(ONE_PLACE, ROUND_HALF_UP)
    return PublicRating(raters=raters, shown=True, averages=averages, overall=overall)


def validate_rating_summary(summary: RatingSummary) -> None:
    violations: list[Violation] = []
    if summary.raters < 0:
        violations.append(Violation("raters", "min_0", "cannot be negative"))
    for aspect, value in summary.averages.items():
        if aspect not in RATING_ASPECTS:
            violations.append(Violation(f"averages.{aspect}", "known_aspect", f"one of {listed(RATING_ASPECTS)}"))
        elif not Decimal(1) <= value <= Decimal(5):
            violations.append(Violation(f"averages.{aspect}", "range_1_5", "an average of 1 to 5 stars"))
    raise_if_any(violations)


# --------------------------------------------------------------------------- calls (fed by calls)


@dataclass(frozen=True)
class FundingCall:
    """A call as catalog knows it from calls' CallOpened: which funding project it serves. A programme is
    published under a call's agreement; the call says which project a learner applies to for it."""

    call_id: uuid.UUID
    code: str
    project_code: str
    opened_at: datetime


# --------------------------------------------------------------------------- the search


class CatalogueSort(StrEnum):
    TITLE = "title"
    COST = "cost"
    COST_DESC = "-cost"
    HOURS = "hours"
    HOURS_DESC = "-hours"
    START = "start"
    """The earliest upcoming group first; programmes without one last."""
    NEWEST = "-published"


@dataclass(frozen=True)
class CatalogueQuery:
    text: str = ""
    digcomp_levels: tuple[int, ...] = ()
    qualification: str | None = None
    city: str | None = None
    form: ProgrammeForm | None = None
    starts_from: date | None = None
    starts_until: date | None = None
    free_places: bool = False
    projects: tuple[str, ...] = ()
    """Funding projects' codes: programmes under a signed agreement of a call of one of them."""
    languages: tuple[str, ...] = ()
    """Languages of instruction (the programme's `language`): programmes taught in one of them."""
    sort: CatalogueSort = CatalogueSort.TITLE
    limit: int = 20
    offset: int = 0

    @property
    def words(self) -> list[str]:
        return search_words(self.text)

    @property
    def filters_groups(self) -> bool:
        """City, dates and free places select programmes having one upcoming group that matches them all."""
        return bool(self.city or self.starts_from or self.starts_until or self.free_places)

    def validate(self) -> None:
        violations: list[Violation] = []
        for level in self.digcomp_levels:
            check_digcomp(violations, "digcomp_level", level)
        if self.qualification is not None and self.qualification not in QUALIFICATIONS:
            violations.append(Violation("qualification", "known", f"one of {listed(sorted(QUALIFICATIONS))}"))
        if self.starts_from and self.starts_until and self.starts_until < self.starts_from:
            violations.append(Violation("starts_until", "not_before_from", "the period ends before it begins"))
        if len(self.text) > 200:
            violations.append(Violation("q", "max_length", "at most 200 characters"))
        _check_projects(violations, self.projects)
        for language in self.languages:
            check_language(violations, language)  # the rule of a programme's own language
        raise_if_any(violations)


def _check_projects(violations: list[Violation], projects: Sequence[str]) -> None:
    for project in projects:
        if not PROJECT_CODE.fullmatch(project):
            message = "a project code is 2 to 20 capital letters, digits, _ or - (e.g. IMK)"
            violations.append(Violation("project", "project_code", message))


# --------------------------------------------------------------------------- a programme's public page


@dataclass(frozen=True)
class CatalogueEntry:
    programme: Programme
    institution_name: str
    groups: Sequence[StudyGroup]
    """Upcoming groups, earliest first."""
    rating: PublicRating
    outcomes: OutcomeCounts
    funding_projects: Sequence[str] = ()
    """The projects of the calls whose signed agreements publish it, sorted (a learner applies to one of them)."""

    @property
    def has_free_places(self) -> bool:
        return any(g.free_places > 0 for g in self.groups)
