"""Documents, institutions, their members and their implementation locations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.common import Row, metadata, record
from catalog.domain.providers import (
    Document,
    DocumentPurpose,
    Institution,
    InstitutionStatus,
    Location,
    Membership,
    ProviderRole,
)

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


# --------------------------------------------------------------------------- documents


async def insert_document(session: AsyncSession, document: Document, content: bytes) -> None:
    values = asdict(document)
    values["purpose"] = document.purpose.value
    await session.execute(documents.insert().values(**values, content=content))


_DOCUMENT_META = [c for c in documents.c if c.name != "content"]


async def document_meta(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    row = (await session.execute(sa.select(*_DOCUMENT_META).where(documents.c.id == document_id))).first()
    return record(Document, row, purpose=DocumentPurpose(row.purpose)) if row else None


async def documents_meta(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Document]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(sa.select(*_DOCUMENT_META).where(documents.c.id.in_(wanted)))
    return {r.id: record(Document, r, purpose=DocumentPurpose(r.purpose)) for r in rows}


async def document_content(session: AsyncSession, document_id: uuid.UUID) -> bytes | None:
    content: bytes | None = await session.scalar(sa.select(documents.c.content).where(documents.c.id == document_id))
    return content


async def attach_document(session: AsyncSession, document_id: uuid.UUID, institution_id: uuid.UUID) -> None:
    await session.execute(documents.update().where(documents.c.id == document_id).values(institution_id=institution_id))


# --------------------------------------------------------------------------- institutions


def _institution(row: Row) -> Institution:
    return record(Institution, row, status=InstitutionStatus(row.status))


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


async def institution_names(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(sa.select(institutions.c.id, institutions.c.name).where(institutions.c.id.in_(wanted)))
    return {r.id: r.name for r in rows}


async def save_decision(session: AsyncSession, decided: Institution) -> bool:
    """Store the decision on a registration still pending; False when it no longer was (a concurrent decision)."""
    result = await session.execute(
        institutions.update()
        .where(institutions.c.id == decided.id, institutions.c.status == InstitutionStatus.PENDING.value)
        .values(
            status=decided.status.value,
            decided_at=decided.decided_at,
            decided_by=decided.decided_by,
            rejection_reason_code=decided.rejection_reason_code,
            rejection_reason=decided.rejection_reason,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- members


def _membership(row: Row) -> Membership:
    return record(Membership, row, role=ProviderRole(row.role))


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
    return record(Location, row)


async def insert_location(session: AsyncSession, location: Location) -> None:
    await session.execute(locations.insert().values(**asdict(location)))


async def locations_of(session: AsyncSession, institution_id: uuid.UUID) -> list[Location]:
    query = sa.select(locations).where(locations.c.institution_id == institution_id).order_by(locations.c.created_at)
    return [_location(r) for r in await session.execute(query)]


async def location_by_id(session: AsyncSession, location_id: uuid.UUID) -> Location | None:
    row = (await session.execute(sa.select(locations).where(locations.c.id == location_id))).first()
    return _location(row) if row else None


async def location_cities(session: AsyncSession, location_ids: Iterable[uuid.UUID]) -> list[str]:
    wanted = list(set(location_ids))
    if not wanted:
        return []
    rows = await session.execute(sa.select(locations.c.city).where(locations.c.id.in_(wanted)))
    return sorted({r.city for r in rows})
