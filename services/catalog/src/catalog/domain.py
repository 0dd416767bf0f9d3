"""Institutions, programmes, study groups, costs and the public catalogue's rules. Pure Python: no I/O.

Validation collects every violation it can find, so that a provider sees all the mistakes of a form
at once (the agency's list of the most common errors), each naming the field and the rule.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from typing import Any

import holidays
from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import InvalidInput, Violation

from catalog.registers import LicensedProgramme, RegisteredInstitution

CENT = Decimal("0.01")
DIGCOMP_LEVELS = range(1, 9)
MAX_CAPACITY = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE = re.compile(r"^[a-z]{2}$")


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

RATING_ASPECTS = ("knowledge_and_skills", "content_quality", "teacher", "learning_process")
MIN_PUBLIC_RATERS = 10


# --------------------------------------------------------------------------- text


def search_key(text: str) -> str:
    """Diacritics-insensitive, case-insensitive form: NFKD, combining marks stripped, casefolded.
    "Datu analīze" and "DATU ANALIZE" both become "datu analize"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def search_words(query: str) -> list[str]:
    """The words of a search query, normalised like the indexed text; each must match."""
    return re.findall(r"\w+", search_key(query))[:10]


def address_key(address: str) -> str:
    """Addresses compare without diacritics, case and punctuation ("Rīga, Brīvības iela 1" = "riga brivibas iela 1")."""
    return " ".join(re.findall(r"\w+", search_key(address)))


def _invalid(violations: list[Violation]) -> None:
    if violations:
        raise InvalidInput(*violations)


def _text(violations: list[Violation], name: str, value: str, *, max_length: int, min_length: int = 1) -> None:
    if len(value.strip()) < min_length:
        violations.append(Violation(name, "required", f"must not be empty (at least {min_length} characters)"))
    elif len(value) > max_length:
        violations.append(Violation(name, "max_length", f"must have at most {max_length} characters"))


def _digcomp(violations: list[Violation], name: str, level: int) -> None:
    if level not in DIGCOMP_LEVELS:
        violations.append(Violation(name, "digcomp_range", "a DigComp proficiency level is 1 to 8"))


# --------------------------------------------------------------------------- working days


@cache
def _latvian_calendar() -> holidays.HolidayBase:
    # Public holidays, 4 May and 18 November moved to Monday when they fall on a weekend, and the
    # Cabinet's transferred days off (with the Saturdays worked instead) all come from `holidays`.
    return holidays.country_holidays("LV")


def is_working_day(day: date) -> bool:
    return bool(_latvian_calendar().is_working_day(day))


def next_working_day(after: date) -> date:
    day = after + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def decision_due(registered_at: datetime) -> datetime:
    """Users are approved within one working day: a registration must be decided by the end of the first
    Latvian working day after the day it arrived (Europe/Riga). Friday before a Monday holiday -> Tuesday."""
    arrived = registered_at.astimezone(RIGA).date()
    due_day = next_working_day(arrived)
    return datetime.combine(due_day + timedelta(days=1), time.min, tzinfo=RIGA)


def is_overdue(registered_at: datetime, now: datetime) -> bool:
    return now >= decision_due(registered_at)


# --------------------------------------------------------------------------- cost


def per_hour_rate(hourly_rate: Decimal, coefficient: Decimal) -> Decimal:
    """The base rate times the programme group's coefficient, rounded half up to cents first."""
    return (hourly_rate * coefficient).quantize(CENT, ROUND_HALF_UP)


def cost_per_participant(hourly_rate: Decimal, coefficient: Decimal, hours: int) -> Decimal:
    """1.56 EUR x 1.28 = 2.00 EUR per hour; x 160 h = 320.00 EUR."""
    return (per_hour_rate(hourly_rate, coefficient) * hours).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class CoefficientTable:
    version: int
    hourly_rate: Decimal
    coefficients: Mapping[str, Decimal]
    """Programme group -> minimum cost coefficient (Cabinet regulation No 655, annex 3)."""
    valid_from: date
    created_at: datetime
    created_by: str | None = None

    def coefficient_for(self, programme_group: str) -> Decimal | None:
        return self.coefficients.get(programme_group)


def _decimal(violations: list[Violation], name: str, raw: Decimal, *, places: int) -> None:
    if not raw.is_finite() or raw <= 0:
        violations.append(Violation(name, "positive", "must be a positive number"))
    elif -raw.as_tuple().exponent > places:  # type: ignore[operator]
        violations.append(Violation(name, "decimal_places", f"must have at most {places} decimal places"))


def new_coefficient_table(
    version: int,
    hourly_rate: Decimal,
    coefficients: Mapping[str, Decimal],
    valid_from: date,
    now: datetime,
    created_by: str,
) -> CoefficientTable:
    violations: list[Violation] = []
    _decimal(violations, "hourly_rate", hourly_rate, places=2)
    if not coefficients:
        violations.append(Violation("coefficients", "required", "at least one programme group"))
    for group, coefficient in coefficients.items():
        _text(violations, "coefficients", group, max_length=200)
        _decimal(violations, f"coefficients.{group}", coefficient, places=4)
    _invalid(violations)
    return CoefficientTable(version, hourly_rate, dict(coefficients), valid_from, now, created_by)


# --------------------------------------------------------------------------- documents


class DocumentPurpose(StrEnum):
    STATEMENT = "statement"
    """The statement on the use of the platform: qualified e-signature with a time stamp (ASiC-E or PAdES)."""
    CURRICULUM = "curriculum"
    """The licensed curriculum of a programme: a PDF or an ASiC-E container."""


@dataclass(frozen=True)
class Document:
    id: uuid.UUID
    owner_id: str
    institution_id: uuid.UUID | None
    purpose: DocumentPurpose
    format: str
    media_type: str
    filename: str | None
    size: int
    sha256: str
    signatures: int
    timestamps: int
    signing_time: datetime | None
    timestamp_time: datetime | None
    uploaded_at: datetime


# --------------------------------------------------------------------------- register checks


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    passed: bool
    detail: str


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def eligibility_checks(registered: RegisteredInstitution, today: date) -> list[RuleCheck]:
    """The register-based rules for submitting an offer to a call (the calls service decides with them)."""
    three_years_ago = _years_before(today, 3)
    accredited = registered.accredited and (
        registered.accreditation_valid_until is None or registered.accreditation_valid_until >= today
    )
    vocational = [
        p
        for p in registered.licensed_programmes
        if p.kind == "vocational" and p.accredited and p.licence_date <= three_years_ago
    ]
    return [
        RuleCheck(
            "registered_three_years",
            registered.registration_date <= three_years_ago,
            f"in the register since {registered.registration_date.isoformat()}",
        ),
        RuleCheck("accredited", accredited, "accredited" if accredited else "no accreditation in force"),
        RuleCheck(
            "vocational_programme_three_years",
            bool(vocational),
            f"{len(vocational)} licensed and accredited vocational programme(s) delivered for 3+ years",
        ),
    ]


# --------------------------------------------------------------------------- institutions


class InstitutionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProviderRole(StrEnum):
    ADMIN = "provider_admin"
    STAFF = "provider_staff"


REJECTION_REASONS = ("register_mismatch", "statement_invalid", "not_an_education_institution", "duplicate", "other")


@dataclass(frozen=True)
class Institution:
    id: uuid.UUID
    name: str
    register_number: str
    legal_address: str
    admin_name: str
    """Personal data: stays in catalog, never in events or logs."""
    admin_email: str
    registered_by: str
    registered_at: datetime
    statement_document_id: uuid.UUID
    status: InstitutionStatus = InstitutionStatus.PENDING
    decided_at: datetime | None = None
    decided_by: str | None = None
    rejection_reason_code: str | None = None
    rejection_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        """The current state, as a 409 shows it."""
        return {
            "institution_id": str(self.id),
            "status": self.status.value,
            "registered_at": self.registered_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


@dataclass(frozen=True)
class Membership:
    institution_id: uuid.UUID
    user_id: str
    role: ProviderRole
    active: bool
    """False while the institution's registration awaits approval."""
    added_at: datetime
    added_by: str


def validate_registration(
    name: str,
    register_number: str,
    legal_address: str,
    admin_name: str,
    admin_email: str,
    registered: RegisteredInstitution | None,
) -> None:
    violations: list[Violation] = []
    _text(violations, "name", name, max_length=300)
    _text(violations, "legal_address", legal_address, max_length=300)
    _text(violations, "admin.name", admin_name, max_length=200)
    if not EMAIL.match(admin_email) or len(admin_email) > 254:
        violations.append(Violation("admin.email", "format", "must be an e-mail address"))
    if not re.fullmatch(r"\d{10}", register_number):
        violations.append(Violation("register_number", "format", "must be the 10 digits of the register number"))
    elif registered is None:
        violations.append(
            Violation("register_number", "registered", "is not in the register of education institutions")
        )
    elif name.strip() and search_key(name) != search_key(registered.name):
        violations.append(
            Violation("name", "matches_register", f"the register names institution {register_number} differently")
        )
    _invalid(violations)


def register_institution(
    name: str,
    register_number: str,
    legal_address: str,
    admin_name: str,
    admin_email: str,
    registered_by: str,
    statement_document_id: uuid.UUID,
    now: datetime,
    registered: RegisteredInstitution | None,
) -> Institution:
    validate_registration(name, register_number, legal_address, admin_name, admin_email, registered)
    return Institution(
        id=uuid.uuid4(),
        name=name.strip(),
        register_number=register_number,
        legal_address=legal_address.strip(),
        admin_name=admin_name.strip(),
        admin_email=admin_email.strip(),
        registered_by=registered_by,
        registered_at=now,
        statement_document_id=statement_document_id,
    )


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Location:
    id: uuid.UUID
    institution_id: uuid.UUID
    address: str
    """As VIIS spells it."""
    city: str
    viis_id: str
    created_at: datetime


def match_viis_address(field_name: str, given: str, registered: RegisteredInstitution) -> tuple[str, str, str]:
    """(address, city, VIIS id) of the registered address matching `given`, or a 422 naming the address."""
    for candidate in registered.addresses:
        if address_key(candidate.address) == address_key(given):
            return candidate.address, candidate.city, candidate.viis_id
    raise InvalidInput.of(
        field_name, "registered_in_viis", f"the address {given!r} is not registered in VIIS for this institution"
    )


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


@dataclass(frozen=True)
class Cost:
    per_participant: Decimal
    per_hour: Decimal
    hourly_rate: Decimal
    coefficient: Decimal
    table_version: int


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


def _check_title(violations: list[Violation], title: Mapping[str, str]) -> None:
    for language in ("lv", "en"):
        _text(violations, f"title.{language}", title.get(language, ""), max_length=300)
    extra = set(title) - {"lv", "en"}
    if extra:
        violations.append(Violation("title", "languages", f"only lv and en, not {sorted(extra)}"))


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
                f"theory {spec.theory_hours} h + practice {spec.practice_hours} h != total {spec.total_hours} h",
            )
        )


def _check_lists(violations: list[Violation], spec: ProgrammeInput) -> None:
    unknown = [q for q in spec.qualifications if q not in QUALIFICATIONS]
    if not spec.qualifications:
        violations.append(Violation("qualifications", "required", "name at least one target qualification"))
    elif unknown:
        violations.append(Violation("qualifications", "known", f"unknown qualifications {unknown}"))
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
    _digcomp(violations, "digcomp_level", spec.digcomp_level)
    _digcomp(violations, "entry_level", spec.entry_level)
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
    _text(violations, "licence_number", spec.licence_number, max_length=50)
    _text(violations, "thematic_area", spec.thematic_area, max_length=200)
    _text(violations, "description", spec.description, max_length=10000, min_length=20)
    _text(violations, "prior_knowledge", spec.prior_knowledge, max_length=2000)
    _text(violations, "equipment", spec.equipment, max_length=2000)
    if not LANGUAGE.match(spec.language):
        violations.append(Violation("language", "format", "an ISO 639-1 code such as lv or en"))
    if table.coefficient_for(spec.programme_group) is None:
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
            Violation("location_ids", "own_location", f"not locations of this institution: {sorted(map(str, foreign))}")
        )
    _invalid(violations)


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


# --------------------------------------------------------------------------- study groups


class GroupStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class GroupInput:
    location_id: uuid.UUID
    start_date: date
    end_date: date
    schedule: str
    capacity: int
    language: str
    entry_level: int


@dataclass(frozen=True)
class StudyGroup:
    id: uuid.UUID
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    spec: GroupInput
    city: str
    status: GroupStatus
    enrolled: int
    created_at: datetime
    updated_at: datetime

    @property
    def free_places(self) -> int:
        """Capacity minus confirmed enrolments, never below zero."""
        return max(0, self.spec.capacity - self.enrolled)

    def summary(self) -> dict[str, Any]:
        return {
            "group_id": str(self.id),
            "status": self.status.value,
            "capacity": self.spec.capacity,
            "enrolled": self.enrolled,
        }


def validate_group(
    spec: GroupInput,
    programme: Programme,
    today: date,
    enrolled: int = 0,
    *,
    new: bool = True,
) -> None:
    violations: list[Violation] = []
    if spec.location_id not in programme.spec.location_ids:
        violations.append(
            Violation("location_id", "programme_location", "must be one of the programme's implementation locations")
        )
    if new and spec.start_date < today:
        violations.append(Violation("start_date", "not_in_past", "a new group cannot start in the past"))
    if spec.end_date < spec.start_date:
        violations.append(Violation("end_date", "not_before_start", "the group cannot end before it starts"))
    until = programme.publication_valid_until
    if until is not None and spec.end_date > until:
        violations.append(
            Violation("end_date", "within_agreement", f"the cooperation agreement runs until {until.isoformat()}")
        )
    if not 1 <= spec.capacity <= MAX_CAPACITY:
        violations.append(Violation("capacity", "range", f"1 to {MAX_CAPACITY} places"))
    elif spec.capacity < enrolled:
        violations.append(
            Violation("capacity", "not_below_enrolled", f"{enrolled} learners are already enrolled in the group")
        )
    _digcomp(violations, "entry_level", spec.entry_level)
    if not LANGUAGE.match(spec.language):
        violations.append(Violation("language", "format", "an ISO 639-1 code such as lv or en"))
    _text(violations, "schedule", spec.schedule, max_length=2000)
    _invalid(violations)


# --------------------------------------------------------------------------- learners' progress and ratings


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    STARTED = "started"
    DISCONTINUED = "discontinued"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Enrolment:
    id: uuid.UUID
    group_id: uuid.UUID
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    learner_id: str
    status: EnrolmentStatus
    enrolled_at: datetime | None
    started_on: date | None = None
    ended_on: date | None = None
    hours_attended: int | None = None
    result: str | None = None


@dataclass(frozen=True)
class OutcomeCounts:
    started: int
    """Learners who started (whatever happened next)."""
    completed: int
    discontinued: int

    def rate(self, count: int) -> Decimal | None:
        if self.started == 0:
            return None
        return (Decimal(100) * count / self.started).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def completion_rate(self) -> Decimal | None:
        return self.rate(self.completed)

    @property
    def dropout_rate(self) -> Decimal | None:
        return self.rate(self.discontinued)


@dataclass(frozen=True)
class RatingSummary:
    """Surveys' aggregate for one programme: how many completers rated it and the average per aspect."""

    programme_id: uuid.UUID
    raters: int
    averages: Mapping[str, Decimal] = field(default_factory=dict)


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
    averages = {k: v.quantize(Decimal("0.1"), ROUND_HALF_UP) for k, v in summary.averages.items()}
    overall = (sum(summary.averages.values(), Decimal(0)) / len(summary.averages)).quantize(
        Decimal("0.1"), ROUND_HALF_UP
    )
    return PublicRating(raters=raters, shown=True, averages=averages, overall=overall)


def validate_rating_summary(summary: RatingSummary) -> None:
    violations: list[Violation] = []
    if summary.raters < 0:
        violations.append(Violation("raters", "min_0", "cannot be negative"))
    for aspect, value in summary.averages.items():
        if aspect not in RATING_ASPECTS:
            violations.append(Violation(f"averages.{aspect}", "known_aspect", f"one of {RATING_ASPECTS}"))
        elif not Decimal(1) <= value <= Decimal(5):
            violations.append(Violation(f"averages.{aspect}", "range_1_5", "an average of 1 to 5 stars"))
    _invalid(violations)


# --------------------------------------------------------------------------- the public catalogue


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
            _digcomp(violations, "digcomp_level", level)
        if self.qualification is not None and self.qualification not in QUALIFICATIONS:
            violations.append(Violation("qualification", "known", f"one of {sorted(QUALIFICATIONS)}"))
        if self.starts_from and self.starts_until and self.starts_until < self.starts_from:
            violations.append(Violation("starts_until", "not_before_from", "the period ends before it begins"))
        if len(self.text) > 200:
            violations.append(Violation("q", "max_length", "at most 200 characters"))
        _invalid(violations)
