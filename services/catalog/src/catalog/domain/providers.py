"""Education institutions: what the state registers say of them, their registration and its deadline, the
signed documents they upload, their users and their implementation locations."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import Conflict, Forbidden, InvalidInput, NotFound, Violation
from prasmes_runtime.workdays import is_working_day, next_working_day  # noqa: F401  (is_working_day: re-exported)

from catalog.domain.common import add_years, check_text, listed, raise_if_any, search_key

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_USER_ID = 64


# --------------------------------------------------------------------------- the registers' facts


@dataclass(frozen=True)
class LicensedProgramme:
    number: str
    licence_date: date
    title: str
    hours: int
    theory_hours: int
    practice_hours: int
    content_summary: str
    accredited: bool
    kind: str
    """"vocational" (profesionālā izglītība) or "professional_development" (profesionālā pilnveide)."""


@dataclass(frozen=True)
class RegisteredAddress:
    viis_id: str
    address: str
    city: str


@dataclass(frozen=True)
class RegisteredInstitution:
    """An institution as the register of education institutions and VIIS describe it (the registers adapter
    returns it)."""

    register_number: str
    name: str
    legal_address: str
    registration_date: date
    accredited: bool
    accreditation_valid_until: date | None
    licensed_programmes: tuple[LicensedProgramme, ...]
    addresses: tuple[RegisteredAddress, ...]

    def licence(self, number: str) -> LicensedProgramme | None:
        return next((p for p in self.licensed_programmes if p.number == number.strip()), None)


def still_registered(registered: RegisteredInstitution | None, register_number: str) -> RegisteredInstitution:
    """An approved institution acts only while the register still lists it."""
    if registered is None:
        raise Conflict(
            "the register of education institutions no longer lists this institution",
            {"register_number": register_number},
        )
    return registered


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    passed: bool
    detail: str


def eligibility_checks(registered: RegisteredInstitution, today: date) -> list[RuleCheck]:
    """The register-based rules for submitting an offer to a call (the calls service decides with them)."""
    three_years_ago = add_years(today, -3)
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


# --------------------------------------------------------------------------- working days


def decision_due(registered_at: datetime) -> datetime:
    """Users are approved within one working day: a registration must be decided by the end of the first
    Latvian working day after the day it arrived (Europe/Riga). Friday before a Monday holiday -> Tuesday."""
    arrived = registered_at.astimezone(RIGA).date()
    due_day = next_working_day(arrived)
    return datetime.combine(due_day + timedelta(days=1), time.min, tzinfo=RIGA)


def is_overdue(registered_at: datetime, now: datetime) -> bool:
    return now >= decision_due(registered_at)


# --------------------------------------------------------------------------- documents


class DocumentPurpose(StrEnum):
    STATEMENT = "statement"
    """The statement on the use of the platform: qualified e-signature with a time stamp (ASiC-E or PAdES)."""
    CURRICULUM = "curriculum"
    """The licensed curriculum of a programme: a PDF or an ASiC-E container."""

    @property
    def requires_signature(self) -> bool:
        """A statement must be signed with a time stamp; a curriculum may be a plain PDF."""
        return self is DocumentPurpose.STATEMENT


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

    @property
    def download_name(self) -> str:
        extension = "pdf" if self.media_type == "application/pdf" else "asice"
        return f"{self.id}.{extension}"

    def readable_by(self, user_id: str, membership: Membership | None, *, agency: bool) -> bool:
        """The agency, the uploader, and the users of the institution that holds it."""
        if agency or self.owner_id == user_id:
            return True
        return membership is not None and self.institution_id == membership.institution_id


def usable_document(
    document: Document | None,
    field: str,
    purpose: DocumentPurpose,
    user_id: str,
    institution_id: uuid.UUID | None,
) -> Document:
    """A document the user uploaded (or their institution holds) for this purpose; a statement only once."""
    own = document is not None and (
        document.owner_id == user_id or (institution_id is not None and document.institution_id == institution_id)
    )
    if document is None or not own:
        raise InvalidInput.of(
            field, "uploaded", "upload the document first (POST /api/catalog/documents) and give its id"
        )
    if document.purpose != purpose:
        raise InvalidInput.of(field, "purpose", f"the document was uploaded as a {document.purpose.value}")
    if purpose == DocumentPurpose.STATEMENT and document.institution_id is not None:
        raise InvalidInput.of(field, "unused", "this statement already belongs to a registration")
    return document


# --------------------------------------------------------------------------- institutions


class InstitutionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProviderRole(StrEnum):
    ADMIN = "provider_admin"
    STAFF = "provider_staff"


class RejectionReason(StrEnum):
    REGISTER_MISMATCH = "register_mismatch"
    STATEMENT_INVALID = "statement_invalid"
    NOT_AN_EDUCATION_INSTITUTION = "not_an_education_institution"
    DUPLICATE = "duplicate"
    OTHER = "other"


REJECTION_REASONS = tuple(reason.value for reason in RejectionReason)


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

    def registered_again(self, rejected: Institution | None) -> Institution:
        """A registration the agency rejected may be made again, under the same id."""
        return self if rejected is None else replace(self, id=rejected.id)

    def approved(self, now: datetime, officer_id: str) -> Institution:
        return self._decided(InstitutionStatus.APPROVED, now, officer_id, None, None)

    def rejected(self, now: datetime, officer_id: str, reason_code: RejectionReason, reason: str) -> Institution:
        return self._decided(InstitutionStatus.REJECTED, now, officer_id, reason_code.value, reason)

    def _decided(
        self, status: InstitutionStatus, now: datetime, by: str, reason_code: str | None, reason: str | None
    ) -> Institution:
        if self.status != InstitutionStatus.PENDING:
            raise Conflict("the registration was already decided", self.summary())
        return replace(
            self,
            status=status,
            decided_at=now,
            decided_by=by,
            rejection_reason_code=reason_code,
            rejection_reason=reason,
        )


def rejection(reason_code: str, reason: str) -> tuple[RejectionReason, str]:
    """The agency says why, for the institution, with one of the known reason codes."""
    if reason_code not in REJECTION_REASONS:
        raise InvalidInput.of("reason_code", "known", f"one of {listed(REJECTION_REASONS)}")
    if not reason.strip():
        raise InvalidInput.of("reason", "required", "say why, for the institution")
    return RejectionReason(reason_code), reason.strip()


@dataclass(frozen=True)
class RegistrationView:
    institution: Institution
    decision_due_on: date | None
    """The last Latvian working day on which to decide."""
    overdue: bool


def registration_view(institution: Institution, now: datetime) -> RegistrationView:
    """Where a registration stands: a pending one is due by the end of the first Latvian working day after
    the day it arrived, and overdue after that."""
    if institution.status != InstitutionStatus.PENDING:
        return RegistrationView(institution, None, False)
    last_day = next_working_day(institution.registered_at.astimezone(RIGA).date())
    return RegistrationView(institution, last_day, is_overdue(institution.registered_at, now))


@dataclass(frozen=True)
class RegisterFinding:
    """What the register of education institutions says of a registration now: the agency decides with it."""

    listed: bool
    registered_name: str | None
    name_matches: bool
    registration_date: date | None
    accredited: bool
    """Accredited, and the accreditation in force today."""


def register_finding(
    institution: Institution, registered: RegisteredInstitution | None, today: date
) -> RegisterFinding:
    if registered is None:
        return RegisterFinding(False, None, False, None, False)
    accredited = registered.accredited and (
        registered.accreditation_valid_until is None or registered.accreditation_valid_until >= today
    )
    matches = search_key(institution.name) == search_key(registered.name)
    return RegisterFinding(True, registered.name, matches, registered.registration_date, accredited)


@dataclass(frozen=True)
class RegistrationChecks:
    """A registration as the agency's list shows it: where it stands, the register's finding, the statement's."""

    view: RegistrationView
    register: RegisterFinding
    statement: Document | None


def check_email(violations: list[Violation], name: str, email: str) -> None:
    if not email.strip():
        violations.append(Violation(name, "required", "must not be empty"))
    elif not EMAIL.match(email.strip()) or len(email.strip()) > 254:
        violations.append(Violation(name, "format", "must be an e-mail address"))


def validate_registration(
    name: str,
    register_number: str,
    legal_address: str,
    admin_name: str,
    admin_email: str,
    registered: RegisteredInstitution | None,
) -> None:
    violations: list[Violation] = []
    check_text(violations, "name", name, max_length=300)
    check_text(violations, "legal_address", legal_address, max_length=300)
    check_text(violations, "admin.name", admin_name, max_length=200)
    check_email(violations, "admin.email", admin_email)
    if not register_number.strip():
        violations.append(
            Violation("register_number", "required", "the number in the register of education institutions")
        )
    elif not re.fullmatch(r"\d{10}", register_number):
        violations.append(Violation("register_number", "format", "must be the 10 digits of the register number"))
    elif registered is None:
        violations.append(
            Violation("register_number", "registered", "is not in the register of education institutions")
        )
    elif name.strip() and search_key(name) != search_key(registered.name):
        violations.append(
            Violation("name", "matches_register", f"the register names institution {register_number} differently")
        )
    raise_if_any(violations)


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


def refuse_second_registration(membership: Membership | None, existing: Institution | None) -> Institution | None:
    """A user acts for one institution, and an institution registers once (again only after a rejection):
    the rejected registration to make again, if any."""
    if membership is not None:
        raise Conflict(
            "you already act for an education institution",
            {
                "institution_id": str(membership.institution_id),
                "role": membership.role.value,
                "active": membership.active,
            },
        )
    if existing is not None and existing.status != InstitutionStatus.REJECTED:
        raise Conflict("this institution is already registered", existing.summary())
    return existing


# --------------------------------------------------------------------------- users


@dataclass(frozen=True)
class Membership:
    institution_id: uuid.UUID
    user_id: str
    role: ProviderRole
    active: bool
    """False while the institution's registration awaits approval."""
    added_at: datetime
    added_by: str


def registrant_membership(institution: Institution) -> Membership:
    """The registrant becomes the institution's provider_admin, active once the agency approves."""
    return Membership(
        institution.id,
        institution.registered_by,
        ProviderRole.ADMIN,
        False,
        institution.registered_at,
        institution.registered_by,
    )


def acting_for(
    membership: Membership | None,
    institution: Institution | None,
    institution_id: uuid.UUID,
    *,
    admin: bool,
    approved: bool,
) -> tuple[Institution, Membership]:
    """The institution the user acts for; anyone else's is not found."""
    if institution is None or membership is None or membership.institution_id != institution_id:
        raise NotFound(f"no institution {institution_id}")
    if admin and membership.role != ProviderRole.ADMIN:
        raise Forbidden("only the institution's provider_admin may do this")
    if approved and institution.status != InstitutionStatus.APPROVED:
        raise Conflict("the institution's registration is not approved", institution.summary())
    return institution, membership


@dataclass(frozen=True)
class Invitee:
    """Whom an administrator invites: a person the identity provider knows by this user name or e-mail address."""

    field: str
    """"username" or "email": what the administrator gave (a refusal names it)."""
    value: str

    @property
    def username(self) -> str | None:
        return self.value if self.field == "username" else None

    @property
    def email(self) -> str | None:
        return self.value if self.field == "email" else None


def invitee(username: str | None, email: str | None) -> Invitee:
    """Exactly one of the user name and the e-mail address (an e-mail address of the usual form)."""
    given = {name: value.strip() for name, value in (("username", username), ("email", email)) if value is not None}
    given = {name: value for name, value in given.items() if value}
    if not given:
        raise InvalidInput.of("username", "required", "the user name or the e-mail address of the person to invite")
    if len(given) > 1:
        raise InvalidInput.of("username", "one_of", "give the user name or the e-mail address, not both")
    ((field, value),) = given.items()
    if field == "email":
        violations: list[Violation] = []
        check_email(violations, "email", value)
        raise_if_any(violations)
    return Invitee(field, value)


def unknown_invitee(invitee: Invitee) -> InvalidInput:
    what = "user name" if invitee.field == "username" else "e-mail address"
    return InvalidInput.of(invitee.field, "known_user", f"no user of the platform has this {what}")


def staff_membership(
    institution_id: uuid.UUID, invited: Invitee, subject: str, added_by: str, now: datetime
) -> Membership:
    """A staff member: the person the identity provider knows, by their subject (the `sub` of their tokens)."""
    if not subject or len(subject) > MAX_USER_ID:
        raise InvalidInput.of(
            invited.field, "known_user", "the identity provider names this user in a way catalog cannot keep"
        )
    return Membership(institution_id, subject, ProviderRole.STAFF, True, now, added_by)


@dataclass(frozen=True)
class Member:
    """A user of an institution as a list shows them: the name comes from the identity provider at request time
    (never stored), and only for those who may see it."""

    membership: Membership
    display_name: str | None = None


def sees_names(membership: Membership | None, institution_id: uuid.UUID, *, agency: bool) -> bool:
    """The agency and the institution's own provider_admin see its users' names; its staff see their ids."""
    if agency:
        return True
    return (
        membership is not None and membership.institution_id == institution_id and membership.role == ProviderRole.ADMIN
    )


def refuse_member_elsewhere(existing: Membership | None, user_id: str, institution_id: uuid.UUID) -> None:
    if existing is None:
        return
    if existing.institution_id == institution_id:
        raise Conflict("the user already acts for this institution", {"user_id": user_id, "role": existing.role.value})
    # Which other institution is none of this institution's business.
    raise Conflict("the user already acts for another education institution", {"user_id": user_id})


def removable_member(target: Membership | None, institution_id: uuid.UUID, user_id: str, admin_id: str) -> Membership:
    if target is None or target.institution_id != institution_id:
        raise NotFound(f"no user {user_id} in this institution")
    if user_id == admin_id:
        raise Conflict("the provider_admin cannot remove themself", {"user_id": user_id, "role": target.role.value})
    return target


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


def address_key(address: str) -> str:
    """Addresses compare without diacritics, case and punctuation ("Rīga, Brīvības iela 1" = "riga brivibas iela 1")."""
    return " ".join(re.findall(r"\w+", search_key(address)))


def match_viis_address(field_name: str, given: str, registered: RegisteredInstitution) -> tuple[str, str, str]:
    """(address, city, VIIS id) of the registered address matching `given`, or a 422 naming the address."""
    for candidate in registered.addresses:
        if address_key(candidate.address) == address_key(given):
            return candidate.address, candidate.city, candidate.viis_id
    raise InvalidInput.of(
        field_name, "registered_in_viis", f"the address {given.strip()} is not registered in VIIS for this institution"
    )


def new_location(institution_id: uuid.UUID, address: str, registered: RegisteredInstitution, now: datetime) -> Location:
    """A location is one of the institution's addresses in VIIS, spelt as VIIS spells it."""
    violations: list[Violation] = []
    check_text(violations, "address", address, max_length=300)
    raise_if_any(violations)
    canonical, city, viis_id = match_viis_address("address", address, registered)
    return Location(uuid.uuid4(), institution_id, canonical, city, viis_id, now)


def refuse_known_location(known: Iterable[Location], viis_id: str) -> None:
    for location in known:
        if location.viis_id == viis_id:
            raise Conflict(
                "this address is already a location", {"location_id": str(location.id), "address": location.address}
            )
