"""Coefficient tables, programmes and the agreements that publish them.

A programme's full form is kept as JSON (`programme_specs.spec`); what the public catalogue filters, sorts
or searches on is kept beside it in indexed columns of `programmes` (`search_text` is the normalised text).
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
from prasmes_runtime.db import MoneyColumn, UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.common import Row, metadata, record
from catalog.domain.common import search_key
from catalog.domain.programmes import (
    Agreement,
    AgreementStatus,
    CoefficientTable,
    Cost,
    OperatingSystem,
    Programme,
    ProgrammeForm,
    ProgrammeInput,
    ProgrammeStatus,
    ProgrammeType,
    licence_key,
)

coefficient_tables = sa.Table(
    "coefficient_tables",
    metadata,
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("hourly_rate", MoneyColumn(), nullable=False),
    sa.Column("coefficients", sa.Text(), nullable=False),
    sa.Column("valid_from", sa.Date(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
)

LICENCE_INDEX = "uq_programmes_licence"
NOT_WITHDRAWN = sa.text(f"status <> '{ProgrammeStatus.WITHDRAWN.value}'")

programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), sa.ForeignKey("institutions.id"), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("licence_number", sa.String(50), nullable=False),
    sa.Column("title_lv", sa.String(300), nullable=False),
    sa.Column("title_key", sa.String(300), nullable=False),
    sa.Column("search_text", sa.Text(), nullable=False),
    sa.Column("form", sa.String(20), nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("digcomp_level", sa.Integer(), nullable=False),
    sa.Column("total_hours", sa.Integer(), nullable=False),
    sa.Column("cost_per_participant", MoneyColumn(), nullable=False),
    sa.Column("cost_per_hour", MoneyColumn(), nullable=False),
    sa.Column("hourly_rate", MoneyColumn(), nullable=False),
    sa.Column("coefficient", sa.String(20), nullable=False),
    sa.Column("coefficient_table_version", sa.Integer(), nullable=False),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
    sa.Column("registered_by", sa.String(64), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Column("publication_valid_until", sa.Date(), nullable=True),
    sa.Column("call_id", sa.Uuid(), nullable=True),
    sa.Index("ix_programmes_public", "status", "digcomp_level", "form"),
    sa.Index("ix_programmes_status_cost", "status", "cost_per_participant"),
    sa.Index("ix_programmes_status_title", "status", "title_key", "id"),
    sa.Index(
        LICENCE_INDEX,
        "institution_id",
        "licence_number",
        unique=True,
        postgresql_where=NOT_WITHDRAWN,
        sqlite_where=NOT_WITHDRAWN,
    ),
)
"""`uq_programmes_licence`: one programme per licence of an institution, among those not withdrawn (revision 0004
withdrew the duplicate drafts a database held before; the use case refuses a second one whatever its state)."""

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


# --------------------------------------------------------------------------- coefficient tables


def _table(row: Row) -> CoefficientTable:
    m = row._mapping
    coefficients = {k: Decimal(v) for k, v in json.loads(m["coefficients"]).items()}
    return CoefficientTable(
        m["version"], m["hourly_rate"], coefficients, m["valid_from"], m["created_at"], m["created_by"]
    )


def coefficient_values(table: CoefficientTable) -> dict[str, Any]:
    return {
        "version": table.version,
        "hourly_rate": table.hourly_rate,
        "coefficients": json.dumps({k: str(v) for k, v in table.coefficients.items()}, ensure_ascii=False),
        "valid_from": table.valid_from,
        "created_at": table.created_at,
        "created_by": table.created_by,
    }


async def insert_coefficient_table(session: AsyncSession, table: CoefficientTable) -> None:
    await session.execute(coefficient_tables.insert().values(**coefficient_values(table)))


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


def programme_from_row(row: Row) -> Programme:
    """A programme from a row of `with_spec()` (the catalogue's search reads the same rows)."""
    m = row._mapping
    cost = Cost(
        per_participant=m["cost_per_participant"],
        per_hour=m["cost_per_hour"],
        hourly_rate=m["hourly_rate"],
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


def with_spec(*extra: sa.ColumnElement[Any]) -> sa.Select[Any]:
    return sa.select(programmes, programme_specs.c.spec, *extra).join(
        programme_specs, programme_specs.c.programme_id == programmes.c.id
    )


def programme_values(programme: Programme, search_text: str) -> dict[str, Any]:
    spec = programme.spec
    return {
        "id": programme.id,
        "institution_id": programme.institution_id,
        "status": programme.status.value,
        "licence_number": licence_key(spec.licence_number),
        "title_lv": spec.title["lv"],
        "title_key": search_text_key(spec.title["lv"]),
        "search_text": search_text,
        "form": spec.form.value,
        "language": spec.language,
        "digcomp_level": spec.digcomp_level,
        "total_hours": spec.total_hours,
        "cost_per_participant": programme.cost.per_participant,
        "cost_per_hour": programme.cost.per_hour,
        "hourly_rate": programme.cost.hourly_rate,
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
    row = (await session.execute(with_spec().where(programmes.c.id == programme_id))).first()
    return programme_from_row(row) if row else None


async def programmes_by_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> list[Programme]:
    wanted = list(ids)
    if not wanted:
        return []
    rows = await session.execute(with_spec().where(programmes.c.id.in_(wanted)))
    return [programme_from_row(r) for r in rows]


async def programmes_of(session: AsyncSession, institution_id: uuid.UUID) -> list[Programme]:
    query = (
        with_spec()
        .where(programmes.c.institution_id == institution_id)
        .order_by(programmes.c.registered_at.desc(), programmes.c.id)
    )
    return [programme_from_row(r) for r in await session.execute(query)]


async def programme_with_licence(
    session: AsyncSession, institution_id: uuid.UUID, licence_number: str, *, active_only: bool = False
) -> Programme | None:
    """The institution's programme of this licence (one not withdrawn first, then the newest), if any;
    `active_only`: only one not withdrawn."""
    query = with_spec().where(
        programmes.c.institution_id == institution_id, programmes.c.licence_number == licence_key(licence_number)
    )
    if active_only:
        query = query.where(programmes.c.status != ProgrammeStatus.WITHDRAWN.value)
    withdrawn_last = sa.case((programmes.c.status == ProgrammeStatus.WITHDRAWN.value, 1), else_=0)
    row = (await session.execute(query.order_by(withdrawn_last, programmes.c.registered_at.desc()).limit(1))).first()
    return programme_from_row(row) if row else None


async def save_publication(session: AsyncSession, programme: Programme) -> None:
    """Store where the programme stands in the public catalogue (status, since when, until when, under which call)."""
    await session.execute(
        programmes.update()
        .where(programmes.c.id == programme.id)
        .values(
            status=programme.status.value,
            published_at=programme.published_at,
            publication_valid_until=programme.publication_valid_until,
            call_id=programme.call_id,
        )
    )


# --------------------------------------------------------------------------- agreements


async def agreement_status(session: AsyncSession, offer_id: uuid.UUID) -> AgreementStatus | None:
    status = await session.scalar(sa.select(agreements.c.status).where(agreements.c.offer_id == offer_id))
    return AgreementStatus(status) if status is not None else None


async def insert_agreement(
    session: AsyncSession, agreement: Agreement, at: datetime, programme_ids: Sequence[uuid.UUID] = ()
) -> None:
    """A signed agreement with the programmes it covers; or an end that arrived for an agreement never seen
    signed, remembered so that a late signing is ignored."""
    moment = {"signed_at": at} if agreement.status == AgreementStatus.SIGNED else {"ended_at": at}
    await session.execute(
        agreements.insert().values(
            offer_id=agreement.offer_id,
            call_id=agreement.call_id,
            institution_id=agreement.institution_id,
            status=agreement.status.value,
            valid_until=agreement.valid_until,
            **moment,
        )
    )
    rows = [{"offer_id": agreement.offer_id, "programme_id": p} for p in dict.fromkeys(programme_ids)]
    if rows:
        await session.execute(agreement_programmes.insert(), rows)


async def end_agreement(session: AsyncSession, offer_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        agreements.update()
        .where(agreements.c.offer_id == offer_id)
        .values(status=AgreementStatus.ENDED.value, ended_at=at)
    )


async def active_agreement_of(session: AsyncSession, programme_id: uuid.UUID) -> Agreement | None:
    """The signed agreement covering the programme that runs longest, if any."""
    query = (
        sa.select(agreements)
        .join(agreement_programmes, agreement_programmes.c.offer_id == agreements.c.offer_id)
        .where(agreement_programmes.c.programme_id == programme_id, agreements.c.status == AgreementStatus.SIGNED.value)
        .order_by(agreements.c.valid_until.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return record(Agreement, row, status=AgreementStatus(row.status))
