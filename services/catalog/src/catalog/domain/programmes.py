"""Programmes: the provider's form checked against the register, the cost the platform computes from the
versioned coefficient table, and publication under the calls' cooperation agreements."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from prasmes_runtime.errors import Conflict, InvalidInput, Violation
from prasmes_runtime.money import money

from catalog.domain.common import (
    DIGCOMP_LEVELS,
    check_digcomp,
    check_language,
    check_text,
    listed,
    raise_if_any,
    search_key,
)
from catalog.domain.providers import LicensedProgramme

# --------------------------------------------------------------------------- reference lists


class ProgrammeForm(StrEnum):
    IN_PERSON = "in_person"
    REMOTE = "remote"
    HYBRID = "hybrid"


class ProgrammeType(StrEnum):
    PROFESSIONAL_DEVELOPMENT = "professional_development"
    """Profesionālās pilnveides izglītības programma."""
    VOCATIONAL_FURTHER_EDUCATION = "vocational_further_education"
    """Profesionālās tālākizglītības programma."""
    NON_FORMAL = "non_formal"
    """Neformālās izglītības programma."""


class OperatingSystem(StrEnum):
    WINDOWS = "windows"
    MACOS = "macos"
    LINUX = "linux"
    CHROMEOS = "chromeos"
    ANY = "any"


QUALIFICATIONS: dict[str, dict[str, str]] = {
    "datorsistemu_tehnikis": {"lv": "Datorsistēmu tehniķis", "en": "Computer systems technician"},
    "programmesanas_tehnikis": {"lv": "Programmēšanas tehniķis", "en": "Programming technician"},
    "kiberdrosibas_tehnikis": {"lv": "Kiberdrošības tehniķis", "en": "Cybersecurity technician"},
    "datortiklu_administrators": {"lv": "Datortīklu administrators", "en": "Computer network administrator"},
    "datu_analitikis": {"lv": "Datu analītiķis", "en": "Data analyst"},
    "tiimekla_izstradatajs": {"lv": "Tīmekļa izstrādātājs", "en": "Web developer"},
    "biroja_vadnieks": {"lv": "Biroja vadītājs", "en": "Office manager"},
}
"""Qualifications whose professional competences a programme may target (the first three are the 4th call's)."""


# --------------------------------------------------------------------------- cost


def per_hour_rate(hourly_rate: Decimal, coefficient: Decimal) -> Decimal:
    """The base rate times the programme group's coefficient, rounded half up to cents first."""
    return money(hourly_rate * coefficient)


def cost_per_participant(hourly_rate: Decimal, coefficient: Decimal, hours: int) -> Decimal:
    """1.56 EUR x 1.28 = 2.00 EUR per hour; x 160 h = 320.00 EUR."""
    return money(per_hour_rate(hourly_rate, coefficient) * hours)


@dataclass(frozen=True)
class CoefficientTable:
    version: int
    hourly_rate: Decimal
    """Euros per hour before the coefficient: money, two places."""
    coefficients: Mapping[str, Decimal]
    """Programme group -> minimum cost coefficient (Cabinet regulation No 655, annex 3)."""
    valid_from: date
    created_at: datetime
    created_by: str | None = None

    def coefficient_for(self, programme_group: str) -> Decimal | None:
        return self.coefficients.get(programme_group)


MAX_PROGRAMME_GROUPS = 500
MAX_HOURLY_RATE = Decimal(1000)
"""EUR per hour before the coefficient (1.56 in 2026): anything near this is a typo, and a cost must fit the
money columns."""
MAX_COEFFICIENT = Decimal(100)
"""The Cabinet's minimum cost coefficients lie between 1 and 3."""


@dataclass(frozen=True)
class CoefficientTableForm:
    """A new table as the agency sent it: JSON values, each checked here (so that every mistake is named at once)."""

    hourly_rate: object = None
    coefficients: object = None
    valid_from: object = None


def _number(violations: list[Violation], name: str, raw: object, *, places: int, maximum: Decimal) -> Decimal | None:
    """A positive amount up to `maximum` with at most `places` decimal places, from a JSON number or a string such
    as "1.56"."""
    if raw is None:
        violations.append(Violation(name, "required", "a number such as 1.56"))
        return None
    try:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
            raise InvalidOperation
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        violations.append(Violation(name, "number", "must be a number such as 1.56 (a point, not a comma)"))
        return None
    if not value.is_finite() or value <= 0:
        violations.append(Violation(name, "positive", "must be a positive number"))
    elif value > maximum:
        violations.append(Violation(name, "max", f"must be at most {maximum}"))
    elif -value.as_tuple().exponent > places:  # type: ignore[operator]
        violations.append(Violation(name, "decimal_places", f"must have at most {places} decimal places"))
    else:
        return value
    return None


def _day(violations: list[Violation], name: str, raw: object, today: date) -> date | None:
    if raw is None:
        violations.append(Violation(name, "required", "the first day the table applies, e.g. 2026-03-01"))
        return None
    try:
        day = raw if isinstance(raw, date) else date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        day = None
    if day is None:
        violations.append(Violation(name, "date", "a date such as 2026-03-01"))
    elif day < today:
        violations.append(Violation(name, "not_in_past", "a new table cannot apply to the past"))
    else:
        return day
    return None


def _coefficients(violations: list[Violation], raw: object) -> dict[str, Decimal]:
    if raw is None:
        violations.append(Violation("coefficients", "required", "programme group -> coefficient, at least one"))
        return {}
    if not isinstance(raw, Mapping):
        violations.append(
            Violation("coefficients", "object", 'programme group -> coefficient, e.g. {"Biroja darbs": 1.1}')
        )
        return {}
    if not raw:
        violations.append(Violation("coefficients", "required", "at least one programme group"))
    elif len(raw) > MAX_PROGRAMME_GROUPS:
        violations.append(Violation("coefficients", "max_length", f"at most {MAX_PROGRAMME_GROUPS} programme groups"))
    found: dict[str, Decimal] = {}
    for group, value in raw.items():
        if not str(group).strip():
            violations.append(Violation("coefficients", "required", "a programme group's name must not be empty"))
        elif len(str(group)) > 200:
            violations.append(
                Violation("coefficients", "max_length", "a programme group's name has at most 200 characters")
            )
        coefficient = _number(violations, f"coefficients.{group}", value, places=4, maximum=MAX_COEFFICIENT)
        if coefficient is not None:
            found[str(group)] = coefficient
    return found


def new_coefficient_table(
    version: int,
    form: CoefficientTableForm,
    today: date,
    now: datetime,
    created_by: str,
    *,
    refused: Iterable[Violation] = (),
) -> CoefficientTable:
    """The next version of the table, or a 422 naming every problem of the form at once (with those the request's
    parsing found, `refused`)."""
    violations = list(refused)
    hourly_rate = _number(violations, "hourly_rate", form.hourly_rate, places=2, maximum=MAX_HOURLY_RATE)
    coefficients = _coefficients(violations, form.coefficients)
    valid_from = _day(violations, "valid_from", form.valid_from, today)
    raise_if_any(violations)
    assert hourly_rate is not None and valid_from is not None  # else a violation was raised
    return CoefficientTable(version, money(hourly_rate), coefficients, valid_from, now, created_by)


@dataclass(frozen=True)
class Cost:
    per_participant: Decimal
    per_hour: Decimal
    hourly_rate: Decimal
    coefficient: Decimal
    table_version: int


def compute_cost(table: CoefficientTable, programme_group: str, hours: int) -> Cost:
    coefficient = table.coefficient_for(programme_group)
    if coefficient is None:
        raise InvalidInput.of("programme_group", "in_coefficient_table", "no cost coefficient for this group")
    return Cost(
        per_participant=cost_per_participant(table.hourly_rate, coefficient, hours),
        per_hour=per_hour_rate(table.hourly_rate, coefficient),
        hourly_rate=table.hourly_rate,
        coefficient=coefficient,
        table_version=table.version,
    )


def quote_cost(table: CoefficientTable, programme_group: str, hours: int) -> Cost:
    """The cost a draft would be registered with, by the same rule as its registration: every problem of the two
    fields it depends on named at once."""
    violations: list[Violation] = []
    if not programme_group.strip():
        violations.append(Violation("programme_group", "required", "choose the programme group"))
    elif table.coefficient_for(programme_group) is None:
        violations.append(
            Violation(
                "programme_group",
                "in_coefficient_table",
                f"no cost coefficient for this group in table version {table.version}",
            )
        )
    if hours <= 0:
        violations.append(Violation("total_hours", "positive", "hours must be positive"))
    elif hours > MAX_QUOTED_HOURS:
        violations.append(Violation("total_hours", "max_hours", f"at most {MAX_QUOTED_HOURS} hours"))
    raise_if_any(violations)
    return compute_cost(table, programme_group, hours)


MAX_QUOTED_HOURS = 10_000
"""Longer than any licensed curriculum (vocational ones run to 1 920 h): a larger figure is a typo."""


# --------------------------------------------------------------------------- programmes


class ProgrammeStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ProgrammeInput:
    """What a provider fills in. The cost is not here: the platform computes it."""

    title: Mapping[str, str]
    licence_number: str
    licence_date: date
    thematic_area: str
    programme_group: str
    programme_type: ProgrammeType
    form: ProgrammeForm
    digcomp_level: int
    total_hours: int
    theory_hours: int
    practice_hours: int
    digital_share_percent: Decimal
    qualifications: Sequence[str]
    professional_competences: Sequence[str]
    learning_outcomes: Sequence[str]
    description: str
    language: str
    entry_level: int
    prior_knowledge: str
    equipment: str
    operating_systems: Sequence[OperatingSystem]
    location_ids: Sequence[uuid.UUID]
    curriculum_document_id: uuid.UUID


class AgreementStatus(StrEnum):
    SIGNED = "signed"
    ENDED = "ended"


@dataclass(frozen=True)
class Agreement:
    """A cooperation agreement (calls' offer) that covers programmes until `valid_until`."""

    offer_id: uuid.UUID
    call_id: uuid.UUID
    institution_id: uuid.UUID
    status: AgreementStatus
    valid_until: date | None


@dataclass(frozen=True)
class Programme:
    id: uuid.UUID
    institution_id: uuid.UUID
    spec: ProgrammeInput
    cost: Cost
    status: ProgrammeStatus
    registered_at: datetime
    registered_by: str
    published_at: datetime | None = None
    publication_valid_until: date | None = None
    call_id: uuid.UUID | None = None

    @property
    def title(self) -> dict[str, str]:
        return dict(self.spec.title)

    def summary(self) -> dict[str, Any]:
        return {"programme_id": str(self.id), "status": self.status.value}

    @property
    def published(self) -> bool:
        return self.status == ProgrammeStatus.PUBLISHED

    def signed_under(self, call_id: uuid.UUID, at: datetime, valid_until: date) -> Programme:
        """A signed agreement publishes the programme until it ends; one already published stays under its
        first agreement's call, public until the longest of its agreements ends."""
        if self.published:
            until = max(self.publication_valid_until or valid_until, valid_until)
            return replace(self, publication_valid_until=until)
        return replace(
            self,
            status=ProgrammeStatus.PUBLISHED,
            published_at=at,
            publication_valid_until=valid_until,
            call_id=call_id,
        )

    def agreement_ended(self, still_covering: Agreement | None) -> Programme:
        """One of its agreements ended: another signed agreement still covering it keeps it public (until that
        one ends), otherwise a published programme is withdrawn."""
        if still_covering is not None:
            return replace(
                self,
                status=ProgrammeStatus.PUBLISHED,
                publication_valid_until=still_covering.valid_until,
                call_id=still_covering.call_id,
            )
        if self.published:
            return replace(
                self, status=ProgrammeStatus.WITHDRAWN, published_at=None, publication_valid_until=None, call_id=None
            )
        return self


def _check_title(violations: list[Violation], title: Mapping[str, str]) -> None:
    for language in ("lv", "en"):
        check_text(violations, f"title.{language}", title.get(language, ""), max_length=300)
    extra = set(title) - {"lv", "en"}
    if extra:
        violations.append(Violation("title", "languages", f"only lv and en, not {listed(sorted(extra))}"))


def _check_licence(violations: list[Violation], spec: ProgrammeInput, licence: LicensedProgramme | None) -> None:
    if licence is None:
        violations.append(
            Violation("licence_number", "registered", "no licensed programme of this institution has this number")
        )
        return
    if spec.licence_date != licence.licence_date:
        violations.append(
            Violation("licence_date", "matches_register", f"the register dates licence {licence.number} differently")
        )
    if spec.total_hours != licence.hours:
        violations.append(
            Violation("total_hours", "matches_licence", f"the licensed curriculum has {licence.hours} hours")
        )
    if (spec.theory_hours, spec.practice_hours) != (licence.theory_hours, licence.practice_hours):
        violations.append(
            Violation(
                "hours_split",
                "matches_licence",
                f"the licensed curriculum splits {licence.theory_hours} h theory / {licence.practice_hours} h practice",
            )
        )


def _check_hours(violations: list[Violation], spec: ProgrammeInput) -> None:
    for name in ("total_hours", "theory_hours", "practice_hours"):
        if getattr(spec, name) < 0 or (name == "total_hours" and spec.total_hours == 0):
            violations.append(Violation(name, "positive", "hours must be positive"))
    if spec.theory_hours + spec.practice_hours != spec.total_hours:
        violations.append(
            Violation(
                "hours_split",
                "sums_to_total",
                f"theory {spec.theory_hours} h and practice {spec.practice_hours} h do not add up to the total "
                f"{spec.total_hours} h",
            )
        )


def _check_lists(violations: list[Violation], spec: ProgrammeInput) -> None:
    unknown = [q for q in spec.qualifications if q not in QUALIFICATIONS]
    if not spec.qualifications:
        violations.append(Violation("qualifications", "required", "name at least one target qualification"))
    elif unknown:
        violations.append(Violation("qualifications", "known", f"unknown qualifications: {listed(unknown)}"))
    for name in ("learning_outcomes", "professional_competences"):
        items: Sequence[str] = getattr(spec, name)
        if not items or any(not item.strip() for item in items):
            violations.append(Violation(name, "required", "at least one, none empty"))
        elif len(items) > 50 or any(len(item) > 1000 for item in items):
            violations.append(Violation(name, "max_length", "at most 50 items of 1000 characters"))
    if not spec.operating_systems:
        violations.append(
            Violation("operating_systems", "required", "state which operating systems the learner may use")
        )
    if not spec.location_ids:
        violations.append(Violation("location_ids", "required", "at least one implementation location"))


def _check_levels(violations: list[Violation], spec: ProgrammeInput) -> None:
    check_digcomp(violations, "digcomp_level", spec.digcomp_level)
    check_digcomp(violations, "entry_level", spec.entry_level)
    levels_valid = spec.entry_level in DIGCOMP_LEVELS and spec.digcomp_level in DIGCOMP_LEVELS
    if levels_valid and spec.entry_level > spec.digcomp_level:
        violations.append(
            Violation("entry_level", "not_above_level", "the entry level cannot exceed the programme's level")
        )
    share = spec.digital_share_percent
    if not share.is_finite() or share < 0:
        violations.append(Violation("digital_share_percent", "min_0", "must be 0 or more"))
    elif share > 100:
        violations.append(Violation("digital_share_percent", "max_100", "a share cannot exceed 100 %"))


def validate_programme(
    spec: ProgrammeInput,
    licence: LicensedProgramme | None,
    table: CoefficientTable,
    own_locations: Iterable[uuid.UUID],
) -> None:
    violations: list[Violation] = []
    _check_title(violations, spec.title)
    check_text(violations, "licence_number", spec.licence_number, max_length=50)
    check_text(violations, "thematic_area", spec.thematic_area, max_length=200)
    check_text(violations, "description", spec.description, max_length=10000, min_length=20)
    check_text(violations, "prior_knowledge", spec.prior_knowledge, max_length=2000)
    check_text(violations, "equipment", spec.equipment, max_length=2000)
    check_language(violations, spec.language)
    check_text(violations, "programme_group", spec.programme_group, max_length=200)
    if spec.programme_group.strip() and table.coefficient_for(spec.programme_group) is None:
        violations.append(
            Violation(
                "programme_group",
                "in_coefficient_table",
                f"no cost coefficient for this group in table version {table.version}",
            )
        )
    _check_hours(violations, spec)
    _check_levels(violations, spec)
    _check_lists(violations, spec)
    if spec.licence_number.strip():
        _check_licence(violations, spec, licence)
    foreign = set(spec.location_ids) - set(own_locations)
    if foreign:
        violations.append(
            Violation(
                "location_ids",
                "own_location",
                f"not locations of this institution: {listed(sorted(map(str, foreign)))}",
            )
        )
    raise_if_any(violations)


def register_programme(
    institution_id: uuid.UUID,
    spec: ProgrammeInput,
    licence: LicensedProgramme | None,
    table: CoefficientTable,
    own_locations: Iterable[uuid.UUID],
    registered_by: str,
    now: datetime,
) -> Programme:
    validate_programme(spec, licence, table, own_locations)
    cost = compute_cost(table, spec.programme_group, spec.total_hours)
    return Programme(uuid.uuid4(), institution_id, spec, cost, ProgrammeStatus.DRAFT, now, registered_by)


def licence_key(licence_number: str) -> str:
    """The licence number as the register spells it (what a programme is one of per institution)."""
    return licence_number.strip()


def refuse_second_programme(existing: Programme | None) -> None:
    """An institution registers a licensed programme once: the existing one, whatever its state, is the one to
    offer (a withdrawn programme returns to the catalogue under a new cooperation agreement)."""
    if existing is not None:
        raise Conflict(
            f"this institution already has a programme with licence {licence_key(existing.spec.licence_number)}",
            {
                "programme_id": str(existing.id),
                "status": existing.status.value,
                "licence_number": licence_key(existing.spec.licence_number),
            },
        )


def programme_search_text(spec: ProgrammeInput, institution_name: str, cities: Iterable[str]) -> str:
    """What the public search matches every query word against (normalised)."""
    parts = [
        *spec.title.values(),
        spec.description,
        spec.thematic_area,
        spec.programme_group,
        institution_name,
        *spec.learning_outcomes,
        *spec.professional_competences,
        *(name for q in spec.qualifications for name in QUALIFICATIONS.get(q, {}).values()),
        *cities,
    ]
    return search_key(" ".join(parts))


# --------------------------------------------------------------------------- an institution's own list


class ProgrammeSort(StrEnum):
    NEWEST = "-registered"
    OLDEST = "registered"
    TITLE = "title"
    COST = "cost"
    COST_DESC = "-cost"


def select_programmes(
    programmes: Iterable[Programme],
    statuses: Iterable[ProgrammeStatus] = (),
    words: str = "",
    sort: ProgrammeSort = ProgrammeSort.NEWEST,
    language: str = "lv",
) -> list[Programme]:
    """An institution's programmes narrowed to the states and words asked (each word a substring of a title or the
    licence number, diacritics and case aside), in the order asked (ties by id, so pages do not overlap)."""
    wanted = set(statuses)
    keys = [search_key(w) for w in words.split() if w.strip()]
    chosen = [
        p
        for p in programmes
        if (not wanted or p.status in wanted)
        and all(k in search_key(" ".join([*p.spec.title.values(), p.spec.licence_number])) for k in keys)
    ]
    orders: dict[ProgrammeSort, tuple[Any, bool]] = {
        ProgrammeSort.NEWEST: (lambda p: p.registered_at, True),
        ProgrammeSort.OLDEST: (lambda p: p.registered_at, False),
        ProgrammeSort.TITLE: (lambda p: search_key(p.spec.title.get(language) or p.spec.title.get("lv", "")), False),
        ProgrammeSort.COST: (lambda p: p.cost.per_participant, False),
        ProgrammeSort.COST_DESC: (lambda p: p.cost.per_participant, True),
    }
    key, reverse = orders[sort]
    chosen.sort(key=lambda p: str(p.id))
    return sorted(chosen, key=key, reverse=reverse)
