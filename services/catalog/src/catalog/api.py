"""HTTP routes of the catalog service: parse, authorise, call the use case, shape the answer.

Provider routes check membership (catalog's own table) in the use cases: another institution's objects
are 404. Agency routes require the agency roles from the token. The public catalogue needs no token.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from prasmes_runtime.auth import CurrentUser, Principal, require_role
from prasmes_runtime.dependencies import ClockDep, ContextDep, DatabaseDep
from prasmes_runtime.errors import InvalidInput
from pydantic import BaseModel, Field

from catalog import service
from catalog.domain import (
    QUALIFICATIONS,
    CatalogueQuery,
    CatalogueSort,
    CoefficientTable,
    Document,
    DocumentPurpose,
    Enrolment,
    GroupInput,
    InstitutionStatus,
    Location,
    Membership,
    OperatingSystem,
    Programme,
    ProgrammeForm,
    ProgrammeInput,
    ProgrammeType,
    RuleCheck,
    StudyGroup,
)
from catalog.registers import RegisteredInstitution, Registers
from catalog.settings import CatalogAdapters, CatalogSettings

router = APIRouter(prefix="/catalog")
AGENCY_ROLES = ("agency_officer", "agency_admin")
PUBLIC: dict[str, Any] = {"security": []}

Agency = Annotated[Principal, Depends(require_role(*AGENCY_ROLES))]
Officer = Annotated[Principal, Depends(require_role("agency_officer"))]
AgencyAdmin = Annotated[Principal, Depends(require_role("agency_admin"))]
RegisterReader = Annotated[
    Principal, Depends(require_role("agency_officer", "agency_admin", "provider_admin", "provider_staff"))
]


def _registers(context: ContextDep) -> Registers:
    adapters: CatalogAdapters = context.adapters
    return adapters.registers


def _settings(context: ContextDep) -> CatalogSettings:
    settings: CatalogSettings = context.settings  # type: ignore[assignment]
    return settings


RegistersDep = Annotated[Registers, Depends(_registers)]
SettingsDep = Annotated[CatalogSettings, Depends(_settings)]


def _is_agency(principal: Principal) -> bool:
    return principal.has_any(AGENCY_ROLES)


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
    user: CurrentUser,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    purpose: DocumentPurpose,
    filename: Annotated[
        str | None, Query(max_length=255, description="The original file name, e.g. apliecinajums.edoc")
    ] = None,
) -> DocumentOut:
    content = await _read_capped(request, settings.max_document_bytes)
    declared = request.headers.get("content-type")
    document = await service.upload_document(database, clock, user.subject, purpose, content, filename, declared)
    return DocumentOut.of(document)


@router.get("/documents/{document_id}", response_model=DocumentOut, tags=["documents"], summary="A document's facts")
async def get_document(document_id: uuid.UUID, user: CurrentUser, database: DatabaseDep) -> DocumentOut:
    document = await service.document_info(database, user.subject, document_id, agency=_is_agency(user))
    return DocumentOut.of(document)


@router.get("/documents/{document_id}/content", tags=["documents"], summary="Download a document")
async def get_document_content(document_id: uuid.UUID, user: CurrentUser, database: DatabaseDep) -> Response:
    document, content = await service.document_content(database, user.subject, document_id, agency=_is_agency(user))
    extension = "pdf" if document.media_type == "application/pdf" else "asice"
    headers = {"Content-Disposition": f'attachment; filename="{document.id}.{extension}"'}
    return Response(content, media_type=document.media_type, headers=headers)


# =========================================================================== providers


class AdminIn(BaseModel):
    name: str = Field(max_length=500, description="The person who becomes the institution's provider_admin.")
    email: str = Field(max_length=500)


class RegistrationIn(BaseModel):
    name: str = Field(max_length=1000, json_schema_extra={"examples": ["Rīgas Datorikas mācību centrs"]})
    register_number: str = Field(max_length=50, description="Number in the register of education institutions.")
    legal_address: str = Field(max_length=1000)
    admin: AdminIn
    statement_document_id: uuid.UUID = Field(
        description="The uploaded statement on the use of the platform (POST /catalog/documents?purpose=statement)."
    )


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
    admin: AdminIn

    @classmethod
    def of(cls, view: service.RegistrationView) -> ProviderOut:
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
            admin=AdminIn(name=i.admin_name, email=i.admin_email),
        )


class MembershipOut(BaseModel):
    institution_id: uuid.UUID
    user_id: str
    role: str
    active: bool
    added_at: datetime

    @classmethod
    def of(cls, m: Membership) -> MembershipOut:
        return cls(
            institution_id=m.institution_id, user_id=m.user_id, role=m.role.value, active=m.active, added_at=m.added_at
        )


class MyProviderOut(BaseModel):
    institution: ProviderOut
    membership: MembershipOut


class RejectionIn(BaseModel):
    reason_code: Literal["register_mismatch", "statement_invalid", "not_an_education_institution", "duplicate", "other"]
    reason: str = Field(max_length=2000, description="For the institution: what to correct.")


@router.post(
    "/providers",
    status_code=201,
    response_model=ProviderOut,
    tags=["providers"],
    summary="Register an education institution",
    description="Any signed-in user; they become the institution's provider_admin when the agency approves.",
)
async def register_provider(
    body: RegistrationIn, user: CurrentUser, database: DatabaseDep, clock: ClockDep, registers: RegistersDep
) -> ProviderOut:
    form = service.RegistrationForm(
        body.name,
        body.register_number,
        body.legal_address,
        body.admin.name,
        body.admin.email,
        body.statement_document_id,
    )
    institution = await service.register_provider(database, clock, registers, user.subject, form)
    return ProviderOut.of(service.registration_view(institution, clock))


@router.get(
    "/providers",
    response_model=list[ProviderOut],
    tags=["providers"],
    summary="Registrations (agency); overdue=true lists those pending after one Latvian working day",
)
async def list_providers(
    _: Agency,
    database: DatabaseDep,
    clock: ClockDep,
    status: Literal["pending", "approved", "rejected"] | None = None,
    overdue: bool = False,
) -> list[ProviderOut]:
    views = await service.list_registrations(database, clock, InstitutionStatus(status) if status else None, overdue)
    return [ProviderOut.of(v) for v in views]


@router.get("/providers/me", response_model=MyProviderOut, tags=["providers"], summary="The institution I act for")
async def my_provider(user: CurrentUser, database: DatabaseDep, clock: ClockDep) -> MyProviderOut:
    view, membership = await service.my_institution(database, clock, user.subject)
    return MyProviderOut(institution=ProviderOut.of(view), membership=MembershipOut.of(membership))


@router.get("/providers/{institution_id}", response_model=ProviderOut, tags=["providers"], summary="An institution")
async def get_provider(
    institution_id: uuid.UUID, user: CurrentUser, database: DatabaseDep, clock: ClockDep
) -> ProviderOut:
    view = await service.institution_for(database, clock, user.subject, institution_id, agency=_is_agency(user))
    return ProviderOut.of(view)


@router.post("/providers/{institution_id}/approve", response_model=ProviderOut, tags=["providers"], summary="Approve")
async def approve_provider(
    institution_id: uuid.UUID, officer: Officer, database: DatabaseDep, clock: ClockDep
) -> ProviderOut:
    await service.approve_provider(database, clock, officer.subject, institution_id)
    return ProviderOut.of(await service.institution_for(database, clock, officer.subject, institution_id, agency=True))


@router.post("/providers/{institution_id}/reject", response_model=ProviderOut, tags=["providers"], summary="Reject")
async def reject_provider(
    institution_id: uuid.UUID, body: RejectionIn, officer: Officer, database: DatabaseDep, clock: ClockDep
) -> ProviderOut:
    await service.reject_provider(database, clock, officer.subject, institution_id, body.reason_code, body.reason)
    return ProviderOut.of(await service.institution_for(database, clock, officer.subject, institution_id, agency=True))


# --------------------------------------------------------------------------- provider users


class StaffIn(BaseModel):
    user_id: str = Field(
        max_length=200,
        description="The user's platform id (the `sub` of their token). There is no user directory yet: "
        "the person tells the administrator their id.",
    )


@router.get("/providers/{institution_id}/users", response_model=list[MembershipOut], tags=["provider users"])
async def list_users(institution_id: uuid.UUID, user: CurrentUser, database: DatabaseDep) -> list[MembershipOut]:
    return [MembershipOut.of(m) for m in await service.members(database, user.subject, institution_id)]


@router.post(
    "/providers/{institution_id}/users",
    status_code=201,
    response_model=MembershipOut,
    tags=["provider users"],
    summary="Invite a staff member (provider_admin) by their user id",
)
async def add_user(
    institution_id: uuid.UUID, body: StaffIn, user: CurrentUser, database: DatabaseDep, clock: ClockDep
) -> MembershipOut:
    return MembershipOut.of(await service.add_staff(database, clock, user.subject, institution_id, body.user_id))


@router.delete(
    "/providers/{institution_id}/users/{user_id}", status_code=204, tags=["provider users"], summary="Remove a user"
)
async def remove_user(
    institution_id: uuid.UUID, user_id: str, user: CurrentUser, database: DatabaseDep, clock: ClockDep
) -> Response:
    await service.remove_user(database, clock, user.subject, institution_id, user_id)
    return Response(status_code=204)


# --------------------------------------------------------------------------- locations


class LocationIn(BaseModel):
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
    user: CurrentUser,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
) -> LocationOut:
    location = await service.add_location(database, clock, registers, user.subject, institution_id, body.address)
    return LocationOut.of(location)


@router.get("/providers/{institution_id}/locations", response_model=list[LocationOut], tags=["locations"])
async def list_locations(institution_id: uuid.UUID, user: CurrentUser, database: DatabaseDep) -> list[LocationOut]:
    return [LocationOut.of(loc) for loc in await service.locations(database, user.subject, institution_id)]


# =========================================================================== coefficients


class CoefficientTableIn(BaseModel):
    hourly_rate: Decimal = Field(description="EUR per hour before the coefficient, e.g. 1.56.")
    coefficients: dict[str, Decimal] = Field(description="Programme group -> minimum cost coefficient.", max_length=500)
    valid_from: date


class CoefficientTableOut(BaseModel):
    version: int
    hourly_rate: Decimal
    coefficients: dict[str, Decimal]
    valid_from: date
    created_at: datetime

    @classmethod
    def of(cls, table: CoefficientTable) -> CoefficientTableOut:
        return cls(
            version=table.version,
            hourly_rate=table.hourly_rate,
            coefficients=dict(table.coefficients),
            valid_from=table.valid_from,
            created_at=table.created_at,
        )


@router.get(
    "/coefficients",
    response_model=CoefficientTableOut,
    tags=["coefficients"],
    summary="The cost coefficient table in force",
    openapi_extra=PUBLIC,
)
async def current_coefficients(database: DatabaseDep, clock: ClockDep) -> CoefficientTableOut:
    return CoefficientTableOut.of(await service.current_coefficients(database, clock))


@router.get(
    "/coefficients/versions",
    response_model=list[CoefficientTableOut],
    tags=["coefficients"],
    summary="Every version, newest first",
    openapi_extra=PUBLIC,
)
async def coefficient_versions(database: DatabaseDep) -> list[CoefficientTableOut]:
    return [CoefficientTableOut.of(t) for t in await service.coefficient_history(database)]


@router.post(
    "/coefficients",
    status_code=201,
    response_model=CoefficientTableOut,
    tags=["coefficients"],
    summary="Publish a new version of the coefficient table (agency_admin)",
)
async def publish_coefficients(
    body: CoefficientTableIn, admin: AgencyAdmin, database: DatabaseDep, clock: ClockDep
) -> CoefficientTableOut:
    table = await service.publish_coefficients(
        database, clock, admin.subject, body.hourly_rate, body.coefficients, body.valid_from
    )
    return CoefficientTableOut.of(table)


# =========================================================================== programmes


class ProgrammeIn(BaseModel):
    """Every field of the licensed programme. No cost: the platform computes it."""

    title: dict[str, str] = Field(
        description="lv and en.", json_schema_extra={"examples": [{"lv": "Datu analīze", "en": "Data analysis"}]}
    )
    licence_number: str = Field(max_length=100)
    licence_date: date
    thematic_area: str = Field(max_length=1000)
    programme_group: str = Field(
        max_length=1000, description="As in the coefficient table, e.g. Datorsistēmas, datubāzes un datortīkli."
    )
    programme_type: ProgrammeType
    form: ProgrammeForm
    digcomp_level: int = Field(description="DigComp proficiency level 1-8.")
    total_hours: int
    theory_hours: int
    practice_hours: int
    digital_share_percent: Decimal = Field(description="Share of digital skills in the programme, 0-100.")
    qualifications: list[str] = Field(max_length=20, description="Codes from GET /catalog/public/qualifications.")
    professional_competences: list[str] = Field(max_length=100)
    learning_outcomes: list[str] = Field(max_length=100)
    description: str = Field(max_length=20000)
    language: str = Field(max_length=10)
    entry_level: int = Field(description="The DigComp level a learner really needs on entry (1-8).")
    prior_knowledge: str = Field(max_length=4000, description="The prior knowledge really needed, in plain words.")
    equipment: str = Field(max_length=4000, description="The computer and other equipment the learner must have.")
    operating_systems: list[OperatingSystem] = Field(max_length=5)
    location_ids: list[uuid.UUID] = Field(max_length=50)
    curriculum_document_id: uuid.UUID

    def to_domain(self) -> ProgrammeInput:
        return ProgrammeInput(**{name: getattr(self, name) for name in type(self).model_fields})


class CostOut(BaseModel):
    per_participant: Decimal
    per_hour: Decimal
    hourly_rate: Decimal
    coefficient: Decimal
    coefficient_table_version: int
    currency: str = "EUR"


class ProgrammeOut(ProgrammeIn):
    id: uuid.UUID
    institution_id: uuid.UUID
    status: str
    cost: CostOut
    registered_at: datetime
    published_at: datetime | None
    publication_valid_until: date | None
    call_id: uuid.UUID | None

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeOut:
        spec = programme.spec
        c = programme.cost
        return cls(
            **{name: getattr(spec, name) for name in ProgrammeIn.model_fields},
            id=programme.id,
            institution_id=programme.institution_id,
            status=programme.status.value,
            cost=CostOut(
                per_participant=c.per_participant,
                per_hour=c.per_hour,
                hourly_rate=c.hourly_rate,
                coefficient=c.coefficient,
                coefficient_table_version=c.table_version,
            ),
            registered_at=programme.registered_at,
            published_at=programme.published_at,
            publication_valid_until=programme.publication_valid_until,
            call_id=programme.call_id,
        )


@router.post(
    "/providers/{institution_id}/programmes",
    status_code=201,
    response_model=ProgrammeOut,
    tags=["programmes"],
    summary="Register a programme (a draft; checked against the register and costed by the platform)",
)
async def register_programme(
    institution_id: uuid.UUID,
    body: ProgrammeIn,
    user: CurrentUser,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
) -> ProgrammeOut:
    programme = await service.register_programme(
        database, clock, registers, user.subject, institution_id, body.to_domain()
    )
    return ProgrammeOut.of(programme)


@router.get("/providers/{institution_id}/programmes", response_model=list[ProgrammeOut], tags=["programmes"])
async def list_programmes(institution_id: uuid.UUID, user: CurrentUser, database: DatabaseDep) -> list[ProgrammeOut]:
    return [ProgrammeOut.of(p) for p in await service.programmes_of(database, user.subject, institution_id)]


@router.get("/providers/{institution_id}/programmes/{programme_id}", response_model=ProgrammeOut, tags=["programmes"])
async def get_programme(
    institution_id: uuid.UUID, programme_id: uuid.UUID, user: CurrentUser, database: DatabaseDep
) -> ProgrammeOut:
    return ProgrammeOut.of(await service.programme_of(database, user.subject, institution_id, programme_id))


@router.get(
    "/programmes/{programme_id}",
    response_model=ProgrammeOut,
    tags=["programmes"],
    summary="Any programme, draft or published (agency, e.g. to evaluate an offer)",
)
async def get_programme_for_agency(programme_id: uuid.UUID, _: Agency, database: DatabaseDep) -> ProgrammeOut:
    return ProgrammeOut.of(await service.programme_for_agency(database, programme_id))


# =========================================================================== study groups


class GroupIn(BaseModel):
    location_id: uuid.UUID
    start_date: date
    end_date: date
    schedule: str = Field(max_length=4000, json_schema_extra={"examples": ["Otrdienās un ceturtdienās 18:00-21:00"]})
    capacity: int
    language: str = Field(max_length=10)
    entry_level: int = Field(description="The DigComp level the group is formed for (1-8).")

    def to_domain(self) -> GroupInput:
        return GroupInput(**self.model_dump())


class GroupPatch(BaseModel):
    location_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None
    schedule: str | None = Field(default=None, max_length=4000)
    capacity: int | None = None
    language: str | None = Field(default=None, max_length=10)
    entry_level: int | None = None
    status: Literal["cancelled"] | None = Field(default=None, description="Cancel a group nobody has enrolled in.")


class GroupOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    location_id: uuid.UUID
    city: str
    start_date: date
    end_date: date
    schedule: str
    capacity: int
    enrolled: int
    free_places: int
    language: str
    entry_level: int
    status: str

    @classmethod
    def of(cls, group: StudyGroup) -> GroupOut:
        return cls(
            id=group.id,
            programme_id=group.programme_id,
            **group.spec.__dict__,
            city=group.city,
            enrolled=group.enrolled,
            free_places=group.free_places,
            status=group.status.value,
        )


class LearnerProgressOut(BaseModel):
    enrolment_id: uuid.UUID
    learner_id: str = Field(description="The learner's opaque id; catalog holds no names or personal codes.")
    status: str
    enrolled_at: datetime | None
    started_on: date | None
    ended_on: date | None
    hours_attended: int | None
    result: str | None

    @classmethod
    def of(cls, e: Enrolment) -> LearnerProgressOut:
        return cls(
            enrolment_id=e.id,
            learner_id=e.learner_id,
            status=e.status.value,
            enrolled_at=e.enrolled_at,
            started_on=e.started_on,
            ended_on=e.ended_on,
            hours_attended=e.hours_attended,
            result=e.result,
        )


class GroupDetailOut(GroupOut):
    learners: list[LearnerProgressOut]
    progress: dict[str, int] = Field(description="Learners per state: enrolled, started, discontinued, completed.")


@router.post(
    "/providers/{institution_id}/programmes/{programme_id}/groups",
    status_code=201,
    response_model=GroupOut,
    tags=["groups"],
    summary="Schedule a study group of a published programme",
)
async def schedule_group(
    institution_id: uuid.UUID,
    programme_id: uuid.UUID,
    body: GroupIn,
    user: CurrentUser,
    database: DatabaseDep,
    clock: ClockDep,
) -> GroupOut:
    group = await service.schedule_group(database, clock, user.subject, institution_id, programme_id, body.to_domain())
    return GroupOut.of(group)


@router.get("/providers/{institution_id}/groups", response_model=list[GroupOut], tags=["groups"])
async def list_groups(institution_id: uuid.UUID, user: CurrentUser, database: DatabaseDep) -> list[GroupOut]:
    return [GroupOut.of(g) for g in await service.groups_of(database, user.subject, institution_id)]


@router.get(
    "/providers/{institution_id}/groups/{group_id}",
    response_model=GroupDetailOut,
    tags=["groups"],
    summary="A group with its learners' progress",
)
async def get_group(
    institution_id: uuid.UUID, group_id: uuid.UUID, user: CurrentUser, database: DatabaseDep
) -> GroupDetailOut:
    group, enrolments = await service.group_with_learners(database, user.subject, institution_id, group_id)
    progress = {s: 0 for s in ("enrolled", "started", "discontinued", "completed")}
    for e in enrolments:
        progress[e.status.value] += 1
    return GroupDetailOut(
        **GroupOut.of(group).model_dump(), learners=[LearnerProgressOut.of(e) for e in enrolments], progress=progress
    )


@router.patch(
    "/providers/{institution_id}/groups/{group_id}",
    response_model=GroupOut,
    tags=["groups"],
    summary="Change a group's dates, place, capacity or schedule, or cancel it",
)
async def change_group(
    institution_id: uuid.UUID,
    group_id: uuid.UUID,
    body: GroupPatch,
    user: CurrentUser,
    database: DatabaseDep,
    clock: ClockDep,
) -> GroupOut:
    changes = service.GroupChanges(
        **body.model_dump(exclude={"status"}, exclude_none=True), cancelled=body.status == "cancelled"
    )
    return GroupOut.of(await service.change_group(database, clock, user.subject, institution_id, group_id, changes))


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
    registered, checks = await service.register_extract(registers, clock, register_number)
    return RegisterExtractOut.of(registered, checks)


# =========================================================================== the public catalogue


class QualificationOut(BaseModel):
    code: str
    lv: str
    en: str


class PublicGroupOut(BaseModel):
    id: uuid.UUID
    city: str
    start_date: date
    end_date: date
    schedule: str
    language: str
    entry_level: int
    capacity: int
    free_places: int


class RatingOut(BaseModel):
    raters: int = Field(description="How many completers rated it (always shown).")
    shown: bool = Field(description="Ratings are public from 10 raters on.")
    averages: dict[str, Decimal] | None
    overall: Decimal | None


class OutcomesOut(BaseModel):
    started: int
    completed: int
    discontinued: int
    completion_rate: Decimal | None = Field(description="% of those who started; null before anyone started.")
    dropout_rate: Decimal | None


class InstitutionRef(BaseModel):
    id: uuid.UUID
    name: str


class PublicProgrammeOut(BaseModel):
    id: uuid.UUID
    title: dict[str, str]
    description: str
    institution: InstitutionRef
    cost_per_participant: Decimal
    currency: str = "EUR"
    total_hours: int
    theory_hours: int
    practice_hours: int
    digcomp_level: int
    digital_share_percent: Decimal
    form: str
    language: str
    thematic_area: str
    programme_type: str
    qualifications: list[QualificationOut]
    professional_competences: list[str]
    learning_outcomes: list[str]
    entry_level: int
    prior_knowledge: str
    equipment: str
    operating_systems: list[str]
    groups: list[PublicGroupOut] = Field(description="Upcoming groups, earliest first.")
    has_free_places: bool
    rating: RatingOut
    outcomes: OutcomesOut
    published_at: datetime | None

    @classmethod
    def of(cls, entry: service.CatalogueEntry) -> PublicProgrammeOut:
        p, spec = entry.programme, entry.programme.spec
        return cls(
            id=p.id,
            title=p.title,
            description=spec.description,
            institution=InstitutionRef(id=p.institution_id, name=entry.institution_name),
            cost_per_participant=p.cost.per_participant,
            total_hours=spec.total_hours,
            theory_hours=spec.theory_hours,
            practice_hours=spec.practice_hours,
            digcomp_level=spec.digcomp_level,
            digital_share_percent=spec.digital_share_percent,
            form=spec.form.value,
            language=spec.language,
            thematic_area=spec.thematic_area,
            programme_type=spec.programme_type.value,
            qualifications=[QualificationOut(code=q, **QUALIFICATIONS[q]) for q in spec.qualifications],
            professional_competences=list(spec.professional_competences),
            learning_outcomes=list(spec.learning_outcomes),
            entry_level=spec.entry_level,
            prior_knowledge=spec.prior_knowledge,
            equipment=spec.equipment,
            operating_systems=[o.value for o in spec.operating_systems],
            groups=[_public_group(g) for g in entry.groups],
            has_free_places=any(g.free_places > 0 for g in entry.groups),
            rating=RatingOut(
                raters=entry.rating.raters,
                shown=entry.rating.shown,
                averages=dict(entry.rating.averages) if entry.rating.averages else None,
                overall=entry.rating.overall,
            ),
            outcomes=OutcomesOut(
                started=entry.outcomes.started,
                completed=entry.outcomes.completed,
                discontinued=entry.outcomes.discontinued,
                completion_rate=entry.outcomes.completion_rate,
                dropout_rate=entry.outcomes.dropout_rate,
            ),
            published_at=p.published_at,
        )


def _public_group(g: StudyGroup) -> PublicGroupOut:
    return PublicGroupOut(
        id=g.id,
        city=g.city,
        start_date=g.spec.start_date,
        end_date=g.spec.end_date,
        schedule=g.spec.schedule,
        language=g.spec.language,
        entry_level=g.spec.entry_level,
        capacity=g.spec.capacity,
        free_places=g.free_places,
    )


class CataloguePage(BaseModel):
    items: list[PublicProgrammeOut]
    total: int
    limit: int
    offset: int


@router.get(
    "/public/programmes",
    response_model=CataloguePage,
    tags=["public catalogue"],
    summary="Search the published programmes (no token needed)",
    description=(
        "`q`: words in Latvian or English, each must match (diacritics and case do not matter: "
        "'datu analize' finds 'Datu analīze'). `city`, `starts_from`, `starts_until` and `free_places` select "
        "programmes with one upcoming group matching them all."
    ),
    openapi_extra=PUBLIC,
)
async def search_catalogue(
    database: DatabaseDep,
    clock: ClockDep,
    q: Annotated[str, Query(max_length=200)] = "",
    digcomp_level: Annotated[list[int], Query(max_length=8)] = [],  # noqa: B006
    qualification: Annotated[str | None, Query(max_length=50)] = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    form: ProgrammeForm | None = None,
    starts_from: date | None = None,
    starts_until: date | None = None,
    free_places: bool = False,
    sort: CatalogueSort = CatalogueSort.TITLE,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100000)] = 0,
) -> CataloguePage:
    query = CatalogueQuery(
        text=q,
        digcomp_levels=tuple(digcomp_level),
        qualification=qualification,
        city=city,
        form=form,
        starts_from=starts_from,
        starts_until=starts_until,
        free_places=free_places,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    entries, total = await service.search_catalogue(database, clock, query)
    return CataloguePage(items=[PublicProgrammeOut.of(e) for e in entries], total=total, limit=limit, offset=offset)


@router.get(
    "/public/programmes/{programme_id}",
    response_model=PublicProgrammeOut,
    tags=["public catalogue"],
    summary="One published programme",
    openapi_extra=PUBLIC,
)
async def public_programme(programme_id: uuid.UUID, database: DatabaseDep, clock: ClockDep) -> PublicProgrammeOut:
    return PublicProgrammeOut.of(await service.public_programme(database, clock, programme_id))


@router.get(
    "/public/qualifications",
    response_model=list[QualificationOut],
    tags=["public catalogue"],
    summary="Qualifications a programme may target",
    openapi_extra=PUBLIC,
)
async def qualifications() -> list[QualificationOut]:
    return [QualificationOut(code=code, **names) for code, names in QUALIFICATIONS.items()]


ROUTERS = [router]
