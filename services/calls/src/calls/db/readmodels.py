"""What calls keeps of catalog's and accounts' events: providers, their users, programmes, study groups, the
coefficient tables, and completed enrolments (no learner id: a completion counts for its group)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import MoneyColumn, upsert
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db.common import Row, dumps, loads, metadata
from calls.domain.institutions import CoefficientTable, DeliveredProgramme, Programme, Provider, ProviderUser

providers = sa.Table(
    "providers",
    metadata,
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("register_number", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
)

provider_users = sa.Table(
    "provider_users",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
)

programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("programme_id", sa.Uuid(), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("licence_number", sa.String(50), nullable=True),
    sa.Column("programme_group", sa.String(200), nullable=True),
    sa.Column("form", sa.String(20), nullable=True),
    sa.Column("digcomp_level", sa.Integer(), nullable=True),
    sa.Column("hours", sa.Integer(), nullable=True),
    sa.Column("digital_share_percent", sa.Numeric(5, 2), nullable=True),
    sa.Column("qualifications", sa.Text(), nullable=False),
    sa.Column("cost_per_participant", MoneyColumn(), nullable=True),
    sa.Column("coefficient_table_version", sa.Integer(), nullable=True),
)

study_groups = sa.Table(
    "study_groups",
    metadata,
    sa.Column("group_id", sa.Uuid(), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
)

completions = sa.Table(
    "completions",
    metadata,
    sa.Column("enrolment_id", sa.Uuid(), primary_key=True),
    sa.Column("group_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
)

coefficient_tables = sa.Table(
    "coefficient_tables",
    metadata,
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("hourly_rate", sa.Numeric(10, 4), nullable=False),
    sa.Column("coefficients", sa.Text(), nullable=False),
    sa.Column("valid_from", sa.Date(), nullable=False),
)


async def save_provider(session: AsyncSession, institution_id: uuid.UUID, **values: Any) -> None:
    await upsert(session, providers, {"institution_id": institution_id}, values)


async def set_provider_status(session: AsyncSession, institution_id: uuid.UUID, status: str) -> None:
    await session.execute(providers.update().where(providers.c.institution_id == institution_id).values(status=status))


async def provider(session: AsyncSession, institution_id: uuid.UUID) -> Provider | None:
    row = (await session.execute(providers.select().where(providers.c.institution_id == institution_id))).first()
    return None if row is None else Provider(**row._mapping)


async def add_user(session: AsyncSession, user_id: str, institution_id: uuid.UUID, role: str) -> None:
    await upsert(session, provider_users, {"user_id": user_id, "institution_id": institution_id}, {"role": role})


async def remove_user(session: AsyncSession, user_id: str, institution_id: uuid.UUID) -> None:
    await session.execute(
        provider_users.delete().where(
            provider_users.c.user_id == user_id, provider_users.c.institution_id == institution_id
        )
    )


async def users_of(session: AsyncSession, user_id: str) -> list[ProviderUser]:
    query = provider_users.select().where(provider_users.c.user_id == user_id).order_by(provider_users.c.institution_id)
    return [ProviderUser(**r._mapping) for r in await session.execute(query)]


async def save_programme(session: AsyncSession, programme: Programme) -> None:
    values = vars(programme) | {
        "title": dumps(dict(programme.title)),
        "qualifications": dumps(programme.qualifications),
    }
    del values["programme_id"]
    await upsert(session, programmes, {"programme_id": programme.programme_id}, values)


def _programme(row: Row) -> Programme:
    m = dict(row._mapping)
    return Programme(**m | {"title": loads(m["title"]), "qualifications": tuple(loads(m["qualifications"]))})


async def programmes_of(session: AsyncSession, institution_id: uuid.UUID) -> list[Programme]:
    query = programmes.select().where(programmes.c.institution_id == institution_id).order_by(programmes.c.programme_id)
    return [_programme(r) for r in await session.execute(query)]


async def save_group(
    session: AsyncSession, group_id: uuid.UUID, programme_id: uuid.UUID, institution_id: uuid.UUID, status: str
) -> None:
    values = {"programme_id": programme_id, "institution_id": institution_id, "status": status}
    await upsert(session, study_groups, {"group_id": group_id}, values)


async def record_completion(
    session: AsyncSession,
    enrolment_id: uuid.UUID,
    group_id: uuid.UUID,
    programme_id: uuid.UUID,
    institution_id: uuid.UUID,
) -> None:
    values = {"group_id": group_id, "programme_id": programme_id, "institution_id": institution_id}
    await upsert(session, completions, {"enrolment_id": enrolment_id}, values)


async def delivered(session: AsyncSession, institution_id: uuid.UUID) -> list[DeliveredProgramme]:
    """The institution's programmes the platform saw completed, with their best group's completers."""
    per_group = (
        sa.select(completions.c.programme_id, sa.func.count().label("completers"))
        .where(completions.c.institution_id == institution_id)
        .group_by(completions.c.group_id, completions.c.programme_id)
        .subquery()
    )
    query = (
        sa.select(per_group.c.programme_id, programmes.c.digcomp_level, sa.func.max(per_group.c.completers))
        .select_from(per_group.outerjoin(programmes, programmes.c.programme_id == per_group.c.programme_id))
        .group_by(per_group.c.programme_id, programmes.c.digcomp_level)
        .order_by(per_group.c.programme_id)
    )
    return [DeliveredProgramme(p, level, int(best)) for p, level, best in await session.execute(query)]


async def save_coefficients(
    session: AsyncSession, version: int, hourly_rate: Decimal, coefficients: dict[str, Decimal], valid_from: date
) -> None:
    values = {
        "hourly_rate": hourly_rate,
        "coefficients": dumps({k: str(v) for k, v in coefficients.items()}),
        "valid_from": valid_from,
    }
    await upsert(session, coefficient_tables, {"version": version}, values)


async def coefficient_tables_all(session: AsyncSession) -> list[CoefficientTable]:
    rows = await session.execute(coefficient_tables.select().order_by(coefficient_tables.c.version))
    return [
        CoefficientTable(
            version=r.version,
            hourly_rate=Decimal(r.hourly_rate),
            coefficients={k: Decimal(v) for k, v in loads(r.coefficients).items()},
            valid_from=r.valid_from,
        )
        for r in rows
    ]
