"""Who does what in the seed scenario, from the scale, and the dashboard it must end with. Pure: no I/O.

The population is laid out in cohorts, each a run of persons (numbered from 1, in cohort order) who apply to one
funding project in one application round and go the same way: granted, rejected and granted on applying again,
rejected, left pending, or allocated by the project's window (`window_then_rank`). Of a cohort's granted persons the
first `started` start studies, of those the first `completed` complete and the next `discontinued` discontinue. The
persons after the last cohort open an account and apply for nothing.

Scaling: every count of the seed's slide that is a cell of this partition is multiplied by the scale and rounded
half up, to at least 1 where the seed has any (so that every path runs at every scale); each total is the sum of
its scaled cells, and a count bounded by another is clamped to it (started <= granted, completed + discontinued <=
started, answers <= those who ended that way). At scale 1 every figure is the seed's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

ROUND_1 = "DEMO-2025"
"""IMK's first application round: the demonstration call's learners' application period, 2-13 Jun 2025."""
ROUND_2 = "IMK-4"
"""IMK's second: the fourth call's, 10-19 Sep 2025."""
NO_ROUND = ""
"""The dashboard's round of applications submitted outside any call's application period."""

GROUP_CAPACITY = 500
"""Places per study group (catalog's largest)."""
TALAK_BUDGET = Decimal("250000.00")
"""TĀLĀK's seeded budget (accounts' migration 0003), scaled with the population so that its window grants about
the same share of its applicants at every scale (416 of 418 at scale 1)."""
TALAK_GRANT = Decimal("600.00")
ASPECTS = ("knowledge_skills", "content_quality", "teacher", "learning_process")
REASONS = (
    "content",
    "learning_difficulty",
    "time",
    "personal",
    "teacher",
    "job_change",
    "motivation",
    "organisation",
    "employer_support",
    "technical_means",
    "other",
)
"""The discontinuation survey's reasons (surveys' questionnaire)."""
APPLICATION_FIGURES = ("applicants", "applications_submitted", "granted", "rejected", "withdrawn", "lapsed", "pending")
STUDY_FIGURES = ("started", "discontinued", "completed")
ROUND_FIGURES = ("applicants", "granted", "started", "completed")
KINDS = ("completion", "discontinuation")
TENTH = Decimal("0.1")


class Decision(StrEnum):
    GRANTED = "granted"
    REJECTED_THEN_GRANTED = "rejected_then_granted"
    """Rejected, applies again in the same round and is granted: one person, two applications."""
    REJECTED = "rejected"
    PENDING = "pending"
    ALLOCATED = "allocated"
    """Left to the window's allocation, which grants by rank while the budget lasts and rejects the rest."""


class Season(StrEnum):
    SUMMER = "summer"
    AUTUMN = "autumn"


@dataclass(frozen=True)
class Term:
    """A season's study groups: their days, and the day those who discontinue stop."""

    starts_on: date
    ends_on: date
    discontinued_on: date


TERMS: Mapping[Season, Term] = {
    Season.SUMMER: Term(date(2025, 8, 4), date(2025, 8, 29), date(2025, 8, 14)),
    Season.AUTUMN: Term(date(2025, 9, 22), date(2025, 10, 31), date(2025, 10, 3)),
}


@dataclass(frozen=True)
class CohortSeed:
    """A cohort at scale 1: the seed's counts."""

    name: str
    project: str
    round: str
    decision: Decision
    persons: int
    started: int = 0
    completed: int = 0
    discontinued: int = 0
    season: Season | None = None


SEED_COHORTS: tuple[CohortSeed, ...] = (
    # IMK: 7 574 granted, 2 091 + 5 483 by round; its 6 rejected applied again in round 2 and were granted (the slide's
    # 7 574 applications are persons); 5 360 started (1 531 + 3 829), 2 228 completed (1 411 + 817). The slide does not
    # split the 217 discontinued by round: here as those who started and did not complete are (120 : 3 012).
    CohortSeed("imk-1", "IMK", ROUND_1, Decision.GRANTED, 2091, 1531, 1411, 8, Season.SUMMER),
    CohortSeed("imk-2", "IMK", ROUND_2, Decision.GRANTED, 5477, 3829, 817, 209, Season.AUTUMN),
    CohortSeed("imk-2-again", "IMK", ROUND_2, Decision.REJECTED_THEN_GRANTED, 6),
    # VARAM: 9 153 applicants, 4 091 started, 305 discontinued, 2 639 completed; granted are those who start.
    CohortSeed("varam", "VARAM", NO_ROUND, Decision.GRANTED, 4091, 4091, 2639, 305, Season.SUMMER),
    CohortSeed("varam-pending", "VARAM", NO_ROUND, Decision.PENDING, 5062),
    # TĀLĀK: 418 applicants, 276 started, 34 discontinued; its window decides who is granted.
    CohortSeed("talak", "TALAK", NO_ROUND, Decision.ALLOCATED, 418, 276, 0, 34, Season.AUTUMN),
    # 4242: 8 284 persons, 7 031 approved, 561 rejected, 710 still applied: 8 302 applications, as 18 persons with a
    # rejected application applied again (and were approved).
    CohortSeed("4242", "4242", NO_ROUND, Decision.GRANTED, 7013),
    CohortSeed("4242-again", "4242", NO_ROUND, Decision.REJECTED_THEN_GRANTED, 18),
    CohortSeed("4242-rejected", "4242", NO_ROUND, Decision.REJECTED, 543),
    CohortSeed("4242-pending", "4242", NO_ROUND, Decision.PENDING, 710),
)
SEED_ACCOUNTS = 28063
SEED_ANSWERS = {"completion": 1446, "discontinuation": 69}
"""The seed's survey answers, all of IMK's learners here (1 446 of its 2 228 completers, 69 of its 217 who
discontinued)."""
SURVEYED_PROJECT = "IMK"
PROJECTS = ("IMK", "VARAM", "TALAK", "4242")


def scaled(count: int, scale: float) -> int:
    """`count` x `scale`, rounded half up; at least 1 when `count` is not 0."""
    if count == 0:
        return 0
    exact = Decimal(count) * Decimal(str(scale))
    return max(1, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def talak_budget(scale: float) -> Decimal:
    """TĀLĀK's budget at the scale: the seeded one scaled, to the cent, and never less than one grant."""
    exact = (TALAK_BUDGET * Decimal(str(scale))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return max(exact, TALAK_GRANT)


def talak_grants(scale: float) -> int:
    return int((talak_budget(scale) / TALAK_GRANT).to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True)
class Cohort:
    """A cohort at the plan's scale, with the first person's number."""

    name: str
    project: str
    round: str
    decision: Decision
    first: int
    persons: int
    granted: int
    """How many of its persons end granted (all of them but for an allocation, which grants as its budget lasts)."""
    started: int
    completed: int
    discontinued: int
    season: Season | None

    @property
    def members(self) -> range:
        return range(self.first, self.first + self.persons)

    @property
    def rejects_first(self) -> bool:
        return self.decision in (Decision.REJECTED, Decision.REJECTED_THEN_GRANTED)

    @property
    def applications(self) -> int:
        return self.persons * (2 if self.decision is Decision.REJECTED_THEN_GRANTED else 1)

    @property
    def rejected(self) -> int:
        if self.decision in (Decision.GRANTED, Decision.PENDING):
            return 0
        return self.persons if self.decision is not Decision.ALLOCATED else self.persons - self.granted

    def outcome(self, offset: int) -> str | None:
        """What the cohort's `offset`-th starter does: complete, discontinue, or go on studying (None)."""
        if offset < self.completed:
            return "completed"
        if offset < self.completed + self.discontinued:
            return "discontinued"
        return None


def _cohort(seed: CohortSeed, first: int, scale: float) -> Cohort:
    persons = scaled(seed.persons, scale)
    granted = persons
    if seed.decision is Decision.PENDING or seed.decision is Decision.REJECTED:
        granted = 0
    elif seed.decision is Decision.ALLOCATED:
        granted = min(persons, talak_grants(scale))
    started = min(scaled(seed.started, scale), granted)
    completed = min(scaled(seed.completed, scale), started)
    discontinued = min(scaled(seed.discontinued, scale), started - completed)
    return Cohort(
        seed.name,
        seed.project,
        seed.round,
        seed.decision,
        first,
        persons,
        granted,
        started,
        completed,
        discontinued,
        seed.season,
    )


@dataclass(frozen=True)
class Plan:
    scale: float
    cohorts: tuple[Cohort, ...]
    accounts: int
    answers: dict[str, int]
    """Survey answers by kind: the first of the surveyed project's completers (and of those who discontinued), in
    the persons' order, answer."""

    def cohort(self, name: str) -> Cohort:
        return next(c for c in self.cohorts if c.name == name)

    def of_project(self, project: str) -> list[Cohort]:
        return [c for c in self.cohorts if c.project == project]

    def groups(self, season: Season) -> int:
        """How many study groups the season needs for its starters."""
        starters = sum(c.started for c in self.cohorts if c.season is season)
        return math.ceil(starters / GROUP_CAPACITY)

    def budgets(self) -> dict[str, int]:
        """The grants each project must hold (TĀLĀK's window grants what its own budget holds)."""
        return {p: sum(c.granted for c in self.of_project(p)) for p in PROJECTS if p != "TALAK"}


def plan(scale: float) -> Plan:
    if not 0 < scale <= 10:
        raise ValueError(f"the scale is more than 0 and at most 10, not {scale}")
    cohorts: list[Cohort] = []
    first = 1
    for seed in SEED_COHORTS:
        cohorts.append(_cohort(seed, first, scale))
        first += cohorts[-1].persons
    surveyed = [c for c in cohorts if c.project == SURVEYED_PROJECT]
    ended = {"completion": sum(c.completed for c in surveyed), "discontinuation": sum(c.discontinued for c in surveyed)}
    answers = {kind: min(scaled(SEED_ANSWERS[kind], scale), ended[kind]) for kind in KINDS}
    without = scaled(SEED_ACCOUNTS - sum(s.persons for s in SEED_COHORTS), scale)
    return Plan(scale, tuple(cohorts), first - 1 + without, answers)


# --------------------------------------------------------------------------- who studies where, who answers


@dataclass(frozen=True)
class Study:
    person: int
    project: str
    season: Season
    group: int
    """The season's group, by its place (0, 1, ...)."""
    outcome: str | None
    """completed, discontinued, or None: studying still."""


def studies(found: Plan, starters: Mapping[str, Sequence[int]]) -> list[Study]:
    """Every start of studies, in the persons' order, each in its season's groups in turn (`GROUP_CAPACITY` a group).
    `starters`: by cohort, the persons who start where the platform chose them (an allocation's); every other
    cohort's starters are its first granted persons."""
    by_season: dict[Season, int] = {}
    found_studies = []
    for cohort in found.cohorts:
        if not cohort.started or cohort.season is None:
            continue
        persons = starters.get(cohort.name, cohort.members[: cohort.started])
        for offset, person in enumerate(persons):
            place = by_season.get(cohort.season, 0)
            by_season[cohort.season] = place + 1
            group = place // GROUP_CAPACITY
            found_studies.append(Study(person, cohort.project, cohort.season, group, cohort.outcome(offset)))
    return found_studies


def answerers(found: Plan, every: Sequence[Study]) -> dict[str, list[int]]:
    """By kind: the persons who answer their survey (`Plan.answers` of the surveyed project's, in order)."""
    ended = {kind: [s.person for s in every if s.project == SURVEYED_PROJECT and _kind(s) == kind] for kind in KINDS}
    return {kind: sorted(ended[kind])[: found.answers[kind]] for kind in KINDS}


def _kind(study: Study) -> str | None:
    return {"completed": "completion", "discontinued": "discontinuation"}.get(study.outcome or "")


# --------------------------------------------------------------------------- the dashboard it ends with

Figures = dict[str, int | Decimal | None]
"""A figure's path (`projects.IMK.rounds.IMK-4.granted`, `surveys.stars.teacher.5`) -> its value."""
NO_ROUND_LABEL = "(no call)"
"""How a path names the round of applications outside any call's application period."""


def round_label(code: str) -> str:
    return code or NO_ROUND_LABEL


def percent(part: int, whole: int) -> Decimal | None:
    """As the dashboard rounds it: one decimal, half up; none of nobody."""
    return None if whole <= 0 else (Decimal(part) * 100 / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def mean(total: int, count: int) -> Decimal | None:
    return None if count <= 0 else (Decimal(total) / count).quantize(TENTH, rounding=ROUND_HALF_UP)


def expected(scale: float, answers: Mapping[str, Sequence[Mapping[str, Any]]]) -> Figures:
    """Every figure of the dashboard the scenario determines, once it ran at `scale`.

    `answers`: by kind, the answers the scenario's learners submit: surveys' seed answers for `plan(scale).answers`
    (`GET /api/surveys/dev/seed-answers`), whose stars and reasons the survey figures tally."""
    found = plan(scale)
    figures: Figures = {"accounts_opened": found.accounts}
    applicants = 0
    for project in PROJECTS:
        figures.update(_project(project, found.of_project(project)))
        applicants += sum(c.persons for c in found.of_project(project))
    figures["applications_total"] = applicants
    figures.update(_surveys("surveys", found.cohorts, answers))
    surveyed = found.of_project(SURVEYED_PROJECT)
    figures.update(_surveys(f"surveys_by_project.{SURVEYED_PROJECT}", surveyed, answers))
    return figures


def _project(project: str, cohorts: Sequence[Cohort]) -> Figures:
    totals = {
        "applicants": sum(c.persons for c in cohorts),
        "applications_submitted": sum(c.applications for c in cohorts),
        "granted": sum(c.granted for c in cohorts),
        "rejected": sum(c.rejected for c in cohorts),
        "withdrawn": 0,
        "lapsed": 0,
        "pending": sum(c.persons for c in cohorts if c.decision is Decision.PENDING),
        "started": sum(c.started for c in cohorts),
        "discontinued": sum(c.discontinued for c in cohorts),
        "completed": sum(c.completed for c in cohorts),
    }
    figures: Figures = {f"projects.{project}.{k}": v for k, v in totals.items()}
    for code in dict.fromkeys(c.round for c in cohorts):
        mine = [c for c in cohorts if c.round == code]
        values = {
            "applicants": sum(c.persons for c in mine),
            "granted": sum(c.granted for c in mine),
            "started": sum(c.started for c in mine),
            "completed": sum(c.completed for c in mine),
        }
        figures.update({f"projects.{project}.rounds.{round_label(code)}.{k}": v for k, v in values.items()})
    return figures


def _surveys(prefix: str, cohorts: Sequence[Cohort], answers: Mapping[str, Sequence[Mapping[str, Any]]]) -> Figures:
    """The survey figures of the answers given by the learners of `cohorts` (the surveyed project's all answer)."""
    surveyed = any(c.project == SURVEYED_PROJECT for c in cohorts)
    given = {kind: list(answers.get(kind, ())) if surveyed else [] for kind in KINDS}
    ended = {"completion": sum(c.completed for c in cohorts), "discontinuation": sum(c.discontinued for c in cohorts)}
    figures: Figures = {}
    for kind in KINDS:
        figures[f"{prefix}.answers.{kind}"] = len(given[kind])
        figures[f"{prefix}.response_rate.{kind}"] = percent(len(given[kind]), ended[kind])
    for aspect in ASPECTS:
        stars = [int(a[aspect]) for a in given["completion"]]
        figures[f"{prefix}.mean_rating.{aspect}"] = mean(sum(stars), len(stars))
        figures.update({f"{prefix}.stars.{aspect}.{s}": stars.count(s) for s in range(1, 6)})
    chosen = [reason for a in given["discontinuation"] for reason in a.get("reasons", ())]
    figures.update({f"{prefix}.reasons.{r}": chosen.count(r) for r in REASONS})
    return figures


# --------------------------------------------------------------------------- the dashboard as it is


def flatten(dashboard: Mapping[str, Any]) -> Figures:
    """The dashboard's answer (`GET /api/statistics/dashboard`) as the same paths `expected` gives."""
    figures: Figures = {
        "accounts_opened": dashboard["accounts_opened"],
        "applications_total": dashboard["applications_total"],
    }
    for project in dashboard["projects"]:
        code, values = project["project_code"], project["figures"]
        for name in (*APPLICATION_FIGURES, *STUDY_FIGURES):
            figures[f"projects.{code}.{name}"] = int(values.get(name, 0))
        for call, round_values in project["rounds"].items():
            for name in ROUND_FIGURES:
                figures[f"projects.{code}.rounds.{round_label(call)}.{name}"] = int(round_values.get(name, 0))
    figures.update(_flat_surveys("surveys", dashboard["surveys"]))
    for project, surveys in dashboard["surveys_by_project"].items():
        figures.update(_flat_surveys(f"surveys_by_project.{project}", surveys))
    return figures


def _flat_surveys(prefix: str, surveys: Mapping[str, Any]) -> Figures:
    figures: Figures = {}
    for kind in KINDS:
        figures[f"{prefix}.answers.{kind}"] = int(surveys["answers"].get(kind, 0))
        figures[f"{prefix}.response_rate.{kind}"] = _decimal(surveys["response_rate"].get(kind))
    for aspect in sorted({*ASPECTS, *surveys["stars"], *surveys["mean_rating"]}):
        figures[f"{prefix}.mean_rating.{aspect}"] = _decimal(surveys["mean_rating"].get(aspect))
        stars = {int(s): n for s, n in surveys["stars"].get(aspect, {}).items()}
        figures.update({f"{prefix}.stars.{aspect}.{s}": int(stars.get(s, 0)) for s in sorted({1, 2, 3, 4, 5, *stars})})
    for reason in sorted({*REASONS, *surveys["reasons"]}):
        figures[f"{prefix}.reasons.{reason}"] = int(surveys["reasons"].get(reason, 0))
    return figures


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class Mismatch:
    path: str
    expected: int | Decimal | None
    found: int | Decimal | None


@dataclass(frozen=True)
class Comparison:
    rows: list[tuple[str, int | Decimal | None, int | Decimal | None]] = field(default_factory=list)
    """(path, expected, on the dashboard), every path of either."""

    @property
    def mismatches(self) -> list[Mismatch]:
        return [Mismatch(*row) for row in self.rows if row[1] != row[2]]


def compare(want: Figures, found: Figures) -> Comparison:
    """Each expected figure beside the dashboard's; a figure the dashboard has and the plan does not is expected to
    be nothing (0, or none): an application or a study the scenario did not mean to make shows there."""
    rows = [(p, value, found[p] if p in found else _nothing(value)) for p, value in want.items()]
    rows += [(p, _nothing(value), value) for p, value in found.items() if p not in want]
    return Comparison(rows)


def _nothing(like: int | Decimal | None) -> int | None:
    return 0 if isinstance(like, int) else None


def grouped(rows: Sequence[tuple[str, Any, Any]]) -> Iterator[tuple[str, list[tuple[str, Any, Any]]]]:
    """The rows by their first two path parts (`projects.IMK`, `surveys.stars`), in order."""
    heads: dict[str, list[tuple[str, Any, Any]]] = {}
    for row in rows:
        heads.setdefault(".".join(row[0].split(".")[:2]), []).append(row)
    yield from heads.items()
