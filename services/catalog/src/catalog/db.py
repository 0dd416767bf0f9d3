"""The catalog service's tables and the queries over them.

A programme's full form is kept as JSON (`spec`); what the public catalogue filters, sorts or searches on
is kept beside it in indexed columns, maintained by the service (`search_text` is the normalised text).
Money is stored as integer cents: exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.domain import (
    CatalogueQuery,
    CatalogueSort,
    CoefficientTable,
    Cost,
    Document,
    DocumentPurpose,
    Enrolment,
    EnrolmentStatus,
    GroupInput,
    GroupStatus,
    Institution,
    InstitutionStatus,
    Location,
    Membership,
    OperatingSystem,
    OutcomeCounts,
    Programme,
    ProgrammeForm,
    ProgrammeInput,
    ProgrammeStatus,
    ProgrammeType,
    ProviderRole,
    RatingSummary,
    StudyGroup,
    search_key,
)
from catalog.signatures import Inspection

metadata = sa.MetaData()
Row = sa.Row[Any]

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("format", sa.String(10), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("filename", sa.String(255), nullable=True),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("signatures", sa.Integer(), nullable=False),
    sa.Column("timestamps", sa.Integer(), nullable=False),
    sa.Column("signing_time", UtcDateTime(), nullable=True),
    sa.Column("timestamp_time", UtcDateTime(), nullable=True),
    sa.Column("uploaded_at", UtcDateTime(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
)

institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("register_number", sa.String(10), nullable=False, unique=True),
    sa.Column("legal_address", sa.String(300), nullable=False),
    sa.Column("admin_name", sa.String(200), nullable=False),
    sa.Column("admin_email", sa.String(254), nullable=False),
    sa.Column("registered_by", sa.String(64), nullable=False),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
    sa.Column("statement_document_id", sa.Uuid(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("rejection_reason_code", sa.String(50), nullable=True),
    sa.Column("rejection_reason", sa.Text(), nullable=True),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),  # a user acts for one institution
    sa.Column("institution_id", sa.Uuid(), sa.ForeignKey("institutions.id"), nullable=False, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("added_at", UtcDateTime(), nullable=False),
    sa.Column("added_by", sa.String(64), nullable=False),
)

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), sa.ForeignKey("institutions.id"), nullable=False, index=True),
    sa.Column("address", sa.String(300), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("viis_id", sa.String(50), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("institution_id", "viis_id", name="uq_locations_institution_viis"),
)

coefficient_tables = sa.Table(
    "coefficient_tables",
    metadata,
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("hourly_rate", sa.String(20), nullable=False),
    sa.Column("coefficients", sa.Text(), nullable=False),
    sa.Column("valid_from", sa.Date(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
)

programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), sa.ForeignKey("institutions.id"), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("title_lv", sa.String(300), nullable=False),
    sa.Column("title_key", sa.String(300), nullable=False),
    sa.Column("search_text", sa.Text(), nullable=False),
    sa.Column("form", sa.String(20), nullable=False),
    sa.Column("digcomp_level", sa.Integer(), nullable=False),
    sa.Column("total_hours", sa.Integer(), nullable=False),
    sa.Column("cost_cents", sa.BigInteger(), nullable=False),
    sa.Column("per_hour_cents", sa.Integer(), nullable=False),
    sa.Column("hourly_rate", sa.String(20), nullable=False),
    sa.Column("coefficient", sa.String(20), nullable=False),
    sa.Column("coefficient_table_version", sa.Integer(), nullable=False),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
    sa.Column("registered_by", sa.String(64), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Column("publication_valid_until", sa.Date(), nullable=True),
    sa.Column("call_id", sa.Uuid(), nullable=True),
    sa.Index("ix_programmes_public", "status", "digcomp_level", "form"),
    sa.Index("ix_programmes_status_cost", "status", "cost_cents"),
    sa.Index("ix_programmes_status_title", "status", "title_key"),
)

programme_specs = sa.Table(
    "programme_specs",
    metadata,
    sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("programmes.id"), primary_key=True),
    sa.Column("spec", sa.Text(), nullable=False),
)
"""The full form, apart from the searched table: a search scans narrow rows."""

programme_qualifications = sa.Table(
    "programme_qualifications",
    metadata,
    sa.Column("qualification", sa.String(50), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("programmes.id"), primary_key=True),
)

programme_locations = sa.Table(
    "programme_locations",
    metadata,
    sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("programmes.id"), primary_key=True),
    sa.Column("location_id", sa.Uuid(), sa.ForeignKey("locations.id"), primary_key=True),
)

agreements = sa.Table(
    "agreements",
    metadata,
    sa.Column("offer_id", sa.Uuid(), primary_key=True),
    sa.Column("call_id", sa.Uuid(), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("valid_until", sa.Date(), nullable=True),
    sa.Column("signed_at", UtcDateTime(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
)

agreement_programmes = sa.Table(
    "agreement_programmes",
    metadata,
    sa.Column("offer_id", sa.Uuid(), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), primary_key=True, index=True),
)

study_groups = sa.Table(
    "study_groups",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("programmes.id"), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("location_id", sa.Uuid(), sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("city_key", sa.String(100), nullable=False, index=True),
    sa.Column("start_date", sa.Date(), nullable=False, index=True),
    sa.Column("end_date", sa.Date(), nullable=False),
    sa.Column("schedule", sa.Text(), nullable=False),
    sa.Column("capacity", sa.Integer(), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("entry_level", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("enrolled", sa.Integer(), nullable=False),
    sa.Column("free_places", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_study_groups_programme", "programme_id", "status", "start_date"),
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("group_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("learner_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("enrolled_at", UtcDateTime(), nullable=True),
    sa.Column("started_on", sa.Date(), nullable=True),
    sa.Column("ended_on", sa.Date(), nullable=True),
    sa.Column("hours_attended", sa.Integer(), nullable=True),
    sa.Column("result", sa.String(200), nullable=True),
)

programme_ratings = sa.Table(
    "programme_ratings",
    metadata,
    sa.Column("programme_id", sa.Uuid(), primary_key=True),
    sa.Column("raters", sa.Integer(), nullable=False),
    sa.Column("averages", sa.Text(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _euros(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------- documents


async def insert_document(
    session: AsyncSession,
    document_id: uuid.UUID,
    owner_id: str,
    purpose: str,
    filename: str | None,
    content: bytes,
    sha256: str,
    inspection: Inspection,
    at: datetime,
) -> None:
    await session.execute(
        documents.insert().values(
            id=document_id,
            owner_id=owner_id,
            purpose=purpose,
            format=inspection.format.value,
            media_type=inspection.media_type,
            filename=filename,
            size=len(content),
            sha256=sha256,
            signatures=inspection.signatures,
            timestamps=inspection.timestamps,
            signing_time=inspection.signing_time,
            timestamp_time=inspection.timestamp_time,
            uploaded_at=at,
            content=content,
        )
    )


_DOCUMENT_META = [c for c in documents.c if c.name != "content"]


async def document_meta(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    row = (await session.execute(sa.select(*_DOCUMENT_META).where(documents.c.id == document_id))).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values["purpose"] = DocumentPurpose(values["purpose"])
    return Document(**values)


async def document_content(session: AsyncSession, document_id: uuid.UUID) -> bytes | None:
    content: bytes | None = await session.scalar(sa.select(documents.c.content).where(documents.c.id == document_id))
    return content


async def attach_document(session: AsyncSession, document_id: uuid.UUID, institution_id: uuid.UUID) -> None:
    await session.execute(documents.update().where(documents.c.id == document_id).values(institution_id=institution_id))


# --------------------------------------------------------------------------- institutions and members


def _institution(row: Row) -> Institution:
    m = row._mapping
    return Institution(
        id=m["id"],
        name=m["name"],
        register_number=m["register_number"],
        legal_address=m["legal_address"],
        admin_name=m["admin_name"],
        admin_email=m["admin_email"],
        registered_by=m["registered_by"],
        registered_at=m["registered_at"],
        statement_document_id=m["statement_document_id"],
        status=InstitutionStatus(m["status"]),
        decided_at=m["decided_at"],
        decided_by=m["decided_by"],
        rejection_reason_code=m["rejection_reason_code"],
        rejection_reason=m["rejection_reason"],
    )


def _institution_values(institution: Institution) -> dict[str, Any]:
    values = asdict(institution)
    values["status"] = institution.status.value
    return values


async def insert_institution(session: AsyncSession, institution: Institution) -> None:
    await session.execute(institutions.insert().values(**_institution_values(institution)))


async def replace_institution(session: AsyncSession, institution: Institution) -> None:
    values = _institution_values(institution)
    await session.execute(institutions.update().where(institutions.c.id == institution.id).values(**values))


async def institution_by_id(session: AsyncSession, institution_id: uuid.UUID) -> Institution | None:
    row = (await session.execute(sa.select(institutions).where(institutions.c.id == institution_id))).first()
    return _institution(row) if row else None


async def institution_by_number(session: AsyncSession, register_number: str) -> Institution | None:
    query = sa.select(institutions).where(institutions.c.register_number == register_number)
    row = (await session.execute(query)).first()
    return _institution(row) if row else None


async def institutions_with_status(session: AsyncSession, status: InstitutionStatus | None) -> list[Institution]:
    query = sa.select(institutions).order_by(institutions.c.registered_at, institutions.c.id)
    if status is not None:
        query = query.where(institutions.c.status == status.value)
    return [_institution(r) for r in await session.execute(query)]


async def set_decision(
    session: AsyncSession,
    institution_id: uuid.UUID,
    status: InstitutionStatus,
    at: datetime,
    by: str,
    reason_code: str | None = None,
    reason: str | None = None,
) -> bool:
    """Decide a pending registration; False when it was no longer pending (a concurrent decision)."""
    result = await session.execute(
        institutions.update()
        .where(institutions.c.id == institution_id, institutions.c.status == InstitutionStatus.PENDING.value)
        .values(
            status=status.value,
            decided_at=at,
            decided_by=by,
            rejection_reason_code=reason_code,
            rejection_reason=reason,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _membership(row: Row) -> Membership:
    m = row._mapping
    return Membership(
        m["institution_id"], m["user_id"], ProviderRole(m["role"]), m["active"], m["added_at"], m["added_by"]
    )


async def membership_of(session: AsyncSession, user_id: str) -> Membership | None:
    row = (await session.execute(sa.select(memberships).where(memberships.c.user_id == user_id))).first()
    return _membership(row) if row else None


async def members_of(session: AsyncSession, institution_id: uuid.UUID) -> list[Membership]:
    query = (
        sa.select(memberships)
        .where(memberships.c.institution_id == institution_id)
        .order_by(memberships.c.added_at, memberships.c.user_id)
    )
    return [_membership(r) for r in await session.execute(query)]


async def insert_membership(session: AsyncSession, membership: Membership) -> None:
    values = asdict(membership)
    values["role"] = membership.role.value
    await session.execute(memberships.insert().values(**values))


async def activate_members(session: AsyncSession, institution_id: uuid.UUID) -> None:
    await session.execute(
        memberships.update().where(memberships.c.institution_id == institution_id).values(active=True)
    )


async def delete_membership(session: AsyncSession, institution_id: uuid.UUID, user_id: str) -> None:
    await session.execute(
        memberships.delete().where(memberships.c.institution_id == institution_id, memberships.c.user_id == user_id)
    )


async def delete_members_of(session: AsyncSession, institution_id: uuid.UUID) -> None:
    await session.execute(memberships.delete().where(memberships.c.institution_id == institution_id))


# --------------------------------------------------------------------------- locations


def _location(row: Row) -> Location:
    m = row._mapping
    return Location(m["id"], m["institution_id"], m["address"], m["city"], m["viis_id"], m["created_at"])


async def insert_location(session: AsyncSession, location: Location) -> None:
    await session.execute(locations.insert().values(**asdict(location)))


async def locations_of(session: AsyncSession, institution_id: uuid.UUID) -> list[Location]:
    query = sa.select(locations).where(locations.c.institution_id == institution_id).order_by(locations.c.created_at)
    return [_location(r) for r in await session.execute(query)]


async def location_by_id(session: AsyncSession, location_id: uuid.UUID) -> Location | None:
    row = (await session.execute(sa.select(locations).where(locations.c.id == location_id))).first()
    return _location(row) if row else None


# --------------------------------------------------------------------------- coefficient tables


def _table(row: Row) -> CoefficientTable:
    m = row._mapping
    coefficients = {k: Decimal(v) for k, v in json.loads(m["coefficients"]).items()}
    return CoefficientTable(
        m["version"], Decimal(m["hourly_rate"]), coefficients, m["valid_from"], m["created_at"], m["created_by"]
    )


def coefficient_values(table: CoefficientTable) -> dict[str, Any]:
    return {
        "version": table.version,
        "hourly_rate": str(table.hourly_rate),
        "coefficients": json.dumps({k: str(v) for k, v in table.coefficients.items()}, ensure_ascii=False),
        "valid_from": table.valid_from,
        "created_at": table.created_at,
        "created_by": table.created_by,
    }


async def insert_coefficient_table(session: AsyncSession, table: CoefficientTable) -> None:
    await session.execute(coefficient_tables.insert().values(**coefficient_values(table)))


async def coefficient_table(session: AsyncSession, version: int) -> CoefficientTable | None:
    query = sa.select(coefficient_tables).where(coefficient_tables.c.version == version)
    row = (await session.execute(query)).first()
    return _table(row) if row else None


async def current_coefficient_table(session: AsyncSession, today: date) -> CoefficientTable | None:
    """The newest version already in force today."""
    query = (
        sa.select(coefficient_tables)
        .where(coefficient_tables.c.valid_from <= today)
        .order_by(coefficient_tables.c.version.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return _table(row) if row else None


async def coefficient_tables_all(session: AsyncSession) -> list[CoefficientTable]:
    query = sa.select(coefficient_tables).order_by(coefficient_tables.c.version.desc())
    return [_table(r) for r in await session.execute(query)]


async def latest_coefficient_version(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(sa.func.max(coefficient_tables.c.version))) or 0)


# --------------------------------------------------------------------------- programmes


def spec_json(spec: ProgrammeInput) -> str:
    values = asdict(spec)
    values["licence_date"] = spec.licence_date.isoformat()
    values["digital_share_percent"] = str(spec.digital_share_percent)
    values["location_ids"] = [str(i) for i in spec.location_ids]
    values["curriculum_document_id"] = str(spec.curriculum_document_id)
    values["programme_type"] = spec.programme_type.value
    values["form"] = spec.form.value
    values["operating_systems"] = [os.value for os in spec.operating_systems]
    return json.dumps(values, ensure_ascii=False)


def spec_from_json(raw: str) -> ProgrammeInput:
    v = json.loads(raw)
    return ProgrammeInput(
        title=v["title"],
        licence_number=v["licence_number"],
        licence_date=date.fromisoformat(v["licence_date"]),
        thematic_area=v["thematic_area"],
        programme_group=v["programme_group"],
        programme_type=ProgrammeType(v["programme_type"]),
        form=ProgrammeForm(v["form"]),
        digcomp_level=v["digcomp_level"],
        total_hours=v["total_hours"],
        theory_hours=v["theory_hours"],
        practice_hours=v["practice_hours"],
        digital_share_percent=Decimal(v["digital_share_percent"]),
        qualifications=tuple(v["qualifications"]),
        professional_competences=tuple(v["professional_competences"]),
        learning_outcomes=tuple(v["learning_outcomes"]),
        description=v["description"],
        language=v["language"],
        entry_level=v["entry_level"],
        prior_knowledge=v["prior_knowledge"],
        equipment=v["equipment"],
        operating_systems=tuple(OperatingSystem(o) for o in v["operating_systems"]),
        location_ids=tuple(uuid.UUID(i) for i in v["location_ids"]),
        curriculum_document_id=uuid.UUID(v["curriculum_document_id"]),
    )


def _programme(row: Row) -> Programme:
    m = row._mapping
    cost = Cost(
        per_participant=_euros(m["cost_cents"]),
        per_hour=_euros(m["per_hour_cents"]),
        hourly_rate=Decimal(m["hourly_rate"]),
        coefficient=Decimal(m["coefficient"]),
        table_version=m["coefficient_table_version"],
    )
    return Programme(
        id=m["id"],
        institution_id=m["institution_id"],
        spec=spec_from_json(m["spec"]),
        cost=cost,
        status=ProgrammeStatus(m["status"]),
        registered_at=m["registered_at"],
        registered_by=m["registered_by"],
        published_at=m["published_at"],
        publication_valid_until=m["publication_valid_until"],
        call_id=m["call_id"],
    )


def _with_spec(*extra: sa.ColumnElement[Any]) -> sa.Select[Any]:
    return sa.select(programmes, programme_specs.c.spec, *extra).join(
        programme_specs, programme_specs.c.programme_id == programmes.c.id
    )


def programme_values(programme: Programme, search_text: str) -> dict[str, Any]:
    spec = programme.spec
    return {
        "id": programme.id,
        "institution_id": programme.institution_id,
        "status": programme.status.value,
        "title_lv": spec.title["lv"],
        "title_key": search_text_key(spec.title["lv"]),
        "search_text": search_text,
        "form": spec.form.value,
        "digcomp_level": spec.digcomp_level,
        "total_hours": spec.total_hours,
        "cost_cents": _cents(programme.cost.per_participant),
        "per_hour_cents": _cents(programme.cost.per_hour),
        "hourly_rate": str(programme.cost.hourly_rate),
        "coefficient": str(programme.cost.coefficient),
        "coefficient_table_version": programme.cost.table_version,
        "registered_at": programme.registered_at,
        "registered_by": programme.registered_by,
        "published_at": programme.published_at,
        "publication_valid_until": programme.publication_valid_until,
        "call_id": programme.call_id,
    }


def search_text_key(text: str) -> str:
    return search_key(text)[:300]


async def insert_programme(session: AsyncSession, programme: Programme, search_text: str) -> None:
    await session.execute(programmes.insert().values(**programme_values(programme, search_text)))
    await session.execute(programme_specs.insert().values(programme_id=programme.id, spec=spec_json(programme.spec)))
    qualifications = [{"programme_id": programme.id, "qualification": q} for q in set(programme.spec.qualifications)]
    await session.execute(programme_qualifications.insert(), qualifications)
    links = [{"programme_id": programme.id, "location_id": i} for i in set(programme.spec.location_ids)]
    await session.execute(programme_locations.insert(), links)


async def programme_by_id(session: AsyncSession, programme_id: uuid.UUID) -> Programme | None:
    row = (await session.execute(_with_spec().where(programmes.c.id == programme_id))).first()
    return _programme(row) if row else None


async def programmes_by_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> list[Programme]:
    wanted = list(ids)
    if not wanted:
        return []
    rows = await session.execute(_with_spec().where(programmes.c.id.in_(wanted)))
    return [_programme(r) for r in rows]


async def programmes_of(session: AsyncSession, institution_id: uuid.UUID) -> list[Programme]:
    query = (
        _with_spec()
        .where(programmes.c.institution_id == institution_id)
        .order_by(programmes.c.registered_at.desc(), programmes.c.id)
    )
    return [_programme(r) for r in await session.execute(query)]


async def set_publication(
    session: AsyncSession,
    programme_id: uuid.UUID,
    status: ProgrammeStatus,
    *,
    at: datetime | None,
    valid_until: date | None,
    call_id: uuid.UUID | None,
) -> None:
    await session.execute(
        programmes.update()
        .where(programmes.c.id == programme_id)
        .values(status=status.value, published_at=at, publication_valid_until=valid_until, call_id=call_id)
    )


# --------------------------------------------------------------------------- agreements


async def agreement_status(session: AsyncSession, offer_id: uuid.UUID) -> str | None:
    status: str | None = await session.scalar(sa.select(agreements.c.status).where(agreements.c.offer_id == offer_id))
    return status


async def save_agreement(
    session: AsyncSession,
    offer_id: uuid.UUID,
    call_id: uuid.UUID,
    institution_id: uuid.UUID,
    programme_ids: Sequence[uuid.UUID],
    valid_until: date,
    at: datetime,
) -> None:
    await session.execute(
        agreements.insert().values(
            offer_id=offer_id,
            call_id=call_id,
            institution_id=institution_id,
            status="signed",
            valid_until=valid_until,
            signed_at=at,
        )
    )
    rows = [{"offer_id": offer_id, "programme_id": p} for p in dict.fromkeys(programme_ids)]
    if rows:
        await session.execute(agreement_programmes.insert(), rows)


async def end_agreement(session: AsyncSession, offer_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        agreements.update().where(agreements.c.offer_id == offer_id).values(status="ended", ended_at=at)
    )


async def insert_ended_agreement(
    session: AsyncSession, offer_id: uuid.UUID, call_id: uuid.UUID, institution_id: uuid.UUID, at: datetime
) -> None:
    """An end that arrived for an agreement never seen signed: remembered, so a late signing is ignored."""
    await session.execute(
        agreements.insert().values(
            offer_id=offer_id, call_id=call_id, institution_id=institution_id, status="ended", ended_at=at
        )
    )


async def active_agreement_of(session: AsyncSession, programme_id: uuid.UUID) -> Row | None:
    """The signed agreement covering the programme that runs longest, if any."""
    query = (
        sa.select(agreements)
        .join(agreement_programmes, agreement_programmes.c.offer_id == agreements.c.offer_id)
        .where(agreement_programmes.c.programme_id == programme_id, agreements.c.status == "signed")
        .order_by(agreements.c.valid_until.desc())
        .limit(1)
    )
    return (await session.execute(query)).first()


# --------------------------------------------------------------------------- study groups


def _group(row: Row) -> StudyGroup:
    m = row._mapping
    spec = GroupInput(
        location_id=m["location_id"],
        start_date=m["start_date"],
        end_date=m["end_date"],
        schedule=m["schedule"],
        capacity=m["capacity"],
        language=m["language"],
        entry_level=m["entry_level"],
    )
    return StudyGroup(
        id=m["id"],
        programme_id=m["programme_id"],
        institution_id=m["institution_id"],
        spec=spec,
        city=m["city"],
        status=GroupStatus(m["status"]),
        enrolled=m["enrolled"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def group_values(group: StudyGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "programme_id": group.programme_id,
        "institution_id": group.institution_id,
        **asdict(group.spec),
        "city": group.city,
        "city_key": search_key(group.city),
        "status": group.status.value,
        "enrolled": group.enrolled,
        "free_places": group.free_places,
        "created_at": group.created_at,
        "updated_at": group.updated_at,
    }


async def insert_group(session: AsyncSession, group: StudyGroup) -> None:
    await session.execute(study_groups.insert().values(**group_values(group)))


async def update_group(session: AsyncSession, group: StudyGroup) -> None:
    values = group_values(group)
    for kept in ("id", "programme_id", "institution_id", "created_at", "enrolled", "free_places"):
        values.pop(kept)
    # Places are counted by the database, so that a concurrent enrolment is never lost.
    values["free_places"] = _free_places(sa.literal(group.spec.capacity), study_groups.c.enrolled)
    await session.execute(study_groups.update().where(study_groups.c.id == group.id).values(**values))


async def group_by_id(session: AsyncSession, group_id: uuid.UUID) -> StudyGroup | None:
    row = (await session.execute(sa.select(study_groups).where(study_groups.c.id == group_id))).first()
    return _group(row) if row else None


async def groups_of_institution(session: AsyncSession, institution_id: uuid.UUID) -> list[StudyGroup]:
    query = (
        sa.select(study_groups)
        .where(study_groups.c.institution_id == institution_id)
        .order_by(study_groups.c.start_date, study_groups.c.id)
    )
    return [_group(r) for r in await session.execute(query)]


def _free_places(capacity: sa.ColumnElement[int], enrolled: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    return sa.case((capacity - enrolled > 0, capacity - enrolled), else_=0)


async def count_enrolment(session: AsyncSession, group_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        study_groups.update()
        .where(study_groups.c.id == group_id)
        .values(
            enrolled=study_groups.c.enrolled + 1,
            free_places=_free_places(study_groups.c.capacity, study_groups.c.enrolled + 1),
            updated_at=at,
        )
    )


# --------------------------------------------------------------------------- enrolments, outcomes, ratings


def _enrolment(row: Row) -> Enrolment:
    m = row._mapping
    return Enrolment(
        id=m["id"],
        group_id=m["group_id"],
        programme_id=m["programme_id"],
        institution_id=m["institution_id"],
        learner_id=m["learner_id"],
        status=EnrolmentStatus(m["status"]),
        enrolled_at=m["enrolled_at"],
        started_on=m["started_on"],
        ended_on=m["ended_on"],
        hours_attended=m["hours_attended"],
        result=m["result"],
    )


async def enrolment_by_id(session: AsyncSession, enrolment_id: uuid.UUID) -> Enrolment | None:
    row = (await session.execute(sa.select(enrolments).where(enrolments.c.id == enrolment_id))).first()
    return _enrolment(row) if row else None


async def save_enrolment(session: AsyncSession, enrolment: Enrolment, *, new: bool) -> None:
    values = asdict(enrolment)
    values["status"] = enrolment.status.value
    if new:
        await session.execute(enrolments.insert().values(**values))
    else:
        await session.execute(enrolments.update().where(enrolments.c.id == enrolment.id).values(**values))


async def enrolments_of_group(session: AsyncSession, group_id: uuid.UUID) -> list[Enrolment]:
    query = sa.select(enrolments).where(enrolments.c.group_id == group_id).order_by(enrolments.c.enrolled_at)
    return [_enrolment(r) for r in await session.execute(query)]


async def outcome_counts(session: AsyncSession, programme_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OutcomeCounts]:
    if not programme_ids:
        return {}
    started_states = [
        s.value for s in (EnrolmentStatus.STARTED, EnrolmentStatus.COMPLETED, EnrolmentStatus.DISCONTINUED)
    ]
    query = (
        sa.select(
            enrolments.c.programme_id,
            sa.func.count().filter(enrolments.c.status.in_(started_states)),
            sa.func.count().filter(enrolments.c.status == EnrolmentStatus.COMPLETED.value),
            sa.func.count().filter(enrolments.c.status == EnrolmentStatus.DISCONTINUED.value),
        )
        .where(enrolments.c.programme_id.in_(list(programme_ids)))
        .group_by(enrolments.c.programme_id)
    )
    return {pid: OutcomeCounts(s, c, d) for pid, s, c, d in await session.execute(query)}


async def save_rating(session: AsyncSession, summary: RatingSummary, at: datetime) -> None:
    values = {
        "raters": summary.raters,
        "averages": json.dumps({k: str(v) for k, v in summary.averages.items()}),
        "updated_at": at,
    }
    where = programme_ratings.c.programme_id == summary.programme_id
    result = await session.execute(programme_ratings.update().where(where).values(**values))
    if not result.rowcount:  # type: ignore[attr-defined]
        await session.execute(programme_ratings.insert().values(programme_id=summary.programme_id, **values))


async def ratings(session: AsyncSession, programme_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RatingSummary]:
    if not programme_ids:
        return {}
    query = sa.select(programme_ratings).where(programme_ratings.c.programme_id.in_(list(programme_ids)))
    return {
        r.programme_id: RatingSummary(
            r.programme_id, r.raters, {k: Decimal(v) for k, v in json.loads(r.averages).items()}
        )
        for r in await session.execute(query)
    }


# --------------------------------------------------------------------------- the public catalogue


def _upcoming_groups(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(study_groups.c.status == GroupStatus.SCHEDULED.value, study_groups.c.start_date >= today)


def _group_filter(query: CatalogueQuery, today: date) -> sa.ColumnElement[bool]:
    conditions = [study_groups.c.programme_id == programmes.c.id, _upcoming_groups(today)]
    if query.city:
        conditions.append(study_groups.c.city_key == search_key(query.city))
    if query.starts_from:
        conditions.append(study_groups.c.start_date >= query.starts_from)
    if query.starts_until:
        conditions.append(study_groups.c.start_date <= query.starts_until)
    if query.free_places:
        conditions.append(study_groups.c.free_places > 0)
    return sa.exists().where(*conditions)


def _public_filter(query: CatalogueQuery, today: date) -> list[sa.ColumnElement[bool]]:
    conditions = [programmes.c.status == ProgrammeStatus.PUBLISHED.value]
    conditions += [programmes.c.search_text.contains(word, autoescape=True) for word in query.words]
    if query.digcomp_levels:
        conditions.append(programmes.c.digcomp_level.in_(query.digcomp_levels))
    if query.form:
        conditions.append(programmes.c.form == query.form.value)
    if query.qualification:
        conditions.append(
            sa.exists().where(
                programme_qualifications.c.programme_id == programmes.c.id,
                programme_qualifications.c.qualification == query.qualification,
            )
        )
    if query.filters_groups:
        conditions.append(_group_filter(query, today))
    return conditions


def _order(query: CatalogueQuery, today: date) -> list[sa.ColumnElement[Any]]:
    earliest = (
        sa.select(sa.func.min(study_groups.c.start_date))
        .where(study_groups.c.programme_id == programmes.c.id, _upcoming_groups(today))
        .scalar_subquery()
    )
    by: dict[CatalogueSort, list[sa.ColumnElement[Any]]] = {
        CatalogueSort.TITLE: [programmes.c.title_key],
        CatalogueSort.COST: [programmes.c.cost_cents],
        CatalogueSort.COST_DESC: [programmes.c.cost_cents.desc()],
        CatalogueSort.HOURS: [programmes.c.total_hours],
        CatalogueSort.HOURS_DESC: [programmes.c.total_hours.desc()],
        CatalogueSort.START: [earliest.is_(None), earliest],
        CatalogueSort.NEWEST: [programmes.c.published_at.desc()],
    }
    return [*by[query.sort], programmes.c.title_key, programmes.c.id]


async def search_programmes(
    session: AsyncSession, query: CatalogueQuery, today: date
) -> tuple[list[tuple[Programme, str]], int]:
    """One page of published programmes (with their institution's name) and the total that match."""
    conditions = _public_filter(query, today)
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(programmes).where(*conditions)) or 0)
    if total <= query.offset:
        return [], total
    page = (
        _with_spec(institutions.c.name.label("institution_name"))
        .join(institutions, institutions.c.id == programmes.c.institution_id)
        .where(*conditions)
        .order_by(*_order(query, today))
        .limit(query.limit)
        .offset(query.offset)
    )
    rows = (await session.execute(page)).all()
    return [(_programme(r), r.institution_name) for r in rows], total


async def upcoming_groups(
    session: AsyncSession, programme_ids: Sequence[uuid.UUID], today: date, per_programme: int = 20
) -> dict[uuid.UUID, list[StudyGroup]]:
    found: dict[uuid.UUID, list[StudyGroup]] = {pid: [] for pid in programme_ids}
    if not programme_ids:
        return found
    query = (
        sa.select(study_groups)
        .where(study_groups.c.programme_id.in_(list(programme_ids)), _upcoming_groups(today))
        .order_by(study_groups.c.start_date, study_groups.c.id)
    )
    for row in await session.execute(query):
        groups = found[row.programme_id]
        if len(groups) < per_programme:
            groups.append(_group(row))
    return found


async def institution_names(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(sa.select(institutions.c.id, institutions.c.name).where(institutions.c.id.in_(wanted)))
    return {r.id: r.name for r in rows}


async def location_cities(session: AsyncSession, location_ids: Iterable[uuid.UUID]) -> list[str]:
    wanted = list(set(location_ids))
    if not wanted:
        return []
    rows = await session.execute(sa.select(locations.c.city).where(locations.c.id.in_(wanted)))
    return sorted({r.city for r in rows})
