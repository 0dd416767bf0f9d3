"""What calls knows of institutions and their programmes, never asking catalog's database: the read models kept
from catalog's and accounts' events, the registers' extract (asked of catalog over HTTP), and the platform's own
history of delivered groups."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from prasmes_runtime.errors import Forbidden
from prasmes_runtime.money import money

ProviderStatus = Literal["registered", "approved", "rejected"]


@dataclass(frozen=True)
class Provider:
    institution_id: uuid.UUID
    name: str
    register_number: str
    status: ProviderStatus


@dataclass(frozen=True)
class ProviderUser:
    """A user acting for an institution: an opaque id (the token's subject), never a name."""

    user_id: str
    institution_id: uuid.UUID
    role: str


@dataclass(frozen=True)
class Programme:
    """A programme as catalog's ProgrammeRegistered described it."""

    programme_id: uuid.UUID
    institution_id: uuid.UUID
    title: Mapping[str, str]
    licence_number: str | None
    programme_group: str | None
    form: str | None
    digcomp_level: int | None
    hours: int | None
    digital_share_percent: Decimal | None
    qualifications: tuple[str, ...]
    cost_per_participant: Decimal | None
    coefficient_table_version: int | None


@dataclass(frozen=True)
class CoefficientTable:
    version: int
    hourly_rate: Decimal
    coefficients: Mapping[str, Decimal]
    valid_from: date

    def cost(self, programme_group: str, hours: int) -> Decimal | None:
        """Cost per participant: the hourly rate times the group's coefficient, rounded half up to cents first,
        then times the hours (1.56 × 1.28 = 2.00; × 160 h = 320.00). None for a group the table does not have."""
        coefficient = self.coefficients.get(programme_group)
        if coefficient is None:
            return None
        return money(money(self.hourly_rate * coefficient) * hours)


def in_force(tables: list[CoefficientTable], on: date) -> CoefficientTable | None:
    valid = [t for t in tables if t.valid_from <= on]
    return max(valid, key=lambda t: (t.valid_from, t.version)) if valid else None


@dataclass(frozen=True)
class DeliveredProgramme:
    """A programme of the institution that the platform saw delivered: its DigComp level and the completers of its
    best group (from accounts' StudiesCompleted)."""

    programme_id: uuid.UUID
    digcomp_level: int | None
    best_group_completers: int


@dataclass(frozen=True)
class LicensedProgramme:
    licence_number: str
    licence_date: date
    title: str
    hours: int
    theory_hours: int
    practice_hours: int
    accredited: bool
    kind: str
    """"vocational" or "professional_development"."""


@dataclass(frozen=True)
class RegisteredAddress:
    viis_id: str
    address: str
    city: str


@dataclass(frozen=True)
class RegisteredInstitution:
    """The register of education institutions and VIIS on one institution (catalog's extract)."""

    register_number: str
    registration_date: date
    accredited: bool
    accreditation_valid_until: date | None
    licensed_programmes: tuple[LicensedProgramme, ...]
    addresses: tuple[RegisteredAddress, ...]

    def licence(self, number: str) -> LicensedProgramme | None:
        return next((p for p in self.licensed_programmes if p.licence_number == number.strip()), None)


NOT_APPROVED = "only a user of an institution the agency approved may make offers"


def acting_institution(user: ProviderUser | None, provider: Provider | None, *, admin: bool) -> Provider:
    """The approved institution the user acts for (an offer needs one: 403 otherwise)."""
    if user is None or provider is None or provider.status != "approved":
        raise Forbidden(NOT_APPROVED)
    if admin and user.role != "provider_admin":
        raise Forbidden("offers are made by the institution's provider_admin")
    return provider
