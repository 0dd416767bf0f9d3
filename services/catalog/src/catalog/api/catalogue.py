"""The public catalogue: search, a published programme's page, the qualifications (no token needed)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response
from prasmes_runtime.auth import PUBLIC
from prasmes_runtime.dependencies import MAX_LIMIT, MAX_OFFSET, ClockDep, DatabaseDep, StrictQuery
from prasmes_runtime.schemas import Page, Text
from pydantic import BaseModel, Field

from catalog.api.common import SettingsDep
from catalog.domain.catalogue import CatalogueEntry, CatalogueQuery, CatalogueSort
from catalog.domain.groups import StudyGroup
from catalog.domain.programmes import QUALIFICATIONS, ProgrammeForm
from catalog.service import catalogue

router = APIRouter()


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

    @classmethod
    def of(cls, g: StudyGroup) -> PublicGroupOut:
        return cls(
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


class RatingOut(BaseModel):
    raters: int = Field(
        description="How many completers rated it: surveys sends a rating once it is public (from the tenth "
        "rater), so 0 until then."
    )
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
    funding_projects: list[str] = Field(
        description="The funding projects (codes, sorted) of the calls under whose signed cooperation agreements it "
        "is published: a learner applies to one of them for it. Empty while catalog has not heard of the call."
    )
    has_free_places: bool
    rating: RatingOut
    outcomes: OutcomesOut
    published_at: datetime | None

    @classmethod
    def of(cls, entry: CatalogueEntry) -> PublicProgrammeOut:
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
            groups=[PublicGroupOut.of(g) for g in entry.groups],
            funding_projects=list(entry.funding_projects),
            has_free_places=entry.has_free_places,
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


@router.get(
    "/public/programmes",
    response_model=Page[PublicProgrammeOut],
    tags=["public catalogue"],
    summary="Search the published programmes (no token needed)",
    description=(
        "`q`: words in Latvian or English, each must match (diacritics and case do not matter: "
        "'datu analize' finds 'Datu analīze'). `city`, `starts_from`, `starts_until` and `free_places` select "
        "programmes with one upcoming group matching them all. `project` (repeatable: any of them) selects the "
        "programmes published under a signed cooperation agreement of a call of that funding project, by the "
        "project's code such as IMK, VARAM, TALAK or 4242 (2 to 20 capital letters, digits, _ or -: 422 "
        "`project_code` otherwise). `language` (repeatable: any of them) selects the programmes taught in that "
        "language, an ISO 639-1 code of two lower-case letters such as lv, en or ru (422 `format` otherwise). "
        "`total` counts every programme the filters select; each programme names its `funding_projects`. "
        "The same search asked again within 5 s is answered from memory: a change another process made (an "
        "enrolment counted, a rating) may show that much later; a programme's own page is always read fresh."
    ),
    openapi_extra=PUBLIC,
)
async def search_catalogue(
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    _query: StrictQuery,
    q: Annotated[Text, Query(max_length=200)] = "",
    digcomp_level: Annotated[list[int], Query(max_length=8)] = [],  # noqa: B006
    qualification: Annotated[Text | None, Query(max_length=50)] = None,
    city: Annotated[Text | None, Query(max_length=100)] = None,
    form: ProgrammeForm | None = None,
    starts_from: date | None = None,
    starts_until: date | None = None,
    free_places: bool = False,
    project: Annotated[
        list[Text], Query(max_length=10, description="A funding project's code, e.g. IMK (repeatable).")
    ] = [],  # noqa: B006
    language: Annotated[
        list[Text], Query(max_length=10, description="A language of instruction, e.g. lv, en, ru (repeatable).")
    ] = [],  # noqa: B006
    sort: CatalogueSort = CatalogueSort.TITLE,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many at most (1 to {MAX_LIMIT}).")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"How many to skip (0 to {MAX_OFFSET}).")] = 0,
) -> Response:
    query = CatalogueQuery(
        text=q,
        digcomp_levels=tuple(digcomp_level),
        qualification=qualification,
        city=city,
        form=form,
        starts_from=starts_from,
        starts_until=starts_until,
        free_places=free_places,
        projects=tuple(project),
        languages=tuple(language),
        sort=sort,
        limit=limit,
        offset=offset,
    )

    def render(entries: list[CatalogueEntry], total: int) -> bytes:
        page = Page[PublicProgrammeOut](
            items=[PublicProgrammeOut.of(e) for e in entries], total=total, limit=limit, offset=offset
        )
        return page.model_dump_json().encode()

    body = await catalogue.search_page(database, clock, query, render, settings.search_cache)
    return Response(body, media_type="application/json")


@router.get(
    "/public/programmes/{programme_id}",
    response_model=PublicProgrammeOut,
    tags=["public catalogue"],
    summary="One published programme",
    openapi_extra=PUBLIC,
)
async def public_programme(programme_id: uuid.UUID, database: DatabaseDep, clock: ClockDep) -> PublicProgrammeOut:
    return PublicProgrammeOut.of(await catalogue.public_programme(database, clock, programme_id))


@router.get(
    "/public/qualifications",
    response_model=list[QualificationOut],
    tags=["public catalogue"],
    summary="Qualifications a programme may target",
    openapi_extra=PUBLIC,
)
async def qualifications() -> list[QualificationOut]:
    return [QualificationOut(code=code, **names) for code, names in QUALIFICATIONS.items()]
