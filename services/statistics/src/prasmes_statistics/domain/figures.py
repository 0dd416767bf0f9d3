"""The dashboard's figures: what each one counts (its definition, published beside it), and the figures as of an
instant, per funding project, per application round, per call and for the surveys.

Pure Python. A figure counts either distinct persons or applications (or accounts, offers, answers, euros), as its
`unit` says; everything is as of an instant: what the platform had been told by then.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from hashlib import sha256

from prasmes_runtime.clock import RIGA


class Unit(StrEnum):
    ACCOUNTS = "accounts"
    PERSONS = "persons"
    APPLICATIONS = "applications"
    OFFERS = "offers"
    ANSWERS = "answers"
    EUR = "EUR"
    PERCENT = "percent"
    STARS = "stars"


@dataclass(frozen=True)
class Definition:
    code: str
    unit: Unit
    label: dict[str, str]
    """By language: lv, en."""
    definition: str
    """What exactly is counted, in English (the documented definition)."""


def _d(code: str, unit: Unit, lv: str, en: str, definition: str) -> Definition:
    return Definition(code, unit, {"lv": lv, "en": en}, definition)


DEFINITIONS: tuple[Definition, ...] = (
    _d("accounts_opened", Unit.ACCOUNTS, "Atvērtie konti", "Accounts opened", "Learning accounts opened by then."),
    _d(
        "applicants",
        Unit.PERSONS,
        "Pieteikušās personas",
        "Persons who applied",
        "Distinct persons with at least one application to the project submitted by then, whatever became of it. "
        "A person who applied again after a rejection counts once: this is the project's 'applications' column of "
        "the seed's slide, and the platform's total of applications is its sum over the projects.",
    ),
    _d(
        "applications_submitted",
        Unit.APPLICATIONS,
        "Iesniegtie pieteikumi",
        "Applications submitted",
        "Applications submitted by then (every application, a second one of the same person too).",
    ),
    _d(
        "granted",
        Unit.APPLICATIONS,
        "Piešķirts",
        "Granted",
        "Applications approved by then (a grant reserved), whatever followed: studies, a lapse.",
    ),
    _d("rejected", Unit.APPLICATIONS, "Atteikts", "Rejected", "Applications rejected by then."),
    _d("withdrawn", Unit.APPLICATIONS, "Atsaukts", "Withdrawn", "Applications the learner withdrew by then."),
    _d(
        "lapsed",
        Unit.APPLICATIONS,
        "Noilgušas",
        "Lapsed",
        "Granted applications with no enrolment by the project's deadline (the grant released), by then.",
    ),
    _d(
        "pending",
        Unit.APPLICATIONS,
        "Pieteikts",
        "Still applied",
        "Applications submitted by then and, at that instant, neither approved, rejected nor withdrawn (the seed's "
        "'applied'). Submitted = granted + rejected + withdrawn + pending, per application.",
    ),
    _d(
        "started",
        Unit.PERSONS,
        "Uzsākušas mācības",
        "Started studies",
        "Distinct persons whose provider recorded a start of studies in the project by then.",
    ),
    _d(
        "discontinued",
        Unit.PERSONS,
        "Pārtraukušas mācības",
        "Discontinued studies",
        "Distinct persons whose provider recorded a discontinuation in the project by then.",
    ),
    _d(
        "completed",
        Unit.PERSONS,
        "Pabeigušas mācības",
        "Completed studies",
        "Distinct persons whose provider recorded a completion in the project by then.",
    ),
    _d("reserved", Unit.EUR, "Rezervēts", "Reserved", "Grants reserved on approval by then, in all."),
    _d("released", Unit.EUR, "Atbrīvots", "Released", "Reserved money released back to the budget by then."),
    _d("spent", Unit.EUR, "Izlietots", "Spent", "Grants spent on programme costs by then."),
    _d(
        "outstanding",
        Unit.EUR,
        "Rezervēts, neizlietots",
        "Reserved, not yet spent",
        "Reserved minus released minus spent: what the project owes its granted learners at that instant.",
    ),
    _d(
        "offers_submitted",
        Unit.OFFERS,
        "Iesniegtie piedāvājumi",
        "Offers submitted",
        "Distinct offers to the call with a submitted version standing by then (submitted and not withdrawn).",
    ),
    _d(
        "offers_withdrawn",
        Unit.OFFERS,
        "Atsauktie piedāvājumi",
        "Offers withdrawn",
        "Distinct offers whose every version submitted by then was withdrawn by then.",
    ),
    _d("offers_approved", Unit.OFFERS, "Apstiprinātie piedāvājumi", "Offers approved", "Offers approved by then."),
    _d("offers_rejected", Unit.OFFERS, "Noraidītie piedāvājumi", "Offers rejected", "Offers rejected by then."),
    _d(
        "answers",
        Unit.ANSWERS,
        "Atbildes",
        "Answers",
        "Survey answers submitted by then, per kind (completion, discontinuation).",
    ),
    _d(
        "response_rate",
        Unit.PERCENT,
        "Atbildējušo īpatsvars",
        "Response rate",
        "Answers of a kind as a percent of the distinct persons who completed (or discontinued) studies by then, "
        "one decimal; none before anyone did.",
    ),
    _d(
        "mean_rating",
        Unit.STARS,
        "Vidējais vērtējums",
        "Mean rating",
        "The mean of the stars given to an aspect in the completion answers by then, one decimal.",
    ),
)
BY_CODE: Mapping[str, Definition] = {d.code: d for d in DEFINITIONS}
DEFINITIONS_LV: Mapping[str, str] = {
    "accounts_opened": "Līdz tam brīdim atvērtie mācību konti.",
    "applicants": "Dažādas personas, kas līdz tam brīdim iesniegušas vismaz vienu pieteikumu projektam, lai kas ar to "
    "notika pēc tam. Persona, kas pēc atteikuma pieteicās vēlreiz, tiek skaitīta vienreiz: tā ir projekta "
    "pieteikumu kolonna sākotnējā slaidā, un platformas pieteikumu kopskaits ir tās summa visos projektos.",
    "applications_submitted": "Līdz tam brīdim iesniegtie pieteikumi (katrs pieteikums, arī tās pašas personas "
    "otrais).",
    "granted": "Līdz tam brīdim apstiprinātie pieteikumi (rezervēts finansējums), lai kas sekoja: mācības vai "
    "noilgums.",
    "rejected": "Līdz tam brīdim atteiktie pieteikumi.",
    "withdrawn": "Pieteikumi, ko izglītojamais līdz tam brīdim atsauca.",
    "lapsed": "Apstiprināti pieteikumi bez uzņemšanas grupā līdz projekta termiņam (finansējums atbrīvots), līdz tam "
    "brīdim.",
    "pending": "Līdz tam brīdim iesniegti pieteikumi, kas tajā brīdī nav ne apstiprināti, ne atteikti, ne atsaukti. "
    "Iesniegtie = piešķirtie + atteiktie + atsauktie + pieteiktie, katram pieteikumam.",
    "started": "Dažādas personas, kurām izglītības iestāde līdz tam brīdim reģistrējusi mācību uzsākšanu projektā.",
    "discontinued": "Dažādas personas, kurām izglītības iestāde līdz tam brīdim reģistrējusi mācību pārtraukšanu "
    "projektā.",
    "completed": "Dažādas personas, kurām izglītības iestāde līdz tam brīdim reģistrējusi mācību pabeigšanu projektā.",
    "reserved": "Līdz tam brīdim apstiprināšanā rezervētais finansējums kopā.",
    "released": "Rezervētā nauda, kas līdz tam brīdim atgriezta budžetā.",
    "spent": "Līdz tam brīdim programmu izmaksām izlietotais finansējums.",
    "outstanding": "Rezervētais mīnus atbrīvotais mīnus izlietotais: tas, ko projekts tajā brīdī ir parādā saviem "
    "atbalstītajiem izglītojamajiem.",
    "offers_submitted": "Dažādi piedāvājumi uzaicinājumam, kuriem līdz tam brīdim ir spēkā esoša iesniegta versija "
    "(iesniegta un nav atsaukta).",
    "offers_withdrawn": "Dažādi piedāvājumi, kuru visas līdz tam brīdim iesniegtās versijas līdz tam brīdim atsauktas.",
    "offers_approved": "Līdz tam brīdim apstiprinātie piedāvājumi.",
    "offers_rejected": "Līdz tam brīdim noraidītie piedāvājumi.",
    "answers": "Līdz tam brīdim iesniegtās aptauju atbildes, pa veidiem (pabeigšana, pārtraukšana).",
    "response_rate": "Viena veida atbildes procentos no dažādajām personām, kas līdz tam brīdim mācības pabeigušas "
    "(vai pārtraukušas), ar vienu decimālzīmi; nav, pirms kāds to izdarījis.",
    "mean_rating": "Līdz tam brīdim pabeigšanas atbildēs aspektam piešķirto zvaigžņu vidējais, ar vienu decimālzīmi.",
}
"""What every figure counts, in Latvian (the definitions above are the documented English ones)."""

APPLICATION_FIGURES = (
    "applicants",
    "applications_submitted",
    "granted",
    "rejected",
    "withdrawn",
    "lapsed",
    "pending",
)
STUDY_FIGURES = ("started", "discontinued", "completed")
MONEY_FIGURES = ("reserved", "released", "spent", "outstanding")
ROUND_FIGURES = ("applicants", "granted", "started", "completed")
OFFER_FIGURES = ("offers_submitted", "offers_withdrawn", "offers_approved", "offers_rejected")
SERIES_FIGURES = (
    "accounts_opened",
    "applications_submitted",
    "granted",
    "rejected",
    "started",
    "discontinued",
    "completed",
)
"""The figures with a daily time series."""
FUNNEL = ("accounts_opened", "applicants", "granted", "started", "completed")
"""The funnel's stages, in order; `discontinued` is shown beside it."""

TENTH = Decimal("0.1")


def person_of(key: str, learner_id: str) -> str:
    """A learner's digest under the projection's key: the same person gives the same digest, and it leads to no one
    without the key (the learner's id itself is never stored)."""
    return hmac.new(bytes.fromhex(key), learner_id.encode(), sha256).hexdigest()[:32]


def percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def mean(total: int, count: int) -> Decimal | None:
    if count <= 0:
        return None
    return (Decimal(total) / count).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Instant:
    """The instant figures are as of: one asked for, or now."""

    at: datetime
    given: bool

    @property
    def key(self) -> object:
        """What figures as of it are the same for, the projection unchanged: the instant asked for, or now's day in
        Riga (the study figures count by day)."""
        return self.at if self.given else ("now", self.at.astimezone(RIGA).date())


@dataclass(frozen=True)
class ProjectFigures:
    project_code: str
    figures: dict[str, int | Decimal]
    """Code -> value: the application, study and money figures."""
    rounds: dict[str, dict[str, int]] = field(default_factory=dict)
    """Call code -> the round's figures (applications placed by their submission day); "" for applications
    submitted outside any call's application period."""


@dataclass(frozen=True)
class CallFigures:
    call_id: str
    code: str
    project_code: str
    phase: str | None
    figures: dict[str, int]


@dataclass(frozen=True)
class SurveyFigures:
    answers: dict[str, int]
    """Kind -> answers."""
    response_rate: dict[str, Decimal | None]
    mean_rating: dict[str, Decimal | None]
    """Aspect -> mean stars."""
    stars: dict[str, dict[int, int]]
    """Aspect -> stars -> answers."""
    reasons: dict[str, int]
    """Reason code -> discontinuation answers that chose it."""


@dataclass(frozen=True)
class Dashboard:
    as_of: datetime
    accounts_opened: int
    applications_total: int
    """The sum of the projects' `applicants` (the seed's 'applications for studies in all')."""
    projects: list[ProjectFigures]
    calls: list[CallFigures]
    surveys: SurveyFigures
    surveys_by_project: dict[str, SurveyFigures]


def total_applications(projects: Sequence[ProjectFigures]) -> int:
    return sum(int(p.figures.get("applicants", 0)) for p in projects)


def funnel(accounts: int, project: ProjectFigures) -> list[tuple[str, int]]:
    """The funnel's stages for a project: accounts (the platform's), then the project's persons and applications."""
    values = {"accounts_opened": accounts, **{k: int(v) for k, v in project.figures.items()}}
    return [(stage, values.get(stage, 0)) for stage in FUNNEL]


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    new: int
    total: int


def daily(days: Sequence[date], first: date | None = None, last: date | None = None) -> list[SeriesPoint]:
    """A daily series from the days things happened on (one per counted thing): every day from the first to the
    last, the day's count and the running total (days with nothing in between included, at 0 new)."""
    if not days:
        return []
    counts: dict[date, int] = {}
    for day in days:
        counts[day] = counts.get(day, 0) + 1
    start = first or min(counts)
    end = last or max(counts)
    before = sum(n for d, n in counts.items() if d < start)
    points: list[SeriesPoint] = []
    day, total = start, before
    while day <= end:
        total += counts.get(day, 0)
        points.append(SeriesPoint(day, counts.get(day, 0), total))
        day += timedelta(days=1)
    return points
