"""Documents, institutions' registration and the agency's decision, their users and locations, and the
registers' extract for other services."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from prasmes_runtime.dependencies import MAX_LIMIT, MAX_OFFSET, ClockDep, DatabaseDep, StrictQuery
from prasmes_runtime.errors import InvalidInput
from prasmes_runtime.http import attachment
from prasmes_runtime.schemas import Text
from pydantic import BaseModel, Field

from catalog.api.common import (
    TOTAL_HEADER,
    Agency,
    BearerToken,
    CatalogIn,
    DirectoryDep,
    Person,
    RegisterReader,
    RegistersDep,
    SettingsDep,
    is_agency,
)
from catalog.domain.providers import (
    Document,
    DocumentPurpose,
    InstitutionStatus,
    Location,
    Member,
    Membership,
    RegisteredInstitution,
    RegistrationChecks,
    RegistrationView,
    RejectionReason,
    RuleCheck,
)
from catalog.service import providers

router = APIRouter()


# =========================================================================== documents


class DocumentOut(BaseModel):
    id: uuid.UUID
    purpose: DocumentPurpose
    format: str = Field(description="What the content is: pades, asice or pdf (judged by content, not by name).")
    media_type: str
    filename: str | None
    size: int
    sha256: str
    signatures: int
    timestamps: int
    signing_time: datetime | None
    timestamp_time: datetime | None
    uploaded_at: datetime

    @classmethod
    def of(cls, document: Document) -> DocumentOut:
        return cls(**{name: getattr(document, name) for name in cls.model_fields})


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    too_big = InvalidInput.of("file", "max_size", f"a document may have at most {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file itself as the body: an ASiC-E container (.edoc/.asice) or a PDF.",
        "content": {
            "application/vnd.etsi.asic-e+zip": {"schema": {"type": "string", "format": "binary"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/documents",
    status_code=201,
    response_model=DocumentOut,
    tags=["documents"],
    summary="Upload a document (the signed statement, a curriculum)",
    description=(
        "The body is the file. A `statement` must be an ASiC-E container or a PAdES PDF with a qualified "
        "electronic signature carrying a time stamp; a `curriculum` a PDF or an ASiC-E container. The content "
        "decides, not the name: a 422 on `file` says what is wrong or missing. Refer to the returned id."
    ),
    openapi_extra=_UPLOAD_BODY,
)
async def upload_document(
    request: Request,
    user: Person,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    _query: StrictQuery,
    purpose: DocumentPurpose,
    filename: Annotated[
        Text | None, Query(max_length=255, description="The original file name, e.g. apliecinajums.edoc")
    ] = None,
) -> DocumentOut:
    content = await _read_capped(request, settings.max_document_bytes)
    declared = request.headers.get("content-type")
    document = await providers.upload_document(database, clock, user.subject, purpose, content, filename, declared)
    return DocumentOut.of(document)


@router.get("/documents/{document_id}", response_model=DocumentOut, tags=["documents"], summary="A document's facts")
async def get_document(document_id: uuid.UUID, user: Person, database: DatabaseDep) -> DocumentOut:
    document = await providers.document_info(database, user.subject, document_id, agency=is_agency(user))
    return DocumentOut.of(document)


@router.get("/documents/{document_id}/content", tags=["documents"], summary="Download a document")
async def get_document_content(document_id: uuid.UUID, user: Person, database: DatabaseDep) -> Response:
    document, content = await providers.document_content(database, user.subject, document_id, agency=is_agency(user))
    headers = {"Content-Disposition": attachment(document.download_name)}
    return Response(content, media_type=document.media_type, headers=headers)


# =========================================================================== providers


class AdminIn(CatalogIn):
    name: str = Field(max_length=500, description="The person who becomes the institution's provider_admin.")
    email: str = Field(max_length=500)


class RegistrationIn(CatalogIn):
    name: str = Field(max_length=1000, json_schema_extra={"examples": ["Rīgas Datorikas mācību centrs"]})
    register_number: str = Field(max_length=50, description="Number in the register of education institutions.")
    legal_address: str = Field(max_length=1000)
    admin: AdminIn
    statement_document_id: uuid.UUID = Field(
        description="The uploaded statement on the use of the platform (POST /documents?purpose=statement)."
    )

    def to_form(self) -> providers.RegistrationForm:
        return providers.RegistrationForm(
            self.name,
            self.register_number,
            self.legal_address,
            self.admin.name,
            self.admin.email,
            self.statement_document_id,
        )


class AdminOut(BaseModel):
    name: str
    email: str


class ProviderOut(BaseModel):
    id: uuid.UUID
    name: str
    register_number: str
    legal_address: str
    status: str
    registered_at: datetime
    decision_due_on: date | None = Field(description="Pending: decide by the end of this Latvian working day.")
    overdue: bool
    decided_at: datetime | None
    rejection_reason_code: str | None
    rejection_reason: str | None
    statement_document_id: uuid.UUID
    admin: AdminOut

    @classmethod
    def of(cls, view: RegistrationView) -> ProviderOut:
        i = view.institution
        return cls(
            id=i.id,
            name=i.name,
            register_number=i.register_number,
            legal_address=i.legal_address,
            status=i.status.value,
            registered_at=i.registered_at,
            decision_due_on=view.decision_due_on,
            overdue=view.overdue,
            decided_at=i.decided_at,
            rejection_reason_code=i.rejection_reason_code,
            rejection_reason=i.rejection_reason,
            statement_document_id=i.statement_document_id,
            admin=AdminOut(name=i.admin_name, email=i.admin_email),
        )


class MembershipOut(BaseModel):
    institution_id: uuid.UUID
    user_id: str = Field(description="The user's platform id (the `sub` of their token).")
    display_name: str | None = Field(
        default=None,
        description="Their name, from the identity provider at request time (never stored in catalog); shown to "
        "the institution's provider_admin and the agency, null for others or when the identity provider does not "
        "answer.",
    )
    role: str
    active: bool
    added_at: datetime

    @classmethod
    def of(cls, m: Membership, display_name: str | None = None) -> MembershipOut:
        return cls(
            institution_id=m.institution_id,
            user_id=m.user_id,
            display_name=display_name,
            role=m.role.value,
            active=m.active,
            added_at=m.added_at,
        )

    @classmethod
    def of_member(cls, member: Member) -> MembershipOut:
        return cls.of(member.membership, member.display_name)


class MyProviderOut(BaseModel):
    institution: ProviderOut
    membership: MembershipOut


class RejectionIn(CatalogIn):
    reason_code: RejectionReason
    reason: str = Field(max_length=2000, description="For the institution: what to correct.")


@router.post(
    "/providers",
    status_code=201,
    response_model=ProviderOut,
    tags=["providers"],
    summary="Register an education institution",
    description="Any signed-in person (not a partner system); they become the institution's provider_admin when "
    "the agency approves.",
)
async def register_provider(
    body: RegistrationIn, user: Person, database: DatabaseDep, clock: ClockDep, registers: RegistersDep
) -> ProviderOut:
    return ProviderOut.of(await providers.register_provider(database, clock, registers, user.subject, body.to_form()))


class RegisterCheckOut(BaseModel):
    listed: bool = Field(description="The register of education institutions lists the register number now.")
    registered_name: str | None
    name_matches: bool = Field(description="The name registered matches the register's (case and diacritics aside).")
    registration_date: date | None
    accredited: bool = Field(description="Accredited, the accreditation in force today.")


class RegistrationOut(ProviderOut):
    register_check: RegisterCheckOut
    statement: DocumentOut | None = Field(
        description="The signed statement's facts as the signature check found them (signatures, time stamps)."
    )

    @classmethod
    def checked(cls, found: RegistrationChecks) -> RegistrationOut:
        r = found.register
        return cls(
            **ProviderOut.of(found.view).model_dump(),
            register_check=RegisterCheckOut(
                listed=r.listed,
                registered_name=r.registered_name,
                name_matches=r.name_matches,
                registration_date=r.registration_date,
                accredited=r.accredited,
            ),
            statement=DocumentOut.of(found.statement) if found.statement else None,
        )


@router.get(
    "/providers",
    response_model=list[RegistrationOut],
    tags=["providers"],
    summary="Registrations (agency); overdue=true lists those pending after one Latvian working day",
    description="Oldest first, each with what the register says of it now and its statement's signature check. "
    f"Every one without `limit`; `{TOTAL_HEADER}` is how many match the filters before paging.",
)
async def list_providers(
    _: Agency,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
    response: Response,
    _query: StrictQuery,
    status: InstitutionStatus | None = None,
    overdue: bool = False,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[RegistrationOut]:
    found, total = await providers.registrations_checked(database, clock, registers, status, overdue, limit, offset)
    response.headers[TOTAL_HEADER] = str(total)
    return [RegistrationOut.checked(f) for f in found]


@router.get("/providers/me", response_model=MyProviderOut, tags=["providers"], summary="The institution I act for")
async def my_provider(user: Person, database: DatabaseDep, clock: ClockDep) -> MyProviderOut:
    view, membership = await providers.my_institution(database, clock, user.subject)
    return MyProviderOut(institution=ProviderOut.of(view), membership=MembershipOut.of(membership))


@router.get("/providers/{institution_id}", response_model=ProviderOut, tags=["providers"], summary="An institution")
async def get_provider(institution_id: uuid.UUID, user: Person, database: DatabaseDep, clock: ClockDep) -> ProviderOut:
    view = await providers.institution_for(database, clock, user.subject, institution_id, agency=is_agency(user))
    return ProviderOut.of(view)


@router.post("/providers/{institution_id}/approve", response_model=ProviderOut, tags=["providers"], summary="Approve")
async def approve_provider(
    institution_id: uuid.UUID, officer: Agency, database: DatabaseDep, clock: ClockDep
) -> ProviderOut:
    return ProviderOut.of(await providers.approve_provider(database, clock, officer.subject, institution_id))


@router.post("/providers/{institution_id}/reject", response_model=ProviderOut, tags=["providers"], summary="Reject")
async def reject_provider(
    institution_id: uuid.UUID, body: RejectionIn, officer: Agency, database: DatabaseDep, clock: ClockDep
) -> ProviderOut:
    view = await providers.reject_provider(
        database, clock, officer.subject, institution_id, body.reason_code, body.reason
    )
    return ProviderOut.of(view)


# --------------------------------------------------------------------------- provider users


class StaffIn(CatalogIn):
    """The person to invite, as the identity provider knows them: their user name or their e-mail address."""

    username: str | None = Field(default=None, max_length=200, description="The user name they sign in with.")
    email: str | None = Field(default=None, max_length=254, json_schema_extra={"examples": ["peteris@example.lv"]})


@router.get(
    "/providers/{institution_id}/users",
    response_model=list[MembershipOut],
    tags=["provider users"],
    summary="The institution's users (its users and the agency; names for its provider_admin and the agency)",
)
async def list_users(
    institution_id: uuid.UUID, user: Person, token: BearerToken, database: DatabaseDep, directory: DirectoryDep
) -> list[MembershipOut]:
    found = await providers.members(database, directory, user.subject, institution_id, token, agency=is_agency(user))
    return [MembershipOut.of_member(m) for m in found]


@router.post(
    "/providers/{institution_id}/users",
    status_code=201,
    response_model=MembershipOut,
    tags=["provider users"],
    summary="Invite a staff member (provider_admin) by their user name or e-mail address",
    description="The person must be known to the identity provider (else a 422 `known_user` on the field given).",
)
async def add_user(
    institution_id: uuid.UUID,
    body: StaffIn,
    user: Person,
    token: BearerToken,
    database: DatabaseDep,
    clock: ClockDep,
    directory: DirectoryDep,
) -> MembershipOut:
    member = await providers.add_staff(
        database, clock, directory, user.subject, institution_id, body.username, body.email, token
    )
    return MembershipOut.of_member(member)


@router.delete(
    "/providers/{institution_id}/users/{user_id}", status_code=204, tags=["provider users"], summary="Remove a user"
)
async def remove_user(
    institution_id: uuid.UUID, user_id: Text, user: Person, database: DatabaseDep, clock: ClockDep
) -> Response:
    await providers.remove_user(database, clock, user.subject, institution_id, user_id)
    return Response(status_code=204)


# --------------------------------------------------------------------------- locations


class LocationIn(CatalogIn):
    address: str = Field(max_length=300, json_schema_extra={"examples": ["Brīvības iela 100, Rīga, LV-1001"]})


class LocationOut(BaseModel):
    id: uuid.UUID
    address: str
    city: str
    viis_id: str
    created_at: datetime

    @classmethod
    def of(cls, location: Location) -> LocationOut:
        return cls(
            id=location.id,
            address=location.address,
            city=location.city,
            viis_id=location.viis_id,
            created_at=location.created_at,
        )


@router.post(
    "/providers/{institution_id}/locations",
    status_code=201,
    response_model=LocationOut,
    tags=["locations"],
    summary="Add an implementation location (must be registered in VIIS for the institution)",
)
async def add_location(
    institution_id: uuid.UUID,
    body: LocationIn,
    user: Person,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
) -> LocationOut:
    location = await providers.add_location(database, clock, registers, user.subject, institution_id, body.address)
    return LocationOut.of(location)


@router.get("/providers/{institution_id}/locations", response_model=list[LocationOut], tags=["locations"])
async def list_locations(institution_id: uuid.UUID, user: Person, database: DatabaseDep) -> list[LocationOut]:
    return [LocationOut.of(loc) for loc in await providers.locations(database, user.subject, institution_id)]


# =========================================================================== the registers


class LicensedProgrammeOut(BaseModel):
    licence_number: str
    licence_date: date
    title: str
    hours: int
    theory_hours: int
    practice_hours: int
    content_summary: str
    accredited: bool
    kind: str


class RegisteredAddressOut(BaseModel):
    viis_id: str
    address: str
    city: str


class RuleCheckOut(BaseModel):
    rule: str
    passed: bool
    detail: str


class RegisterExtractOut(BaseModel):
    register_number: str
    name: str
    legal_address: str
    registration_date: date
    accredited: bool
    accreditation_valid_until: date | None
    licensed_programmes: list[LicensedProgrammeOut]
    addresses: list[RegisteredAddressOut]
    checks: list[RuleCheckOut] = Field(description="The register-based rules for submitting an offer, as of today.")

    @classmethod
    def of(cls, r: RegisteredInstitution, checks: list[RuleCheck]) -> RegisterExtractOut:
        return cls(
            register_number=r.register_number,
            name=r.name,
            legal_address=r.legal_address,
            registration_date=r.registration_date,
            accredited=r.accredited,
            accreditation_valid_until=r.accreditation_valid_until,
            licensed_programmes=[
                LicensedProgrammeOut(
                    licence_number=p.number,
                    licence_date=p.licence_date,
                    title=p.title,
                    hours=p.hours,
                    theory_hours=p.theory_hours,
                    practice_hours=p.practice_hours,
                    content_summary=p.content_summary,
                    accredited=p.accredited,
                    kind=p.kind,
                )
                for p in r.licensed_programmes
            ],
            addresses=[RegisteredAddressOut(viis_id=a.viis_id, address=a.address, city=a.city) for a in r.addresses],
            checks=[RuleCheckOut(rule=c.rule, passed=c.passed, detail=c.detail) for c in checks],
        )


@router.get(
    "/registers/institutions/{register_number}",
    response_model=RegisterExtractOut,
    tags=["registers"],
    summary="The register of education institutions and VIIS on one institution (for other services)",
)
async def register_extract(
    register_number: str, _: RegisterReader, registers: RegistersDep, clock: ClockDep
) -> RegisterExtractOut:
    registered, checks = await providers.register_extract(registers, clock, register_number)
    return RegisterExtractOut.of(registered, checks)
