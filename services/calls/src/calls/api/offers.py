"""Offers: drafted in three steps by the institution's provider_admin, checked, submitted, withdrawn; read back
(every version, every attachment) by the institution's users and the agency."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi import Path as PathParam
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, PagingDep, refuse_unknown_query
from prasmes_runtime.schemas import Page, Text
from pydantic import BaseModel, Field

from calls.api.common import CallsIn, ProviderAdmin, ProviderUser, Reader, RegistersDep, SettingsDep, actor_of
from calls.domain.checks import Problem, Step
from calls.domain.institutions import Programme
from calls.domain.offers import (
    OPERATING_SYSTEMS,
    STATEMENTS,
    Attachment,
    AttachmentKind,
    Location,
    Offer,
    OfferContent,
    OfferedProgramme,
    OfferState,
    OfferVersion,
    Provision,
    Terms,
)
from calls.service import offers
from calls.service.offers import Upload

router = APIRouter(tags=["offers"], dependencies=[Depends(refuse_unknown_query)])
OperatingSystem = Literal["windows", "macos", "linux", "chromeos", "any"]
Statement = Literal["data_true", "no_double_funding", "call_terms_accepted"]
assert set(get_args(OperatingSystem)) == set(OPERATING_SYSTEMS) and set(get_args(Statement)) == set(STATEMENTS)
Hours = Annotated[int, Field(ge=0, le=10_000)]
ViisId = Annotated[Text, Field(max_length=50)]


class LocationIn(CallsIn):
    address: Annotated[Text, Field(max_length=300)]
    city: Annotated[Text, Field(max_length=100)]
    viis_id: ViisId


class LocationsIn(CallsIn):
    locations: list[LocationIn] = Field(max_length=50)


class ProvisionIn(CallsIn):
    equipment: Annotated[Text, Field(max_length=2000)]
    operating_systems: list[OperatingSystem] = Field(max_length=5)


class ProgrammeIn(CallsIn):
    programme_id: uuid.UUID
    theory_hours: Hours | None = None
    practice_hours: Hours | None = None
    cost_per_participant: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    provision: ProvisionIn | None = None
    location_viis_ids: list[ViisId] = Field(default=[], max_length=50)

    def to_domain(self) -> OfferedProgramme:
        provision = self.provision
        return OfferedProgramme(
            self.programme_id,
            self.theory_hours,
            self.practice_hours,
            self.cost_per_participant,
            None if provision is None else Provision(provision.equipment, tuple(provision.operating_systems)),
            tuple(self.location_viis_ids),
        )


class ProgrammesIn(CallsIn):
    programmes: list[ProgrammeIn] = Field(max_length=20)


class TermsIn(CallsIn):
    funding_source: Annotated[Text, Field(max_length=30)] | None = None
    programme_ids: list[uuid.UUID] = Field(default=[], max_length=20)
    statements: list[Statement] = Field(default=[], max_length=len(STATEMENTS))


class AttachmentOut(BaseModel):
    id: uuid.UUID
    kind: AttachmentKind
    programme_id: uuid.UUID | None
    filename: str | None
    media_type: str
    format: str
    size: int
    sha256: str
    signatures: int
    timestamps: int
    uploaded_at: datetime

    @classmethod
    def of(cls, a: Attachment) -> AttachmentOut:
        return cls(**{name: getattr(a, name) for name in cls.model_fields})


class ProvisionOut(BaseModel):
    equipment: str
    operating_systems: list[str]


class ProgrammeOut(BaseModel):
    programme_id: uuid.UUID
    theory_hours: int | None
    practice_hours: int | None
    cost_per_participant: Decimal | None
    provision: ProvisionOut | None
    location_viis_ids: list[str]


class LocationOut(BaseModel):
    address: str
    city: str
    viis_id: str


class TermsOut(BaseModel):
    funding_source: str | None
    programme_ids: list[uuid.UUID]
    statements: list[str]


class ContentOut(BaseModel):
    locations: list[LocationOut]
    programmes: list[ProgrammeOut]
    terms: TermsOut
    attachments: list[AttachmentOut]

    @classmethod
    def of(cls, content: OfferContent, attachments: list[Attachment] | tuple[Attachment, ...]) -> ContentOut:
        return cls(
            locations=[LocationOut(**vars(loc)) for loc in content.locations],
            programmes=[_programme(p) for p in content.programmes],
            terms=TermsOut(
                funding_source=content.terms.funding_source,
                programme_ids=list(content.terms.programme_ids),
                statements=list(content.terms.statements),
            ),
            attachments=[AttachmentOut.of(a) for a in attachments],
        )


def _programme(p: OfferedProgramme) -> ProgrammeOut:
    provision = p.provision
    return ProgrammeOut(
        programme_id=p.programme_id,
        theory_hours=p.theory_hours,
        practice_hours=p.practice_hours,
        cost_per_participant=p.cost_per_participant,
        provision=None
        if provision is None
        else ProvisionOut(equipment=provision.equipment, operating_systems=list(provision.operating_systems)),
        location_viis_ids=list(p.location_viis_ids),
    )


class OfferOut(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    institution_id: uuid.UUID
    state: OfferState
    version: int = Field(description="The last submitted version (0: never submitted).")
    editable: bool
    content: ContentOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, offer: Offer, attachments: list[Attachment]) -> OfferOut:
        return cls(
            id=offer.id,
            call_id=offer.call_id,
            institution_id=offer.institution_id,
            state=offer.state,
            version=offer.version,
            editable=offer.state in ("draft", "withdrawn"),
            content=ContentOut.of(offer.content, attachments),
            created_at=offer.created_at,
            updated_at=offer.updated_at,
        )


class OfferSummaryOut(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    institution_id: uuid.UUID
    state: OfferState
    version: int
    updated_at: datetime


class VersionOut(BaseModel):
    offer_id: uuid.UUID
    version: int
    submitted_at: datetime
    withdrawn_at: datetime | None
    content: ContentOut

    @classmethod
    def of(cls, v: OfferVersion) -> VersionOut:
        return cls(
            offer_id=v.offer_id,
            version=v.version,
            submitted_at=v.submitted_at,
            withdrawn_at=v.withdrawn_at,
            content=ContentOut.of(v.content, v.attachments),
        )


class ProblemOut(BaseModel):
    field: str
    rule: str
    source: str = Field(description="Where the rule comes from: a criterion of the call, a regulation clause, ...")
    step: Step
    message: str


class ChecksOut(BaseModel):
    ready: bool = Field(description="No problem: the offer can be submitted.")
    problems: list[ProblemOut]

    @classmethod
    def of(cls, problems: list[Problem]) -> ChecksOut:
        return cls(ready=not problems, problems=[ProblemOut(**p.as_dict()) for p in problems])


class AvailableProgrammeOut(BaseModel):
    programme_id: uuid.UUID
    title: dict[str, str]
    licence_number: str | None
    programme_group: str | None
    form: str | None
    digcomp_level: int | None
    hours: int | None
    digital_share_percent: Decimal | None
    qualifications: list[str]
    cost_per_participant: Decimal | None

    @classmethod
    def of(cls, p: Programme) -> AvailableProgrammeOut:
        values = {name: getattr(p, name) for name in cls.model_fields}
        return cls(**values | {"title": dict(p.title), "qualifications": list(p.qualifications)})


async def _answer(database: DatabaseDep, request: Request, principal: Reader, offer_id: uuid.UUID) -> OfferOut:
    return OfferOut.of(*await offers.get_offer(database, actor_of(request, principal), offer_id))


@router.get("/institutions/me/programmes", response_model=list[AvailableProgrammeOut], summary="Programmes to offer")
async def my_programmes(request: Request, user: ProviderUser, database: DatabaseDep) -> list[AvailableProgrammeOut]:
    return [AvailableProgrammeOut.of(p) for p in await offers.my_programmes(database, actor_of(request, user))]


@router.post(
    "/calls/{call_id}/offers", response_model=OfferOut, status_code=status.HTTP_201_CREATED, summary="Start an offer"
)
async def start_offer(
    call_id: uuid.UUID, request: Request, user: ProviderAdmin, database: DatabaseDep, clock: ClockDep
) -> OfferOut:
    offer = await offers.start_offer(database, clock, actor_of(request, user), call_id)
    return OfferOut.of(offer, [])


@router.get("/calls/{call_id}/offers", response_model=Page[OfferSummaryOut], summary="Offers to a call")
async def list_offers(
    call_id: uuid.UUID,
    request: Request,
    user: Reader,
    database: DatabaseDep,
    paging: PagingDep,
    state: Annotated[OfferState | None, Query(description="Only the offers in this state.")] = None,
) -> Page[OfferSummaryOut]:
    actor = actor_of(request, user)
    found, total = await offers.list_offers(database, actor, call_id, paging.limit, paging.offset, state)
    items = [
        OfferSummaryOut(
            id=o.id,
            call_id=o.call_id,
            institution_id=o.institution_id,
            state=o.state,
            version=o.version,
            updated_at=o.updated_at,
        )
        for o in found
    ]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/offers/{offer_id}", response_model=OfferOut, summary="An offer (its draft or its last submission)")
async def get_offer(offer_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep) -> OfferOut:
    return await _answer(database, request, user, offer_id)


@router.put("/offers/{offer_id}/locations", response_model=OfferOut, summary="Step 1: implementation locations")
async def set_locations(
    offer_id: uuid.UUID,
    body: LocationsIn,
    request: Request,
    user: ProviderAdmin,
    database: DatabaseDep,
    clock: ClockDep,
) -> OfferOut:
    locations = tuple(Location(loc.address, loc.city, loc.viis_id) for loc in body.locations)
    await offers.set_locations(database, clock, actor_of(request, user), offer_id, locations)
    return await _answer(database, request, user, offer_id)


@router.put("/offers/{offer_id}/programmes", response_model=OfferOut, summary="Step 2: the programmes")
async def set_programmes(
    offer_id: uuid.UUID,
    body: ProgrammesIn,
    request: Request,
    user: ProviderAdmin,
    database: DatabaseDep,
    clock: ClockDep,
) -> OfferOut:
    programmes = tuple(p.to_domain() for p in body.programmes)
    await offers.set_programmes(database, clock, actor_of(request, user), offer_id, programmes)
    return await _answer(database, request, user, offer_id)


@router.put("/offers/{offer_id}/terms", response_model=OfferOut, summary="Step 3: funding, programmes, statements")
async def set_terms(
    offer_id: uuid.UUID, body: TermsIn, request: Request, user: ProviderAdmin, database: DatabaseDep, clock: ClockDep
) -> OfferOut:
    terms = Terms(body.funding_source, tuple(dict.fromkeys(body.programme_ids)), tuple(dict.fromkeys(body.statements)))
    await offers.set_terms(database, clock, actor_of(request, user), offer_id, terms)
    return await _answer(database, request, user, offer_id)


@router.post(
    "/offers/{offer_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Attach a document (the body is the file: a PDF or an ASiC-E container)",
)
async def add_attachment(
    offer_id: uuid.UUID,
    request: Request,
    user: ProviderAdmin,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    kind: AttachmentKind,
    programme_id: uuid.UUID | None = None,
    filename: Annotated[Text | None, Query(max_length=255)] = None,
) -> AttachmentOut:
    upload = Upload(kind, programme_id, filename, request.headers.get("content-type", ""), await request.body())
    actor = actor_of(request, user)
    stored = await offers.add_attachment(database, clock, actor, offer_id, upload, settings.max_attachment_bytes)
    return AttachmentOut.of(stored)


@router.delete("/offers/{offer_id}/attachments/{attachment_id}", response_model=OfferOut, summary="Detach")
async def remove_attachment(
    offer_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    user: ProviderAdmin,
    database: DatabaseDep,
    clock: ClockDep,
) -> OfferOut:
    await offers.remove_attachment(database, clock, actor_of(request, user), offer_id, attachment_id)
    return await _answer(database, request, user, offer_id)


@router.get("/offers/{offer_id}/attachments/{attachment_id}", response_model=AttachmentOut, summary="An attachment")
async def get_attachment(
    offer_id: uuid.UUID, attachment_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep
) -> AttachmentOut:
    found, _ = await offers.attachment(database, actor_of(request, user), offer_id, attachment_id)
    return AttachmentOut.of(found)


@router.get("/offers/{offer_id}/attachments/{attachment_id}/content", summary="An attachment's bytes")
async def attachment_content(
    offer_id: uuid.UUID, attachment_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep
) -> Response:
    found, content = await offers.attachment(database, actor_of(request, user), offer_id, attachment_id)
    headers = {"Content-Disposition": "attachment", "X-Content-SHA256": found.sha256}
    return Response(content=content, media_type=found.media_type, headers=headers)


@router.post("/offers/{offer_id}/checks", response_model=ChecksOut, summary="Run every check without submitting")
async def run_checks(
    offer_id: uuid.UUID,
    request: Request,
    user: Reader,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
) -> ChecksOut:
    return ChecksOut.of(await offers.run_checks(database, clock, registers, actor_of(request, user), offer_id))


@router.post("/offers/{offer_id}/submit", response_model=OfferOut, summary="Submit (422 with every problem)")
async def submit(
    offer_id: uuid.UUID,
    request: Request,
    user: ProviderAdmin,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
) -> OfferOut:
    await offers.submit(database, clock, registers, actor_of(request, user), offer_id)
    return await _answer(database, request, user, offer_id)


@router.post("/offers/{offer_id}/withdraw", response_model=OfferOut, summary="Withdraw (until the deadline)")
async def withdraw(
    offer_id: uuid.UUID, request: Request, user: ProviderAdmin, database: DatabaseDep, clock: ClockDep
) -> OfferOut:
    await offers.withdraw(database, clock, actor_of(request, user), offer_id)
    return await _answer(database, request, user, offer_id)


@router.get("/offers/{offer_id}/versions", response_model=Page[VersionOut], summary="Every submitted version")
async def list_versions(
    offer_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep, paging: PagingDep
) -> Page[VersionOut]:
    found, total = await offers.versions(database, actor_of(request, user), offer_id, paging.limit, paging.offset)
    return Page(items=[VersionOut.of(v) for v in found], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/offers/{offer_id}/versions/{number}", response_model=VersionOut, summary="One submitted version")
async def get_version(
    offer_id: uuid.UUID,
    number: Annotated[int, PathParam(ge=1, le=1_000_000)],
    request: Request,
    user: Reader,
    database: DatabaseDep,
) -> VersionOut:
    return VersionOut.of(await offers.version(database, actor_of(request, user), offer_id, number))
