"""The cost coefficient table and the programmes providers register."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response
from prasmes_runtime.auth import PUBLIC
from prasmes_runtime.dependencies import MAX_LIMIT, MAX_OFFSET, ClockDep, DatabaseDep, StrictQuery
from prasmes_runtime.errors import Violation
from prasmes_runtime.schemas import Text
from pydantic import BaseModel, Field

from catalog.api.common import TOTAL_HEADER, Agency, AgencyAdmin, CatalogIn, Person, Provider, RegistersDep
from catalog.domain.programmes import (
    MAX_PROGRAMME_GROUPS,
    CoefficientTable,
    CoefficientTableForm,
    OperatingSystem,
    Programme,
    ProgrammeForm,
    ProgrammeInput,
    ProgrammeSort,
    ProgrammeStatus,
    ProgrammeType,
)
from catalog.service import programmes

router = APIRouter()


# =========================================================================== coefficients


class CoefficientTableIn(CatalogIn):
    """The body of POST /coefficients as documented. It is read as JSON and checked field by field by the domain,
    so that every problem of a table is named in one answer (a number that does not parse beside a date in the
    past); an unknown field is a 422 as for every other body."""

    hourly_rate: Decimal = Field(description="EUR per hour before the coefficient, e.g. 1.56.")
    coefficients: dict[str, Decimal] = Field(
        description="Programme group -> minimum cost coefficient.", max_length=MAX_PROGRAMME_GROUPS
    )
    valid_from: date

    @classmethod
    def form(cls, body: dict[str, Any]) -> tuple[CoefficientTableForm, list[Violation]]:
        """The form to check, and a violation for each field the table does not have."""
        unknown = [
            Violation(name, "extra_forbidden", "Extra inputs are not permitted")
            for name in body
            if name not in cls.model_fields
        ]
        return CoefficientTableForm(**{name: body.get(name) for name in cls.model_fields}), unknown


_TABLE_BODY = {"requestBody": {"content": {"application/json": {"schema": CoefficientTableIn.model_json_schema()}}}}


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
    return CoefficientTableOut.of(await programmes.current_coefficients(database, clock))


@router.get(
    "/coefficients/versions",
    response_model=list[CoefficientTableOut],
    tags=["coefficients"],
    summary="Every version, newest first",
    openapi_extra=PUBLIC,
)
async def coefficient_versions(database: DatabaseDep) -> list[CoefficientTableOut]:
    return [CoefficientTableOut.of(t) for t in await programmes.coefficient_history(database)]


@router.post(
    "/coefficients",
    status_code=201,
    response_model=CoefficientTableOut,
    tags=["coefficients"],
    summary="Publish a new version of the coefficient table (agency_admin)",
    description="Every problem of the table is named in one 422.",
    openapi_extra=_TABLE_BODY,
)
async def publish_coefficients(
    body: Annotated[dict[str, Any], Body()], admin: AgencyAdmin, database: DatabaseDep, clock: ClockDep
) -> CoefficientTableOut:
    form, unknown = CoefficientTableIn.form(body)
    table = await programmes.publish_coefficients(database, clock, admin.subject, form, unknown)
    return CoefficientTableOut.of(table)


# =========================================================================== programmes


class ProgrammeFields(BaseModel):
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
    qualifications: list[str] = Field(max_length=20, description="Codes from GET /public/qualifications.")
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
        return ProgrammeInput(**{name: getattr(self, name) for name in ProgrammeFields.model_fields})


class ProgrammeIn(CatalogIn, ProgrammeFields):
    """A programme to register: every field of the licensed programme. No cost: the platform computes it."""


class CostOut(BaseModel):
    per_participant: Decimal
    per_hour: Decimal
    hourly_rate: Decimal
    coefficient: Decimal
    coefficient_table_version: int
    currency: str = "EUR"


class CostQuoteIn(CatalogIn):
    """The two fields of a draft its cost depends on."""

    programme_group: str = Field(max_length=1000, description="As in the coefficient table in force.")
    total_hours: int


class CostQuoteOut(CostOut):
    valid_from: date = Field(description="The day the coefficient table version used came into force.")


class ProgrammeOut(ProgrammeFields):
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
            **{name: getattr(spec, name) for name in ProgrammeFields.model_fields},
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
    user: Person,
    database: DatabaseDep,
    clock: ClockDep,
    registers: RegistersDep,
) -> ProgrammeOut:
    programme = await programmes.register_programme(
        database, clock, registers, user.subject, institution_id, body.to_domain()
    )
    return ProgrammeOut.of(programme)


@router.get(
    "/providers/{institution_id}/programmes",
    response_model=list[ProgrammeOut],
    tags=["programmes"],
    summary="The institution's programmes, filtered, sorted and paged as asked",
    description="Every programme without parameters. `X-Total-Count` is how many match the filters before paging.",
)
async def list_programmes(
    institution_id: uuid.UUID,
    user: Person,
    database: DatabaseDep,
    response: Response,
    _query: StrictQuery,
    status: Annotated[list[ProgrammeStatus] | None, Query(description="Only these states (repeatable).")] = None,
    q: Annotated[Text, Query(max_length=200, description="Words each found in a title or the licence number.")] = "",
    sort: ProgrammeSort = ProgrammeSort.NEWEST,
    lang: Annotated[Literal["lv", "en"], Query(description="The title sorted by.")] = "lv",
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[ProgrammeOut]:
    found = await programmes.programmes_of(database, user.subject, institution_id, status or (), q, sort, lang)
    response.headers[TOTAL_HEADER] = str(len(found))
    page = found[offset : offset + limit] if limit is not None else found[offset:]
    return [ProgrammeOut.of(p) for p in page]


@router.get("/providers/{institution_id}/programmes/{programme_id}", response_model=ProgrammeOut, tags=["programmes"])
async def get_programme(
    institution_id: uuid.UUID, programme_id: uuid.UUID, user: Person, database: DatabaseDep
) -> ProgrammeOut:
    return ProgrammeOut.of(await programmes.programme_of(database, user.subject, institution_id, programme_id))


@router.get(
    "/programmes/{programme_id}",
    response_model=ProgrammeOut,
    tags=["programmes"],
    summary="Any programme, draft or published (agency, e.g. to evaluate an offer)",
)
async def get_programme_for_agency(programme_id: uuid.UUID, _: Agency, database: DatabaseDep) -> ProgrammeOut:
    return ProgrammeOut.of(await programmes.programme_for_agency(database, programme_id))


@router.post(
    "/programmes/cost",
    response_model=CostQuoteOut,
    tags=["programmes"],
    summary="What a programme draft would cost per participant (provider roles; nothing is saved)",
    description="Computed as its registration would compute it, from the coefficient table in force: "
    "round_half_up(hourly rate x the group's coefficient, cents) x hours. A 422 names `programme_group` "
    "(`required`, `in_coefficient_table`) and `total_hours` (`positive`, `max_hours`) at once.",
)
async def quote_cost(body: CostQuoteIn, _: Provider, database: DatabaseDep, clock: ClockDep) -> CostQuoteOut:
    c, table = await programmes.quote_cost(database, clock, body.programme_group, body.total_hours)
    return CostQuoteOut(
        per_participant=c.per_participant,
        per_hour=c.per_hour,
        hourly_rate=c.hourly_rate,
        coefficient=c.coefficient,
        coefficient_table_version=c.table_version,
        valid_from=table.valid_from,
    )
