"""The learning account and the learner's profile."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import InvalidInput

from accounts.domain.events import AccountOpened, DigCompAssessed, DomainEvent
from accounts.domain.personal_code import PersonalCode, birth_date_of, parse_personal_code

DIGCOMP_AREAS = (
    "information_and_data_literacy",
    "communication_and_collaboration",
    "digital_content_creation",
    "safety",
    "problem_solving",
)
"""The five competence areas of DigComp 2.2."""
_AREAS = frozenset(DIGCOMP_AREAS)


class EducationLevel(StrEnum):
    BASIC = "basic"
    SECONDARY = "secondary"
    VOCATIONAL = "vocational"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORAL = "doctoral"


class EmploymentStatus(StrEnum):
    EMPLOYED = "employed"
    SELF_EMPLOYED = "self_employed"
    UNEMPLOYED = "unemployed"
    STUDENT = "student"
    RETIRED = "retired"
    OTHER = "other"


@dataclass(frozen=True)
class DigCompAssessment:
    """A self-assessment: a proficiency level 1–8 for each of the five areas."""

    levels: dict[str, int]
    assessed_at: datetime
    events: tuple[DomainEvent, ...] = field(default=(), compare=False, repr=False)
    """What making it raised, not yet recorded (none on an assessment read from the database)."""

    def __post_init__(self) -> None:
        check_digcomp_levels(self.levels)

    @property
    def average(self) -> float:
        return sum(self.levels.values()) / len(self.levels)

    @property
    def level(self) -> Decimal:
        """The mean of the five areas' levels to one decimal, rounded half up (as published)."""
        mean = Decimal(sum(self.levels.values())) / Decimal(len(self.levels))
        return mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def assessed_on(self) -> date:
        """The day it was made, in Riga (the days of the study record it is compared with are Riga days)."""
        return self.assessed_at.astimezone(RIGA).date()


def assess_digcomp(learner_id: str, levels: dict[str, int], now: datetime) -> DigCompAssessment:
    """A new self-assessment of the learner, with the event that publishes it."""
    made = DigCompAssessment(dict(levels), now)
    assessed = DigCompAssessed(
        learner_id=learner_id, level=made.level, levels=dict(made.levels), assessed_on=made.assessed_on, at=now
    )
    return DigCompAssessment(made.levels, now, events=(assessed,))


def latest_until(assessments: Sequence[DigCompAssessment], day: date) -> DigCompAssessment | None:
    """The last of `assessments` (in the order they were made) made on `day` (in Riga) or before."""
    made = [a for a in assessments if a.assessed_on <= day]
    return made[-1] if made else None


def latest_since(assessments: Sequence[DigCompAssessment], day: date) -> DigCompAssessment | None:
    """The last of `assessments` (in the order they were made) made on `day` (in Riga) or after."""
    made = [a for a in assessments if a.assessed_on >= day]
    return made[-1] if made else None


def check_digcomp_levels(levels: dict[str, int]) -> None:
    """Raise InvalidInput naming `levels` (the field a self-assessment is given in) and the rule it fails."""
    if levels.keys() == _AREAS and all(1 <= level <= 8 for level in levels.values()):
        return  # the common case, cheaply: an allocation reads every waiting learner's latest assessment
    missing = [a for a in DIGCOMP_AREAS if a not in levels]
    unknown = sorted(a for a in levels if a not in _AREAS)
    if missing or unknown:
        wrong = "; ".join(
            f"{what}: {', '.join(areas)}" for what, areas in (("missing", missing), ("unknown", unknown)) if areas
        )
        raise InvalidInput.of(
            "levels", "areas", f"needs a level for each of the five DigComp areas {', '.join(DIGCOMP_AREAS)} ({wrong})"
        )
    for area, level in levels.items():
        if not 1 <= level <= 8:
            raise InvalidInput.of(f"levels.{area}", "range_1_8", "a DigComp level is between 1 and 8")


@dataclass(frozen=True)
class Profile:
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    preferred_language: str = "lv"
    education_level: EducationLevel | None = None
    employment_status: EmploymentStatus | None = None

    @property
    def full_name(self) -> str | None:
        """First and last name as far as they are given; None when neither is."""
        return " ".join(n for n in (self.first_name, self.last_name) if n) or None


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    learner_id: str
    """The learner's opaque user id (the token subject)."""
    personal_code: PersonalCode
    birth_date: date
    opened_at: datetime
    profile: Profile = field(default_factory=Profile)
    events: tuple[DomainEvent, ...] = field(default=(), compare=False, repr=False)
    """What opening it raised, not yet recorded (none on an account read from the database)."""

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)


ADULT_AGE = 18
"""A learning account is for adults: a person may open one from their 18th birthday (DOMAIN.md)."""


def coming_of_age(birth_date: date) -> date:
    """The day a person born on `birth_date` turns 18: their birthday 18 years on, and for one born on 29 February
    in a common year 1 March (the day after 28 February, when the 18th year is complete; as `Account.age_on`
    counts)."""
    try:
        return birth_date.replace(year=birth_date.year + ADULT_AGE)
    except ValueError:  # 29 February, and the year 18 years on is a common one
        return date(birth_date.year + ADULT_AGE, 3, 1)


def open_account(learner_id: str, raw_code: str, stated_birth_date: date | None, now: datetime, today: date) -> Account:
    """A new account; `today` is the Riga date of opening, on which the person must be an adult."""
    code = parse_personal_code(raw_code)
    birth_date = birth_date_of(code, stated_birth_date, today)
    adult_from = coming_of_age(birth_date)
    if today < adult_from:
        field = "birth_date" if code.is_new_form else "personal_code"
        message = f"a learning account is for adults: this person may open one from {adult_from.isoformat()}"
        raise InvalidInput.of(field, "adult", message)
    account_id = uuid.uuid4()
    opened = AccountOpened(account_id=account_id, learner_id=learner_id, opened_at=now)
    return Account(account_id, learner_id, code, birth_date, now, events=(opened,))
